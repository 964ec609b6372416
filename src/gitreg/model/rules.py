"""The rules a stage change and a version edit must keep, each written once.

promote/rollback (refusing a plan) and `validate --base` (judging a pull request) both
call these; the callers word the refusal for their audience.
"""

from __future__ import annotations

from gitreg.model import layout
from gitreg.model.manifest import StageRule, VersionManifest


def may_enter(rule: StageRule, version: str, required_holder: str | None, ever_held: bool) -> bool:
    """The `requires` rule: a version enters a stage that requires another only if it holds
    the required stage now (`required_holder`), or a release once put it in this stage
    (`ever_held`: a rollback may bring it back)."""
    return rule.requires is None or required_holder == version or ever_held


def same_but_status(a: VersionManifest, b: VersionManifest) -> bool:
    """True if two manifests of a version differ at most in `status` (the one allowed edit)."""
    da, db = a.to_dict(), b.to_dict()
    da.pop("status", None)
    db.pop("status", None)
    return da == db


def immutability_problem(status: str, path: str, only_status: bool) -> str | None:
    """Why a change (`status` A/M/D of `path`) breaks immutability, or None.

    `only_status`: for a modified version manifest, whether only its `status` changed.
    """
    kind = layout.classify(path)
    parts = path.split("/")
    if kind is not None and kind[0] == "version":
        if status == "D":
            return "versions are immutable: a version manifest may not be deleted"
        if status == "M" and not only_status:
            return "versions are immutable: only `status` may change (deprecation)"
        return None
    in_artifacts = len(parts) > 3 and parts[0] == layout.MODELS_DIR and parts[2] == "artifacts"
    if in_artifacts and status != "A":
        what = "deleted" if status == "D" else "changed"
        return f"artifacts are immutable: this file was {what}; register a new version"
    return None


def one_version_per_merge(model: str, added: list[str]) -> list[tuple[str, str]]:
    """(path, problem) for every version manifest beyond the first added to one model in
    one merge: both would get the same commit, and GTO could not tell them apart."""
    return [
        (
            path,
            f"one new version of {model!r} per merge ({len(added)} here): "
            "both would get the same commit, and GTO could not tell them apart",
        )
        for path in added[1:]
    ]
