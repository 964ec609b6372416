"""Loading a model file without running the code it may carry.

A pickle is a program: loading one calls whatever functions it names. So a pickle (or a
joblib file, which is a pickle) is first scanned statically, and refused if picklescan rates
a global it names dangerous, or if it names a global the allow-list does not allow
(`allowlist.ImportPolicy`: exact callables, and scikit-learn estimator classes), the names
read by `pickles.globals_in` (picklescan misnames globals after a joblib file's nested
pickles; see there); then it is loaded through an unpickler whose
`find_class` enforces the same list before the import and checks what the import returned,
so what a static scan cannot see (the tail of a joblib file behind raw array bytes, a
compressed file, the nested pickle of an object array) is still checked before anything is
called. skops files are checked with skops' own `get_untrusted_types` and the same list;
ONNX files hold no code and are run by onnxruntime.

The allow-list is a barrier, and the evaluator's sandbox (`sandbox.py`) the second wall:
that is also why the evaluate workflow runs with no secrets (docs/evaluation.md).
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import pickle
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from gitreg.errors import ArtifactError, UnsafeModelError
from gitreg.evaluation import disclosure, pickles
from gitreg.evaluation.allowlist import ImportPolicy
from gitreg.store import formats

INSTALL_HINT = "pip install 'gitreg[sklearn]'"


def _refused(
    path: Path, refused: list[tuple[str, str]], shown: str | None = None
) -> UnsafeModelError:
    refused = [(_shown_global(name), why) for name, why in refused]
    why = "a pickle runs code when loaded"
    if formats.file_format(path) == "skops":
        why = "skops does not trust these types"
    return UnsafeModelError(path, refused, why, shown or path.name)


def _shown_global(full: str) -> str:
    """A refused global's name as the report may show it: the pickle chose it."""
    return (
        full if disclosure.SAFE_NAME.fullmatch(full) and len(full) <= 120 else "<a name not shown>"
    )


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
    refused = []
    for g in result.globals:  # first: what picklescan rates dangerous
        why = g.safety == SafetyLevel.Dangerous and policy.problem(g.module, g.name, True)
        if why:
            refused.append((f"{g.module}.{g.name}", why))
    with path.open("rb") as fh:  # then every name, read with a memo per nested pickle
        named = pickles.globals_in(fh)
    found, flagged = [], {full for full, _ in refused}
    for module, name in named - {(pickles.UNKNOWN, pickles.UNKNOWN)}:
        found.append(f"{module}.{name}")
        why = policy.problem(module, name)
        if why and f"{module}.{name}" not in flagged:
            refused.append((f"{module}.{name}", why))
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
    """find_class with the policy applied before the import and to what it returned."""
    why = policy.problem(module, name)
    if why:
        raise _refused(path, [(f"{module}.{name}", why)])
    obj = resolve(module, name)
    why = policy.problem_resolved(module, name, obj)
    if why:
        raise _refused(path, [(f"{module}.{name}", why)])
    return obj


class _Nested(pickle._Unpickler):
    """The nested pickle of a joblib object array, read with the outer file's guard."""

    def __init__(self, file: IO[bytes], guard: Callable[[str, str], Any]) -> None:
        super().__init__(file)
        self.guard = guard

    def find_class(self, module: str, name: str) -> Any:
        return self.guard(module, name)


def _load_pickle(path: Path, policy: ImportPolicy) -> Any:
    class Restricted(pickle.Unpickler):
        def find_class(self, module: str, name: str) -> Any:
            return _guard(policy, path, super().find_class, module, name)

    with path.open("rb") as fh:
        return Restricted(fh).load()


def _joblib_unpickler(path: Path, policy: ImportPolicy) -> Any:
    """A joblib unpickler class under the policy, also for object arrays: older joblib
    versions read their nested pickle with a plain `pickle.load`, so we read it here."""
    try:  # joblib has no public hook for the unpickler; its internals, checked here
        from joblib.numpy_pickle import (  # type: ignore[import-untyped,unused-ignore]
            NumpyArrayWrapper,
            NumpyUnpickler,
        )
    except ImportError as e:
        raise ArtifactError(
            f"{path.name}: cannot load joblib files safely with this joblib version",
            "save the model with skops (or plain pickle), or install joblib>=1.3",
        ) from e

    class Restricted(NumpyUnpickler):  # type: ignore[misc]
        dispatch = NumpyUnpickler.dispatch.copy()

        def find_class(self, module: str, name: str) -> Any:
            return _guard(policy, path, super().find_class, module, name)

        def load_build(self) -> None:
            state, wrapper = self.stack[-1], self.stack[-2] if len(self.stack) > 1 else None
            if not isinstance(wrapper, NumpyArrayWrapper):
                return NumpyUnpickler.load_build(self)  # type: ignore[no-any-return]
            dtype = state.get("dtype") if isinstance(state, dict) else None
            if not getattr(dtype, "hasobject", True):
                return NumpyUnpickler.load_build(self)  # type: ignore[no-any-return]
            pickle._Unpickler.load_build(self)  # type: ignore[attr-defined]
            self.stack[-1] = _Nested(self.file_handle, self.find_class).load()
            return None

        dispatch[pickle.BUILD[0]] = load_build

    return Restricted


def _load_joblib(path: Path, policy: ImportPolicy) -> Any:
    from joblib.numpy_pickle_utils import (  # type: ignore[import-untyped,unused-ignore]
        _validate_fileobject_and_memmap,
    )

    restricted = _joblib_unpickler(path, policy)
    with path.open("rb") as fh, _validate_fileobject_and_memmap(fh, str(path), None) as opened:
        fobj: IO[bytes] | str = opened[0]
        if isinstance(fobj, str):
            raise ArtifactError(f"{path.name}: a joblib file older than joblib 0.10; re-save it")
        try:
            unpickler = restricted(str(path), fobj, ensure_native_byte_order=True)
        except TypeError:  # joblib < 1.5
            unpickler = restricted(str(path), fobj)
        return unpickler.load()


def _resolve(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


def _load_skops(path: Path, extra_allowed: Iterable[str]) -> Any:
    import skops.io as sio  # type: ignore[import-untyped,unused-ignore]

    policy = ImportPolicy.with_extra(extra_allowed)
    trusted = check(path, extra_allowed)  # every untrusted type passes the name rules
    for full in trusted:
        module, _, name = full.rpartition(".")
        try:
            why = policy.problem_resolved(module, name, _resolve(module, name))
        except (ImportError, AttributeError):
            why = "cannot be imported here"
        if why:
            raise _refused(path, [(full, why)])
    return sio.load(path, trusted=trusted)


class OnnxModel:
    """An ONNX model run by onnxruntime on one float input: `predict(X)` is its first
    output."""

    def __init__(self, session: Any) -> None:
        self.session = session

    def _run(self, features: Any) -> list[Any]:
        import numpy as np

        name = self.session.get_inputs()[0].name
        out: list[Any] = self.session.run(None, {name: np.asarray(features, dtype=np.float32)})
        return out

    def predict(self, features: Any) -> Any:
        import numpy as np

        return np.asarray(self._run(features)[0]).ravel()


class OnnxClassifier(OnnxModel):
    """An ONNX classifier whose second output maps each class to its probability (what
    skl2onnx writes by default, its ZipMap): also `predict_proba(X)`, and `classes_`, known
    after the first call."""

    classes_: list[Any] | None = None

    def predict_proba(self, features: Any) -> Any:
        import numpy as np

        rows: list[dict[Any, float]] = self._run(features)[1]
        self.classes_ = list(rows[0]) if rows else []
        return np.array([[row[k] for k in self.classes_] for row in rows], dtype=np.float64)


def _onnx(path: Path) -> OnnxModel:
    try:
        import onnxruntime  # type: ignore[import-not-found,unused-ignore]
    except ImportError as e:
        raise ArtifactError(
            f"{path.name}: running ONNX models needs onnxruntime", "pip install 'gitreg[onnx]'"
        ) from e
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    outputs = session.get_outputs()
    if len(outputs) > 1 and str(outputs[1].type).startswith("seq(map("):
        return OnnxClassifier(session)
    return OnnxModel(session)


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
        return _onnx(path)
    raise ArtifactError(
        f"{path.name}: the built-in evaluator cannot load {fmt or 'this kind of'} files",
        "it loads .pkl, .pickle, .joblib, .skops and .onnx; for others set evaluation.command",
    )
