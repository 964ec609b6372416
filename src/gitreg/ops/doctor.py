"""`gitreg doctor`: tags that should not be there, or that disagree with main.

Checks, per model: lightweight tags in the namespace, tags not written by `gitreg release`
(no trailers), tags whose commit is not on main, stage tags not on their version's
registration commit or that disagree with stages.yaml at their `Promoted-in` commit,
counter gaps, and a released state that differs from main (release not run yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gitreg.model import tags
from gitreg.registry.audit import MainHistory, check_tag
from gitreg.registry.reader import Registry
from gitreg.store import refs


@dataclass(frozen=True)
class Finding:
    tag: str
    message: str
    kind: str = "tag"  # a kind of registry/audit.KINDS, or counter-gap / unreleased

    def __str__(self) -> str:
        return f"{self.tag}: {self.message}"


@dataclass
class DoctorReport:
    ref: str
    checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "ref": self.ref,
            "checked": self.checked,
            "findings": [
                {"tag": f.tag, "kind": f.kind, "message": f.message} for f in self.findings
            ],
        }


def doctor(reg: Registry) -> DoctorReport:
    """Every release tag checked against `reg`'s ref, which stands for main."""
    report = DoctorReport(ref=reg.ref)
    grouped = refs.by_model(reg.git)
    main = MainHistory(reg.git, reg.commit, "main")
    try:
        for name in sorted(set(reg.model_names()) | set(grouped)):
            _model(reg, main, name, grouped.get(name, []), report)
    finally:
        main.close()
    return report


def _model(
    reg: Registry, main: MainHistory, name: str, model_tags: list[tags.Tag], report: DoctorReport
) -> None:
    state = tags.released_state(model_tags)
    for t in model_tags:
        report.checked += 1
        if t.parsed.kind == "simple":
            report.findings.append(
                Finding(t.name, "a GTO simple-notation tag: gitreg does not read it", "simple")
            )
            continue
        report.findings += [
            Finding(t.name, p.message, p.kind) for p in check_tag(main, t, state, model_tags)
        ]
    counters = sorted(t.parsed.counter for t in model_tags if t.parsed.counter is not None)
    if counters and counters != list(range(1, len(counters) + 1)):
        missing = sorted(set(range(1, counters[-1] + 1)) - set(counters))
        dup = sorted({c for c in counters if counters.count(c) > 1})
        what = f"missing {missing}" if missing else f"repeated {dup}"
        report.findings.append(
            Finding(f"{name}#*", f"stage counters have gaps: {what}", "counter-gap")
        )
    if reg.has_model(name):
        wanted, released = reg.stages(name), state.stage_map()
        if wanted != released:
            report.findings.append(
                Finding(
                    f"{name}#*",
                    f"tags say {released or 'no stages'}, main says {wanted or 'no stages'}: "
                    "run `gitreg release`",
                    "unreleased",
                )
            )
