"""SemVer 2.0 versions: parsing, ordering, and `latest`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import total_ordering

from gitreg.record import Record

# also the JSON Schema `pattern` of versions (layout.VERSION_PATTERN): ECMA-262 reads it alike
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_SEMVER = re.compile(SEMVER_PATTERN)


def is_semver(text: str) -> bool:
    return bool(_SEMVER.match(text))


def _order_key(
    major: int, minor: int, patch: int, prerelease: tuple[str, ...]
) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
    # A release sorts after its prereleases; numeric identifiers sort before alphanumeric.
    pre = tuple((0, int(p)) if p.isdigit() else (1, p) for p in prerelease)
    return (major, minor, patch, 0 if prerelease else 1, pre)


@total_ordering
class Version(Record):
    __slots__ = ("major", "minor", "patch", "prerelease", "build")  # noqa: RUF023 - the fields' order
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...]
    build: str

    def __init__(
        self, major: int, minor: int, patch: int, prerelease: tuple[str, ...] = (), build: str = ""
    ) -> None:
        self.major, self.minor, self.patch = major, minor, patch
        self.prerelease, self.build = prerelease, build

    @classmethod
    def parse(cls, text: str) -> Version:
        m = _SEMVER.match(text)
        if not m:
            raise ValueError(
                f"{text!r} is not a SemVer 2.0 version (MAJOR.MINOR.PATCH, e.g. 1.3.0)"
            )
        pre = tuple(m.group(4).split(".")) if m.group(4) else ()
        return cls(int(m.group(1)), int(m.group(2)), int(m.group(3)), pre, m.group(5) or "")

    @property
    def is_prerelease(self) -> bool:
        return bool(self.prerelease)

    def _key(self) -> tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]:
        return _order_key(self.major, self.minor, self.patch, self.prerelease)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() < other._key()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Version):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(self._key())

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + self.build
        return text


Key = tuple[int, int, int, int, tuple[tuple[int, int | str], ...]]
# the usual release, MAJOR.MINOR.PATCH in ASCII digits: its key without the full pattern
# (a strict subset of SEMVER_PATTERN; anything else takes the full rule)
_PLAIN = re.compile(r"(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)")


def sort_key(text: str) -> Key | None:
    """The precedence key of a version (`Version._key`, without building a Version), or
    None for a string that is not SemVer."""
    m = _PLAIN.fullmatch(text)
    if m is not None:
        return (int(m[1]), int(m[2]), int(m[3]), 1, ())
    m = _SEMVER.match(text)
    if m is None:
        return None
    major, minor, patch, pre_text, _ = m.groups()
    pre = tuple(pre_text.split(".")) if pre_text is not None else ()
    return _order_key(int(major), int(minor), int(patch), pre)


def sort_versions(versions: Iterable[str]) -> list[str]:
    """Valid SemVer strings in ascending order; invalid ones are dropped."""
    return sort_each([versions])[0]


def sort_each(groups: Iterable[Iterable[str]]) -> list[list[str]]:
    """`sort_versions` of each group, the key of each distinct string computed once: the
    versions of every model in `list` (1000 models of 100 versions), whose names recur
    from model to model. Equal keys (build metadata) keep their order in the group."""
    keys: dict[str, Key] = {}
    invalid: set[str] = set()
    out = []
    for group in groups:
        names = list(group)
        for v in set(names).difference(keys, invalid):  # the strings not seen yet, in C
            key = sort_key(v)
            if key is None:
                invalid.add(v)
            else:
                keys[v] = key
        if not invalid.isdisjoint(names):
            names = [v for v in names if v not in invalid]
        out.append(sorted(names, key=keys.__getitem__))
    return out


def latest(versions: Iterable[str], include_prerelease: bool = False) -> str | None:
    """The highest version, skipping prereleases unless asked (the first of equals)."""
    best: tuple[tuple[int, int, int, int, tuple[tuple[int, int | str], ...]], str] | None = None
    for v in versions:
        if not is_semver(v):
            continue
        parsed = Version.parse(v)
        if parsed.is_prerelease and not include_prerelease:
            continue
        key = parsed._key()  # once per version: `>` on Version computes both keys each time
        if best is None or key > best[0]:
            best = (key, v)
    return best[1] if best else None


def latest_of_sorted(ascending: list[str]) -> str | None:
    """`latest` of versions already in `sort_versions` order, reading only the last few:
    the highest release, the first of equals (build metadata) as `latest` picks it."""
    i = len(ascending) - 1
    while i >= 0 and Version.parse(ascending[i]).is_prerelease:
        i -= 1
    if i < 0:
        return None
    key = Version.parse(ascending[i])._key()
    while i > 0 and Version.parse(ascending[i - 1])._key() == key:
        i -= 1
    return ascending[i]
