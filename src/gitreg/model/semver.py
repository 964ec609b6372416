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


def sort_versions(versions: Iterable[str]) -> list[str]:
    """Valid SemVer strings in ascending order; invalid ones are dropped."""
    keyed: list[tuple[tuple[int, int, int, int, tuple[tuple[int, int | str], ...]], str]] = []
    for v in versions:  # one regex match per version, no Version object (100,000 in list)
        m = _SEMVER.match(v)
        if m is not None:
            major, minor, patch, pre_text, _ = m.groups()
            if pre_text is None:  # the usual release: its key without the general path
                keyed.append(((int(major), int(minor), int(patch), 1, ()), v))
                continue
            pre = tuple(pre_text.split("."))
            keyed.append((_order_key(int(major), int(minor), int(patch), pre), v))
    return [v for _, v in sorted(keyed, key=lambda pair: pair[0])]  # one key per version


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
