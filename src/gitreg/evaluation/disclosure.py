"""What an evaluator run may put in the report: no secret values, no data.

The report goes to a pull request comment and a job summary, which the pull request's
author reads. So:

- `Redactor` replaces, in every text of a run (its output tails, its error, its argv, its
  metric and slice names), by `***`, every value at least `MIN_SECRET` characters long of
  a variable of gitreg's own environment whose name looks secret, or that the evaluator
  did not get (unless that value is the path of an existing file or folder, such as
  VIRTUAL_ENV: paths are not secrets, and tracebacks stay readable); and the temporary
  work folder by `$TMP`;
- `names` and `message` keep error messages from echoing file contents: names (of
  columns, features, imports) are shown only if they look like names and are short, lists
  are cut, and quoted or bracketed text in a foreign message is elided.
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

REDACTED = "***"
MIN_SECRET = 8
SECRET_NAME = re.compile(
    r"TOKEN|SECRET|PASSW|CREDENTIAL|PRIVATE|ACCESS_KEY|API_?KEY|AUTH|SESSION|COOKIE"
    r"|SIGNATURE|CONNECTION_STRING|_KEY$|^KEY$|_SAS$",
    re.IGNORECASE,
)
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\- ]{0,63}")
MAX_NAMES = 8
MAX_MESSAGE = 200
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"|\[[^\]\n]*\]|\{[^}\n]*\}|\([^)\n]*\)")


def _a_path(value: str) -> bool:
    return value.startswith("/") and "\n" not in value and os.path.exists(value)


class Redactor:
    """Replaces secret values (see the module docstring) and the work folder in texts."""

    def __init__(
        self, parent: Mapping[str, str], child: Mapping[str, str], work: Path | None = None
    ) -> None:
        values = {
            value
            for name, value in parent.items()
            if len(value) >= MIN_SECRET
            and (SECRET_NAME.search(name) or (child.get(name) != value and not _a_path(value)))
        }
        self.values = sorted(values, key=len, reverse=True)  # longest first: no partial hits
        self.work = [str(work), str(work.resolve())] if work is not None else []

    def __call__(self, text: str) -> str:
        for folder in self.work:
            text = text.replace(folder, "$TMP")
        for value in self.values:
            text = text.replace(value, REDACTED)
        return text

    def keys(self, values: Mapping[str, float], known: Collection[str] = ()) -> dict[str, float]:
        """`values` with redacted names, but for the `known` ones (the policy's metrics,
        which the report shows anyway): a name must still match its policy."""
        return {k if k in known else self(k): v for k, v in values.items()}


def name(value: object) -> str:
    """`value` quoted if it looks like a name, else a placeholder: never file contents."""
    text = str(value)
    return repr(text) if SAFE_NAME.fullmatch(text) else "<a name not shown>"


def names(values: Iterable[object]) -> str:
    """At most `MAX_NAMES` names, each through `name`, and how many more there are."""
    items = list(values)
    shown = ", ".join(name(v) for v in items[:MAX_NAMES])
    more = len(items) - MAX_NAMES
    return shown + (f" and {more} more" if more > 0 else "")


def _elide(match: re.Match[str]) -> str:
    inner = match.group(0)[1:-1]
    parts = [p.strip() for p in re.split(r",\s*", inner) if p.strip()]
    if all(SAFE_NAME.fullmatch(p.strip("'\"")) for p in parts) and len(parts) <= MAX_NAMES:
        return match.group(0)
    return match.group(0)[0] + "…" + match.group(0)[-1]


def message(error: BaseException) -> str:
    """A foreign exception (from numpy, scikit-learn, a model) for the report: its type and
    the first line of its message, quoted and bracketed parts elided unless they are names,
    at most `MAX_MESSAGE` characters."""
    lines = str(error).strip().splitlines()
    text = _QUOTED.sub(_elide, lines[0] if lines else "")
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    kind = type(error).__name__
    return f"{kind}: {text}" if text else kind
