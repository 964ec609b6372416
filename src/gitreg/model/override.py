"""An override of the evaluation gate, as a pull request asks for it (docs/evaluation.md).

Two ways to ask: a comment line in the model's `stages.yaml`,

    # gitreg-override: roll back after incident 4711; 1.1.0 is worse on recall, known

that the pull request adds (a line already on the base asks for nothing: it was merged
with an earlier change), or the label `gitreg-override` (or `gitreg-override: <reason>`)
on the pull request. Asking is not enough: the gate counts an override only once GitHub
reports an approving review of the pull request's head commit. The reason is recorded in
the report and, once merged, in the release tag's `Override:` trailer.
"""

from __future__ import annotations

import re

LABEL = "gitreg-override"
MAX_REASON = 200
_LINE = re.compile(r"^[ \t]*#[ \t]*gitreg-override:[ \t]*(\S[^\r\n]*?)[ \t]*\r?$", re.M)


def clean(reason: str) -> str:
    """A reason as a report and a trailer may hold it: one line, printable, bounded."""
    text = "".join(c if c.isprintable() else " " for c in reason)
    return " ".join(text.split())[:MAX_REASON]


def reasons_in(text: str) -> list[str]:
    """Every override reason in a stages.yaml's comment lines."""
    return [r for r in (clean(m.group(1)) for m in _LINE.finditer(text)) if r]


def added(base_text: str | None, head_text: str | None) -> str | None:
    """The reason the change from `base_text` to `head_text` adds, if it adds one."""
    old = set(reasons_in(base_text or ""))
    new = [r for r in reasons_in(head_text or "") if r not in old]
    return new[0] if new else None


def from_labels(labels: list[str]) -> str | None:
    """The reason an override label gives ("" for the bare label), or None without one."""
    for label in labels:
        if label == LABEL:
            return ""
        key, sep, reason = label.partition(":")
        if sep and key.strip() == LABEL:
            return clean(reason)
    return None
