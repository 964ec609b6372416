"""What editors read: `gitreg schema -o DIR`, the schema files in this repository
(`schemas/`, which every `$id` names), and what `init` writes for them (`schemas/`,
`.vscode/settings.json`, the `yaml-language-server` modeline of gitreg.yaml). The mappings
are followed as an editor would, and the files they map are checked by the real
check-jsonschema.
"""

from __future__ import annotations

import fnmatch
import json
import posixpath
import subprocess
from pathlib import Path

from conftest import Registry, git, run, tool_path
from gitreg.model import layout

PROJECT = Path(__file__).resolve().parents[1]
KINDS = ("gitreg.yaml", "model.yaml", "stages.yaml", "version.yaml")
FILES = [k.removesuffix(".yaml") + ".schema.json" for k in KINDS]


def test_schema_o_writes_one_file_per_kind(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "schemas"
    res = run("schema", "-o", str(out))
    assert res.code == 0, res.err
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    printed = json.loads(run("schema").out)
    for kind, name in zip(KINDS, FILES):
        assert json.loads((out / name).read_text()) == printed[kind]
    res = run("schema", "-o", str(out / "model.schema.json"))
    assert res.code == 2 and "is a file" in res.err, res.err
    assert run("schema", "--kind", "stages.yaml", "-o", str(tmp_path / "one")).code == 0
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["stages.schema.json"]


def test_project_schemas_are_current_and_ids_name_them(tmp_path: Path) -> None:
    """schemas/ in this repository is what `gitreg schema -o schemas` writes now, and each
    `$id` is the name of its own file there (regenerate with that command)."""
    res = run("schema", "-o", str(tmp_path))
    assert res.code == 0, res.err
    for name in FILES:
        committed = PROJECT / "schemas" / name
        assert committed.is_file(), f"{committed} missing: run `gitreg schema -o schemas`"
        assert committed.read_text() == (tmp_path / name).read_text(), (
            f"{committed} is stale: run `gitreg schema -o schemas`"
        )
        assert json.loads(committed.read_text())["$id"] == name


def test_schemas_carry_the_validators_patterns() -> None:
    schemas = json.loads(run("schema").out)
    text = json.dumps(schemas)
    for pattern in (
        layout.json_pattern(layout.NAME_PATTERN),
        layout.VERSION_PATTERN,
        layout.MD5_PATTERN,
        layout.RELPATH_PATTERN,
    ):
        assert json.dumps(pattern) in text, pattern
    stages = schemas["stages.yaml"]
    assert stages["propertyNames"]["pattern"] == layout.json_pattern(layout.NAME_PATTERN)
    assert stages["additionalProperties"]["pattern"] == layout.VERSION_PATTERN


def _check(schema: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    exe = tool_path("check-jsonschema")
    return subprocess.run(
        [exe, "--schemafile", str(schema), *map(str, files)], capture_output=True, text=True
    )


def test_init_writes_what_editors_read(registered: Registry) -> None:
    """Follow .vscode/settings.json and the modeline as an editor would: each names a schema
    file init committed; every manifest of the registry matches one glob, and
    check-jsonschema accepts it under that schema and refuses a bad edit."""
    reg = registered.path
    tracked = git(reg, "ls-files").splitlines()
    assert {f"schemas/{n}" for n in FILES} | {".vscode/settings.json"} <= set(tracked)
    first = (reg / "gitreg.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=schemas/gitreg.schema.json"
    target = posixpath.normpath(posixpath.join(".", first.split("$schema=")[1]))
    assert (reg / target).is_file()

    mapping = json.loads((reg / ".vscode/settings.json").read_text())["yaml.schemas"]
    manifests = [f for f in tracked if f == "gitreg.yaml" or layout.classify(f)]
    assert len(manifests) >= 3, manifests  # gitreg.yaml, model.yaml, versions/1.0.0.yaml
    for path in manifests:
        hits = [s for s, glob in mapping.items() if fnmatch.fnmatch(path, glob)]
        assert len(hits) == 1, (path, hits)
        proc = _check(reg / hits[0], reg / path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    version = reg / "models/churn/versions/1.0.0.yaml"
    version.write_text(version.read_text().replace("version: 1.0.0", "version: v1.1.0"))
    proc = _check(reg / "schemas/version.schema.json", version)
    assert proc.returncode == 1 and "$.version" in proc.stdout, proc.stdout
    assert run("validate", "-C", str(reg)).code == 0  # the schema files are no manifests


def test_init_keeps_an_existing_vscode_settings(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / ".vscode").mkdir()
    mine = '{\n  // my settings\n  "editor.tabSize": 2\n}\n'
    (repo / ".vscode/settings.json").write_text(mine)
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "mine")
    res = run("init", str(repo), "--remote", str(tmp_path / "remote"))
    assert res.code == 0, res.err
    assert (repo / ".vscode/settings.json").read_text() == mine
    assert (repo / "schemas/model.schema.json").is_file()
    assert git(repo, "status", "--porcelain") == ""
