"""Remote registries known by URL: `git ls-remote` and shallow fetches into a local cache.

A URL is never cloned. Its tags are listed with `ls-remote` (peeled commits included), and
the one tag a read needs is fetched shallow into a bare cache repository that is created
atomically, reused across calls, and fetched into under a file lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from gitreg.errors import NotFound, RegistryError
from gitreg.model import tags
from gitreg.store.git import Git

SCHEMES = ("https://", "ssh://", "git://", "file://")
# what git may speak for a URL gitreg was given (no ext::, fd::, or other transports)
PROTOCOLS = {"GIT_ALLOW_PROTOCOL": "https:ssh:git:file", "GIT_PROTOCOL_FROM_USER": "0"}
_SCP = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^:]")


def is_url(repo: str) -> bool:
    """A git URL (`scheme://...` or scp-like `user@host:path`), as opposed to a local path."""
    return "://" in repo or (repo.count(":") == 1 and "@" in repo.split(":")[0])


def check_url(url: str) -> str:
    """`url`, if gitreg may hand it to git: https, ssh, git, file or scp-like; never a
    string git could read as an option or a transport that runs a command (`ext::`)."""
    bad = None
    if url.startswith("-"):
        bad = "may not start with '-'"
    elif "::" in url.split("://")[0]:
        bad = "names a git transport (such as ext::) that is not allowed"
    elif any(ord(c) < 32 for c in url):
        bad = "holds a control character"
    elif not (url.startswith(SCHEMES) or _SCP.match(url)):
        bad = "is not an https://, ssh://, git://, file:// or user@host:path URL"
    if bad:
        raise RegistryError(f"--repo {url!r}: refused: a repository URL {bad}")
    return url


def check_repo(repo: str) -> str:
    """`repo` as given to `--repo`/`-C` or `Registry.open`: a URL gitreg accepts
    (`check_url`), or a local directory that exists."""
    if is_url(repo) or repo.startswith("-") or "::" in repo:
        return check_url(repo)
    if not Path(repo).is_dir():
        raise NotFound(
            f"{repo}: no such directory",
            "pass -C PATH to an existing registry repository, or a git URL",
            kind="directory",
            name=repo,
        )
    return repo


def cache_root() -> Path:
    """gitreg's cache: GITREG_CACHE_DIR, else $XDG_CACHE_HOME/gitreg, else ~/.cache/gitreg."""
    base = os.environ.get("GITREG_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "gitreg" if base else Path.home() / ".cache" / "gitreg"


def _cache_repo(url: str) -> Path:
    """A bare repository for `url` in the cache, created atomically on first use."""
    key = hashlib.sha256(url.encode()).hexdigest()[:24]
    path = cache_root() / "repos" / key
    if (path / "HEAD").is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".init-", dir=path.parent))
    Git(tmp).run(["init", "--quiet", "--bare"])
    try:
        os.rename(tmp, path)
    except OSError:  # another process made it first
        shutil.rmtree(tmp, ignore_errors=True)
    return path


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` across processes (fcntl on POSIX, msvcrt on Windows)."""
    with open(path, "a+b") as fh:
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            import msvcrt

            msvcrt.locking(fh.fileno(), msvcrt.LK_LOCK, 1)
        else:
            import fcntl

            fcntl.flock(fh, fcntl.LOCK_EX)
        yield


def remote_tags(url: str, name: str) -> list[tags.Tag]:
    """The model's tags on a remote, from `git ls-remote` alone (peeled commits included)."""
    patterns = [f"refs/tags/{p}" for p in tags.model_patterns(name)]
    out = Git(".").run(
        ["ls-remote", "--tags", "--", check_url(url), *patterns],
        hint=f"check that {url} is a git repository you can read",
        env=PROTOCOLS,
    )
    direct: dict[str, str] = {}
    peeled: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, ref = line.partition("\t")
        ref = ref.removeprefix("refs/tags/")
        if ref.endswith("^{}"):
            peeled[ref[:-3]] = sha
        else:
            direct[ref] = sha
    found = []
    for ref, sha in direct.items():
        parsed = tags.parse_name(ref)
        if parsed is None or parsed.model != name:
            continue
        found.append(tags.Tag(ref, parsed, peeled.get(ref, sha), ref in peeled, "", "", ""))
    return found


def _shallow(git: Git) -> bool:
    return git.run(["rev-parse", "--is-shallow-repository"]).strip() == "true"


def fetch_tag(url: str, tag: str) -> Git:
    """The cache repository for `url`, holding `tag` (fetched shallow if not there yet).

    Once a verified read has fetched the whole main branch (`fetch_branch`), tags are
    fetched without `--depth`, so the history a verification walks stays whole.
    """
    repo = _cache_repo(check_url(url))
    git = Git(repo)
    if git.rev_parse(f"refs/tags/{tag}") is None:
        with _locked(repo / "gitreg.lock"):
            if git.rev_parse(f"refs/tags/{tag}") is None:
                spec = f"refs/tags/{tag}:refs/tags/{tag}"
                has_branch = git.run(["for-each-ref", "--count=1", "--", "refs/remotes/"])
                whole = has_branch.strip() and not _shallow(git)
                depth = [] if whole else ["--depth=1"]
                git.run(
                    ["fetch", "--quiet", *depth, "--no-tags", "--", url, spec],
                    hint=f"check that {url} is reachable",
                    env=PROTOCOLS,
                )
    return git


def fetch_branch(url: str, branch: str) -> tuple[Git, str]:
    """The cache repository for `url` with the whole first-parent history of `branch` (what
    a verified read checks tags against), and the branch's tip. Fetched on every call: the
    branch moves; what is already there is not sent again."""
    repo = _cache_repo(check_url(url))
    git = Git(repo)
    ref = f"refs/remotes/origin/{branch}"
    with _locked(repo / "gitreg.lock"):
        deepen = ["--unshallow"] if _shallow(git) else []
        git.run(
            ["fetch", "--quiet", *deepen, "--no-tags", "--", url, f"+refs/heads/{branch}:{ref}"],
            hint=f"check that {url} is reachable and has a branch {branch!r}",
            env=PROTOCOLS,
        )
    return git, git.commit_of(ref)


def fetch_model_tags(url: str, name: str) -> Git:
    """The cache repository for `url` with every tag of model `name` as the remote has it
    (for a verification that compares a tag with its model's others)."""
    repo = _cache_repo(check_url(url))
    git = Git(repo)
    # a glob matches nothing without an error, where an exact name that is missing fails
    globs = [p if "*" in p else f"{p}*" for p in tags.model_patterns(name)]
    specs = [f"+refs/tags/{p}:refs/tags/{p}" for p in globs]
    with _locked(repo / "gitreg.lock"):
        depth = ["--depth=1"] if _shallow(git) else []
        git.run(
            ["fetch", "--quiet", *depth, "--no-tags", "--", url, *specs],
            hint=f"check that {url} is reachable",
            env=PROTOCOLS,
        )
    return git
