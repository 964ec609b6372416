"""Loading a model file without running the code it may carry.

A pickle is a program: loading one calls whatever functions it names. So a pickle (or a
joblib file, which is a pickle) is first scanned with picklescan, statically, and refused if
it names a global outside the allow-list (`ImportPolicy`); then it is loaded through an
unpickler whose `find_class` enforces the same list, so what a static scan cannot see (the
tail of a joblib file behind raw array bytes, a compressed file) is still checked before
anything is imported. skops files are checked with skops' own `get_untrusted_types`; ONNX
files hold no code and are run by onnxruntime.

The allow-list is coarse (package prefixes), so it is a barrier, not a sandbox: that is why
the evaluate workflow runs with no secrets (docs/evaluation.md).
"""

from __future__ import annotations

import contextlib
import logging
import pickle
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from gitreg.errors import ArtifactError, UnsafeModelError
from gitreg.store import formats

INSTALL_HINT = "pip install 'gitreg[sklearn]'"

# Module prefixes ("sklearn" allows sklearn.*) and exact globals ("builtins.dict").
_HARMLESS_BUILTINS = (
    "bool bytearray bytes complex dict float frozenset int list object range set slice str tuple"
)
_NUMPY_IO = (
    "load save savez savez_compressed savetxt loadtxt genfromtxt fromfile fromregex memmap "
    "DataSource ndarray.tofile ndarray.dump lib ctypeslib distutils f2py testing"
)
DEFAULT_ALLOWED: tuple[str, ...] = (
    "sklearn",
    "numpy",
    "scipy",
    *(f"builtins.{name}" for name in _HARMLESS_BUILTINS.split()),
    "collections.OrderedDict",
    "copyreg._reconstructor",
    "_codecs.encode",
    "joblib.numpy_pickle.NumpyArrayWrapper",
)
# Inside the allowed packages: functions that read or write files or run code.
DENIED: tuple[str, ...] = (
    *(f"numpy.{name}" for name in _NUMPY_IO.split()),
    "scipy.io",
    "scipy._lib",
    "sklearn.datasets",
    "sklearn.externals",
    "sklearn.utils._testing",
    "sklearn.utils._show_versions",
)
_PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}


def _matches(full: str, entries: Iterable[str]) -> bool:
    return any(full == e or full.startswith(e + ".") for e in entries)


@dataclass(frozen=True)
class ImportPolicy:
    """Which globals a pickle may import: the allow-list minus the deny-list."""

    allowed: tuple[str, ...] = DEFAULT_ALLOWED
    denied: tuple[str, ...] = DENIED

    @classmethod
    def with_extra(cls, extra: Iterable[str]) -> ImportPolicy:
        """The default policy plus a registry's `allow_pickle_imports`."""
        return cls(allowed=(*DEFAULT_ALLOWED, *extra))

    def problem(self, module: str, name: str, dangerous: bool = False) -> str | None:
        """Why `module.name` may not be imported, or None. An exact allow entry always wins."""
        module = _PY2_MODULES.get(module, module)
        full = f"{module}.{name}"
        if full in self.allowed:
            return None
        if dangerous:
            return "picklescan flags it as dangerous"
        if "." in name:
            return "an attribute chain, which can reach anything"
        if any(part.startswith("__") for part in full.split(".")):
            return "a dunder attribute"
        if _matches(full, self.denied):
            return "it reads or writes files or runs code"
        if not _matches(full, self.allowed):
            return "not on the allow-list"
        return None


def _refused(
    path: Path, refused: list[tuple[str, str]], shown: str | None = None
) -> UnsafeModelError:
    why = "a pickle runs code when loaded"
    if formats.file_format(path) == "skops":
        why = "skops does not trust these types"
    return UnsafeModelError(path, refused, why, shown or path.name)


@contextlib.contextmanager
def _quiet(logger_name: str) -> Iterator[None]:
    """picklescan logs its findings; the core reports them in its error instead."""
    logger = logging.getLogger(logger_name)
    level = logger.level
    logger.setLevel(logging.CRITICAL + 1)
    try:
        yield
    finally:
        logger.setLevel(level)


def _scan_pickle(path: Path, policy: ImportPolicy) -> tuple[list[str], list[tuple[str, str]]]:
    try:
        from picklescan.scanner import (  # type: ignore[import-untyped,unused-ignore]
            SafetyLevel,
            scan_file_path,
        )
    except ImportError as e:
        raise ArtifactError("scanning pickles needs picklescan", INSTALL_HINT) from e
    with _quiet("picklescan"):
        result = scan_file_path(str(path))
    found, refused = [], []
    for g in result.globals:
        found.append(f"{g.module}.{g.name}")
        why = policy.problem(g.module, g.name, g.safety == SafetyLevel.Dangerous)
        if why:
            refused.append((f"{g.module}.{g.name}", why))
    return found, refused


def _scan_skops(path: Path, policy: ImportPolicy) -> tuple[list[str], list[tuple[str, str]]]:
    try:
        import skops.io as sio  # type: ignore[import-untyped,unused-ignore]
    except ImportError as e:
        raise ArtifactError(f"{path.name}: loading skops files needs skops", INSTALL_HINT) from e
    untrusted: list[str] = sio.get_untrusted_types(file=path)
    refused = []
    for full in untrusted:
        module, _, name = full.rpartition(".")
        why = policy.problem(module, name)
        if why:
            refused.append((full, why))
    return untrusted, refused


def check(path: Path, extra_allowed: Iterable[str] = (), shown: str | None = None) -> list[str]:
    """Inspect a model file without loading it: what it imports (pickle, joblib) or which of
    its types skops does not trust (skops), sorted. Other formats hold no code: [].

    Raises `UnsafeModelError` naming the file (`shown`, else its name) and every refused
    import.
    """
    fmt = formats.file_format(path)
    policy = ImportPolicy.with_extra(extra_allowed)
    if fmt in ("pickle", "joblib"):
        found, refused = _scan_pickle(path, policy)
    elif fmt == "skops":
        found, refused = _scan_skops(path, policy)
    else:
        return []
    if refused:
        raise _refused(path, sorted(set(refused)), shown)
    return sorted(set(found))


def _guard(
    policy: ImportPolicy, path: Path, resolve: Callable[[str, str], Any], module: str, name: str
) -> Any:
    """find_class with the policy applied before the import and to what it returns."""
    why = policy.problem(module, name)
    if why:
        raise _refused(path, [(f"{module}.{name}", why)])
    obj = resolve(module, name)
    if isinstance(obj, ModuleType):
        raise _refused(path, [(f"{module}.{name}", "a module")])
    origin, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(origin, str) and isinstance(qualname, str):
        why = policy.problem(origin, qualname)
        if why and f"{module}.{name}" not in policy.allowed:
            raise _refused(path, [(f"{module}.{name} = {origin}.{qualname}", why)])
    return obj


def _load_pickle(path: Path, policy: ImportPolicy) -> Any:
    class Restricted(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            return _guard(policy, path, super().find_class, module, name)

    with path.open("rb") as fh:
        return Restricted(fh).load()


def _load_joblib(path: Path, policy: ImportPolicy) -> Any:
    try:  # joblib has no public hook for the unpickler; its internals, checked here
        from joblib.numpy_pickle import NumpyUnpickler  # type: ignore[import-untyped,unused-ignore]
        from joblib.numpy_pickle_utils import (  # type: ignore[import-untyped,unused-ignore]
            _validate_fileobject_and_memmap,
        )
    except ImportError as e:
        raise ArtifactError(
            f"{path.name}: cannot load joblib files safely with this joblib version",
            "save the model with skops (or plain pickle), or install joblib>=1.3",
        ) from e

    class Restricted(NumpyUnpickler):  # type: ignore[misc]
        def find_class(self, module: str, name: str) -> Any:
            return _guard(policy, path, super().find_class, module, name)

    with path.open("rb") as fh, _validate_fileobject_and_memmap(fh, str(path), None) as opened:
        fobj: IO[bytes] | str = opened[0]
        if isinstance(fobj, str):
            raise ArtifactError(f"{path.name}: a joblib file older than joblib 0.10; re-save it")
        try:
            unpickler = Restricted(str(path), fobj, ensure_native_byte_order=True)
        except TypeError:  # joblib < 1.5
            unpickler = Restricted(str(path), fobj)
        return unpickler.load()


def _load_skops(path: Path, extra_allowed: Iterable[str]) -> Any:
    import skops.io as sio  # type: ignore[import-untyped,unused-ignore]

    return sio.load(path, trusted=check(path, extra_allowed))


class OnnxModel:
    """An ONNX classifier run by onnxruntime: `predict(X)` returns its first output."""

    def __init__(self, path: Path) -> None:
        try:
            import onnxruntime  # type: ignore[import-not-found,unused-ignore]
        except ImportError as e:
            raise ArtifactError(
                f"{path.name}: running ONNX models needs onnxruntime",
                "pip install onnxruntime",
            ) from e
        self.session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])

    def predict(self, features: Any) -> Any:
        import numpy as np

        name = self.session.get_inputs()[0].name
        out = self.session.run(None, {name: np.asarray(features, dtype=np.float32)})
        return np.asarray(out[0]).ravel()


def load_model(path: Path, extra_allowed: Iterable[str] = ()) -> Any:
    """Load a model file (.pkl .pickle .joblib .skops .onnx) under the import policy."""
    fmt = formats.file_format(path)
    policy = ImportPolicy.with_extra(extra_allowed)
    if fmt == "pickle":
        check(path, extra_allowed)
        return _load_pickle(path, policy)
    if fmt == "joblib":
        check(path, extra_allowed)
        return _load_joblib(path, policy)
    if fmt == "skops":
        return _load_skops(path, extra_allowed)
    if fmt == "onnx":
        return OnnxModel(path)
    raise ArtifactError(
        f"{path.name}: the built-in evaluator cannot load {fmt or 'this kind of'} files",
        "it loads .pkl, .pickle, .joblib, .skops and .onnx; for others set evaluation.command",
    )
