"""What an artifact file is: its format from the name, its framework from the bytes.

Pickles are inspected with `pickletools` (opcodes only), never loaded: reading the
module names a pickle imports tells the framework without running its code.
"""

from __future__ import annotations

import pickletools
from importlib import metadata
from pathlib import Path

FORMATS = {
    ".pkl": "pickle",
    ".pickle": "pickle",
    ".joblib": "joblib",
    ".skops": "skops",
    ".onnx": "onnx",
    ".pt": "pytorch",
    ".pth": "pytorch",
    ".safetensors": "safetensors",
    ".h5": "keras",
    ".keras": "keras",
    ".json": "json",
    ".ubj": "xgboost",
    ".cbm": "catboost",
    ".txt": "text",
    ".csv": "csv",
    ".parquet": "parquet",
}

# framework name -> the distribution that carries it (for its version)
FRAMEWORKS = {
    "sklearn": "scikit-learn",
    "xgboost": "xgboost",
    "lightgbm": "lightgbm",
    "catboost": "catboost",
    "torch": "torch",
    "tensorflow": "tensorflow",
    "keras": "keras",
    "statsmodels": "statsmodels",
    "onnx": "onnx",
    "skops": "scikit-learn",
}

_BY_FORMAT = {"onnx": "onnx", "skops": "sklearn", "pytorch": "torch", "keras": "keras"}
_PICKLE_SCAN_BYTES = 64 * 1024 * 1024


def file_format(path: Path) -> str | None:
    if path.is_dir():
        return "directory"
    return FORMATS.get(path.suffix.lower())


def _pickle_modules(path: Path) -> list[str]:
    """Top-level modules a pickle imports, in order, read from its opcodes."""
    modules: list[str] = []
    strings: list[str] = []
    try:
        with path.open("rb") as fh:
            data = fh.read(_PICKLE_SCAN_BYTES)
        for op, arg, _ in pickletools.genops(data):
            if op.name in ("GLOBAL", "INST") and isinstance(arg, str):
                modules.append(arg.split(" ")[0].split(".")[0])
            elif op.name == "STACK_GLOBAL" and len(strings) >= 2:
                modules.append(strings[-2].split(".")[0])
            if isinstance(arg, str):
                strings.append(arg)
                strings = strings[-2:]
    except Exception:
        return modules
    return modules


def detect_framework(path: Path, fmt: str | None) -> str | None:
    """The framework that made the artifact, where the format tells."""
    if fmt in _BY_FORMAT:
        return _BY_FORMAT[fmt]
    if fmt in ("pickle", "joblib") and path.is_file():
        for module in _pickle_modules(path):
            if module in FRAMEWORKS:
                return module
    return None


def installed_version(framework: str) -> str | None:
    """Version of the framework installed here, if any (where register runs)."""
    dist = FRAMEWORKS.get(framework, framework)
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None
