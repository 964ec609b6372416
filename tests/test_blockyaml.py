"""model/blockyaml.py answers only what PyYAML answers, with PyYAML's value and types.

Every YAML file of the project, every resolver form of `test_yaml_fastpath` in block
contexts (plain, quoted, keys, items, nested, indentless sequences) and generated documents
are loaded both ways: the fast path either declines or gives PyYAML's value; it never
answers a document PyYAML refuses.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitreg.model import blockyaml, yamlio
from test_yaml_fastpath import INVALID, SCALARS, _project_yaml, _quoted, agrees, every_form


def _check(text: str) -> bool:
    return agrees(blockyaml.load, text)


def test_every_project_yaml_file_loads_alike() -> None:
    files = _project_yaml()
    answered = 0
    for path in files:
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue
        answered += _check(text)
    assert answered > 10


BLOCK_CONTEXTS = [
    "k: {s}\n",
    "k:   {s}   \n",
    "k: {s} # note\n",
    "{s}: v\n",
    "- {s}\n- x\n",
    "-   {s}\n",
    "- k: {s}\n  j: 1\n",
    "-   k: {s}\n    j: [] \n",
    "a:\n  b:\n  - {s}\n  c: {s}\n",
    "a:\n- {s}\nb: {{}}\n",
    "a:\n- k: {s}\n  l:\n  - {s}\n  m: 2\n",
    "k:\n  {s}\n",
    "k: x\n  {s}\n",
    "# c {s}\nk: {s}\n",
    "  k: {s}\n  l: 1\n",
    "schema: gitreg/v1\nmetrics:\n  f1: {s}\n  auc: 0.9\n",
    "k: {s}\n\n   # comment\nl:\n",
]


def test_every_resolver_form_in_every_block_context_loads_alike() -> None:
    # the plain, unambiguous forms do take the fast path
    assert every_form(_check, BLOCK_CONTEXTS, "---\n") > 1000


@pytest.mark.parametrize(
    "text",
    [
        *INVALID,
        "a:\n  b: 1\n   c: 2\n",
        "- a\n  - b\n",
        "- - a\n",
        "-\n  a: 1\n",
        "a: 1\n  b: 2\n",
        "a: - b\n",
        "a: 'x''\n",
        "a: 1\nb:\n  c: 1\nb: 2\n",
        "k" * 200 + ": v\n",
        "a: " + "9" * 5000 + "\n",
        "a:\n" + "".join(f"{' ' * i}b{i}:\n" for i in range(1, 80)),
    ],
)
def test_invalid_or_unusual_documents_are_never_answered_wrongly(text: str) -> None:
    _check(text)


def test_deep_documents_are_declined_before_recursion_runs_out() -> None:
    deep = "".join(f"{'  ' * i}k:\n{'  ' * i}- x\n" for i in range(40)) + "  " * 40 + "z: 1\n"
    assert blockyaml.load(deep) == (False, None)
    nested = "".join(f"{' ' * i}- a:\n" for i in range(0, 2000, 2))
    assert blockyaml.load(nested)[0] is False


def test_a_manifest_as_yamlio_dumps_it_takes_the_block_path() -> None:
    manifest = {
        "schema": "gitreg/v1",
        "name": "churn",
        "version": "1.98.0",
        "created": "2024-06-24T03:48:20Z",
        "author": "Bench Bot <bench@example.com>",
        "description": "it's a model: churn, v2",
        "artifacts": [
            {
                "path": "models/churn/artifacts/1.98.0/model.bin",
                "md5": "7c5c1dfe9e4020d008c32c8b158e2e13",
                "size": 16,
            }
        ],
        "framework": {"name": "sklearn", "version": "1.5.2"},
        "metrics": {"accuracy": 0.93, "auc": 0.98, "n": 0, "loss": -0.5},
        "params": {"n_estimators": 198, "max_depth": 8, "flag": True, "none": None},
        "lineage": {"code": {"commit": "a54539c452cc783e4886adde57a1dd3b5226610a"}},
        "environment": {"python": "3.11.7", "requirements": []},
        "status": "active",
    }
    text = yamlio.dump(manifest)
    assert blockyaml.load(text) == (True, manifest)
    assert _check(text)


def test_a_gitreg_yaml_with_comments_takes_the_block_path() -> None:
    text = (
        "# yaml-language-server: $schema=schemas/gitreg.schema.json\n"
        "schema: gitreg/v1\n# stages\nstages:\n  - name: staging\n    gate: true\n"
        "  - name: production\n    requires: staging\ndvc_remote: default\n"
    )
    assert _check(text)


_PLAIN = st.sampled_from([s for s in SCALARS if "\n" not in s] + ["a", "1", "0.5", "x y"])
_KEYS = st.sampled_from(["a", "b", "k1", "n_x", "on", "y", "1", "a b", "'q'", "_", "a-b"])


def _doc(depth: int) -> st.SearchStrategy[str]:
    scalar = st.one_of(_PLAIN, _PLAIN.map(lambda s: _quoted(s)[1]))
    if depth == 0:
        return scalar
    child = _doc(depth - 1)
    return st.one_of(
        scalar,
        st.lists(st.tuples(_KEYS, child), min_size=1, max_size=3).map(lambda kv: ("map", kv)),
        st.lists(child, min_size=1, max_size=3).map(lambda items: ("seq", items)),
    )  # type: ignore[return-value]


def _render(node: Any, indent: int, same_line_seq: bool) -> str:
    pad = " " * indent
    if isinstance(node, str):
        return f" {node}\n"
    kind, body = node
    out = "\n"
    for entry in body:
        if kind == "map":
            key, value = entry
            seq_here = isinstance(value, tuple) and value[0] == "seq" and same_line_seq
            out += f"{pad}{key}:" + _render(value, indent if seq_here else indent + 2, True)
        elif isinstance(entry, tuple) and entry[0] == "map" and same_line_seq:
            out += f"{pad}- " + _render(entry, indent + 2, True)[indent + 3 :]  # `- k: v`
        else:
            out += f"{pad}-" + _render(entry, indent + 2, same_line_seq)
    return out


@settings(max_examples=300, deadline=None)
@given(_doc(3), st.booleans())
def test_generated_block_documents_load_alike(node: Any, indentless: bool) -> None:
    text = _render(node, 0, indentless).lstrip("\n")
    if isinstance(node, str):
        text = f"k:{text}"
    _check(text)
