"""All git commands go through this module: one place that spawns git.

The environment git runs in is scrubbed of the variables a hook or an outer git sets
(`GIT_DIR`, `GIT_INDEX_FILE`, ...), so gitreg works the same when run from a git hook,
and git never prompts. Refs and paths always follow `--end-of-options` or `--`.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence

from gitreg.errors import GitError, NotFound, ToolMissing

TYPE_CHECKING = False  # not typing's: resolve does not import typing (docs/performance.md)
if TYPE_CHECKING:
    from pathlib import Path  # imported where a Path is made: resolve does not load it

ZERO_SHA = "0" * 40
# What `git rev-parse --local-env-vars` lists: set by hooks and outer git processes, they
# would point our git at another repository or index.
_REPO_VARS = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_PREFIX",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_SHALLOW_FILE",
    "GIT_GRAFT_FILE",
    "GIT_NO_REPLACE_OBJECTS",
    "GIT_REPLACE_REF_BASE",
    "GIT_INTERNAL_SUPER_PREFIX",
    "GIT_QUARANTINE_PATH",
]


# who made the throwaway commit of the index: not the user (no identity needed), fixed dates
STAGED_IDENTITY = {
    "GIT_AUTHOR_NAME": "gitreg",
    "GIT_AUTHOR_EMAIL": "gitreg@localhost",
    "GIT_AUTHOR_DATE": "1970-01-01T00:00:00Z",
    "GIT_COMMITTER_NAME": "gitreg",
    "GIT_COMMITTER_EMAIL": "gitreg@localhost",
    "GIT_COMMITTER_DATE": "1970-01-01T00:00:00Z",
}


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a git process: ours minus repository overrides, no prompts."""
    env = {k: v for k, v in os.environ.items() if k not in _REPO_VARS}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("LC_ALL", "C")
    return {**env, **(extra or {})}


def _missing(cwd: str, e: FileNotFoundError) -> Exception:
    """What a FileNotFoundError from spawning git means: no directory, or no git."""
    if not os.path.isdir(cwd):
        return NotFound(
            f"{cwd}: no such directory",
            "pass -C PATH to an existing registry repository",
            kind="directory",
            name=cwd,
        )
    return ToolMissing("git", "install git (https://git-scm.com/downloads)")


def spawn(cwd: str, args: Sequence[str], **kwargs: object) -> subprocess.Popen[bytes]:
    """A long-lived git process (e.g. `cat-file --batch`), with the scrubbed environment."""
    try:
        return subprocess.Popen(["git", *args], cwd=cwd, env=git_env(), **kwargs)  # type: ignore[call-overload, no-any-return]
    except FileNotFoundError as e:
        raise _missing(cwd, e) from e


class Git:
    """A git repository (or a directory inside one) driven through the git CLI."""

    def __init__(self, cwd: str | Path) -> None:
        self.cwd = str(cwd)

    def _proc(
        self, args: Sequence[str], input: bytes | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                ["git", *args], cwd=self.cwd, input=input, capture_output=True, env=git_env(env)
            )
        except FileNotFoundError as e:
            raise _missing(self.cwd, e) from e

    def run(
        self,
        args: Sequence[str],
        *,
        input: bytes | None = None,
        check: bool = True,
        hint: str | None = None,
        env: dict[str, str] | None = None,
    ) -> str:
        """`run_bytes`, decoded as UTF-8."""
        out = self.run_bytes(args, input=input, check=check, hint=hint, env=env)
        return out.decode("utf-8", "replace")

    def run_bytes(
        self,
        args: Sequence[str],
        *,
        input: bytes | None = None,
        check: bool = True,
        hint: str | None = None,
        env: dict[str, str] | None = None,
    ) -> bytes:
        proc = self._proc(args, input, env)
        if check and proc.returncode != 0:
            raise GitError(list(args), proc.stderr.decode("utf-8", "replace"), hint)
        return proc.stdout

    def attempt(
        self, args: Sequence[str], input: bytes | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[bytes]:
        """Run a git command that may fail; the caller reads its code and output."""
        return self._proc(args, input, env)

    def ok(self, args: Sequence[str]) -> bool:
        """True if the git command exits 0."""
        return self._proc(args).returncode == 0

    def _line(self, args: Sequence[str]) -> str | None:
        """The first line of a command's output, or None if it fails."""
        proc = self._proc(args)
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    # --- queries ---------------------------------------------------------------------------

    def toplevel(self) -> Path | None:
        from pathlib import Path

        top = self.top_dir()
        return Path(top) if top else None

    def top_dir(self) -> str | None:
        """`toplevel` as a string (resolve does not load pathlib)."""
        return self._line(["rev-parse", "--show-toplevel"]) or None

    def git_dir(self) -> Path | None:
        """The repository's git directory (for a bare repository, the repository itself)."""
        from pathlib import Path

        found = self._line(["rev-parse", "--absolute-git-dir"])
        return Path(found) if found else None

    def common_dir(self) -> Path | None:
        """The git directory a repository's worktrees share (else `git_dir`)."""
        from pathlib import Path

        found = self._line(["rev-parse", "--path-format=absolute", "--git-common-dir"])
        return Path(found) if found else None

    def rev_parse(self, ref: str) -> str | None:
        """The commit a ref names, or None."""
        return self._line(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"]
        )

    def commit_of(self, ref: str) -> str:
        sha = self.rev_parse(ref)
        if sha is None:
            raise NotFound(
                f"ref {ref!r} does not name a commit in {self.cwd}",
                "check the branch, tag or commit name (git log --oneline shows commits)",
                kind="ref",
                name=ref,
                where=self.cwd,
            )
        return sha

    def current_branch(self) -> str | None:
        return self._line(["symbolic-ref", "--quiet", "--short", "HEAD"]) or None

    def branch_exists(self, branch: str) -> bool:
        return self.rev_parse(f"refs/heads/{branch}") is not None

    def config_get(self, key: str) -> str | None:
        return self._line(["config", "--get", "--end-of-options", key]) or None

    def diff_names(self, base: str, head: str, paths: Sequence[str] = ()) -> list[tuple[str, str]]:
        """(status, path) of what changed from base to head: A, M, D (renames split)."""
        args = ["diff", "--no-renames", "--name-status", "-z", "--end-of-options", base, head]
        out = self.run_bytes([*args, "--", *paths])
        parts = out.decode("utf-8", "replace").split("\0")
        return [(parts[i][0], parts[i + 1]) for i in range(0, len(parts) - 1, 2) if parts[i]]

    def merge_base(self, a: str, b: str) -> str | None:
        return self._line(["merge-base", "--end-of-options", a, b])

    def is_ancestor(self, commit: str, of: str) -> bool:
        return self.ok(["merge-base", "--is-ancestor", "--end-of-options", commit, of])

    def first_parents(self, tip: str) -> set[str]:
        """Every commit on the first-parent chain of `tip` (main's history, merge by merge)."""
        out = self.run(["rev-list", "--first-parent", "--end-of-options", tip, "--"])
        return set(out.split())

    def on_first_parent_chain(self, commit: str, tip: str) -> bool:
        """True if `commit` is `tip` or on its first-parent chain, in time that follows the
        distance between them, not the length of the history (`first_parents` lists it all)."""
        if commit == tip:
            return True
        if not self.is_ancestor(commit, tip):
            return False
        args = ["rev-list", "--first-parent", "--parents", "--end-of-options", tip, f"^{commit}"]
        lines = self.run([*args, "--"]).split("\n")
        oldest = next((line.split() for line in reversed(lines) if line.strip()), [])
        return len(oldest) > 1 and oldest[1] == commit

    def blob_at(self, commit: str, path: str) -> str | None:
        """The blob id of `path` at `commit`, or None."""
        return self._line(
            ["rev-parse", "--verify", "--quiet", "--end-of-options", f"{commit}:{path}"]
        )

    # --- commits from objects alone --------------------------------------------------------
    # Neither the working tree nor the index nor any ref is touched: the caller moves a ref
    # with `update_ref` once the commit exists.

    def commit_files(self, base: str, files: dict[str, bytes], message: str) -> str:
        """A new commit on top of `base` with `files` written; no working tree, no user index.

        Builds the tree in a temporary index file, so the cost does not depend on the size
        of a checkout, and nothing the user sees changes until a ref is moved.
        """
        import tempfile  # here: resolve, which never needs it, is mostly start-up

        with tempfile.TemporaryDirectory(prefix="gitreg-index-") as tmp:
            env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            self.run(["read-tree", "--end-of-options", base], env=env)
            entries = []
            for path, data in files.items():
                blob = self.run(["hash-object", "-w", "--stdin"], input=data).strip()
                entries.append(f"100644 {blob}\t{path}\n")
            self.run(["update-index", "--index-info"], input="".join(entries).encode(), env=env)
            tree = self.run(["write-tree"], env=env).strip()
        args = ["commit-tree", tree, "-p", base, "-F", "-"]
        return self.run(args, input=message.encode()).strip()

    def index_commit(self) -> str:
        """A commit of what the index holds (what `git commit` would record), on top of HEAD.

        `write-tree` and `commit-tree` only write objects: the index, the working tree and
        every ref stay as they are, and the commit is garbage once nothing reads it. In a git
        hook the index is the one git names in GIT_INDEX_FILE (`git commit -a` and
        `git commit PATH` stage into a temporary index of their own).
        """
        env = dict(STAGED_IDENTITY)
        index = os.environ.get("GIT_INDEX_FILE")
        if index:
            env["GIT_INDEX_FILE"] = os.path.abspath(index)
        tree = self.run(
            ["write-tree"],
            env=env,
            hint="the index has unmerged paths: resolve the conflicts and `git add` them",
        ).strip()
        head = self.rev_parse("HEAD")
        args = ["commit-tree", tree, *(["-p", head] if head else [])]
        return self.run(args, input=b"the index, for gitreg validate --staged\n", env=env).strip()

    def update_ref(self, ref: str, new: str, old: str, reason: str) -> None:
        """Move `ref` to `new` if it is at `old` ("" : it must not exist yet)."""
        self.run(["update-ref", "-m", reason, "--", ref, new, old])
