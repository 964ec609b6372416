"""`gitreg resolve`: what a deploy tool asks, answered from tags (the released state) only.

`name@1.3.0`, `name@latest` (highest non-prerelease, not deprecated) and `name@<stage>` are
answered from the model's own tags (one `for-each-ref`) and one manifest blob at the tagged
commit (`gitreg.registry.released`). For a remote `--repo URL`, `git ls-remote` finds the
tag and a shallow fetch of just that tag fills a cache repository (`gitreg.store.remote`).
"""

from __future__ import annotations

from gitreg.registry.audit import resolve_verified
from gitreg.registry.released import ResolvedVersion, resolve_release


def resolve(ref: str, repo: str = ".", verify: bool = False) -> ResolvedVersion:
    """The released version `ref` names; with `verify`, refused (CheckFailed) if its tag
    fails the release checks."""
    return resolve_verified(ref, repo) if verify else resolve_release(ref, repo)
