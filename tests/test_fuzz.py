"""Property tests (hypothesis) for the three parsers that read untrusted text.

- `yamlio.load` on arbitrary bytes, arbitrary text and YAML-ish text built from fragments
  returns a value or raises ManifestError naming the file, and never hangs;
- `schema.parse` for every manifest kind on generated YAML mappings returns the model or
  raises ManifestError whose problems all name the file;
- `query.parse` on arbitrary and grammar-shaped text returns an Expr or raises QueryError
  with a column inside the text; the Expr's `matches` returns a bool on any record.

The budget is fixed and the runs are derandomized (no example database), so CI sees the
same examples on every run. Every call is timed and aborted by SIGALRM if it runs away.

Known bugs: each is pinned by a strict-xfail regression test at the end of the module
(`test_regression_*`). While its reproducer still fails, the properties count an input
that hits the same bug as an `event` (see --hypothesis-show-statistics) instead of failing,
so they keep hunting for new bugs; once the reproducer passes, that tolerance switches
itself off and the regression test XPASSes, which fails the run: then drop its xfail mark
and its `_Bug` entry (or `_ilike_fold_bug_open`).
"""

from __future__ import annotations

import copy
import functools
import math
import re
import signal
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from time import perf_counter
from typing import Any, TypeVar

import pytest
import yaml
from hypothesis import (
    HealthCheck,
    Phase,
    currently_in_test_context,
    event,
    example,
    given,
    settings,
)
from hypothesis import strategies as st

from gitreg.errors import GitregError, ManifestError, QueryError, UsageError
from gitreg.model import manifest, query, schema, yamlio
from gitreg.model.manifest import ModelSpec, RegistryConfig, Stages, VersionManifest
from gitreg.model.records import ModelSummary, model_record, version_record

T = TypeVar("T")

VALID = Path(__file__).parent / "data" / "manifests" / "valid"
YAML_PATH = "models/fuzz/model.yaml"

_FUZZ = settings(
    max_examples=200,
    deadline=timedelta(seconds=2),
    derandomize=True,
    database=None,
    print_blob=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.large_base_example,
        # the autouse isolation fixtures of conftest.py are function-scoped; the code under
        # test here never reads them
        HealthCheck.function_scoped_fixture,
    ],
)


# -- time limits -----------------------------------------------------------------------------


class _Hang(Exception):
    """Raised by SIGALRM into a call that ran far past its limit."""


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    """Interrupt the block with _Hang after `seconds` (POSIX main thread; else no limit)."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise _Hang

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _timed(limit: float, what: str, fn: Callable[[], T]) -> T:
    """`fn()`, asserting it took under `limit` s; a runaway call is cut off at 2 x limit."""
    error: Exception | None = None
    start = perf_counter()
    try:
        with _alarm(2 * limit):
            result = fn()
    except _Hang:
        raise AssertionError(f"{what}: still running after {2 * limit:g} s (a hang)") from None
    except Exception as e:
        error = e
    elapsed = perf_counter() - start
    assert elapsed < limit, f"{what}: took {elapsed:.2f} s (limit {limit:g} s)"
    if error is not None:
        raise error
    return result


def _short(value: object, n: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= n else f"{text[:n]}... ({len(text)} chars)"


# -- known bugs ------------------------------------------------------------------------------


def _origin(e: BaseException) -> str:
    """The file of the innermost frame that raised `e`, with forward slashes."""
    frames = traceback.extract_tb(e.__traceback__)
    return frames[-1].filename.replace("\\", "/") if frames else ""


@dataclass(frozen=True)
class _Bug:
    name: str
    exc: type[Exception]
    where: str  # the source file (path suffix) the exception escapes from
    probe: Callable[[], object]  # the reproducer; the bug is open while it raises `exc`

    def matches(self, e: BaseException) -> bool:
        return isinstance(e, self.exc) and _origin(e).endswith(self.where)


@functools.cache
def _still_open(bug: _Bug) -> bool:
    try:
        bug.probe()
    except Exception as e:
        return bug.matches(e)
    return False


def _version_text(created: str, extra: str = "") -> str:
    return (
        "schema: gitreg/v1\nname: fuzz\nversion: 1.0.0\nauthor: a\n"
        f"created: {created}\n"
        "artifacts:\n- path: models/fuzz/artifacts/1.0.0/model.pkl\n"
        f"  md5: '{'0' * 32}'\n  size: 1\n{extra}"
    )


BUG_CREATED_RANGE = _Bug(
    "manifest: `created` near year 1 / 9999 overflows in the UTC validator",
    OverflowError,
    "gitreg/model/manifest.py",
    lambda: schema.parse(
        VersionManifest,
        _version_text("0001-01-01T00:00:00+01:00"),
        "models/fuzz/versions/1.0.0.yaml",
    ),
)
BUG_BIG_INT = _Bug(
    "query: an int beyond float range in a record overflows in matches()",
    OverflowError,
    "gitreg/model/query.py",
    lambda: query.parse("params.x > 1").matches({"params.x": 10**400}),
)
KNOWN_BUGS: tuple[_Bug, ...] = ()  # every bug found so far is fixed


def _tolerated(e: Exception) -> bool:
    for bug in KNOWN_BUGS:
        if bug.matches(e) and _still_open(bug):
            if currently_in_test_context():
                event(f"known bug: {bug.name}")
            return True
    return False


# -- the checks (shared by the properties and the regression tests) -----------------------------


def check_load(data: bytes | str, *, tolerate: bool = True) -> None:
    try:
        _timed(1.0, f"yamlio.load({_short(data)})", lambda: yamlio.load(data, YAML_PATH))
    except ManifestError as e:
        assert e.problems, "a ManifestError without problems"
        assert all(p.path == YAML_PATH for p in e.problems), e.problems
    except Exception as e:
        if not (tolerate and _tolerated(e)):
            raise


def check_manifest(cls: type[Any], text: str | bytes, path: str, *, tolerate: bool = True) -> None:
    try:
        model = _timed(1.0, f"parse {path}", lambda: schema.parse(cls, text, path))
    except ManifestError as e:
        assert e.problems, "a ManifestError without problems"
        assert all(p.path == path for p in e.problems), e.problems
        assert all(isinstance(p.field, str) and p.message for p in e.problems), e.problems
    except Exception as e:
        if not (tolerate and _tolerated(e)):
            raise
    else:
        assert isinstance(model, cls)


def check_query(text: str) -> query.Expr | None:
    try:
        expr = _timed(1.0, f"query.parse({_short(text)})", lambda: query.parse(text))
    except QueryError as e:
        assert isinstance(e, UsageError)
        assert e.text == text
        assert 1 <= e.column <= len(text) + 1, (e.column, len(text))
        return None
    assert isinstance(expr, query.Expr)
    assert isinstance(expr.fields(), set)
    return expr


def check_matches(expr: query.Expr, record: dict[str, Any], *, tolerate: bool = True) -> None:
    try:
        result = _timed(1.0, f"matches({_short(record)})", lambda: expr.matches(record))
    except Exception as e:
        if not (tolerate and _tolerated(e)):
            raise
    else:
        assert type(result) is bool, result


# == 1. yamlio.load ===========================================================================

_TAGS = [
    "!!int ", "!!float ", "!!bool ", "!!str ", "!!null ", "!!timestamp ", "!!binary ",
    "!!set ", "!!omap ", "!!pairs ", "!!map ", "!!seq ", "!!merge ", "!!value ",
    "!!python/object:os.system ", "!!python/object/apply:os.system ", "!!python/name:os.system ",
    "!<tag:yaml.org,2002:int> ", "!local ", "! ",
]  # fmt: skip
_SCALARS = [
    "x", "a b", "", "''", '""', "~", "null", "yes", "No", "on", "true", "0", "-0", "07", "0o7",
    "0x1F", "0x", "0b101", "0b", "1_000", "_", "1:30", "1:", "190:20:30.15", ".5", "1e999",
    "-.inf", ".NaN", ".", "+", "-", "2001-12-14", "2001-12-14t21:59:43.10-05:00",
    "2001-12-14 21:59:43.1234567 +5", "0001-01-01T00:00:00+01:00", "9999-12-31 23:00:00 -05",
    "2026-13-02", "2026-02-30", "2001-01-01T00:00:00+99:00", "2001-01-01T25:00:00Z",
    "aGVsbG8=", "===", "'it''s'", '"\\x41\\u263a\\U0001F600"', '"\\z"', '"\\', "é", "\t",
    "9" * 400, "1" * 4301, "<<",
]  # fmt: skip
_FRAGMENTS = [
    *_TAGS, *_SCALARS,
    "name", "schema", "version", "a", "b", ": ", ":", "? ", "- ", "-", ", ", ",", "\n", "  ",
    "    ", "\t", "\x00", "\x07", "\ufeff", "\x85", "\u2028", "\r\n", "\r", "#", " # c\n",
    "[", "]", "{", "}", "&a ", "*a", "&b ", "*b", "&a", "*", "&", "|\n", ">-\n", "|+2\n", "'",
    '"', "\\", "%YAML 1.1\n", "%TAG ! tag:x,2000:\n", "---\n", "--- ", "...\n", "<<: *a\n",
    "!!python/object/apply:os.system ['echo pwned']", "? [a, b]\n: c\n", "{[a]: 1}",
    "!!set {a, b}", "!!omap [{a: 1}, {b: 2}]", "!!pairs [[a, 1]]", "!!binary |\n  aGk=\n",
    "a: 1\na: 2\n", "a: &a [*a]\n", "&a {x: *a}",
]  # fmt: skip


@st.composite
def _nested(draw: st.DrawFn) -> str:
    """Flow or block nesting around the depth limits (64 here, 1000 in LibYAML)."""
    depth = draw(st.sampled_from([1, 2, 63, 64, 65, 200, 999, 1000, 1001, 5000]))
    kind = draw(st.sampled_from(["seq", "map", "block", "open"]))
    if kind == "seq":
        return "[" * depth + "x" + "]" * depth
    if kind == "map":
        return "{a: " * depth + "x" + "}" * depth
    if kind == "block":
        return "".join("  " * i + "a:\n" for i in range(min(depth, 300))) + "  " * 300 + "x\n"
    return "[" * depth


@st.composite
def _alias_bomb(draw: st.DrawFn) -> str:
    levels = draw(st.integers(1, 9))
    fanout = draw(st.integers(1, 10))
    lines = [f"a0: &a0 [{', '.join(['lol'] * fanout)}]"]
    for i in range(1, levels + 1):
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * fanout)}]")
    return "\n".join(lines) + "\n"


_long_scalar = st.sampled_from([1000, 65_536, 300_000, yamlio.MAX_BYTES - 3, yamlio.MAX_BYTES]).map(
    lambda n: "k: " + "x" * n + "\n"
)


def _flow_node() -> st.SearchStrategy[str]:
    """A flow-style YAML node: tagged or anchored scalars, aliases, [..] and {..}."""
    prefix = st.one_of(
        st.just(""),
        st.sampled_from(_TAGS),
        st.sampled_from(["&a ", "&b ", "&a !!int ", "&b !!str "]),
    )
    leaf = st.one_of(
        st.tuples(prefix, st.sampled_from(_SCALARS)).map("".join),
        st.tuples(prefix, st.text(max_size=8)).map("".join),
        st.sampled_from(["*a", "*b", "*c"]),
    )

    def extend(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        items = st.lists(children, max_size=4)
        pairs = st.lists(st.tuples(children, children).map(": ".join), max_size=4)
        return st.tuples(
            prefix,
            st.one_of(
                items.map(lambda xs: "[" + ", ".join(xs) + "]"),
                pairs.map(lambda xs: "{" + ", ".join(xs) + "}"),
            ),
        ).map("".join)

    return st.recursive(leaf, extend, max_leaves=12)


_field_names = st.sampled_from(["schema", "name", "version", "created", "size", "a", "<<", "? a"])
_block_document = st.lists(
    st.tuples(_field_names, _flow_node()).map(lambda kv: f"{kv[0]}: {kv[1]}\n"), max_size=6
).map("".join)

_fragment_text = st.lists(
    st.one_of(
        st.sampled_from(_FRAGMENTS),
        st.text(max_size=6),
        _flow_node(),
        _nested(),
        _alias_bomb(),
        _long_scalar,
    ),
    max_size=25,
).map("".join)

_yaml_alphabet = st.sampled_from(list("ab01:-?[]{},&*!%@`'\"|>#.~_ \t\n\r\\\x00\ufeff\x85é"))


@settings(_FUZZ, max_examples=200)
@given(data=st.binary(max_size=2000))
@example(data=b"\xff\xfe")
@example(data=b"a: \xed\xa0\x80")  # an encoded surrogate is not UTF-8
@example(data=b"\xef\xbb\xbfa: 1")
def test_load_arbitrary_bytes(data: bytes) -> None:
    check_load(data)


@settings(_FUZZ, max_examples=200)
@given(data=st.one_of(st.text(max_size=2000), st.text(_yaml_alphabet, max_size=200)))
def test_load_arbitrary_text(data: str) -> None:
    check_load(data)


@settings(_FUZZ, max_examples=120)
@given(data=st.one_of(_fragment_text, _block_document, _flow_node()))
@example(data="[" * 1001)
@example(data="[" * 65 + "]" * 65)
@example(data="a: &a [*a]\n")
@example(data="x: !!python/object/apply:os.system ['echo pwned']\n")
@example(data="k: " + "x" * yamlio.MAX_BYTES)
# found by this property: PyYAML's constructors raised AttributeError (`!!timestamp x`),
# IndexError (`!!int ''`, `!!float _`) and KeyError (`!!bool maybe`) out of yamlio.load
@example(data="created: !!timestamp x\n")
@example(data="size: !!int ''\n")
@example(data="size: !!int _\n")
@example(data="min: !!float _\n")
@example(data="gate: !!bool maybe\n")
def test_load_yamlish_text(data: str) -> None:
    check_load(data)
    check_load(data.encode("utf-8", "surrogatepass"))


# == 2. schema.parse ==========================================================================


def _models() -> list[type[Any]]:
    base = manifest.BaseModel
    return [c for c in vars(manifest).values() if isinstance(c, type) and issubclass(c, base)]


FIELD_NAMES = sorted(
    {f.alias or name for cls in _models() for name, f in cls.model_fields.items()}
    | {"by_slice", "f1", "production", "staging", "dev"}
)
KIND_PATHS = {
    RegistryConfig: "gitreg.yaml",
    ModelSpec: "models/churn/model.yaml",
    Stages: "models/churn/stages.yaml",
    VersionManifest: "models/churn/versions/1.0.0.yaml",
}
VALID_SAMPLES = {
    RegistryConfig: VALID / "config-three-stages-github.yaml",
    ModelSpec: VALID / "model-full" / "model.yaml",
    Stages: VALID / "stages-two-stages.yaml",
    VersionManifest: VALID / "version-full.yaml",
}
_REALISTIC = [
    "gitreg/v1", "gitreg/v2", "churn", "Churn", "a" * 65, "1.0.0", "1.0", "v1.0.0", "2.0.0-rc.1",
    "main", "-main", "acme/registry", "acme", "@alice", "@acme/ml-team", "ada@example.com",
    "maximize", "minimize", "ssh", "gpg", "active", "deprecated", "0" * 32, "0" * 32 + ".dir",
    "models/churn/artifacts/1.0.0/model.pkl", "/etc/passwd", "../x", "a\\b", "data/x.csv",
    "2026-01-02T03:04:05Z", "2026-01-02", "0001-01-01T00:00:00+01:00", "{model}", "int64",
    "4f2c9e1", "sklearn.tree", "os.system", "",
]  # fmt: skip

_minutes = st.integers(-(24 * 60 - 1), 24 * 60 - 1)
_tz = st.one_of(st.none(), _minutes.map(lambda m: timezone(timedelta(minutes=m))))
_scalar_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([0, 1, -1, 2**63, 10**400, -(10**400)]),
    st.floats(),
    st.text(max_size=12),
    st.sampled_from(_REALISTIC),
    st.datetimes(timezones=_tz),
    st.sampled_from([datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59, 59)]).flatmap(
        lambda d: _tz.map(lambda tz: d.replace(tzinfo=tz))
    ),
    st.dates(),
    st.binary(max_size=8),
)
_keys = st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8), st.integers(-2, 2))
_EDGE_VALUES = [
    datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))),
    datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-5))),
    datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc),
    datetime(2026, 1, 2, 3, 4, 5),
    date(2026, 1, 2),
    "0001-01-01T00:00:00+01:00",
    "9999-12-31T23:59:59-05:00",
    10**400,
    -1,
    0,
    math.nan,
    math.inf,
    "",
    [],
    {},
    [None],
    {"": None},
    "a" * 2_000,
]
_edges = st.sampled_from(_EDGE_VALUES)
_values = st.recursive(
    _scalar_values,
    lambda kids: st.one_of(st.lists(kids, max_size=4), st.dictionaries(_keys, kids, max_size=5)),
    max_leaves=20,
)


@st.composite
def _mapping(draw: st.DrawFn) -> dict[Any, Any]:
    data: dict[Any, Any] = draw(st.dictionaries(_keys, _values, max_size=10))
    if draw(st.booleans()):
        data["schema"] = "gitreg/v1"
    return data


def _slots(node: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key or index) in a loaded manifest."""
    items = node.items() if isinstance(node, dict) else enumerate(node)
    for key, value in items:
        out.append((node, key))
        if isinstance(value, (dict, list)):
            _slots(value, out)
    return out


@functools.cache
def _sample(cls: type[Any]) -> dict[str, Any]:
    data: dict[str, Any] = yamlio.load(VALID_SAMPLES[cls].read_bytes(), "sample")
    return data


@st.composite
def _mutated(draw: st.DrawFn, cls: type[Any]) -> dict[Any, Any]:
    """A valid sample of `cls` with one to three places replaced, removed or added."""
    data = copy.deepcopy(_sample(cls))
    fields = sorted({f.alias or name for name, f in cls.model_fields.items()} | set(data))
    values = st.one_of(_edges, _values)
    for _ in range(draw(st.integers(1, 3))):
        if draw(st.booleans()):  # half the time a top-level field, present or not
            data[draw(st.sampled_from(fields))] = draw(values)
            continue
        container, key = draw(st.sampled_from(_slots(data, [])))
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        if action == "replace":
            container[key] = draw(values)
        elif action == "remove":
            del container[key]
        elif isinstance(container, dict):
            container[draw(_keys)] = draw(values)
        else:
            container.append(draw(values))
    return data


_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _yaml(data: Any) -> str:
    """Safe YAML for generated data (LibYAML's emitter when there is one: 10x faster)."""
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


@pytest.mark.parametrize("cls", list(KIND_PATHS), ids=lambda c: c.__name__)
@settings(_FUZZ, max_examples=50)
@given(data=st.data())
def test_schema_parse_any_mapping(cls: type[Any], data: st.DataObject) -> None:
    doc = data.draw(st.one_of(_mapping(), _mutated(cls)), label="document")
    text = _yaml(doc)
    as_bytes = data.draw(st.booleans(), label="as bytes")
    check_manifest(cls, text.encode() if as_bytes else text, KIND_PATHS[cls])


@pytest.mark.parametrize("cls", list(KIND_PATHS), ids=lambda c: c.__name__)
def test_schema_every_field_with_every_edge_value(cls: type[Any]) -> None:
    """The exhaustive companion of the property: each top-level field of a valid sample set
    to each edge value in turn (random search rarely lands on one field and one value)."""
    data = _sample(cls)
    fields = sorted({f.alias or name for name, f in cls.model_fields.items()} | set(data))
    for key in fields:
        for value in _EDGE_VALUES:
            check_manifest(cls, _yaml({**data, key: value}), KIND_PATHS[cls])


@pytest.mark.parametrize("cls", list(KIND_PATHS), ids=lambda c: c.__name__)
def test_valid_samples_still_parse(cls: type[Any]) -> None:
    """The mutation strategy starts from these; they must be valid to begin with."""
    model = schema.parse(cls, VALID_SAMPLES[cls].read_bytes(), KIND_PATHS[cls])
    assert isinstance(model, cls)


# == 3. query.parse and Expr.matches ==========================================================

_QUERY_FIELDS = [
    *query.FIELDS, "NAME", "Stage", "tags.team", "labels.team", "tags.`cost center`",
    "labels.`a.b`", "metrics.f1", "metrics.`f1 macro`", "Metrics.F1", "params.lr",
    "params.layers", "tags.", "metrics.", "tags.``", "`name`", "``", "nosuch", "nam", "tag.x",
    "metric.f1", "params.a-b/c:d",
]  # fmt: skip
_OPS = [
    "=", "!=", "<>", "<", "<=", ">", ">=", "==", "=<", "!", "~", "<=>", "IN", "in", "NOT IN",
    "LIKE", "like", "NOT LIKE", "ILIKE", "NOT ILIKE", "not ilike", "NOT", "BETWEEN", "IS",
]  # fmt: skip
_STRING_PIECES = [
    "a", "b", "churn", "%", "_", "\\%", "\\_", "\\'", '\\"', "\\\\", "''", '""', "\\", "\\n",
    " ", "é", "ǅ", "ß", "İ", "\t", "\n", "1.0.0",
]  # fmt: skip
_NUMBERS = [
    "0", "1", "-1", "+1", "1.5", "-1.5e3", "+.5", ".5", "1e999", "-1e999", "1E-3", "1.", "1..2",
    "0x10", "1e", "1e+", "5abc", "1.0.0", "-", "+", "\u0661",
]  # fmt: skip


def _quoted(pieces: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.tuples(
        st.sampled_from(["'", '"']), st.lists(pieces, max_size=12), st.sampled_from(["", "x"])
    ).map(lambda t: t[0] + "".join(t[1]) + (t[0] if t[2] == "" else ""))


_VALID_OPS = ["=", "!=", "<>", "<", "<=", ">", ">=", "IN", "NOT IN", "LIKE", "NOT ILIKE"]
_VALID_FIELDS = [
    *query.FIELDS, "tags.team", "labels.team", "tags.`cost center`", "metrics.f1",
    "metrics.`f1 macro`", "params.lr", "params.layers", "params.`a-b/c:d`",
]  # fmt: skip


def _grammar(wildcards: int, *, valid: bool = False) -> st.SearchStrategy[str]:
    """Strings shaped like --filter expressions; LIKE patterns have at most `wildcards` %.

    `valid`: known fields, operators and well-formed values only, so most of them parse.
    """
    like = st.lists(st.sampled_from(["%", "_", "a", "b", "\\%", "\\_", "é"]), max_size=30)
    like = like.filter(lambda xs: xs.count("%") <= wildcards)
    pattern = st.tuples(st.sampled_from(["'", '"']), like).map(
        lambda t: t[0] + "".join(t[1]) + t[0]
    )
    pieces = st.sampled_from(_STRING_PIECES)
    if valid:
        value = st.one_of(
            st.lists(pieces, max_size=6).map(lambda xs: "'" + "".join(xs).replace("'", "''") + "'"),
            st.sampled_from(["0", "1", "-1.5e3", "+.5", "1e999", "0.9", "'1.0.0'", "'0.05'"]),
        )
        values = st.lists(value, min_size=1, max_size=3).map(lambda vs: "(" + ", ".join(vs) + ")")
        field = st.sampled_from(_VALID_FIELDS)
        ops = st.sampled_from(_VALID_OPS)
        words = st.sampled_from([" AND ", " OR ", " and "])
    else:
        value = st.one_of(
            _quoted(pieces),
            st.sampled_from(_NUMBERS),
            st.sampled_from(["churn", "NULL", "(", ")", ",", ""]),
        )
        values = st.lists(value, max_size=4).map(lambda vs: "(" + ", ".join(vs) + ")")
        field = st.one_of(st.sampled_from(_QUERY_FIELDS), st.text(max_size=6))
        ops = st.sampled_from(_OPS)
        words = st.sampled_from([" AND ", " OR ", " and ", " ", " XOR "])
    comparison = st.one_of(
        st.tuples(field, ops, st.one_of(value, values, pattern)).map(" ".join),
        st.tuples(field, st.sampled_from(["LIKE", "ILIKE", "NOT LIKE"]), pattern).map(" ".join),
        st.tuples(field, st.sampled_from(["IN", "NOT IN"]), values).map(" ".join),
    )

    def extend(kids: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
        return st.one_of(
            kids.map(lambda e: f"NOT {e}"),
            kids.map(lambda e: f"({e})"),
            st.tuples(kids, words, kids).map("".join),
        )

    tree = st.recursive(comparison, extend, max_leaves=8)
    if valid:
        return tree
    nested = st.tuples(st.integers(0, 130), st.integers(0, 130), comparison).map(
        lambda t: "(" * t[0] + t[2] + ")" * t[1]
    )
    nots = st.tuples(st.integers(95, 130), comparison).map(lambda t: "NOT " * t[0] + t[1])
    return st.one_of(tree, nested, nots)


_query_alphabet = st.sampled_from(list("nameNOTANDORINLIKEtags.metrics '\"\\%_()`,=!<>~01.-+e\t\n"))


@settings(_FUZZ, max_examples=300)
@given(text=st.one_of(st.text(max_size=200), st.text(_query_alphabet, max_size=80)))
@example(text="")
@example(text="   ")
@example(text="name = 'unterminated")
@example(text="name = `x")
def test_query_parse_arbitrary_text(text: str) -> None:
    check_query(text)


@settings(_FUZZ, max_examples=150)
@given(text=_grammar(wildcards=60))
@example(text="(" * 100 + "name = 'a'" + ")" * 100)
@example(text="(" * 101 + "name = 'a'" + ")" * 101)
@example(text="NOT " * 101 + "name = 'a'")
@example(text="name LIKE '" + "%_" * 500 + "'")
def test_query_parse_grammar(text: str) -> None:
    check_query(text)


def test_query_depth_limit_is_a_query_error() -> None:
    assert check_query("(" * 100 + "name = 'a'" + ")" * 100) is not None
    assert check_query("(" * 101 + "name = 'a'" + ")" * 101) is None
    with pytest.raises(QueryError) as e:
        query.parse("(" * 1000 + "name = 'a'" + ")" * 1000)
    assert "nested" in e.value.message


# Short record strings and few `%` in the patterns matched against them: a backtracking LIKE
# matcher costs about C(len + wildcards, wildcards) steps on a miss, and this property is to
# find crashes, not to time out (test_like_is_linear is the timing test).
_short_text = st.text(max_size=10)
_summaries = st.builds(
    ModelSummary,
    name=st.one_of(st.sampled_from(["churn", "fraud", "a" * 10]), _short_text),
    description=_short_text,
    owners=st.lists(_short_text, max_size=3),
    task=st.none() | _short_text,
    labels=st.dictionaries(
        st.sampled_from(["team", "cost center", "a.b"]) | _short_text, _short_text, max_size=3
    ),
    latest=st.none() | st.sampled_from(["1.0.0", "1.10.0", "2.0.0-rc.1", "1.0"]) | _short_text,
    versions=st.lists(_short_text, max_size=3),
    stages=st.dictionaries(
        st.sampled_from(["staging", "production"]) | _short_text, _short_text, max_size=3
    ),
)
RECORD_KEYS = [
    *query.FIELDS.values(), "version", "tags.team", "labels.team", "tags.cost center",
    "metrics.f1", "metrics.f1 macro", "params.lr", "params.layers", "params.a-b/c:d",
]  # fmt: skip
_record_keys = st.sampled_from(RECORD_KEYS)
_record_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from([2**63, 10**308, 10**400, -(10**400)]),
    st.floats(),
    _short_text,
    st.sampled_from(
        ["1.0.0", "1.10.0", "2.0.0-rc.1", "0.05", " 1 ", "1e999", "nan", "\u0661", "%"]
    ),
)
_record_values = st.recursive(
    _record_scalars,
    lambda kids: st.lists(kids, max_size=3) | st.dictionaries(_short_text, kids, max_size=2),
    max_leaves=6,
)
_RECORD_EDGES = [
    10**400, -(10**400), [10**400], 2**63, 10**308, math.nan, math.inf, -0.0, None, True, "",
    [], {}, "1.0.0", "1.10.0-rc.1", "0.05", "1e999", " 1 ", "\u0661", ["production", None],
]  # fmt: skip
_record_edges = st.sampled_from(_RECORD_EDGES)
_plain_records = st.dictionaries(
    _record_keys | _short_text, _record_edges | _record_values, max_size=8
)


@functools.cache
def _valid_version_record() -> dict[str, Any]:
    text = VALID_SAMPLES[VersionManifest].read_bytes()
    m = schema.parse(VersionManifest, text, KIND_PATHS[VersionManifest])
    return version_record(m, ["staging"])


_records = st.one_of(
    _summaries.map(model_record),
    _plain_records,
    st.builds(lambda: _valid_version_record()),
)


@settings(_FUZZ, max_examples=120)
@given(
    text=st.one_of(
        _grammar(wildcards=6, valid=True),
        _grammar(wildcards=6),
        st.text(_query_alphabet, max_size=60),
    ),
    records=st.lists(_records, max_size=3),
    aligned=st.lists(_record_edges | _record_values, max_size=4),
)
@example(
    text="metrics.f1 > 0.9 OR params.lr = '0.05'", records=[{"metrics.f1": math.nan}], aligned=[]
)
@example(
    text="version > '1.0.0' AND latest <= '2.0.0-rc.1'", records=[{"version": "1.0"}], aligned=[]
)
@example(text="stages != 'production'", records=[{"stages": [None, [], {}]}], aligned=[])
def test_query_matches_any_record(
    text: str, records: list[dict[str, Any]], aligned: list[Any]
) -> None:
    """`aligned` are values for the fields the expression reads, so they get compared."""
    expr = check_query(text)
    if expr is None:
        return
    if aligned:
        fields = sorted(expr.fields())
        records = [*records, {f: aligned[i % len(aligned)] for i, f in enumerate(fields)}]
    for record in records:
        check_matches(expr, record)


def test_like_is_linear() -> None:
    expr = query.parse("name LIKE '%a%a%a%a%a%a%a%a%a%a%a%a%a%a%b'")
    record = {"name": "a" * 10_000}
    assert _timed(0.5, "LIKE on 10,000 a's", lambda: expr.matches(record)) is False


def test_like_and_ilike_still_match() -> None:
    """What a linear matcher must keep doing."""
    record = {"name": "Churn_50%"}
    cases = {
        "name LIKE 'Ch%'": True,
        "name LIKE 'ch%'": False,
        "name ILIKE 'ch%'": True,
        "name LIKE '%\\_50\\%'": True,
        "name LIKE '_hurn_50_'": True,
        "name LIKE '%a%'": False,
        "name NOT LIKE '%a%'": True,
        "name LIKE '%%%%C%%%%%%'": True,
    }
    assert {q: query.parse(q).matches(record) for q in cases} == cases


def _literal(like_source: str) -> str:
    """A --filter string literal whose value is `like_source`."""
    return "'" + like_source.replace("\\", "\\\\").replace("'", "''") + "'"


def _escaped(text: str) -> str:
    """A LIKE pattern that matches exactly `text`."""
    return "".join("\\" + c if c in "%_\\" else c for c in text)


def _like_matches(op: str, pattern: str, text: str) -> bool:
    expr = query.parse(f"name {op} {_literal(pattern)}")
    result = _timed(1.0, f"{op} {pattern!r}", lambda: expr.matches({"name": text}))
    assert type(result) is bool
    return result


_LIKE_ATOMS = {"%": ".*", "_": ".", "\\%": "%", "\\_": "_", "\\\\": "\\\\"}


@settings(_FUZZ, max_examples=150)
@given(
    atoms=st.lists(st.sampled_from([*_LIKE_ATOMS, "a", "A", "b", "é", "'", "\n", "."]), max_size=8),
    text=st.text(st.sampled_from(list("aAbé%_\\'\n.")), max_size=12),
)
@example(atoms=["%", "a", "%", "b"], text="aab")
@example(atoms=["\\%"], text="%")
@example(atoms=["_", "%"], text="")
def test_like_agrees_with_a_reference(atoms: list[str], text: str) -> None:
    r"""LIKE is SQL's: `%` any run, `_` one character, `\%` `\_` `\\` themselves; ILIKE on
    ASCII is the same ignoring case."""
    rx = "".join(_LIKE_ATOMS.get(a, re.escape(a)) for a in atoms)
    pattern = "".join(atoms)
    assert _like_matches("LIKE", pattern, text) == bool(re.fullmatch(rx, text, re.DOTALL))
    assert _like_matches("NOT LIKE", pattern, text) != bool(re.fullmatch(rx, text, re.DOTALL))
    if pattern.isascii() and text.isascii():
        expected = bool(re.fullmatch(rx, text, re.DOTALL | re.IGNORECASE))
        assert _like_matches("ILIKE", pattern, text) == expected


@functools.cache
def _ilike_fold_bug_open() -> bool:
    return not query.parse("name ILIKE 'ß'").matches({"name": "ß"})


def check_like_itself(text: str, *, tolerate: bool = True) -> None:
    pattern = _escaped(text)
    assert _like_matches("LIKE", pattern, text)
    assert _like_matches("LIKE", "%", text)
    if tolerate and _ilike_fold_bug_open() and any(len(c.casefold()) != 1 for c in text):
        event("known bug: ILIKE of a character that case-folds to several")
        return
    assert _like_matches("ILIKE", pattern, text)
    if text.isascii():
        assert _like_matches("ILIKE", pattern, text.swapcase())


@settings(_FUZZ, max_examples=150)
@given(text=st.text(max_size=20))
@example(text="Churn_50%\\")
def test_like_and_ilike_match_the_text_itself(text: str) -> None:
    check_like_itself(text)


# == regressions: bugs the properties found, fixed; their examples keep them fixed ==========

_ONLY_EXAMPLES = settings(_FUZZ, phases=[Phase.explicit])


@_ONLY_EXAMPLES
@given(created=st.text())
@example(created="0001-01-01T00:00:00+01:00")
@example(created="'9999-12-31T23:00:00-05:00'")
def test_regression_created_out_of_range(created: str) -> None:
    path = KIND_PATHS[VersionManifest]
    check_manifest(VersionManifest, _version_text(created), path, tolerate=False)


@_ONLY_EXAMPLES
@given(text=st.text())
@example(text="params.big > 1")
@example(text="params.big = 'x'")
def test_regression_big_int_param(text: str) -> None:
    path = KIND_PATHS[VersionManifest]
    m = schema.parse(
        VersionManifest,
        _version_text("2026-01-02T03:04:05Z", f"params:\n  big: {'9' * 400}\n"),
        path,
    )
    expr = query.parse(text)
    check_matches(expr, version_record(m, []), tolerate=False)


@_ONLY_EXAMPLES
@given(record=st.builds(dict))
@example(record={"metrics.f1": 10**400})
def test_regression_big_int_metric(record: dict[str, Any]) -> None:
    check_matches(query.parse("metrics.f1 > 0.5"), record, tolerate=False)


@_ONLY_EXAMPLES
@given(text=st.text())
@example(text="straße")
def test_regression_ilike_multi_char_casefold(text: str) -> None:
    check_like_itself(text, tolerate=False)


def test_known_bug_probes_are_consistent() -> None:
    """Each reproducer either still hits its bug or passes; nothing else."""
    for bug in KNOWN_BUGS:
        try:
            bug.probe()
        except GitregError:
            pass  # fixed: the input is refused the way it should be
        except Exception as e:
            assert bug.matches(e), f"{bug.name}: the reproducer now raises {e!r} from {_origin(e)}"
