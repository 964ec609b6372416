"""`gitreg schema -o DIR`: one JSON Schema file per manifest kind, for editors and
validators such as check-jsonschema (file names and `$id`s: `gitreg.model.editors`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gitreg.errors import UsageError
from gitreg.model.editors import schema_files
from gitreg.store.files import write_atomic


@dataclass(frozen=True)
class SchemaFiles:
    directory: Path
    files: list[str]


def write_schemas(directory: Path, kinds: list[str] | None = None) -> SchemaFiles:
    """Write `<kind>.schema.json` into `directory` (created if needed), each atomically."""
    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{directory} is a file; -o wants a directory for the schema files")
    texts = schema_files(kinds)
    for name, text in texts.items():
        write_atomic(directory / name, text.encode())
    return SchemaFiles(directory, sorted(texts))
