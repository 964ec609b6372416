"""`gitreg resolve`: what a deploy tool asks, answered from tags (the released state) only.

`name@1.3.0`, `name@latest` (highest non-prerelease, not deprecated) and `name@<stage>` are
answered from the model's own tags (one `for-each-ref`) and one manifest blob at the tagged
commit (`gitreg.registry.released`). For a remote `--repo URL`, protocol v2 `ls-refs` with
the model's ref prefixes finds the tag and a partial fetch of just that tag and the files
read fills a cache repository (`gitreg.store.remote`). The release checks of `--verify`
(`gitreg.registry.audit`) are imported only when asked for: start-up is most of resolve.
"""

from __future__ import annotations

from gitreg.registry.released import ResolvedVersion, resolve_release


def resolve(ref: str, repo: str = ".", verify: bool = False) -> ResolvedVersion:
    """The released version `ref` names; with `verify`, refused (CheckFailed) if its tag
    fails the release checks."""
    if verify:
        from gitreg.registry.audit import resolve_verified

        return resolve_verified(ref, repo)
    return resolve_release(ref, repo)
