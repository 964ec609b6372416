"""The `--filter` language: MLflow's search syntax for models and versions, plus OR and ( ).

Grammar (keywords are case-insensitive; NOT binds tighter than AND, AND tighter than OR)::

    expr       := conj (OR conj)*
    conj       := neg (AND neg)*
    neg        := NOT neg | '(' expr ')' | comparison
    comparison := field ('=' | '!=' | '<>' | '<' | '<=' | '>' | '>=') value
                | field [NOT] IN '(' value (',' value)* ')'
                | field [NOT] (LIKE | ILIKE) string
                | field IS [NOT] NULL
    field      := name | version | stage | stages | description | task | owner | owners
                | status | framework | author | latest | run_id | source_path | created
                | tags.KEY | labels.KEY | metrics.NAME | params.NAME
                  (MLflow's version_number, creation_timestamp, user_id, current_stage
                   are other names of version, created, author, stages)
    value      := string | number
    string     := '...' | "..."   -- a doubled quote or \\' \\" \\\\ stands for itself; any
                                     other backslash is kept, so '50\\%' LIKE-matches "50%"
    number     := [-+] digits [. digits] [e [-+] digits]

Any part of a field may be backquoted or, after the dot, double-quoted: metrics.`f1 macro`,
tags."cost center". `tags.*` is MLflow's word for our `labels.*`. LIKE and ILIKE take
SQL's `%` (any run) and `_` (one character); ILIKE ignores case. Which records a search
matches (a model with one of its versions, or each version) is `gitreg.model.search`.

Semantics over a flat record (`model_record`, `version_record`):
- metrics.* compare as numbers; a record value that is not a number never matches.
- params.* compare as numbers when both sides are numeric, else as strings.
- version and latest order by SemVer; every other field compares as a string.
- a field missing from the record makes its comparison false, whatever the operator
  (so `NOT metrics.f1 > 0.9` holds for a model without the metric); `IS NULL` holds for a
  missing field or an empty list, `IS NOT NULL` for any other.
- list fields (stages, owners) match if any element does; `!=`, NOT IN and NOT LIKE hold
  when no element matches (`stage != 'production'`: not in production).
"""

from __future__ import annotations

import difflib
import operator
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from gitreg.errors import QueryError
from gitreg.model.like import LikePattern, like_pattern
from gitreg.model.semver import Version, is_semver

_NAMES = "name version stage description task owner status framework author latest run_id"
FIELDS = {f: {"stage": "stages", "owner": "owners"}.get(f, f) for f in _NAMES.split()}
FIELDS |= {"stages": "stages", "owners": "owners", "source_path": "source_path"}
FIELDS |= {"created": "created", "version_number": "version", "creation_timestamp": "created"}
FIELDS |= {"user_id": "author", "current_stage": "stages"}  # MLflow's names
PREFIXES = ("tags", "labels", "metrics", "params")
VERSION_FIELDS = frozenset({"status", "framework", "author", "version", "run_id", "source_path"})
VERSION_FIELDS |= {"created"}
_VALID = ", ".join([*FIELDS, "tags.<key>", "labels.<key>", "metrics.<name>", "params.<name>"])
_MAX_DEPTH = 100
_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "LIKE", "ILIKE", "IS", "NULL"})


def grammar_tables() -> dict[str, Any]:
    """The field table and limits of the language, as data: the site's filter.js reads them
    from the page it filters (render/site/index.py) instead of keeping a copy."""
    tables = {"fields": FIELDS, "prefixes": list(PREFIXES), "valid": _VALID}
    return tables | {"max_depth": _MAX_DEPTH, "keywords": sorted(_KEYWORDS)}


_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
}  # fmt: skip
_NUMBER = re.compile(r"\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*")
_TOKEN = re.compile(
    r"""\s*(?:(?P<str>'(?:[^'\\]|\\.|'')*'(?!')|"(?:[^"\\]|\\.|"")*"(?!"))
    |(?P<num>[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)(?![\w.`])
    |(?P<ident>(?:[^\W\d]|`[^`]*`)(?:[\w.\-/:]|`[^`]*`|(?<=\.)"[^"]*")*)
    |(?P<op>[=!<>~]+)|(?P<punct>[(),])|(?P<end>\Z))""",
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True)
class Value:
    text: str
    number: float | None
    quoted: bool


class Expr(ABC):
    """A parsed --filter expression."""

    @abstractmethod
    def matches(self, record: Mapping[str, Any]) -> bool: ...

    @abstractmethod
    def fields(self) -> set[str]:
        """The record keys the expression reads."""


@dataclass(frozen=True)
class Compare(Expr):
    field: str
    op: str  # =, <, <=, >, >=, IN, LIKE, ILIKE or NULL; `negate`: !=, NOT IN, IS NOT NULL...
    values: tuple[Value, ...]
    negate: bool = False
    pattern: LikePattern | None = None

    def matches(self, record: Mapping[str, Any]) -> bool:
        value = record.get(self.field)
        if self.op == "NULL":
            return (value is None or value == []) != self.negate
        if value is None:
            return False
        if isinstance(value, (list, tuple)):
            return any(self._test(item) for item in value) != self.negate
        result = self._test(value)
        return result is not None and result != self.negate

    def _test(self, item: Any) -> bool | None:
        """Whether `item` passes the positive operator; None if the two cannot compare."""
        if self.pattern is not None:
            return self.pattern.fullmatch(_text(item))
        results = [_compare(self.field, item, self.op, v) for v in self.values]
        return None if all(r is None for r in results) else any(results)

    def fields(self) -> set[str]:
        return {self.field}


@dataclass(frozen=True)
class Not(Expr):
    item: Expr

    def matches(self, record: Mapping[str, Any]) -> bool:
        return not self.item.matches(record)

    def fields(self) -> set[str]:
        return self.item.fields()


@dataclass(frozen=True)
class Junction(Expr):
    word: str  # AND (every item matches) or OR (some item matches)
    items: tuple[Expr, ...]

    def matches(self, record: Mapping[str, Any]) -> bool:
        test = all if self.word == "AND" else any
        return test(e.matches(record) for e in self.items)

    def fields(self) -> set[str]:
        return set().union(*(e.fields() for e in self.items))


def _number(x: Any) -> float | None:
    """`x` as a float, None if it is not a number (or too large for one)."""
    try:
        if isinstance(x, (int, float)) and not isinstance(x, bool):
            return float(x)
        return float(x) if isinstance(x, str) and _NUMBER.fullmatch(x) else None
    except OverflowError:
        return None


def _text(x: Any) -> str:
    return ("true" if x else "false") if isinstance(x, bool) else str(x)


def _compare(field: str, item: Any, op: str, v: Value) -> bool | None:
    op = "=" if op == "IN" else op
    if field.startswith("metrics."):
        number = None if isinstance(item, bool) else _number(item)
        if not isinstance(item, (int, float)) or number is None or v.number is None:
            return None
        return _ORDER[op](number, v.number)
    a = _number(item)
    if field.startswith("params.") and a is not None and v.number is not None:
        return _ORDER[op](a, v.number)
    text = _text(item)
    if field in ("version", "latest") and op != "=" and is_semver(text) and is_semver(v.text):
        return _ORDER[op](Version.parse(text), Version.parse(v.text))
    return _ORDER[op](text, v.text)


@dataclass(frozen=True)
class _Token:
    kind: str  # str, num, ident, kw, op, (, ), ",", end
    text: str  # as written
    value: str  # string contents, identifier without backquotes, keyword in upper case
    pos: int

    def describe(self) -> str:
        return {"end": "end of input", "str": self.text}.get(self.kind, repr(self.text))


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    pos = 0
    while True:
        m = _TOKEN.match(text, pos)
        if m is None:
            _bad_token(text, len(text) - len(text[pos:].lstrip()))
        assert m.lastgroup is not None
        kind, raw, pos = m.lastgroup, m.group(m.lastgroup), m.end()
        value = raw
        if kind == "str":
            unquote = r"\\(['\"\\])|" + raw[0] * 2  # \' \" \\ and a doubled quote
            value = re.sub(unquote, lambda e: e.group(1) or e.group(0)[0], raw[1:-1])
        elif kind == "ident" and raw.upper() in _KEYWORDS:
            kind, value = "kw", raw.upper()
        elif kind == "ident":
            value = re.sub(r'`([^`]*)`|"([^"]*)"', lambda q: q.group(1) or q.group(2) or "", raw)
        elif kind == "punct":
            kind = raw
        out.append(_Token(kind, raw, value, m.start(m.lastgroup)))
        if kind == "end":
            return out


def _bad_token(text: str, pos: int) -> NoReturn:
    c = text[pos]
    if c in "'\"":
        raise QueryError(text, pos, "unterminated string", f"close it with {c}")
    if c == "`":
        raise QueryError(text, pos, "unterminated `quoted` name", "close it with `")
    word = re.match(r"[-+.\d][\w.\-]*", text[pos:])
    if word and any(ch.isdigit() for ch in word.group()):
        bad = word.group()
        raise QueryError(text, pos, f"{bad!r} is not a number", f"quote strings: '{bad}'")
    raise QueryError(text, pos, f"unexpected character {c!r}")


class _Parser:
    def __init__(self, text: str, option: str = "--filter") -> None:
        self.text, self.toks, self.i, self.depth = text, _tokens(text), 0, 0
        self.option = option

    def accept(self, keyword: str) -> bool:
        found = self.toks[self.i].kind == "kw" and self.toks[self.i].value == keyword
        self.i += found
        return found

    def take(self) -> _Token:
        tok = self.toks[self.i]
        self.i = min(self.i + 1, len(self.toks) - 1)
        return tok

    def error(self, tok: _Token, message: str, hint: str | None = None) -> QueryError:
        return QueryError(self.text, tok.pos, message, hint, self.option)

    def parse(self) -> Expr:
        if self.toks[0].kind == "end":
            raise QueryError(self.text, 0, "empty expression", "e.g. name = 'churn'")
        expr = self.disjunction()
        tok = self.toks[self.i]
        if tok.kind == ")":
            raise self.error(tok, "unmatched ')'")
        if tok.kind != "end":
            raise self.error(tok, f"expected AND, OR or the end, found {tok.describe()}")
        return expr

    def disjunction(self) -> Expr:
        return self.junction("OR", lambda: self.junction("AND", self.negation))

    def junction(self, word: str, operand: Callable[[], Expr]) -> Expr:
        items = [operand()]
        while self.accept(word):
            items.append(operand())
        return items[0] if len(items) == 1 else Junction(word, tuple(items))

    def negation(self) -> Expr:
        opening = self.toks[self.i]
        if opening.kind != "(" and not (opening.kind == "kw" and opening.value == "NOT"):
            return self.comparison()
        self.depth += 1  # the user, not Python's stack, should meet the limit
        if self.depth > _MAX_DEPTH:
            raise self.error(opening, f"more than {_MAX_DEPTH} nested NOTs or '('")
        self.take()
        if opening.kind == "kw":
            expr: Expr = Not(self.negation())
        else:
            expr = self.disjunction()
            if (tok := self.take()).kind != ")":
                where = f"the '(' at column {opening.pos + 1}"
                raise self.error(tok, f"expected ')' to close {where}, found {tok.describe()}")
        self.depth -= 1
        return expr

    def comparison(self) -> Compare:
        tok = self.take()
        if tok.kind != "ident":
            raise self.error(tok, f"expected a field, found {tok.describe()}", f"fields: {_VALID}")
        field = self.field(tok)
        if self.accept("IS"):
            negate = self.accept("NOT")
            if not self.accept("NULL"):
                raise self.error(self.toks[self.i], "expected NULL or NOT NULL after IS")
            return Compare(field, "NULL", (), negate)
        negate, pattern = self.accept("NOT"), None
        op = self.take()
        values: tuple[Value, ...]
        if negate and (op.kind != "kw" or op.value not in ("IN", "LIKE", "ILIKE")):
            raise self.error(op, f"expected IN, LIKE or ILIKE after NOT, found {op.describe()}")
        if op.kind == "op" and (op.value in _ORDER or op.value in ("!=", "<>")):
            negate, values = op.value in ("!=", "<>"), (self.value(op),)
            name = "=" if negate else op.value
        elif op.kind == "kw" and op.value == "IN":
            name, values = "IN", self.values(op)
        elif op.kind == "kw" and op.value in ("LIKE", "ILIKE"):
            name, values = op.value, (self.value(op),)
            if not values[0].quoted:
                raise self.error(self.toks[self.i - 1], f"{name} takes a quoted pattern")
            pattern = like_pattern(values[0].text, name == "ILIKE")
        else:
            found = f"unknown operator {op.text!r}" if op.kind in ("op", "ident") else None
            found = found or f"expected an operator after {tok.text!r}, found {op.describe()}"
            hint = "operators: = != < <= > >= [NOT] IN [NOT] LIKE [NOT] ILIKE IS [NOT] NULL"
            raise self.error(op, found, hint)
        if field.startswith("metrics."):
            if pattern is not None:
                raise self.error(op, f"{field} is a number: {name} does not apply")
            bad = next((v for v in values if v.number is None), None)
            if bad is not None:
                raise self.error(op, f"{field} is a number: compare it with one, not {bad.text!r}")
        return Compare(field, name, values, negate, pattern)

    def field(self, tok: _Token) -> str:
        name = tok.value
        prefix, dot, key = name.partition(".")
        if not dot and name.lower() in FIELDS:
            return FIELDS[name.lower()]
        if dot and prefix.lower() in PREFIXES:
            if not key:
                raise self.error(tok, f"expected a name after {prefix}.")
            return f"{prefix.lower()}.{key}"
        probe, known = (prefix, PREFIXES) if dot else (name, tuple(FIELDS))
        near = difflib.get_close_matches(probe.lower(), known, 1)
        guess = f"did you mean '{near[0]}{dot}{key}'? " if near else ""
        raise self.error(tok, f"unknown field {name!r}", f"{guess}fields: {_VALID}")

    def value(self, after: _Token) -> Value:
        tok = self.take()
        if tok.kind == "str":
            return Value(tok.value, _number(tok.value), True)
        if tok.kind == "num":
            return Value(tok.text, float(tok.text), False)
        found = "" if tok.kind == "end" else f", found {tok.describe()}"
        hint = f"quote strings: '{tok.text}'" if tok.kind == "ident" else None
        raise self.error(tok, f"expected a value after {after.text!r}{found}", hint)

    def values(self, after: _Token) -> tuple[Value, ...]:
        tok = self.take()
        if tok.kind != "(":
            raise self.error(tok, f"expected '(' after {after.text}, found {tok.describe()}")
        values = [self.value(tok)]
        while (tok := self.take()).kind == ",":
            values.append(self.value(tok))
        if tok.kind != ")":
            raise self.error(tok, f"expected ',' or ')' in the IN list, found {tok.describe()}")
        return tuple(values)


def parse(text: str) -> Expr:
    """Parse a --filter expression; raise QueryError (exit 2) naming the column."""
    return _Parser(text).parse()


def field_name(text: str, option: str = "--filter") -> str:
    """One field, as `--order-by` names it (`metrics.f1`, tags."cost center"), resolved to
    its record key; QueryError for anything else."""
    p = _Parser(text, option)
    tok = p.take()
    if tok.kind != "ident":
        raise p.error(tok, f"expected a field, found {tok.describe()}", f"fields: {_VALID}")
    name = p.field(tok)
    if (rest := p.take()).kind != "end":
        raise p.error(rest, f"expected one field, found {rest.describe()} after it")
    return name
