"""A fast path for `yamlio.load`: the Rust YAML loader (`yaml_rs`) where it provably means
what PyYAML means, nothing otherwise.

PyYAML resolves plain scalars by YAML 1.1 (`yes` is True, `017` is 15, `1:20` is 80,
`2026-01-01` is a date); `yaml_rs` by YAML 1.2's core schema. `fast_load` returns the Rust
loader's value only when no scalar of the document can mean two things:

- before parsing, the text is declined on anything the fast loader may read differently:
  anchors, aliases, tags and merge keys (`&`, `*`, `!`, `<<`), directives and document
  markers, backslash escapes, block scalars and complex keys, tabs, CR, BOM and other
  characters outside YAML's printable set or YAML 1.1's extra line breaks, over-long lines
  (PyYAML caps implicit keys), flow collections over several lines or with a `:` not
  followed by a space, `"key":value`, and the numeric spellings the two schemas read
  differently (leading zeros, `0o`/`0x`/`0b`, exponents, signed `.5`, `.inf`/`.nan`,
  underscores);
- after parsing, the value is declined if it holds a type other than dict/list/str/int/
  float/bool/None, a non-string key, or too deep or too large a tree (PyYAML then gives the
  exact message), or a string that PyYAML's resolver would read as something else (`on`,
  `1:20`, `2026-01-01`, `=`) unless every occurrence of it in the text is quoted.

A DVC pointer of `dvc add`'s exact shape (`outs:` with one md5, size, `hash: md5`, path)
is read by one regular expression instead, its md5 and path checked against PyYAML's
resolvers (`_pointer`): half of what a whole-registry validate reads.

Anything declined, or any error of the fast loader, goes to PyYAML, so errors read exactly
as before. `tests/test_yaml_fastpath.py` loads every YAML file of the project and a corpus
of generated scalars both ways and asserts equal values and types, or a decline.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

try:  # a compiled parser; without it every document goes to PyYAML
    import yaml_rs
except ImportError:  # pragma: no cover - the dependency is declared
    yaml_rs = None  # type: ignore[assignment]

AVAILABLE = yaml_rs is not None

# each check starts with a literal or a character class, so `re` scans for it in C
_TEXT_RISKS = (
    # anchor, alias, tag, escape; characters outside YAML's printable set, TAB, CR, NEL,
    # LS/PS (YAML 1.1 line breaks), BOM
    re.compile("[&*!\\\\\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff\ufeff\ufffe\uffff]"),
    re.compile(r"\.(?:[iI][nN][fF]|[nN][aA][nN])"),  # .inf/.nan in any case
    re.compile(r"[\"'\]}]:[^ \n]"),  # a value right after a JSON-style key (`"a":017`)
)
# a complex key (`? a`, `[?]`); a block scalar (`|`, `>`: empty ones and ones inside flow
# collections read differently): the indicator where a node can start. One pattern per
# character, searched only where the character is there at all (`in` scans far faster
# than a class, and manifests hold `>` in e-mail addresses only)
_INDICATOR_RISKS = tuple(
    (c, re.compile(rf"{re.escape(c)}(?<![^\s\[{{,]{re.escape(c)})")) for c in "?|>"
)
_LINE_RISKS = ("<<", "\n%", "\n---", "\n...")  # merge key, directive, document marker
# a plain scalar's start (a sign, dot, underscore or digit after a space, a line break or
# a flow indicator: nothing else can precede one in a document the checks above let
# through) that spells a number the two schemas read differently: a leading zero or a base
# prefix, a signed `.5`, an exponent, an underscore (one pattern whose first character is
# a class, so `re` scans for it in C; searched in the text after a line break)
_NUMBER_RISK = re.compile(
    r"[ \n\[{,][-+._0-9]"
    r"(?:(?<=[-+])(?:0[0-9_oObBxX]|\.)|(?<=0)[xX]"
    r"|(?<=0)[0-9_oObB][\d_.]*(?![^\s,\[\]{}:#])"
    r"|(?<=_)[\d._]"
    r"|[\d._]*[eE][-+]?[\d_][\d_.eE+-]*(?![^\s,\[\]{}:#])|[\d.]*_)"
)

_FLOW_COLON = re.compile(r":[^ ]|:$")
_BRACKET = re.compile(r"[\[\]{}]")

MAX_LINE = 1000  # PyYAML refuses implicit keys over 1024 characters

_NOT_STR = frozenset((int, float, bool, type(None)))  # the other scalars the loaders share


def _risky_resolvers() -> dict[str, re.Pattern[str]]:
    """PyYAML's implicit resolvers that give something but a string, as one pattern per
    first character (as PyYAML looks them up)."""
    table: dict[str, re.Pattern[str]] = {}
    for first, resolvers in yaml.resolver.Resolver.yaml_implicit_resolvers.items():
        parts = [f"(?x:{r.pattern})" for tag, r in resolvers if tag != "tag:yaml.org,2002:str"]
        if first and parts:
            table[first] = re.compile("|".join(parts))
    return table


_RISKY = _risky_resolvers()


def _text_declined(text: str) -> bool:
    """Whether the text holds anything the two loaders might read differently."""
    if text.startswith(("%", "---", "...")) or any(s in text for s in _LINE_RISKS):
        return True
    if any(r.search(text) for r in _TEXT_RISKS):
        return True
    if any(c in text and r.search(text) for c, r in _INDICATOR_RISKS):
        return True
    if _NUMBER_RISK.search("\n" + text):
        return True
    if len(text) > MAX_LINE and max(map(len, text.split("\n"))) > MAX_LINE:
        return True
    # each line that holds a bracket, found in C (a model's lines joined are thousands)
    found = _BRACKET.search(text)
    while found is not None:
        start = text.rfind("\n", 0, found.start()) + 1
        end = text.find("\n", found.start())
        end = len(text) if end < 0 else end
        if _flow_declined(text[start:end]):
            return True
        found = _BRACKET.search(text, end)
    return False


def _flow_declined(line: str) -> bool:
    """A flow collection the two loaders may read differently: one that spans lines (or
    brackets inside its quotes), or with a `:` not followed by a space (PyYAML refuses
    many of them, YAML 1.2 reads them as part of a scalar)."""
    if line.count("[") != line.count("]") or line.count("{") != line.count("}"):
        return True
    return _FLOW_COLON.search(line) is not None


# strings PyYAML reads as strings even written plain (manifests repeat their keys and
# many values): a set lookup instead of the resolver's patterns; bounded (emptied when
# full: 1000x100 holds 500,000 strings, most of them in one manifest only)
_PLAIN_STR: set[str] = set()
_PLAIN_STR_MAX = 200_000


def _plain_means_other(text: str, source: str) -> bool:
    """Whether PyYAML would read `text` as something but this string where it is written
    plain in `source` (it is safe when every occurrence is a whole quoted scalar)."""
    risky = _RISKY.get(text[:1])  # "": the fast loader reads a plain empty scalar as None
    if risky is None or not risky.match(text):
        if len(_PLAIN_STR) >= _PLAIN_STR_MAX:  # start again: the strings seen lately
            _PLAIN_STR.clear()  # repeat (a model's name, its repo), most others never do
        _PLAIN_STR.add(text)
        return False
    if " " in text or "\t" in text:
        # a plain scalar folded over lines reads as its lines joined by a space, text the
        # source never holds, so the count below could not see it (a timestamp's space)
        return True
    seen = source.count(text)
    return seen == 0 or seen != source.count(f"'{text}'") + source.count(f'"{text}"')


def _keys_acceptable(node: dict[Any, Any], source: str) -> bool:
    if _PLAIN_STR.issuperset(node):  # the usual case, in one call
        return True
    return all(type(key) is str and not _plain_means_other(key, source) for key in node)


def _acceptable(
    node: dict[Any, Any] | list[Any], source: str, depth: int, budget: list[int]
) -> bool:
    """Whether the fast loader's `node` is what PyYAML would have built (see the module);
    `depth` counts down the levels left, `budget` the nodes left. (Numbers, booleans and
    None need no look: their spelling is checked in the text.)"""
    if type(node) is dict:
        budget[0] -= 2 * len(node)
        if not _keys_acceptable(node, source):
            return False
        children: Any = node.values()
    else:
        budget[0] -= len(node)
        children = node
    if depth <= 1 or budget[0] <= 0:
        return False
    for child in children:
        kind = type(child)
        if kind is str:
            # a string not seen yet; if it is safe only as quoted here, it stays unseen
            if child not in _PLAIN_STR and _plain_means_other(child, source):
                return False
        elif kind is dict or kind is list:
            if not _acceptable(child, source, depth - 1, budget):
                return False
        elif kind not in _NOT_STR:
            return False
    return True


# texts whose checks passed in one pass over many (`clear`), until they are loaded
_CLEARED: set[str] = set()
_CLEARED_MAX = 20_000


def clear(texts: list[str]) -> None:
    """Run the text checks once over documents about to be loaded: joined by line breaks,
    a pattern finds in the whole whatever it finds in a part (none spans a line break, and
    each part starts after one, as `_text_declined` sees a text), so when the whole passes
    every part does; and a line found twice is found once. (Per byte the cost is the same;
    per document, half of it was calls.)"""
    if yaml_rs is None or len(_CLEARED) > _CLEARED_MAX:
        return
    texts = [t for t in texts if not _POINTER.fullmatch(t)]  # `_pointer` reads those
    if len(texts) < 2:
        return
    # every check is "some line holds ...", so each distinct line is checked once: a
    # model's manifests share most of their lines (keys, author, framework, lineage)
    lines = "\n".join(dict.fromkeys("\n".join(texts).split("\n")))
    if not _text_declined(lines):
        _CLEARED.update(texts)


# the pointer `dvc add` writes for one file (half of what a whole-registry validate
# reads), recognised whole: plain block YAML whose only free scalars are the md5, a size
# without a leading zero or `_` (PyYAML's int, and Python's) and a path of plain segments
_POINTER = re.compile(
    r"outs:\n- md5: ([0-9a-f]{32})\n  size: (0|[1-9][0-9]{0,17})\n  hash: md5\n"
    r"  path: ([A-Za-z0-9_][A-Za-z0-9_.+-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*)\n"
)


def _resolves_other(plain: str) -> bool:
    """Whether PyYAML's implicit resolvers read the plain scalar `plain` as no string."""
    risky = _RISKY.get(plain[:1])
    return risky is not None and risky.match(plain) is not None


def _pointer(text: str) -> dict[str, Any] | None:
    """A DVC pointer of `dvc add`'s exact shape as PyYAML reads it, or None (another shape,
    or an md5 or path PyYAML would read as something but a string)."""
    m = _POINTER.fullmatch(text)
    if m is None or _resolves_other(m[1]) or _resolves_other(m[3]):
        return None
    return {"outs": [{"md5": m[1], "size": int(m[2]), "hash": "md5", "path": m[3]}]}


def fast_load(text: str, max_depth: int, max_nodes: int) -> tuple[bool, Any]:
    """(True, value) when the fast loader read `text` exactly as PyYAML would; (False, None)
    when the caller must use PyYAML (declined, an error, or no fast loader installed)."""
    if yaml_rs is None:
        return False, None
    if text.startswith("outs:\n- md5: "):
        pointer = _pointer(text)
        if pointer is not None:
            _CLEARED.discard(text)
            return True, pointer
    if text in _CLEARED:
        _CLEARED.discard(text)
    elif _text_declined(text):
        return False, None
    try:
        value = yaml_rs.loads(text, parse_datetime=False)
    except Exception:  # any refusal: PyYAML gives today's exact message
        return False, None
    if type(value) not in (dict, list) or not _acceptable(value, text, max_depth, [max_nodes]):
        return False, None
    return True, value
