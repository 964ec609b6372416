"""Opening a registry for reading wherever it is: a working tree, a bare repository, or a
URL read through the fetch cache (`gitreg.store.remote`), never cloned into the open.

For a URL, `--ref HEAD` means the remote's default branch; another ref is fetched as a
branch of that name, else as a tag. The whole first-parent history of a branch comes along
(`fetch_branch`), so `history` walks it as it would locally; the model's tags are fetched
when a read needs them (`tags_of`).
"""

from __future__ import annotations

from gitreg.errors import GitError, NotFound
from gitreg.registry.reader import Registry, find_root
from gitreg.store.git import Git
from gitreg.store.remote import (
    PROTOCOLS,
    check_repo,
    check_url,
    fetch_branch,
    fetch_model_tags,
    fetch_tag,
    is_url,
)


def open_for_reading(repo: str, ref: str = "HEAD", tags_of: str | None = None) -> Registry:
    """The registry `repo` (a path, a bare repository or a URL) read at `ref`; `tags_of`: a
    model whose release tags the read needs (a URL's cache fetches them)."""
    repo = check_repo(repo)
    if is_url(repo):
        return _open_url(repo, ref, tags_of)
    where = Git(repo)
    top = where.toplevel()
    if top is not None:  # a working tree (asked once: `find_root` would ask again)
        return Registry.from_git(Git(top), ref)
    if _is_bare(where):
        git_dir = where.git_dir()
        assert git_dir is not None  # a bare repository has one
        return Registry.from_git(Git(git_dir), ref)
    return Registry.from_git(Git(find_root(repo)), ref)  # raises: which mistake it is


def _is_bare(git: Git) -> bool:
    proc = git.attempt(["rev-parse", "--is-bare-repository"])
    return proc.returncode == 0 and proc.stdout.strip() == b"true"


def default_branch(url: str) -> str:
    """The branch a remote's HEAD points to (`git ls-remote --symref`), else main."""
    out = Git(".").run(
        ["ls-remote", "--symref", "--", check_url(url), "HEAD"],
        hint=f"check that {url} is a git repository you can read",
        env=PROTOCOLS,
    )
    for line in out.splitlines():
        target, _, name = line.partition("\t")
        if name == "HEAD" and target.startswith("ref: refs/heads/"):
            return target.removeprefix("ref: refs/heads/")
    return "main"


def _open_url(url: str, ref: str, tags_of: str | None) -> Registry:
    branch = default_branch(url) if ref == "HEAD" else ref.removeprefix("refs/heads/")
    try:
        git, _ = fetch_branch(url, branch)
        at = f"refs/remotes/origin/{branch}"
    except GitError:
        if ref == "HEAD":
            raise
        tag = ref.removeprefix("refs/tags/")
        try:
            git, at = fetch_tag(url, tag), f"refs/tags/{tag}"
        except GitError:
            raise NotFound(
                f"{url}: no branch or tag {ref!r}",
                "a URL is read at a branch or a tag (a bare commit id needs a local clone)",
                kind="ref",
                name=ref,
                where=url,
            ) from None
    if tags_of is not None:
        fetch_model_tags(url, tags_of)
    return Registry.from_git(git, at, shown=url)
