"""All git access goes through this module.

Reads come from git objects at a commit (`Snapshot`), served by one long-lived
`git cat-file --batch` process, so a dirty working tree never changes what a read command
answers and reading many files costs one process, not one per file.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import GitError, NotFoundError, RegistryError

ZERO_SHA = "0" * 40


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("LC_ALL", "C")
    return env


class Git:
    """A git repository (or a directory inside one) driven through the git CLI."""

    def __init__(self, cwd: str | Path) -> None:
        self.cwd = str(cwd)

    def run(
        self,
        args: Sequence[str],
        *,
        input: bytes | None = None,
        check: bool = True,
        hint: str | None = None,
        env: dict[str, str] | None = None,
    ) -> str:
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
        try:
            proc = subprocess.run(
                ["git", *args],
                cwd=self.cwd,
                input=input,
                capture_output=True,
                env={**_env(), **(env or {})},
            )
        except FileNotFoundError as e:
            raise RegistryError("git is not installed or not on PATH", "install git") from e
        if check and proc.returncode != 0:
            raise GitError(list(args), proc.stderr.decode("utf-8", "replace"), hint)
        return proc.stdout

    def ok(self, args: Sequence[str]) -> bool:
        """True if the git command exits 0."""
        return (
            subprocess.run(["git", *args], cwd=self.cwd, capture_output=True, env=_env()).returncode
            == 0
        )

    # --- queries ---------------------------------------------------------------------------

    def toplevel(self) -> Path | None:
        out = subprocess.run(
            ["git", "rev-parse", "--show-toplevel"],
            cwd=self.cwd,
            capture_output=True,
            env=_env(),
        )
        if out.returncode != 0:
            return None
        return Path(out.stdout.decode().strip())

    def rev_parse(self, ref: str) -> str | None:
        """The commit a ref names, or None."""
        proc = subprocess.run(
            ["git", "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}"],
            cwd=self.cwd,
            capture_output=True,
            env=_env(),
        )
        if proc.returncode != 0:
            return None
        return proc.stdout.decode().strip()

    def commit_of(self, ref: str) -> str:
        sha = self.rev_parse(ref)
        if sha is None:
            raise NotFoundError(
                f"ref {ref!r} does not name a commit in {self.cwd}",
                "check the branch, tag or commit name (git log --oneline shows commits)",
            )
        return sha

    def current_branch(self) -> str | None:
        proc = subprocess.run(
            ["git", "symbolic-ref", "--quiet", "--short", "HEAD"],
            cwd=self.cwd,
            capture_output=True,
            env=_env(),
        )
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def branch_exists(self, branch: str) -> bool:
        return self.rev_parse(f"refs/heads/{branch}") is not None

    def config_get(self, key: str) -> str | None:
        proc = subprocess.run(
            ["git", "config", "--get", key], cwd=self.cwd, capture_output=True, env=_env()
        )
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    def diff_names(self, base: str, head: str, paths: Sequence[str] = ()) -> list[tuple[str, str]]:
        """(status, path) of what changed from base to head: A, M, D (renames split)."""
        out = self.run_bytes(
            ["diff", "--no-renames", "--name-status", "-z", base, head, "--", *paths]
        )
        parts = out.decode("utf-8", "replace").split("\0")
        return [(parts[i][0], parts[i + 1]) for i in range(0, len(parts) - 1, 2) if parts[i]]

    def merge_base(self, a: str, b: str) -> str | None:
        proc = subprocess.run(
            ["git", "merge-base", a, b], cwd=self.cwd, capture_output=True, env=_env()
        )
        return proc.stdout.decode().strip() if proc.returncode == 0 else None

    # --- commits from objects alone (used by promote.py) ----------------------------------
    # Neither the working tree nor the index nor any ref is touched: the caller creates
    # the branch with `update-ref` once the commit exists.

    def blob_at(self, commit: str, path: str) -> str | None:
        """The blob id of `path` at `commit`, or None."""
        spec = f"{commit}:{path}"
        out = self.run(["rev-parse", "--verify", "--quiet", spec], check=False).strip()
        return out or None

    def commit_file(self, base: str, path: str, data: bytes, message: str) -> str:
        """A new commit on top of `base` whose tree is base's with `path` set to `data`."""
        return self.commit_files(base, {path: data}, message)

    def commit_files(self, base: str, files: dict[str, bytes], message: str) -> str:
        """A new commit on top of `base` with `files` written; no working tree, no user index.

        Builds the tree in a temporary index file, so the cost does not depend on the size
        of a checkout, and nothing the user sees changes until a ref is moved.
        """
        with tempfile.TemporaryDirectory(prefix="gitreg-index-") as tmp:
            env = {"GIT_INDEX_FILE": os.path.join(tmp, "index")}
            self.run(["read-tree", base], env=env)
            entries = []
            for path, data in files.items():
                blob = self.run(["hash-object", "-w", "--stdin"], input=data).strip()
                entries.append(f"100644 {blob}\t{path}\n")
            self.run(["update-index", "--index-info"], input="".join(entries).encode(), env=env)
            tree = self.run(["write-tree"], env=env).strip()
        args = ["commit-tree", tree, "-p", base, "-F", "-"]
        return self.run(args, input=message.encode()).strip()


@dataclass(frozen=True)
class TreeEntry:
    mode: str
    name: str
    sha: str

    @property
    def is_tree(self) -> bool:
        return self.mode == "40000"


class BlobReader:
    """One `git cat-file --batch` process answering many object requests."""

    def __init__(self, git: Git) -> None:
        self._git = git
        self._proc: subprocess.Popen[bytes] | None = None

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            self._proc = subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self._git.cwd,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=_env(),
            )
        return self._proc

    def read(self, spec: str) -> tuple[str, bytes] | None:
        """(type, content) of the object `spec` names (e.g. `<commit>:path`), or None."""
        if "\n" in spec:
            return None
        proc = self._process()
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(spec.encode() + b"\n")
        proc.stdin.flush()
        header = proc.stdout.readline().decode().rstrip("\n")
        if not header or header.endswith(" missing") or header.endswith(" ambiguous"):
            return None
        _, otype, size = header.rsplit(" ", 2)
        data = proc.stdout.read(int(size))
        proc.stdout.read(1)
        return otype, data

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # at interpreter shutdown, nothing to do
            self.close()

    def close(self) -> None:
        if self._proc is not None:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.close()
            self._proc.stdout.close()
            self._proc.wait()
            self._proc = None


def parse_tree(data: bytes) -> list[TreeEntry]:
    """Entries of a raw tree object (SHA-1 repositories)."""
    entries = []
    i = 0
    n = len(data)
    while i < n:
        sp = data.index(b" ", i)
        nul = data.index(b"\0", sp)
        mode = data[i:sp].decode()
        name = data[sp + 1 : nul].decode("utf-8", "surrogateescape")
        sha = data[nul + 1 : nul + 21].hex()
        entries.append(TreeEntry(mode, name, sha))
        i = nul + 21
    return entries


class Snapshot:
    """The files of a repository at one commit, read from git objects only."""

    def __init__(self, git: Git, commit: str, ref: str) -> None:
        self.git = git
        self.commit = commit
        self.ref = ref
        self._reader = BlobReader(git)

    @classmethod
    def at(cls, git: Git, ref: str = "HEAD") -> Snapshot:
        return cls(git, git.commit_of(ref), ref)

    def read(self, path: str) -> bytes | None:
        got = self._reader.read(f"{self.commit}:{path}")
        if got is None or got[0] != "blob":
            return None
        return got[1]

    def listdir(self, path: str) -> list[TreeEntry]:
        """Entries of a directory at this commit; empty if it does not exist."""
        spec = f"{self.commit}:{path}" if path else f"{self.commit}^{{tree}}"
        got = self._reader.read(spec)
        if got is None or got[0] != "tree":
            return []
        return parse_tree(got[1])

    def read_at(self, commit: str, path: str) -> bytes | None:
        """A blob at another commit, through the same cat-file process."""
        got = self._reader.read(f"{commit}:{path}")
        if got is None or got[0] != "blob":
            return None
        return got[1]

    def exists(self, path: str) -> bool:
        return self._reader.read(f"{self.commit}:{path}") is not None

    def read_many(self, paths: Iterable[str]) -> dict[str, bytes | None]:
        return {p: self.read(p) for p in paths}

    def close(self) -> None:
        self._reader.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
