"""Where things live in a registry repository (DESIGN §2), and what names may be."""

from __future__ import annotations

import posixpath
import re

from gitreg.model.semver import SEMVER_PATTERN, is_semver

CONFIG_FILE = "gitreg.yaml"
MODELS_DIR = "models"
DATA_DIR = "data"
SCHEMA_ID = "gitreg/v1"

# DESIGN's pattern, git's check-ref-format and GTO's grammar at once: GTO has no "."
NAME_PATTERN = r"[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?"
NAME_RE = re.compile(rf"^{NAME_PATTERN}$")
MD5_PATTERN = r"^[0-9a-f]{32}(\.dir)?$"
MD5_RE = re.compile(MD5_PATTERN)
VERSION_PATTERN = SEMVER_PATTERN
# a relative path inside the repository: not empty, no leading '/', no '\\', no '..' segment.
# Written for Python's re and ECMA-262 alike (JSON Schema `pattern`): `[\s\S]` is any
# character, `(?![\s\S])` the end of the text.
RELPATH_PATTERN = r"^(?!/)(?![\s\S]*\\)(?!(?:[\s\S]*/)?\.\.(?:/|(?![\s\S])))[\s\S]+$"
RELPATH_RE = re.compile(RELPATH_PATTERN)
DVC_CONFIG = ".dvc/config"
CODEOWNERS = ".github/CODEOWNERS"
NAME_RULE = (
    "lowercase letters, digits, '_' and '-', 1-64 characters, "
    "starting and ending with a letter or digit (no '.': GTO and DVC could not read it)"
)


def json_pattern(pattern: str) -> str:
    """An unanchored pattern (NAME_PATTERN) anchored for a JSON Schema `pattern`."""
    return pattern if pattern.startswith("^") else f"^{pattern}$"


def name_problem(name: str) -> str | None:
    """Why `name` is not a valid model or stage name, or None when it is."""
    if not name:
        return "a name may not be empty"
    if not NAME_RE.fullmatch(name):
        return f"{name!r} is not a valid name: use {NAME_RULE}"
    return None


def version_problem(version: str) -> str | None:
    if not is_semver(version):
        return (
            f"{version!r} is not a SemVer 2.0 version "
            "(MAJOR.MINOR.PATCH without a leading 'v', e.g. 1.3.0 or 2.0.0-rc.1)"
        )
    return None


def model_dir(name: str) -> str:
    return f"{MODELS_DIR}/{name}"


def model_file(name: str) -> str:
    return f"{MODELS_DIR}/{name}/model.yaml"


def stages_file(name: str) -> str:
    return f"{MODELS_DIR}/{name}/stages.yaml"


def versions_dir(name: str) -> str:
    return f"{MODELS_DIR}/{name}/versions"


def version_file(name: str, version: str) -> str:
    return f"{MODELS_DIR}/{name}/versions/{version}.yaml"


def artifacts_dir(name: str, version: str) -> str:
    return f"{MODELS_DIR}/{name}/artifacts/{version}"


def is_repo_path(path: str) -> bool:
    """True if `path` is a normalized relative POSIX path that stays inside the repository."""
    if not path or path.startswith("/") or "\\" in path:
        return False
    return posixpath.normpath(path) == path and path.split("/")[0] != ".."


def is_inside(path: str, directory: str) -> bool:
    """True if the relative POSIX `path` is normalized and lies under `directory`."""
    if not path or path.startswith("/") or "\\" in path:
        return False
    if posixpath.normpath(path) != path:
        return False
    return path.startswith(directory.rstrip("/") + "/")


def classify(path: str) -> tuple[str, str, str | None] | None:
    """For a path under models/, return (kind, model, version) or None if it is not a manifest.

    kind is one of "model", "stages", "version".
    """
    parts = path.split("/")
    if len(parts) < 3 or parts[0] != MODELS_DIR:
        return None
    name = parts[1]
    if len(parts) == 3 and parts[2] == "model.yaml":
        return ("model", name, None)
    if len(parts) == 3 and parts[2] == "stages.yaml":
        return ("stages", name, None)
    if len(parts) == 4 and parts[2] == "versions" and parts[3].endswith(".yaml"):
        return ("version", name, parts[3][: -len(".yaml")])
    return None
