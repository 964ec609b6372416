"""Branches made from git objects alone: one commit on top of a base, one `update-ref`.

The user's working tree, index and current branch are never touched, and a failure before
the `update-ref` changes no ref.
"""

from __future__ import annotations

from gitreg.errors import Conflict, GitError, RegistryError
from gitreg.store.git import Git


def create_branch(git: Git, branch: str, base: str, path: str, data: bytes, message: str) -> str:
    """A new branch `branch` holding one commit on `base` that sets `path` to `data`.

    Refused (Conflict, nothing changed) if the branch exists; the hint says whether it
    already holds the same change.
    """
    ref = f"refs/heads/{branch}"
    existing = git.rev_parse(ref)
    if existing is not None:
        blob = git.run(["hash-object", "--stdin"], input=data).strip()
        same = git.blob_at(existing, path) == blob
        raise Conflict(
            f"branch {branch} already exists ({existing[:12]})",
            f"it already holds this change: push it (git push origin {branch}) and open "
            f"a pull request, or delete it (git branch -D {branch}) to start over"
            if same
            else f"it holds a different change: delete it (git branch -D {branch}) and run again",
            ref=ref,
        )
    commit = git.commit_files(base, {path: data}, message)
    try:
        git.update_ref(ref, commit, "", f"gitreg: {message.splitlines()[0]}")
    except GitError as e:
        raise Conflict(
            f"could not create branch {branch}: {e.stderr or 'no message'}",
            f"if it exists now, delete it (git branch -D {branch}) and run again",
            ref=ref,
        ) from e
    return commit


def push_branch(git: Git, branch: str, commit: str, remote: str = "origin") -> None:
    """Push `branch` to `remote`; on failure say that the local branch is kept."""
    ref = f"refs/heads/{branch}"
    try:
        git.run(["push", "--quiet", "--", remote, f"{ref}:{ref}"])
    except GitError as e:
        raise RegistryError(
            f"created branch {branch} ({commit[:12]}) locally, but pushing it to {remote} failed: "
            f"{e.stderr or 'no message'}",
            f"the branch is kept; push it by hand once {remote} is reachable: "
            f"git push {remote} {branch}",
        ) from e
