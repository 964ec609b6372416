"""GitHub Actions names gitreg writes into workflow YAML: `OWNER/REPO@REF` of the reusable
workflows (`init --reusable`). Checked strictly, because the text lands in a `uses:` line
unquoted: only what GitHub itself allows in an owner, a repository name and a git ref."""

from __future__ import annotations

import re
from dataclasses import dataclass

from gitreg.errors import UsageError

# GitHub: an owner is 1-39 letters, digits or single inner hyphens; a repository name is
# letters, digits, '.', '_' and '-'; a ref is a branch, a tag or a commit
_OWNER = r"[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}"
_REPO = r"[A-Za-z0-9._-]{1,100}"
_REF = r"[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,199})"
_REUSABLE = re.compile(rf"(?P<owner>{_OWNER})/(?P<repo>{_REPO})@(?P<ref>{_REF})")


@dataclass(frozen=True)
class Reusable:
    """Where the reusable workflows live: `uses: OWNER/REPO/.github/workflows/F@REF`."""

    owner: str
    repo: str
    ref: str

    def uses(self, workflow: str) -> str:
        return f"{self.owner}/{self.repo}/.github/workflows/{workflow}@{self.ref}"


def _ref_problem(ref: str) -> str | None:
    """What git's check-ref-format would refuse in `ref` (the character set is checked by
    the pattern already)."""
    if ".." in ref or "//" in ref:
        return "holds '..' or '//'"
    if ref.endswith(("/", ".", ".lock")):
        return "ends with '/', '.' or '.lock'"
    if any(part.startswith(".") for part in ref.split("/")):
        return "has a part that starts with '.'"
    return None


def parse_reusable(text: str) -> Reusable:
    """`OWNER/REPO@REF` (e.g. `acme/gitreg@v0.1.0`), or a UsageError saying what is wrong."""
    m = _REUSABLE.fullmatch(text)
    problem = None
    if m is None:
        problem = (
            "expected OWNER/REPO@REF: a GitHub owner (letters, digits, inner hyphens), a "
            "repository name (letters, digits, '.', '_', '-') and a tag, branch or commit"
        )
    elif m["repo"] in (".", ".."):
        problem = "the repository name may not be '.' or '..'"
    else:
        problem = _ref_problem(m["ref"])
    if problem or m is None:
        raise UsageError(
            f"--reusable {text[:120]!r}: {problem}",
            "e.g. --reusable acme/gitreg@v0.1.0 (the repository that ships "
            ".github/workflows/registry-*.yml)",
        )
    return Reusable(m["owner"], m["repo"], m["ref"])
