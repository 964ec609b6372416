"""Searching records: which models match, `--order-by`, and fields that exist nowhere.

The filter language itself is `gitreg.model.query`; the records are `gitreg.model.records`.

Two searches, as MLflow has `search_registered_models` and `search_model_versions`:
- **models** (`gitreg list --filter`): a model matches when the expression holds for the
  model's own fields together with *one of its versions* (that version's `version`,
  `metrics.*`, `params.*`, `status`, ...). `metrics.f1 > 0.99` finds a model whose older
  version scored 0.997; `version = '1.2.0'` finds the models that have a 1.2.0. An
  expression that reads only model fields (`name`, `tags.*`, `stage`, `latest`, ...) is
  judged on the model alone, as is a model without versions.
- **versions** (`gitreg list --versions`, `gitreg search-versions`): every version is one
  row, matched on its own fields plus its model's (`tags.*`, `owners`, `task`, `latest`).

A `metrics.*`, `params.*`, `tags.*` or `labels.*` key that no searched record has is an
error naming the key and the keys that exist, never an empty answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from gitreg.errors import QueryError, UsageError
from gitreg.model.query import PREFIXES, Expr, field_name
from gitreg.model.semver import Version, is_semver

T = TypeVar("T")


@dataclass(frozen=True)
class OrderKey:
    field: str
    descending: bool = False


def parse_order_by(items: Iterable[str]) -> list[OrderKey]:
    """`--order-by` clauses, MLflow's syntax: `metrics.f1 DESC`, `name ASC, version DESC`.

    Each option may hold several clauses separated by commas; a field may be backquoted or
    double-quoted after its dot (tags."cost center").
    """
    keys = []
    for item in items:
        for clause in _split_commas(item):
            m = re.fullmatch(r"\s*(.*?)(?:\s+(ASC|DESC))?\s*", clause, re.IGNORECASE | re.DOTALL)
            assert m is not None  # the pattern matches any text
            if not m.group(1):
                raise QueryError(item, 0, "empty clause", "e.g. 'metrics.f1 DESC'", "--order-by")
            name = field_name(m.group(1), "--order-by")
            keys.append(OrderKey(name, (m.group(2) or "").upper() == "DESC"))
    return keys


def _split_commas(text: str) -> list[str]:
    """`text` split at the commas outside backquotes and double quotes."""
    parts, start, quote = [], 0, ""
    for i, c in enumerate(text):
        if quote:
            quote = "" if c == quote else quote
        elif c in '`"':
            quote = c
        elif c == ",":
            parts.append(text[start:i])
            start = i + 1
    return [*parts, text[start:]]


def _sort_value(field: str, value: Any) -> tuple[int, Any]:
    if isinstance(value, (list, tuple)):
        value = ", ".join(str(v) for v in value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (0, float(value))
    text = str(value)
    if field in ("version", "latest") and is_semver(text):
        return (1, Version.parse(text))
    return (2, text)


def ordered(
    items: Sequence[T], records: Sequence[Mapping[str, Any]], keys: list[OrderKey]
) -> list[T]:
    """`items` (one per record) sorted by `keys`, first key first; a record missing a key's
    field sorts after every record that has it, ascending or descending (as MLflow does)."""
    pairs = list(zip(items, records, strict=True))
    for key in reversed(keys):
        has = [p for p in pairs if p[1].get(key.field) not in (None, [])]
        missing = [p for p in pairs if p[1].get(key.field) in (None, [])]
        has.sort(key=lambda p: _sort_value(key.field, p[1][key.field]), reverse=key.descending)
        pairs = has + missing
    return [item for item, _ in pairs]


def check_fields(fields: Iterable[str], records: Sequence[Mapping[str, Any]], what: str) -> None:
    """Raise UsageError for a prefixed key (`metrics.f2`) that no record has: a typo would
    otherwise match nothing, silently. `what` names the records ("version", "model")."""
    if not records:
        return
    for name in sorted(set(fields)):
        prefix, dot, _ = name.partition(".")
        if not dot or prefix not in PREFIXES or any(name in r for r in records):
            continue
        known = sorted({k for r in records for k in r if k.startswith(prefix + ".")})
        listed = ", ".join(known) if known else "none"
        raise UsageError(
            f"unknown field {name!r}: no {what} in the registry has it",
            f"{prefix} fields that exist: {listed}",
        )


def matches_model(expr: Expr, records: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a model matches: `records` are the model joined with each of its versions
    (`model_record(summary, version)`), or the model alone if it has none."""
    return any(expr.matches(r) for r in records)


def limited(items: list[T], max_results: int | None) -> list[T]:
    if max_results is not None and max_results < 1:
        raise UsageError(f"--max-results {max_results}: must be 1 or more")
    return items if max_results is None else items[:max_results]
