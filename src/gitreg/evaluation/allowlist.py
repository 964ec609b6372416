"""Which globals a pickled model may import: an allow-list of callables, not of packages.

A pickle names globals (`module.qualname`) and calls them. A global is allowed if it is:

1. in `EXACT`: the constructors and helpers that pickles of scikit-learn estimators and
   pipelines, numpy arrays, dtypes, scalars and random states, and scipy sparse matrices
   use (found by pickling real fitted models with pickle and joblib), or one of a
   registry's `allow_pickle_imports` (exact names too); or
2. a scikit-learn estimator class: named in a module of `ESTIMATORS` (scikit-learn, and
   the scikit-learn wrappers of XGBoost and LightGBM) outside `DENIED_MODULES`, and, once
   resolved, a class defined there that subclasses `sklearn.base.BaseEstimator`.
   Estimators do nothing in `__init__` but store their parameters, and restore their
   state by updating `__dict__`.

Everything else is refused: numpy's and scipy's functions (`numpy.load`, `numpy.fromfile`,
`numpy.testing.*`), scikit-learn's functions and test helpers, `os`, `builtins.eval`,
`getattr`, `operator`, `functools.partial`, attribute chains, modules.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from types import ModuleType

_BUILTINS = (
    "bool bytearray bytes complex dict float frozenset int list object range set slice str tuple"
)
_NUMPY_CORE = ("multiarray._reconstruct", "multiarray.scalar", "numeric._frombuffer")
_RANDOM = (
    "_pickle.__randomstate_ctor _pickle.__generator_ctor _pickle.__bit_generator_ctor "
    "_mt19937.MT19937 _pcg64.PCG64 _pcg64.PCG64DXSM _philox.Philox _sfc64.SFC64 "
    "bit_generator.SeedSequence bit_generator.__pyx_unpickle_SeedSequence"
)
_SPARSE = ("bsr", "coo", "csc", "csr", "dia", "dok", "lil")
_LOSSES = (
    "HalfSquaredError AbsoluteError PinballLoss HuberLoss HalfPoissonLoss HalfGammaLoss "
    "HalfTweedieLoss HalfTweedieLossIdentity HalfBinomialLoss HalfMultinomialLoss "
    "ExponentialLoss"
)
_LINKS = "Interval IdentityLink LogLink LogitLink HalfLogitLink MultinomialLogit"
# numpy's scalar types: calling one makes a number (numpy.float32(x)), nothing else
_NUMPY_SCALARS = (
    "float16 float32 float64 int8 int16 int32 int64 uint8 uint16 uint32 uint64 bool_ "
    "complex64 complex128 str_ bytes_ object_ datetime64 timedelta64"
)
# Plain classes of fitted scikit-learn models that are not estimators: state holders
# (restored by __setstate__ or __dict__), found by pickling every sklearn estimator.
_SGD_LOSSES = (
    "Hinge SquaredHinge Log LogLoss ModifiedHuber SquaredLoss Huber EpsilonInsensitive "
    "SquaredEpsilonInsensitive"
)
_DISTANCES = ("Euclidean", "SEuclidean", "Manhattan", "Chebyshev", "Minkowski")
_SKLEARN_STATE = (
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn.neural_network._stochastic_optimizers.AdamOptimizer",
    "sklearn.neural_network._stochastic_optimizers.SGDOptimizer",
    "sklearn.calibration._CalibratedClassifier",
    "sklearn.neighbors._kd_tree.KDTree",
    "sklearn.neighbors._ball_tree.BallTree",
    *(f"sklearn.neighbors._{t}_tree.newObj" for t in ("kd", "ball")),
    "sklearn.metrics._dist_metrics.newObj",
    *(
        f"sklearn.metrics._dist_metrics.{d}Distance{b}"
        for d in _DISTANCES
        for b in ("", "32", "64")
    ),
    *(f"sklearn.linear_model._sgd_fast.{name}" for name in _SGD_LOSSES.split()),
)
# The boosters inside XGBoost's and LightGBM's scikit-learn wrappers: their __setstate__
# hands the saved model's bytes or text to the library's own parser (no Python runs).
_BOOSTERS = ("xgboost.core.Booster", "lightgbm.basic.Booster")

EXACT: frozenset[str] = frozenset(
    {
        *(f"builtins.{name}" for name in _BUILTINS.split()),
        "collections.OrderedDict",
        "collections.defaultdict",
        "copyreg._reconstructor",
        "_codecs.encode",
        "joblib.numpy_pickle.NumpyArrayWrapper",
        "numpy.ndarray",
        "numpy.dtype",
        *(f"numpy.{name}" for name in _NUMPY_SCALARS.split()),
        *(f"numpy.{core}.{name}" for core in ("_core", "core") for name in _NUMPY_CORE),
        *(f"numpy.random.{name}" for name in _RANDOM.split()),
        *(f"scipy.sparse._{f}.{f}_{kind}" for f in _SPARSE for kind in ("matrix", "array")),
        "sklearn.tree._tree.Tree",
        *(f"sklearn._loss.loss.{name}" for name in _LOSSES.split()),
        *(f"sklearn._loss._loss.Cy{name}" for name in _LOSSES.split()),
        "sklearn._loss._loss.__pyx_unpickle_CyHalfMultinomialLoss",
        *(f"sklearn._loss.link.{name}" for name in _LINKS.split()),
        *_SKLEARN_STATE,
        *_BOOSTERS,
    }
)
# Packages whose scikit-learn estimator classes (subclasses of BaseEstimator) may load.
ESTIMATORS = ("sklearn", "xgboost", "lightgbm")
# Inside sklearn: test helpers, estimators built to check others, data download and loaders.
DENIED_MODULES = (
    "sklearn.utils._testing",
    "sklearn.utils._mocking",
    "sklearn.utils.estimator_checks",
    "sklearn.utils._show_versions",
    "sklearn.datasets",
    "sklearn.externals",
    "sklearn.experimental",
    "sklearn.conftest",
    "xgboost.testing",
    "xgboost.spark",
    "xgboost.dask",
    "lightgbm.dask",
)
_PY2_MODULES = {"__builtin__": "builtins", "copy_reg": "copyreg"}


def _under(module: str, package: str | tuple[str, ...]) -> bool:
    packages = (package,) if isinstance(package, str) else package
    return any(module == p or module.startswith(p + ".") for p in packages)


def _denied(module: str) -> bool:
    parts = module.split(".")
    tests = any(p in ("tests", "testing") or p.startswith("test_") for p in parts)
    return tests or any(_under(module, d) for d in DENIED_MODULES)


def is_estimator_class(obj: object) -> bool:
    """A class defined in `sklearn.*`, `xgboost.*` or `lightgbm.*` (outside the denied
    modules), subclassing `sklearn.base.BaseEstimator`."""
    if not isinstance(obj, type):
        return False
    defined = getattr(obj, "__module__", None)
    if not isinstance(defined, str) or not _under(defined, ESTIMATORS) or _denied(defined):
        return False
    from sklearn.base import BaseEstimator  # type: ignore[import-untyped,unused-ignore]

    return issubclass(obj, BaseEstimator)


@dataclass(frozen=True)
class ImportPolicy:
    """`EXACT` plus a registry's exact `allow_pickle_imports`, plus the estimator rule."""

    extra: frozenset[str] = frozenset()

    @classmethod
    def with_extra(cls, extra: Iterable[str]) -> ImportPolicy:
        """The default policy plus a registry's `allow_pickle_imports`."""
        return cls(frozenset(extra))

    def exact(self, module: str, name: str) -> bool:
        full = f"{_PY2_MODULES.get(module, module)}.{name}"
        return full in EXACT or full in self.extra

    def problem(self, module: str, name: str, dangerous: bool = False) -> str | None:
        """Why `module.name` may not be imported, judged by its name; None if it may, or if
        only the estimator rule can tell (then `problem_resolved` decides, after import).
        An exact entry always wins."""
        if self.exact(module, name):
            return None
        if dangerous:
            return "picklescan flags it as dangerous"
        if "." in name:
            return "an attribute chain, which can reach anything"
        if any(part.startswith("__") for part in [*module.split("."), name]):
            return "a dunder attribute"
        if not _under(module, ESTIMATORS):
            return "not on the allow-list"
        if _denied(module):
            return "a test, mocking or data-loading helper"
        return None

    def problem_resolved(self, module: str, name: str, obj: object) -> str | None:
        """Why the object `module.name` resolved to may not be used, or None."""
        if isinstance(obj, ModuleType):
            return "a module"
        if self.exact(module, name):
            return None
        if not is_estimator_class(obj):
            return "not on the allow-list, and not a scikit-learn estimator class"
        return None
