"""The CLI as a user meets it: exit codes, help, no tracebacks for mistakes."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import Registry, run, run_process


def test_help_lists_every_command() -> None:
    res = run("--help")
    assert res.code == 0
    for cmd in (
        "init",
        "register",
        "validate",
        "list",
        "show",
        "history",
        "diff",
        "schema",
        "promote",
        "demote",
        "rollback",
        "deprecate",
        "release",
        "resolve",
        "pull",
        "doctor",
        "site",
    ):
        assert cmd in res.out
    assert "Exit codes" in res.out


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("frobnicate").code == 2
    assert run("register", "churn").code == 2  # --version and --artifact missing
    assert run("show").code == 2


def test_schema_is_json_schema() -> None:
    res = run("schema")
    assert res.code == 0
    data = json.loads(res.out)
    assert set(data) == {"gitreg.yaml", "model.yaml", "stages.yaml", "version.yaml"}
    version = data["version.yaml"]
    assert version["additionalProperties"] is False
    assert {"schema", "name", "version", "created", "author", "artifacts"} <= set(
        version["required"]
    )
    one = json.loads(run("schema", "--kind", "stages.yaml").out)
    assert one["additionalProperties"]["type"] == "string"
    assert "pattern" in one["additionalProperties"]  # the SemVer rule (tests/test_editors.py)


def test_real_process_errors_have_no_traceback(registered: Registry, tmp_path: Path) -> None:
    proc = run_process("show", "churn@7.7.7", cwd=registered.path)
    assert proc.returncode == 3
    assert proc.stderr.startswith("error: churn@7.7.7 not found at HEAD")
    assert "Traceback" not in proc.stderr
    proc = run_process("list", cwd=tmp_path)
    assert proc.returncode == 3 and "not inside a git repository" in proc.stderr
    assert "hint: run `gitreg init PATH`" in proc.stderr


def test_version() -> None:
    res = run("--version")
    assert res.code == 0 and "gitreg, version" in res.out
