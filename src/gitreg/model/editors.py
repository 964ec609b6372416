"""What editors read: one JSON Schema file per manifest kind, the VS Code `yaml.schemas`
mapping of those files to the manifests' paths, and `yaml-language-server` modelines.

The schema files are `<kind>.schema.json` (`model.schema.json`, ...). Their `$id` is that
file name, a relative URI: a reader resolves it against where it read the file, so it names
the file itself, in a registry's `schemas/` (written by `gitreg init`) or in gitreg's own
repository (`schemas/`, written by `gitreg schema -o schemas`). No address outside is
claimed, so none can go stale.
"""

from __future__ import annotations

import json
import posixpath
from typing import Any

from gitreg.model.schema import KINDS, json_schemas, schema_file_name

SCHEMA_DIR = "schemas"
VSCODE_SETTINGS = ".vscode/settings.json"
# which files of a registry each kind's schema describes (VS Code globs)
GLOBS = {
    "gitreg.yaml": "gitreg.yaml",
    "model.yaml": "models/*/model.yaml",
    "stages.yaml": "models/*/stages.yaml",
    "version.yaml": "models/*/versions/*.yaml",
}


def schema_files(kinds: list[str] | None = None) -> dict[str, str]:
    """File name -> JSON text of each manifest kind's schema (all kinds by default)."""
    schemas = json_schemas()
    return {
        schema_file_name(k): json.dumps(schemas[k], indent=2) + "\n" for k in kinds or list(KINDS)
    }


def modeline(yaml_path: str, kind: str, schema_dir: str = SCHEMA_DIR) -> str:
    """The first line that points a YAML language server at the schema, relative to the
    file (`yaml_path` and `schema_dir` are repository paths)."""
    target = posixpath.join(schema_dir, schema_file_name(kind))
    rel = posixpath.relpath(target, posixpath.dirname(yaml_path) or ".")
    return f"# yaml-language-server: $schema={rel}\n"


def vscode_settings(existing: dict[str, Any] | None = None, schema_dir: str = SCHEMA_DIR) -> str:
    """`.vscode/settings.json` with `yaml.schemas` mapping each schema file to its globs;
    other settings in `existing` are kept."""
    settings = dict(existing or {})
    mapping = dict(settings.get("yaml.schemas") or {})
    for kind, glob in GLOBS.items():
        mapping[f"./{schema_dir}/{schema_file_name(kind)}"] = glob
    settings["yaml.schemas"] = mapping
    return json.dumps(settings, indent=2) + "\n"
