"""gitreg.record: the value classes of resolve's import chain behave as the frozen
dataclasses they replaced (equality, hash, repr, JSON, replace, pickling)."""

from __future__ import annotations

import dataclasses
import json
import pickle
from typing import Any

import pytest

from gitreg.errors import Problem
from gitreg.model.semver import Version
from gitreg.model.tags import ReleasedState, Tag, TagName
from gitreg.record import Record
from gitreg.registry.released import ResolvedArtifact
from gitreg.render.json import to_json
from gitreg.store.remote import Listing
from gitreg.store.snapshot import TreeEntry

NAME = TagName("assign", "churn", stage="production", counter=3)
TAG = Tag("churn#production#3", NAME, "c" * 40, True, "A <a@x>", "2026", "m", {"K": "v"})
CASES: list[Record] = [
    Problem("models/a.yaml", "name", "bad"),
    NAME,
    TAG,
    ReleasedState({"1.0.0": TAG}, {}, {"production": TAG}, 3),
    TreeEntry("100644", "a.yaml", "d" * 40),
    Listing([("refs/tags/x", "a" * 40, None)], frozenset({"filter"})),
    ResolvedArtifact("models/a/artifacts/1.0.0/m.bin", "e" * 32, 16, None),
]


def _as_dataclass(obj: Record) -> Any:
    """The frozen dataclass `obj`'s class was: the same fields in the same order."""
    fields = [f for f in obj.__slots__ if not f.startswith("_")]
    cls = dataclasses.make_dataclass(type(obj).__qualname__, fields, frozen=True)
    return cls(**{f: getattr(obj, f) for f in fields})


@pytest.mark.parametrize("obj", CASES, ids=lambda o: type(o).__name__)
def test_a_record_reads_as_its_dataclass_did(obj: Record) -> None:
    old = _as_dataclass(obj)
    assert repr(obj) == repr(old)
    assert json.loads(to_json(obj)) == json.loads(to_json(old))
    assert obj.to_dict() == {f.name: getattr(old, f.name) for f in dataclasses.fields(old)}
    assert obj == obj.replace() and obj.replace() is not obj
    assert pickle.loads(pickle.dumps(obj)) == obj
    try:
        assert hash(obj) == hash(obj.replace())
    except TypeError:  # a dict field: unhashable, as the dataclass was
        with pytest.raises(TypeError):
            hash(old)


def test_equality_is_by_class_and_fields_in_order() -> None:
    a = Problem("p", "f", "m")
    assert a == Problem("p", "f", "m")
    assert a != Problem("p", "f", "other")
    assert a != ("p", "f", "m")
    assert a.replace(message="other") == Problem("p", "f", "other")
    assert len({a, Problem("p", "f", "m"), a.replace(field="g")}) == 2
    assert TagName("register", "m", "1.0.0") != TagName("register", "m", "1.0.1")


def test_tag_defaults_are_fresh_per_instance() -> None:
    a = Tag("n", NAME, "c", False, "", "", "")
    b = Tag("n", NAME, "c", False, "", "", "")
    assert a.trailers == {} and a.trailers is not b.trailers and a.malformed == ()
    state = ReleasedState({}, {}, {}, 0)
    assert state.simple == {} and state.retired is None


def test_version_orders_and_prints_as_before() -> None:
    v = Version.parse("1.2.3-rc.1+b")
    assert repr(v) == "Version(major=1, minor=2, patch=3, prerelease=('rc', '1'), build='b')"
    assert Version(1, 2, 3) > v and Version.parse("1.2.3") == Version(1, 2, 3)
    assert sorted([Version(2, 0, 0), v, Version(1, 2, 3)])[0] is v


def test_a_record_with_fields_cannot_be_subclassed() -> None:
    """Fields come from the class's own __slots__: a subclass would lose its parent's."""
    from gitreg.record import Record

    class Parent(Record):
        __slots__ = ("a",)

        def __init__(self, a: int) -> None:
            self.a = a

    with pytest.raises(TypeError, match="subclass Record itself"):

        class Child(Parent):
            __slots__ = ("b",)

    class Empty(Record):
        __slots__ = ()

    class Fine(Empty):  # a base without fields loses nothing
        __slots__ = ("c",)
