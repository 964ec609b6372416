"""A fast path for `yamlio.load` that imports nothing: plain block YAML, read by a line
parser only where every value provably means what PyYAML means; anything else is declined
and PyYAML reads it.

Importing PyYAML costs more than `resolve` itself (its reader compiles a large pattern at
import, and the package loads the dumper, emitter and datetime), while the three files
resolve reads (a version manifest, `gitreg.yaml`) are the block YAML `yamlio.dump` writes
and people hand-edit. Accepted is exactly:

- lines indented with spaces: `key: value`, `key:` (a nested block, a sequence at the same
  indentation, or nothing: None), `- value`, `- key: value` (a mapping in a sequence item);
  full-line comments and blank lines anywhere;
- keys: a letter or `_`, then letters, digits, `_`, `.`, `-` (not a YAML 1.1 bool or null);
- values: `[]`, `{}`; a single-quoted string (`''` is a quote), a double-quoted string
  without a backslash; a plain scalar that starts with a letter, `_` or `/` (a string, or
  `yes`/`no`/`true`/`false`/`on`/`off`/`null`/`~` in PyYAML's three spellings), a decimal
  integer or a decimal `1.5` float without leading zeros, a version with two or more dots
  (`1.5.2`, `1.0.0-rc.1`), or lower-case hex with a letter (an md5, a commit), never read
  as a number by PyYAML's YAML 1.1 resolvers (no `.`, `:`, `-`, and no `0b`/`0x` prefix).

Declined: everything else, so also tabs, CR, characters Python does not print (controls,
BOM, YAML 1.1's extra line breaks), ` #` (a trailing comment), `: ` inside a value, a line
deeper than its block (a multi-line scalar), duplicate keys, anchors, aliases, tags, flow
collections, block scalars, documents markers and directives, a scalar document, and very
deep or long documents (PyYAML then gives its exact error). `tests/test_blockyaml.py`
compares this with `yamlio.load_pyyaml` on every YAML file of the project and on generated
documents and scalars.
"""

from __future__ import annotations

import re

TYPE_CHECKING = False  # not typing's: resolve does not import typing (docs/performance.md)
if TYPE_CHECKING:
    from typing import Any

# YAML 1.1's bools and nulls, as PyYAML's resolver spells them
_WORDS: dict[str, Any] = {
    **dict.fromkeys(("yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"), True),
    **dict.fromkeys(("no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"), False),
    **dict.fromkeys(("~", "null", "Null", "NULL"), None),
}
_KEY = re.compile(r"([A-Za-z_][A-Za-z0-9_.-]{0,127}):(?: +(.*))?\Z")  # PyYAML: keys < 1024
_INT = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+\Z")
# strings that start with a digit yet match no int, float or timestamp resolver of PyYAML
_DIGIT_TEXT = re.compile(r"[0-9]+(?:\.[0-9]+){2,}(?:[-+][0-9A-Za-z.+-]*)?\Z|(?!0[bx])[0-9a-f]+\Z")
MAX_DEPTH = 32  # below yamlio.MAX_DEPTH; deeper documents go to PyYAML
_DECLINE = "not plain block YAML"  # raised as a ValueError, caught by `load`
MAX_LINES = 10_000  # at most 3 nodes a line: far below yamlio.MAX_EXPANDED_NODES


def load(text: str) -> tuple[bool, Any]:
    """(True, value) when `text` is in the subset, with the value PyYAML gives it; else
    (False, None)."""
    if "\t" in text or " #" in text or not text.replace("\n", "").isprintable():
        return False, None
    lines = []
    for raw in text.split("\n"):
        content = raw.strip(" ")
        if content and content[0] != "#":
            lines.append((len(raw) - len(raw.lstrip(" ")), content))
    if not lines:
        return True, None
    if len(lines) > MAX_LINES:
        return False, None
    try:
        value, end = _block(lines, 0, lines[0][0], 1)
    except ValueError:  # not in the subset (or a value int() refuses): PyYAML reads it
        return False, None
    return (True, value) if end == len(lines) else (False, None)


def _block(lines: list[tuple[int, str]], i: int, col: int, depth: int) -> tuple[Any, int]:
    """The sequence or mapping whose first line, lines[i], is at column `col`."""
    if _is_item(lines[i][1]):
        return _sequence(lines, i, col, depth)
    return _mapping(lines, i, col, depth)


def _is_item(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _mapping(lines: list[tuple[int, str]], i: int, col: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise ValueError(_DECLINE)
    out: dict[str, Any] = {}
    while i < len(lines) and lines[i][0] == col and not _is_item(lines[i][1]):
        m = _KEY.match(lines[i][1])
        if m is None or m[1] in _WORDS or m[1] in out:
            raise ValueError(_DECLINE)
        i += 1
        if m[2]:
            out[m[1]] = _scalar(m[2])
        elif i < len(lines) and lines[i][0] > col:
            out[m[1]], i = _block(lines, i, lines[i][0], depth + 1)
        elif i < len(lines) and lines[i][0] == col and _is_item(lines[i][1]):
            out[m[1]], i = _sequence(lines, i, col, depth + 1)
        else:
            out[m[1]] = None
    return out, i


def _sequence(lines: list[tuple[int, str]], i: int, col: int, depth: int) -> tuple[Any, int]:
    if depth > MAX_DEPTH:
        raise ValueError(_DECLINE)
    out: list[Any] = []
    while i < len(lines) and lines[i][0] == col and _is_item(lines[i][1]):
        rest = lines[i][1][1:]
        inner = rest.lstrip(" ")
        if not inner or _is_item(inner):
            raise ValueError(_DECLINE)
        if _KEY.match(inner):  # a mapping that starts on the item's line
            lines[i] = (col + 1 + len(rest) - len(inner), inner)
            value, i = _mapping(lines, i, lines[i][0], depth + 1)
        else:
            value, i = _scalar(inner), i + 1
        out.append(value)
    return out, i


def _scalar(text: str) -> Any:
    """One value on a line, as PyYAML reads it; ValueError where that is not certain."""
    first = text[0]
    if first == "'":
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != "'" or "'" in inner.replace("''", ""):
            raise ValueError(_DECLINE)
        return inner.replace("''", "'")
    if first == '"':
        inner = text[1:-1]
        if len(text) < 2 or text[-1] != '"' or '"' in inner or "\\" in inner:
            raise ValueError(_DECLINE)
        return inner
    if text == "[]":
        return []
    if text == "{}":
        return {}
    if ": " in text or text[-1] == ":":
        raise ValueError(_DECLINE)
    if text in _WORDS:
        return _WORDS[text]
    if first.isascii() and (first.isalpha() or first in "_/"):
        return text
    if len(text) > 100:  # a number too long for int() (PyYAML's message then)
        raise ValueError(_DECLINE)
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    if _DIGIT_TEXT.match(text) and not text.isdigit():
        return text
    raise ValueError(_DECLINE)
