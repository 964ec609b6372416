"""`gitreg doctor`: tags that should not be there, or that disagree with main.

Checks, per model: lightweight tags in the namespace, tags not written by `gitreg release`
(no trailers), tags whose commit is not on main, stage tags not on their version's
registration commit or that disagree with stages.yaml at their `Promoted-in` commit,
counter gaps, and a released state that differs from main (release not run yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import layout, tags
from .errors import ManifestError
from .gitops import Git, Snapshot
from .manifest import Stages, parse
from .registry import Registry


@dataclass(frozen=True)
class Finding:
    tag: str
    message: str

    def __str__(self) -> str:
        return f"{self.tag}: {self.message}"

    def to_dict(self) -> dict[str, str]:
        return {"tag": self.tag, "message": self.message}


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
            "findings": [f.to_dict() for f in self.findings],
        }


def _stages_at(snap: Snapshot, commit: str, name: str) -> dict[str, str] | None:
    path = layout.stages_file(name)
    data = snap.read_at(commit, path)
    if data is None:
        return None
    try:
        return parse(Stages, data, path).mapping
    except ManifestError:
        return None


def check_tag(
    git: Git, snap: Snapshot, main: str, tag: tags.Tag, state: tags.ReleasedState
) -> list[str]:
    """What is wrong with one tag (empty if nothing)."""
    problems = []
    p = tag.parsed
    if not tag.annotated:
        problems.append("lightweight tag: gitreg and GTO tags are annotated; delete and release")
        return problems
    if not git.ok(["merge-base", "--is-ancestor", tag.commit, main]):
        problems.append(f"points to {tag.commit[:12]}, which is not on main")
    promoted = tag.trailers.get("Promoted-in")
    if not promoted:
        problems.append("not written by `gitreg release` (no Promoted-in trailer)")
    if p.kind in ("assign", "unassign") and p.stage:
        version = state.version_at(tag)
        reg = state.registered.get(version or "")
        if reg is None or reg.commit != tag.commit:
            problems.append("not on the commit of its version's registration tag")
        if promoted:
            held = _stages_at(snap, promoted, p.model)
            if held is None:
                problems.append(f"Promoted-in {promoted[:12]} has no readable stages.yaml")
            elif p.kind == "assign" and held.get(p.stage) != version:
                problems.append(
                    f"says {p.stage}={version}, but stages.yaml at {promoted[:12]} says "
                    f"{held.get(p.stage, 'nothing')}"
                )
            elif p.kind == "unassign" and p.stage in held:
                problems.append(f"removes {p.stage}, but stages.yaml at {promoted[:12]} keeps it")
    return problems


def doctor(reg: Registry) -> DoctorReport:
    git, main = reg.git, reg.commit
    report = DoctorReport(ref=reg.snapshot.ref)
    names = set(reg.model_names())
    all_tags = tags.read_tags(git, ["*@v*", "*#*"])
    names |= {t.parsed.model for t in all_tags}
    for name in sorted(names):
        model_tags = [t for t in all_tags if t.parsed.model == name]
        state = tags.released_state(model_tags)
        for t in model_tags:
            report.checked += 1
            report.findings += [
                Finding(t.name, m) for m in check_tag(git, reg.snapshot, main, t, state)
            ]
        counters = sorted(t.parsed.counter for t in model_tags if t.parsed.counter is not None)
        if counters and counters != list(range(1, len(counters) + 1)):
            missing = sorted(set(range(1, counters[-1] + 1)) - set(counters))
            dup = sorted({c for c in counters if counters.count(c) > 1})
            what = f"missing {missing}" if missing else f"repeated {dup}"
            report.findings.append(Finding(f"{name}#*", f"stage counters have gaps: {what}"))
        if reg.has_model(name):
            wanted = reg.stages(name)
            released = state.stage_map()
            if wanted != released:
                report.findings.append(
                    Finding(
                        f"{name}#*",
                        f"tags say {released or 'no stages'}, main says {wanted or 'no stages'}: "
                        "run `gitreg release`",
                    )
                )
    return report
