"""The one YAML loader: safe, strict, bounded; and the round-trip edit of stages.yaml."""

from __future__ import annotations

import pytest

from gitreg.errors import ManifestError
from gitreg.model import yamlio


def _error(text: str | bytes) -> str:
    with pytest.raises(ManifestError) as e:
        yamlio.load(text, "models/x/model.yaml")
    return str(e.value)


def test_plain_mapping_loads() -> None:
    assert yamlio.load("a: 1\nb: [x, y]\n", "f.yaml") == {"a": 1, "b": ["x", "y"]}


def test_duplicate_keys_rejected() -> None:
    msg = _error("name: a\nowners: []\nname: b\n")
    assert msg.startswith("models/x/model.yaml: invalid YAML: line 3")
    assert "duplicate key 'name' (first on line 1)" in msg


def test_nested_duplicate_keys_rejected() -> None:
    assert "duplicate key 'f1'" in _error("metrics:\n  f1: 1\n  f1: 2\n")


def test_python_tags_rejected() -> None:
    msg = _error("x: !!python/object/apply:os.system ['echo pwned']\n")
    assert "could not determine a constructor" in msg and "python/object/apply" in msg


def test_alias_bomb_rejected() -> None:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        refs = ",".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    msg = _error("\n".join(lines) + "\n")
    assert "aliases expand too far" in msg


def test_small_aliases_allowed() -> None:
    data = yamlio.load("base: &b {x: 1}\nother: *b\n", "f.yaml")
    assert data == {"base": {"x": 1}, "other": {"x": 1}}


def test_oversize_rejected() -> None:
    msg = _error("a: " + "x" * (1024 * 1024) + "\n")
    assert "may be at most 1048576 bytes" in msg


def test_not_utf8() -> None:
    assert "not UTF-8" in _error(b"name: \xff\xfe\n")


def test_syntax_error_names_line() -> None:
    assert "line 3, column 1" in _error("a: 1\nb: [unclosed\n")


def test_roundtrip_keeps_comments_and_order() -> None:
    text = "# who holds what\nschema: gitreg/v1\n# live\nproduction: 1.0.0  # since May\nstaging: 1.1.0\n"
    out = yamlio.roundtrip_set(text, "production", "1.1.0")
    assert out == text.replace("production: 1.0.0", "production: 1.1.0")
    out = yamlio.roundtrip_set(out, "canary", "1.2.0")
    assert out.endswith("staging: 1.1.0\ncanary: 1.2.0\n")
    removed = yamlio.roundtrip_set(text, "staging", None)
    assert "staging" not in removed and "# since May" in removed
