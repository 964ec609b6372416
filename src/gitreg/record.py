"""Value classes without the dataclasses module, for the modules `resolve` loads.

`dataclasses` imports `inspect` (and with it ast, dis, tokenize, linecache) and `exec`s
generated code for every class: about 12 ms of a local resolve's start-up, more than the
answer takes (docs/performance.md). The classes of resolve's import chain (errors.Problem,
model.tags, model.semver.Version, store.snapshot.TreeEntry, store.remote.Listing,
registry.released, entry.ResolveArgs) are `Record`s instead: their fields in `__slots__`
in `__init__`'s order and an `__init__` written out; from here, what the frozen dataclasses
gave them: equality and a hash by the fields in order, a dataclass-style repr, and
`to_dict` (what render/json made of a dataclass: its fields). A field whose name starts
with `_` is left out of all four (a dataclass field with compare=False and repr=False).
`__slots__` is the field order, not to be sorted (hence `noqa: RUF023`);
`tests/test_record.py` compares them with dataclasses. Unlike frozen dataclasses they are
not frozen at run time (a `__setattr__` guard would cost every construction): nothing
assigns to their fields after `__init__`, and `replace` makes changed copies.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: resolve does not import typing (docs/performance.md)
if TYPE_CHECKING:
    from typing import Any, TypeVar

    R = TypeVar("R", bound="Record")


class Record:
    """Base of a value class: subclasses set `__slots__` and write `__init__`."""

    __slots__: tuple[str, ...] = ()

    def __init_subclass__(cls) -> None:
        # the fields are read from the class's own __slots__: a subclass of a subclass with
        # fields would drop its parent's from equality, hash and repr
        for base in cls.__mro__[1:-2]:
            if base.__dict__.get("__slots__"):
                raise TypeError(f"{cls.__qualname__}: subclass Record itself, not {base.__name__}")
        super().__init_subclass__()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, f) for f in self.__slots__ if f[0] != "_")

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        assert isinstance(other, Record)
        return self._values() == other._values()

    def __hash__(self) -> int:
        return hash(self._values())

    def __repr__(self) -> str:
        shown = ", ".join(f"{f}={getattr(self, f)!r}" for f in self.__slots__ if f[0] != "_")
        return f"{type(self).__qualname__}({shown})"

    def replace(self: R, **changes: Any) -> R:
        """A copy with `changes` (dataclasses.replace: `__init__` takes every field)."""
        fields = {f: getattr(self, f) for f in self.__slots__ if f[0] != "_"}
        return type(self)(**{**fields, **changes})

    def to_dict(self) -> dict[str, Any]:
        """The fields by name (render/json renders their values in turn)."""
        return {f: getattr(self, f) for f in self.__slots__ if f[0] != "_"}
