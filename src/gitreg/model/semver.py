"""SemVer 2.0 versions: parsing, ordering, and `latest`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import total_ordering

# also the JSON Schema `pattern` of versions (layout.VERSION_PATTERN): ECMA-262 reads it alike
SEMVER_PATTERN = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_SEMVER = re.compile(SEMVER_PATTERN)


def is_semver(text: str) -> bool:
    return bool(_SEMVER.match(text))


@total_ordering
@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: str = ""

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
        # A release sorts after its prereleases; numeric identifiers sort before alphanumeric.
        pre = tuple((0, int(p)) if p.isdigit() else (1, p) for p in self.prerelease)
        return (self.major, self.minor, self.patch, 0 if self.prerelease else 1, pre)

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
    keyed = [(Version.parse(v)._key(), v) for v in versions if is_semver(v)]
    return [v for _, v in sorted(keyed, key=lambda pair: pair[0])]  # one key per version


def latest(versions: Iterable[str], include_prerelease: bool = False) -> str | None:
    """The highest version, skipping prereleases unless asked."""
    best: tuple[Version, str] | None = None
    for v in versions:
        if not is_semver(v):
            continue
        parsed = Version.parse(v)
        if parsed.is_prerelease and not include_prerelease:
            continue
        if best is None or parsed > best[0]:
            best = (parsed, v)
    return best[1] if best else None
