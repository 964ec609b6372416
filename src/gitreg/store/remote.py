"""Remote registries known by URL: one model's tags, and partial fetches into a local cache.

A URL is never cloned. Only the model's tags are listed: protocol v2 `ls-refs` with the
model's `ref-prefix` lines for a `file://` URL (spoken to `git upload-pack` directly, since
`git ls-remote PATTERN` asks for every tag), and for other URLs a `git fetch` whose
refspecs name the model's prefix (git sends those prefixes itself). The one tag a read
needs is fetched shallow, without blobs where the server allows filters (then only the
blobs read are fetched), into a bare cache repository that is created atomically, reused
across calls, and fetched into under a file lock.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator

from gitreg.errors import NotFound, RegistryError
from gitreg.model import tags
from gitreg.record import Record
from gitreg.store import refs
from gitreg.store.git import Git

TYPE_CHECKING = False  # not typing's: resolve does not import typing (docs/performance.md)
if TYPE_CHECKING:
    from pathlib import Path  # imported where used: a local resolve does not load it

SCHEMES = ("https://", "ssh://", "git://", "file://")
# what git may speak for a URL gitreg was given (no ext::, fd::, or other transports)
PROTOCOLS = {"GIT_ALLOW_PROTOCOL": "https:ssh:git:file", "GIT_PROTOCOL_FROM_USER": "0"}
_SCP = r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^:]"  # compiled on first use (re's cache)


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
    elif not (url.startswith(SCHEMES) or re.match(_SCP, url)):
        bad = "is not an https://, ssh://, git://, file:// or user@host:path URL"
    if bad:
        raise RegistryError(f"--repo {url!r}: refused: a repository URL {bad}")
    return url


def check_repo(repo: str) -> str:
    """`repo` as given to `--repo`/`-C` or `Registry.open`: a URL gitreg accepts
    (`check_url`), or a local directory that exists."""
    if is_url(repo) or repo.startswith("-") or "::" in repo:
        return check_url(repo)
    if not os.path.isdir(repo):
        raise NotFound(
            f"{repo}: no such directory",
            "pass -C PATH to an existing registry repository, or a git URL",
            kind="directory",
            name=repo,
        )
    return repo


def cache_root() -> Path:
    """gitreg's cache: GITREG_CACHE_DIR, else $XDG_CACHE_HOME/gitreg, else ~/.cache/gitreg."""
    from pathlib import Path

    base = os.environ.get("GITREG_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    return Path(base) / "gitreg" if base else Path.home() / ".cache" / "gitreg"


def _cache_repo(url: str) -> Path:
    """A bare repository for `url` in the cache, created atomically on first use."""
    import hashlib  # here, as tempfile and shutil: a local resolve is mostly start-up
    import shutil
    import tempfile
    from pathlib import Path

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


def _pkt(line: str) -> bytes:
    data = line.encode()
    return b"%04x" % (len(data) + 4) + data


def _pkt_lines(data: bytes) -> Iterator[str | None]:
    """The pkt-lines of `data`, None for a flush, delim or response-end packet."""
    i = 0
    while i + 4 <= len(data):
        n = int(data[i : i + 4], 16)
        if n < 4:
            yield None
            i += 4
            continue
        yield data[i + 4 : i + n].decode("utf-8", "replace").rstrip("\n")
        i += n


def _local_path(url: str) -> str | None:
    """The directory a `file://` URL names (host empty or localhost), else None."""
    if not url.startswith("file://"):
        return None
    from urllib.parse import unquote

    host, sep, path = url[len("file://") :].partition("/")
    return unquote("/" + path) if sep and host in ("", "localhost") else None


class Listing(Record):
    """What protocol v2 `ls-refs` said: (ref, object, peeled commit or None), and the
    server's `fetch` features (`filter` when it allows partial fetches)."""

    __slots__ = ("refs", "fetch_features")  # noqa: RUF023 - the fields' order
    refs: list[tuple[str, str, str | None]]
    fetch_features: frozenset[str]

    def __init__(
        self, refs: list[tuple[str, str, str | None]], fetch_features: frozenset[str]
    ) -> None:
        self.refs, self.fetch_features = refs, fetch_features


# url -> whether its server allows `--filter` (learnt from `ls_refs`; unknown: git tries)
_FILTERS: dict[str, bool] = {}


def ls_refs(url: str, prefixes: list[str]) -> Listing | None:
    """Protocol v2 `ls-refs` with `ref-prefix` lines, spoken to `git upload-pack` of a
    `file://` URL: the server reads only the refs under the prefixes, where `git ls-remote`
    with a pattern asks for every tag and filters on the client. None for other URLs or a
    server that does not speak v2 (the caller falls back to `git ls-remote`)."""
    path = _local_path(check_url(url))
    if path is None:
        return None
    request = [_pkt("command=ls-refs\n"), b"0001", _pkt("peel\n")]
    request += [_pkt(f"ref-prefix {p}\n") for p in prefixes]
    proc = Git(".").attempt(
        ["upload-pack", "--", path],
        input=b"".join([*request, b"0000"]),
        env={**PROTOCOLS, "GIT_PROTOCOL": "version=2"},
    )
    lines = _pkt_lines(proc.stdout)
    if proc.returncode != 0 or next(lines, None) != "version 2":
        return None
    features: frozenset[str] = frozenset()
    for cap in iter(lambda: next(lines, None), None):  # capabilities, up to a flush
        if cap.startswith("fetch="):
            features = frozenset(cap[len("fetch=") :].split())
    _FILTERS[url] = "filter" in features
    refs = []
    for line in iter(lambda: next(lines, None), None):
        sha, _, rest = line.partition(" ")
        ref, *attrs = rest.split(" ")
        peeled = next((a[len("peeled:") :] for a in attrs if a.startswith("peeled:")), None)
        refs.append((ref, sha, peeled))
    return Listing(refs, features)


def model_prefixes(name: str) -> list[str]:
    """The ref prefixes that hold every tag of model `name` (`NAME@...`, `NAME#...`)."""
    return [f"refs/tags/{name}@", f"refs/tags/{name}#"]


def remote_tags(url: str, name: str) -> list[tags.Tag]:
    """The model's tags on a remote, and no other model's: from v2 `ls-refs` for a
    `file://` URL (peeled commits included; no trailers), else fetched into the cache by
    `fetch_model_tags` and read there (trailers included)."""
    listing = ls_refs(url, model_prefixes(name))
    if listing is None:
        return refs.model_tags(fetch_model_tags(url, name, prune=True), name)
    found = []
    for ref, sha, peeled in listing.refs:
        ref = ref.removeprefix("refs/tags/")
        parsed = tags.parse_name(ref)
        if parsed is None or parsed.model != name:
            continue
        found.append(tags.Tag(ref, parsed, peeled or sha, peeled is not None, "", "", ""))
    return found


def _shallow(git: Git) -> bool:
    return git.run(["rev-parse", "--is-shallow-repository"]).strip() == "true"


def _whole(git: Git) -> bool:
    """True once a verified read fetched main's whole history (`fetch_branch`)."""
    has_branch = git.run(["for-each-ref", "--count=1", "--", "refs/remotes/"])
    return bool(has_branch.strip()) and not _shallow(git)


def fetch_tag(url: str, tag: str, paths: tuple[str, ...] = ()) -> Git:
    """The cache repository for `url`, holding `tag` and the files `paths` at its commit
    (fetched shallow if not there yet).

    Where the server allows filters the tag comes with its commit alone, then the trees
    and blobs on the way to `paths` (`_fetch_paths`); any other object is fetched by git
    when it is read. A server that refuses filters sends the whole tree, as a plain shallow
    fetch would. A tag already in the cache without its files (listed by
    `fetch_model_tags`) gets them once: `refs/gitreg/read/TAG` records that they came.
    Once a verified read has fetched the whole main branch (`fetch_branch`), tags are
    fetched without `--depth`, so the history a verification walks stays whole.
    """
    repo = _cache_repo(check_url(url))
    git = Git(repo)
    marker = f"refs/gitreg/read/{tag}"
    if git.rev_parse(f"refs/tags/{tag}") is None or (paths and git.rev_parse(marker) is None):
        with _locked(repo / "gitreg.lock"):
            if git.rev_parse(f"refs/tags/{tag}") is None:
                _fetch_one(git, url, tag, paths)
            elif paths and _FILTERS.get(url) is not False and git.rev_parse(marker) is None:
                _fetch_paths(git, url, f"refs/tags/{tag}^{{commit}}", paths)
            if paths:
                git.run(["update-ref", "--", marker, f"refs/tags/{tag}^{{commit}}"])
    return git


def _fetch_one(git: Git, url: str, tag: str, paths: tuple[str, ...]) -> None:
    """Fetch `tag`: where the server allows filters, the tag and its commit alone
    (`tree:0`: any tree or blob filter other than that makes the server walk the whole
    tree), then `_fetch_paths`."""
    spec = f"refs/tags/{tag}:refs/tags/{tag}"
    depth = [] if _whole(git) else ["--depth=1"]
    filtered = _FILTERS.get(url) is not False
    filt = ["--filter=tree:0"] if filtered else []
    hint = f"check that {url} is reachable"
    git.run(
        ["fetch", "--quiet", *depth, *filt, "--no-tags", "--", url, spec], hint=hint, env=PROTOCOLS
    )
    if filtered and paths:
        _fetch_paths(git, url, f"refs/tags/{tag}^{{commit}}", paths)


def _fetch_paths(git: Git, url: str, commit: str, paths: tuple[str, ...]) -> None:
    """The trees on the way to `paths` at `commit`, and their blobs: one fetch per folder
    level, of those objects by id (a server sends what it is asked for by id, whatever
    the filter), so the cost follows the depth of `paths`, not the size of the tree."""
    # the root tree's id from the commit object itself: peeling `C^{tree}` would make git
    # fetch the missing tree with every tree below it
    header = git.run(["cat-file", "commit", commit]).split("\n", 1)[0]
    trees = {"": header.removeprefix("tree ").strip()}
    blobs: list[str] = []
    hint = f"check that {url} is reachable"
    # no "have" lines: the server would think the tagged commit's objects are here
    fetch = ["-c", "fetch.negotiationAlgorithm=noop", "fetch", "--quiet", "--no-tags"]
    fetch += ["--no-write-fetch-head", "--filter=tree:0", "--", url]
    while trees or blobs:
        git.run([*fetch, *trees.values(), *blobs], hint=hint, env=PROTOCOLS)
        listed, trees, blobs = trees, {}, []
        for folder, oid in listed.items():
            out = git.run(["ls-tree", "-z", "--end-of-options", oid])
            for entry in filter(None, out.split("\0")):
                meta, _, name = entry.partition("\t")
                _, otype, sha = meta.split()
                path = f"{folder}/{name}" if folder else name
                if otype == "tree" and any(p.startswith(f"{path}/") for p in paths):
                    trees[path] = sha
                elif otype == "blob" and path in paths:
                    blobs.append(sha)


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


def fetch_model_tags(url: str, name: str, prune: bool = False) -> Git:
    """The cache repository for `url` with every tag of model `name` as the remote has it
    (for a verification that compares a tag with its model's others, or to list them):
    git sends the refspecs' prefixes, so the server reads only the model's tags. Into a
    cache without main's history, shallow and without trees where the server allows
    filters (git fetches what is read later); `prune`: drop the model's tags the remote
    no longer has."""
    repo = _cache_repo(check_url(url))
    git = Git(repo)
    # a glob matches nothing without an error, where an exact name that is missing fails
    globs = [p if "*" in p else f"{p}*" for p in tags.model_patterns(name)]
    specs = [f"+refs/tags/{p}:refs/tags/{p}" for p in globs]
    with _locked(repo / "gitreg.lock"):
        whole = _whole(git)
        depth = [] if whole else ["--depth=1"]
        filt = ["--filter=tree:0"] if not whole and _FILTERS.get(url) is not False else []
        opts = [*depth, *filt, *(["--prune"] if prune else []), "--no-tags"]
        git.run(
            ["fetch", "--quiet", *opts, "--", url, *specs],
            hint=f"check that {url} is reachable",
            env=PROTOCOLS,
        )
    return git
