"""The fast YAML path means exactly what PyYAML means, or declines.

Every YAML file of the project and a generated corpus (every YAML 1.1 resolver form,
plain and quoted, as keys and values, in block and flow style, with comments, odd spacing,
block scalars, unicode, BOM and CRLF) are loaded by PyYAML (`yamlio.load_pyyaml`) and by
the fast path (`fastyaml.fast_load`): where the fast path answers, the values and their
types (bool/int/float/str/None, date/datetime/str) must be equal, key order included.
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gitreg.errors import ManifestError
from gitreg.model import fastyaml, yamlio

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.skipif(
    not fastyaml.AVAILABLE, reason="yaml_rs is not installed: there is no fast path"
)


def _same(a: Any, b: Any) -> bool:
    """Equal values of equal types, recursively (dict key order included; NaN == NaN)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def agrees(load: Callable[[str], tuple[bool, Any]], text: str) -> bool:
    """Assert the fast path `load` (answered, value) agrees with PyYAML on `text`: it
    declines, or gives PyYAML's value and types, and never answers what PyYAML refuses;
    whether it answered. test_blockyaml.py checks its reader with it too."""
    fast, value = load(text)
    try:
        slow: Any = yamlio.load_pyyaml(text, "f.yaml")
    except ManifestError as e:
        assert not fast, f"fast path accepted what PyYAML refuses ({e}): {text!r}"
        return False
    if fast:
        assert _same(value, slow), f"{text!r}: fast {value!r} != PyYAML {slow!r}"
    return fast


def every_form(check: Callable[[str], bool], contexts: list[str], *variants: str) -> int:
    """`check` on every resolver form of SCALARS, plain and quoted, in every context, and
    on each text with CRLF line ends and with each of `variants` before it; how many of
    the plain texts the fast path answered."""
    answered = 0
    for scalar in SCALARS:
        for spelled in _quoted(scalar):
            for context in contexts:
                text = context.format(s=spelled)
                answered += check(text)
                check(text.replace("\n", "\r\n"))
                for before in variants:
                    check(before + text)
    return answered


def _check(text: str) -> bool:
    return agrees(
        lambda t: fastyaml.fast_load(t, yamlio.MAX_DEPTH, yamlio.MAX_EXPANDED_NODES), text
    )


def _project_yaml() -> list[Path]:
    found: list[Path] = []
    for top in ("tests/data", "example-registry", "src/gitreg/templates", ".github"):
        for pattern in ("*.yaml", "*.yml", "*.dvc"):
            found.extend((ROOT / top).rglob(pattern))
    return sorted(p for p in found if p.is_file())


def test_every_project_yaml_file_loads_alike() -> None:
    files = _project_yaml()
    assert len(files) > 20
    answered = 0
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:  # a fixture of the not-UTF-8 error: load refuses it first
            continue
        answered += _check(text)
    assert answered > 0


BOOLS = ["yes", "Yes", "YES", "no", "No", "NO", "true", "True", "TRUE", "false", "False"]
BOOLS += ["FALSE", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N", "tRue", "oN"]
NULLS = ["~", "null", "Null", "NULL", "nULL", "none", "None"]
INTS = ["0", "00", "7", "-7", "+7", "017", "-017", "0o17", "0O17", "0x1F", "0X1f", "-0x1F"]
INTS += ["0b101", "+0b1", "1_000", "1__0", "1_", "_1", "12:30", "1:20:30", "-1:20", "190:20"]
INTS += ["123456789012345678901234567890", "9223372036854775808", "0_7", "08", "09"]
FLOATS = ["0.1", "1.", "-1.5", "+1.5", ".5", "-.5", "+.5", "1e3", "1E3", "1.5e3", "1.5e+3"]
FLOATS += ["1.5e-3", "1.5E+03", "-1.5e+3", "1_0.5", "1.5_0", "._5", ".inf", ".Inf", ".INF"]
FLOATS += ["-.inf", "+.inf", ".iNf", "inf", ".nan", ".NaN", ".NAN", ".nAn", "nan", "1:20.5"]
FLOATS += ["0.0001", "58.197", "1e-05", "6.02e23", "0.", "-0.0", "1.0e", "1.2.3", "e3"]
TIMES = ["2026-01-01", "2026-1-1", "2026-01-01T00:00:00Z", "2026-01-01t00:00:00z"]
TIMES += ["2026-12-01T14:31:03Z", "2026-12-01 14:31:03", "2026-12-01 14:31:03.5 -5"]
TIMES += ["2026-12-01T14:31:03.123456+01:00", "2026-12-01T14:31:03+0100", "2026-13-01"]
TIMES += ["14:31:03", "2026-12-01T14:31", "20261201"]
OTHER = ["=", "<<", "", "x", "1.9.1", "1.0.0-rc.1", "7eec9d5b1354c8aa3b79be7eca3e4892"]
OTHER += [
    "0e1d",
    "1e5abc",
    "09cae4d7",
    "0e5",
    "0x1Fg",
    "017.5",
    "0b2",
    "1e3_",
    "1e-06",
    "Ada Lovelace <ada@example.com>",
    "https://x.org/a?b=c#d",
]
OTHER += ["a b", "a  b", "a:b", "a#b", "a # b", "a,b", "-", "--", "-a", ":", "?", "? a"]
OTHER += ["@x", "`x", "%x", "|", ">", "'", '"', "a'b", 'a"b', "\\", "a\\b", "[", "]", "{"]
OTHER += ["}", ",", "&a", "*a", "!x", "!!str 1", "Zoë", "日本語", "\U0001f600", "a\u00a0b"]
OTHER += ["\u00a0", "\u2028", "\x85", "a\tb", " a", "a ", "...", "---", "models/x/a.pkl"]
SCALARS = BOOLS + NULLS + INTS + FLOATS + TIMES + OTHER


def _quoted(s: str) -> list[str]:
    single = "'" + s.replace("'", "''") + "'"
    double = '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return [s, single, double]


CONTEXTS = [
    "k: {s}\n",
    "k:   {s}   \n",
    "k: {s} # note\n",
    "{s}: v\n",
    "- {s}\n- x\n",
    "a:\n  b:\n  - {s}\n  c: {s}\n",
    "k: [{s}, x]\n",
    "k: [x,{s}]\n",
    "k: {{a: {s}, b: 1}}\n",
    "{{a: {s}}}\n",
    "k: |\n  {s}\n",
    "k: >-\n  {s}\n  {s}\n",
    "k:\n  {s}\n",
    "# c {s}\nk: {s}\n",
    "schema: gitreg/v1\nmetrics:\n  f1: {s}\n  auc: 0.9\n",
]


def test_every_resolver_form_in_every_context_loads_alike() -> None:
    # the plain, unambiguous forms do take the fast path
    assert every_form(_check, CONTEXTS, "\ufeff", "---\n") > 1000


INVALID = [
    "a: [1, 2\n",
    'a: "x\n',
    "- a\nb: c\n",
    "a:\n  - b\n  c: d\n",
    "{a: 1}}\n",
    "a: 1\na: 2\n",
    "a: 1\n'a': 2\n",
    "a: b: c\n",
    "a: @x\n",
    "a: `x\n",
    "a:\n\tb: 1\n",
    "k" * 1100 + ": v\n",
    "a: 1\n---\nb: 2\n",
    "a: {b: 1, b: 2}\n",
    "a: ]\n",
    "[a, b]]\n",
    "a: 'x' y\n",
    "a:\n  b: 1\n c: 2\n",
    "  a: 1\nb: 2\n",
    "a: |\n x\n  y\n z\n",
    "=: 1\n",
    "k: =\n",
    "<<: {a: 1}\n",
]


@pytest.mark.parametrize("text", INVALID)
def test_invalid_documents_are_never_answered_fast(text: str) -> None:
    _check(text)


def test_deep_and_wide_documents_keep_their_bounds() -> None:
    deep = "a: " + "[" * 70 + "]" * 70 + "\n"
    assert not _check(deep)
    assert "deeper than 64" in str(_load_error(deep))
    wide = "a: [" + ", ".join(["1"] * (yamlio.MAX_EXPANDED_NODES + 5)) + "]\n"
    assert not _check(wide)


def _load_error(text: str) -> ManifestError:
    with pytest.raises(ManifestError) as e:
        yamlio.load(text, "f.yaml")
    return e.value


def test_errors_read_as_pyyaml_wrote_them() -> None:
    e = _load_error("name: a\nowners: []\nname: b\n")
    assert str(e).startswith("f.yaml: invalid YAML: line 3")
    assert "duplicate key 'name' (first on line 1)" in str(e)


TYPICAL_VERSION = """\
schema: gitreg/v1
name: churn
version: 1.3.0
created: '2026-12-01T14:31:03Z'
author: Ada Lovelace <ada@example.com>
description: gradient boosting, 300 trees
artifacts:
- path: models/churn/artifacts/1.3.0/model.pkl
  md5: 7eec9d5b1354c8aa3b79be7eca3e4892
  size: 522
  format: pickle
framework:
  name: sklearn
  version: 1.9.1
metrics:
  auc: 0.9123
  f1: 0.81
  by_slice:
    region=eu:
      auc: 0.9
params:
  n_estimators: 300
  learning_rate: 0.1
  fit_intercept: true
  tol: 0.0001
lineage:
  code:
    repo: https://github.com/acme/churn
    commit: 5d3f0c1e9a7b2c4d6e8f0a1b3c5d7e9f1a2b3c4d
  data:
  - name: holdout.csv
    path: data/holdout.csv
    md5: 53815cac64eb9bcd9297da5cb6c44eba
  run:
    id: run-42
    url: https://tracker.example.com/runs/42
environment:
  python: 3.11.7
  requirements: [scikit-learn==1.5.0, numpy>=1.26]
signature:
  inputs: {age: int, plan: str}
  outputs: {churn: float}
status: active
"""

TYPICAL_POINTER = """\
outs:
- md5: 7eec9d5b1354c8aa3b79be7eca3e4892
  size: 522
  hash: md5
  path: model.pkl
"""


def test_a_typical_manifest_and_pointer_take_the_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for text in (TYPICAL_VERSION, TYPICAL_POINTER):
        assert _check(text), text
    # and `yamlio.load` takes it once a process has loaded FAST_AFTER documents
    calls: list[str] = []
    real = fastyaml.fast_load

    def spy(text: str, depth: int, nodes: int) -> tuple[bool, Any]:
        got = real(text, depth, nodes)
        calls.append("fast" if got[0] else "declined")
        return got

    monkeypatch.setattr(fastyaml, "fast_load", spy)
    monkeypatch.setattr(yamlio, "_LOADS", [0])
    for _ in range(yamlio.FAST_AFTER + 3):
        assert yamlio.load(TYPICAL_VERSION, "f.yaml") == yamlio.load_pyyaml(TYPICAL_VERSION, "f")
    assert calls == ["fast"] * 3


def test_the_example_registry_takes_the_fast_path() -> None:
    files = sorted((ROOT / "example-registry" / "models").rglob("versions/*.yaml"))
    answered = [_check(path.read_text(encoding="utf-8")) for path in files]
    # all but those that spell a number the YAML versions read differently (`tol: 1e-06`
    # is a string to PyYAML, a float to YAML 1.2)
    assert sum(answered) >= len(files) - 1 >= 4, files


def test_dates_stay_dates_where_pyyaml_makes_them() -> None:
    value = yamlio.load("d: 2026-01-01\nt: 2026-01-01T00:00:00Z\nq: '2026-01-01'\n", "f")
    assert type(value["d"]) is datetime.date
    assert type(value["t"]) is datetime.datetime
    assert value["q"] == "2026-01-01"


@pytest.mark.parametrize("word", ["=", "on", "2026-01-01", "1:20"])
def test_a_string_safe_only_where_quoted_is_not_remembered_as_safe(word: str) -> None:
    # the fast path remembers strings PyYAML reads as strings anywhere; these are strings
    # only when quoted, so a quoted one seen first must not let the plain one through
    answered = 0
    for quoted in (f"k: '{word}'\n", f"k: ['{word}', x]\n", f"'{word}': 1\n"):
        answered += _check(quoted)
        assert not _check(quoted.replace(f"'{word}'", word))
    assert answered >= 2


def test_checking_many_texts_at_once_answers_as_one_at_a_time() -> None:
    # `yamlio.expect` clears a model's texts in one pass: no document may get through
    # that its own checks would decline, whatever its neighbours
    docs = [c.format(s=q) for s in SCALARS for q in _quoted(s) for c in CONTEXTS[:6]]
    docs += [TYPICAL_VERSION, TYPICAL_POINTER]
    for size in (2, 7, 50):
        for i in range(0, len(docs), size):
            group = docs[i : i + size]
            yamlio.expect([d.encode() for d in group])
            for text in group:
                alone = not fastyaml._text_declined(text)
                assert _check(text) <= alone, text
    fastyaml._CLEARED.clear()


def test_a_clean_batch_is_cleared_and_then_loaded_fast() -> None:
    batch = [TYPICAL_VERSION, TYPICAL_POINTER, TYPICAL_VERSION.replace("churn", "fraud")]
    fastyaml.clear(batch)
    assert set(batch) - {TYPICAL_POINTER} <= fastyaml._CLEARED  # a pointer: `_pointer`
    for text in batch:
        assert _check(text)
    assert not fastyaml._CLEARED  # each was used once
    fastyaml.clear([TYPICAL_VERSION, "a: 017\n"])  # one risky text: nothing is cleared
    assert not fastyaml._CLEARED


POINTER_MD5S = ["7eec9d5b1354c8aa3b79be7eca3e4892", "1" * 32, "0" * 32, "1e" + "3" * 30, "f" * 32]
POINTER_SIZES = ["0", "15", "015", "1_0", "1e3", "0x1f", "1:20", "99999999999999999999", "-1"]
POINTER_PATHS = [
    "model.bin",
    "true",
    "on",
    "Off",
    "null",
    "NULL",
    "1.5",
    "1_0",
    "2026-01-01",
    "0x1f",
    "1e3",
    "1:20",
    "=",
    "_x",
    "a/b.c",
    "12",
    "0o17",
    "017",
    "+1",
    "-1",
    "~",
    "y",
    "1.0e+3",
    "sub/true",
    "model.bin.",
    "a-b+c",
    "x#y",
    "a: b",
    "a/../b",
    ".inf",
]


def test_dvc_pointers_of_every_spelling_load_as_pyyaml_reads_them() -> None:
    # `_pointer` reads `dvc add`'s exact shape without any YAML loader: wherever it answers
    # it must equal PyYAML, and it must decline every value PyYAML reads as no string
    answered = 0
    for md5 in POINTER_MD5S:
        for size in POINTER_SIZES:
            for path in POINTER_PATHS:
                text = f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: {path}\n"
                got = fastyaml._pointer(text)
                try:
                    slow = yamlio.load_pyyaml(text, "p.dvc")
                except ManifestError:
                    assert got is None, text
                    continue
                if got is not None:
                    answered += 1
                    assert _same(got, slow), f"{text!r}: {got!r} != PyYAML {slow!r}"
                assert _check(text) or got is None
                out = slow["outs"][0]
                plain = all(type(out[k]) is str for k in ("md5", "path"))
                if plain and type(out["size"]) is int and size == str(out["size"]):
                    # what PyYAML reads as the plain shape is answered, but for odd paths
                    assert got is not None or not fastyaml._POINTER.fullmatch(text), text
    assert answered >= 50
    assert fastyaml._pointer(TYPICAL_POINTER) == yamlio.load_pyyaml(TYPICAL_POINTER, "p")
    for other in (TYPICAL_POINTER + "  cache: false\n", TYPICAL_POINTER.replace(" ", "  ", 1)):
        assert fastyaml._pointer(other) is None  # another shape: the general fast path
        _check(other)


def test_a_risky_line_in_one_text_of_a_batch_clears_none() -> None:
    # `clear` checks each distinct line once: a line found in one text only still counts
    fastyaml._CLEARED.clear()
    risky = TYPICAL_VERSION.replace("status: active", "status: 017")
    fastyaml.clear([TYPICAL_VERSION, TYPICAL_VERSION.replace("churn", "fraud"), risky])
    assert not fastyaml._CLEARED
    fastyaml.clear(["a: 1\n", "%YAML 1.1\n---\na: 1\n"])  # a directive on a later text
    assert not fastyaml._CLEARED


@pytest.mark.parametrize(
    "text",
    [
        "# was '2026-01-01 10:00:00'\ndescription: 2026-01-01\n  10:00:00\n",
        "a: '2026-01-01 10:00:00'\nb: 2026-01-01\n  10:00:00\n",
        'a: "2026-01-01 10:00:00"\nb:\n  2026-01-01\n  10:00:00\n',
    ],
)
def test_a_plain_timestamp_folded_over_lines_is_not_taken_for_its_quoted_twin(text: str) -> None:
    """A plain scalar folded over two lines reads as its lines joined by a space: text the
    source never holds, so its quoted twin elsewhere must not vouch for it."""
    _check(text)
    assert type(yamlio.load_pyyaml(text, "f")["b" if text.startswith("a") else "description"]) is (
        datetime.datetime
    )
