"""The trailers of a release tag's message: what each may hold, read and written strictly.

    Version: 1.3.0
    Stage: production
    Promoted-in: <40-hex commit of main>
    Pull-Request: #42 | https://github.com/acme/models/pull/42
    Approved-by: alice, bob | unverified
    Override: <reason>          (only on a stage change that asked for a gate override)

A value holds no newline, separator or control character; each key appears at most once.
A tag whose trailers break these rules is malformed: `--verify` and `doctor` refuse it.
"""

from __future__ import annotations

import re

from gitreg.model.layout import NAME_PATTERN
from gitreg.model.semver import is_semver

UNVERIFIED = "unverified"
_LOGIN = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:\[bot\])?"
RULES: dict[str, re.Pattern[str]] = {
    "Version": re.compile(r"^[0-9][0-9A-Za-z.+-]*$"),
    "Stage": re.compile(rf"^{NAME_PATTERN}$"),
    "Promoted-in": re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$"),
    "Pull-Request": re.compile(
        r"^(#[0-9]+|https://[A-Za-z0-9.-]+(:[0-9]+)?/[\w./-]+/pull/[0-9]+)$"
    ),
    "Approved-by": re.compile(rf"^({UNVERIFIED}|{_LOGIN}(, {_LOGIN})*)$"),
    "Override": re.compile(r"^\S.{0,199}$"),  # model.override.clean: one bounded line
}
TRAILERS = tuple(RULES)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def value_problem(key: str, value: str) -> str | None:
    """Why `value` may not stand in trailer `key`, or None."""
    if _CONTROL.search(value):
        return f"{key}: holds a newline or control character"
    if not RULES[key].match(value):
        return f"{key}: {value[:60]!r} is not a valid value"
    if key == "Version" and not is_semver(value):
        return f"Version: {value[:60]!r} is not a SemVer version"
    return None


def parse(message: str) -> tuple[dict[str, str], list[str]]:
    """The trailers of a tag message, and what is wrong with them (empty if nothing)."""
    out: dict[str, str] = {}
    problems: list[str] = []
    for line in message.splitlines():
        key, sep, value = line.partition(":")
        if not sep or key not in RULES:
            continue
        value = value.strip()
        if key in out:
            problems.append(f"{key}: appears more than once")
            continue
        problem = value_problem(key, value)
        if problem:
            problems.append(problem)
            continue
        out[key] = value
    return out, problems


def message(subject: str, trailers: dict[str, str]) -> str:
    """A tag message: subject, blank line, trailers. Refuses a value that breaks the rules."""
    for key, value in trailers.items():
        problem = value_problem(key, value) if value else None
        if problem:
            raise ValueError(f"refusing to write trailer {problem}")
    body = "\n".join(f"{k}: {v}" for k, v in trailers.items() if v)
    return f"{subject}\n\n{body}\n"


def approvers(found: dict[str, str]) -> list[str]:
    """The logins an `Approved-by:` trailer names (`unverified` stays as it is)."""
    return [a.strip() for a in found.get("Approved-by", "").split(",") if a.strip()]
