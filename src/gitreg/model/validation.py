"""What `gitreg validate` found: the typed result `ops.validate` returns and renderers print."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gitreg.errors import Problem
from gitreg.model.rules import ReviewWarning


@dataclass
class ValidationReport:
    ref: str
    commit: str
    base: str | None
    models: list[str] = field(default_factory=list)
    files: int = 0
    problems: list[Problem] = field(default_factory=list)
    warnings: list[ReviewWarning] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "ref": self.ref,
            "commit": self.commit,
            "base": self.base,
            "models": self.models,
            "files": self.files,
            "problems": [p.to_dict() for p in self.problems],
            "warnings": [asdict(w) for w in self.warnings],
        }
