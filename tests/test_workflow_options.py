"""What the workflows promise beyond running: a timeout on every job, superseded pull request
runs cancelled, a pip cache, a manual release; `init --reusable` writing thin callers that
actionlint accepts; the DVC extra the remote needs; `::error` annotations from validate;
and `init --remote-opt` writing what DVC accepts and refusing credentials."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Registry, git, run, set_stages, tool_path
from gitreg.errors import Problem
from gitreg.ops.validate import ValidationReport
from gitreg.render import annotations
from test_workflows import _lint

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = sorted((ROOT / "src/gitreg/templates/workflows").glob("*.yml"))
REUSABLE = sorted((ROOT / ".github/workflows").glob("registry-*.yml"))


def _load(path: Path) -> dict[Any, Any]:
    doc: dict[Any, Any] = yaml.safe_load(path.read_text())
    return doc


def _on(doc: dict[Any, Any]) -> dict[str, Any]:
    on: dict[str, Any] = doc[True]  # YAML 1.1 reads the key `on` as True
    return on


@pytest.mark.parametrize("path", [*TEMPLATES, *REUSABLE], ids=lambda p: p.name)
def test_every_job_has_a_timeout_and_a_pip_cache(path: Path) -> None:
    """Every job has a timeout; every job that sets up Python caches pip (and gitreg's own
    jobs all do)."""
    jobs = _load(path)["jobs"]
    assert path.stem.removeprefix("registry-") in jobs
    for name, job in jobs.items():
        assert 0 < job["timeout-minutes"] <= 30, name
        steps = job.get("steps", [])
        setup = [s for s in steps if s.get("uses", "").startswith("actions/setup-python@")]
        if name == path.stem.removeprefix("registry-"):
            assert setup, name
        for step in setup:
            assert step["with"]["cache"] == "pip", name
            assert step["with"]["cache-dependency-path"] == ".github/workflows/*.yml"


@pytest.mark.parametrize("name", ["validate.yml", "evaluate.yml"])
def test_pull_request_workflows_cancel_superseded_runs(name: str) -> None:
    doc = _load(ROOT / "src/gitreg/templates/workflows" / name)
    assert "pull_request" in _on(doc)
    assert doc["concurrency"]["cancel-in-progress"] is True
    assert "github.event.pull_request.number" in doc["concurrency"]["group"]


def test_release_can_be_run_by_hand() -> None:
    on = _on(_load(ROOT / "src/gitreg/templates/workflows/release.yml"))
    assert "workflow_dispatch" in on and on["push"]["branches"] == ["main"]


def test_init_reusable_writes_callers_actionlint_accepts(tmp_path: Path) -> None:
    reg = tmp_path / "reg"
    res = run("init", str(reg), "--reusable", "acme/gitreg@v0.1.0", "--remote", "s3://b/dvc")
    assert res.code == 0, res.err
    files = sorted((reg / ".github/workflows").glob("*.yml"))
    lint = _lint(files)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    for f in files:
        kind = f.stem
        job = _load(f)["jobs"][kind]
        assert job["uses"] == f"acme/gitreg/.github/workflows/registry-{kind}.yml@v0.1.0"
        assert "steps" not in job
        # what the caller passes is an input the reusable workflow declares
        called = _load(ROOT / ".github/workflows" / f"registry-{kind}.yml")
        declared = _on(called)["workflow_call"]
        assert set(job["with"]) <= set(declared["inputs"])
        assert set(job.get("secrets", {})) <= set(declared.get("secrets") or {})
    evaluate = _load(reg / ".github/workflows/evaluate.yml")["jobs"]["evaluate"]
    assert evaluate["with"]["pip-spec"] == "gitreg[sklearn,s3]==0.1.0"
    assert "workflow_dispatch" in _on(_load(reg / ".github/workflows/release.yml"))


@pytest.mark.parametrize(
    "bad",
    [
        "acme/gitreg",
        "acme@v1",
        "acme/gitreg@",
        "-acme/gitreg@v1",
        "acme-/gitreg@v1",
        "acme/gitreg@v1\n",
        "acme/gitreg@v1 # x",
        "acme/gitreg@v1\nrun: id",
        "acme/gitreg@${{ secrets.TOKEN }}",
        "acme/../x@v1",
        "acme/..@v1",
        "acme/gitreg@../v1",
        "acme/gitreg@v1.lock",
        "acme/gitreg@refs//x",
        "acme/gitreg@'v1'",
    ],
)
def test_reusable_ref_is_checked_strictly(tmp_path: Path, bad: str) -> None:
    res = run("init", str(tmp_path / "reg"), "--reusable", bad)
    assert res.code == 2, res.out + res.err
    assert res.err.startswith(f"error: --reusable {bad!r}: ")
    assert "hint: e.g. --reusable acme/gitreg@v0.1.0" in res.err
    assert not (tmp_path / "reg").exists()


@pytest.mark.parametrize(
    ("remote", "extra"),
    [("s3://b/dvc", "s3"), ("gs://b/dvc", "gs"), ("azure://c/dvc", "azure")],
)
def test_evaluate_workflow_installs_the_remotes_extra(
    tmp_path: Path, remote: str, extra: str
) -> None:
    res = run("init", str(tmp_path / "reg"), "--remote", remote)
    assert res.code == 0, res.err
    assert f"DVC plugin: pip install 'gitreg[{extra}]' where artifacts move" in res.out
    wf = tmp_path / "reg/.github/workflows"
    assert f"GITREG_PIP_SPEC: gitreg[sklearn,{extra}]==0.1.0" in (wf / "evaluate.yml").read_text()
    # validate and release never read the remote: they install gitreg alone
    assert "GITREG_PIP_SPEC: gitreg==0.1.0" in (wf / "validate.yml").read_text()


def test_validate_annotates_problems_in_github_actions(
    registered: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = registered.path / "models/churn/versions/1.0.0.yaml"
    text = path.read_text()
    path.write_text(text.replace("f1: 0.91", "f1: high"))
    registered.commit_all("break a manifest")
    line = next(i for i, t in enumerate(text.splitlines(), 1) if t.strip().startswith("f1:"))
    assert registered.run("validate").out.count("::error") == 0  # not in Actions: plain text
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    res = registered.run("validate")
    assert res.code == 1
    assert (
        f"::error file=models/churn/versions/1.0.0.yaml,line={line},title=gitreg validate"
        "::metrics.f1: input should be a valid number" in res.out
    )
    assert "models/churn/versions/1.0.0.yaml: metrics.f1: input should be a valid number" in res.out
    assert "::error" not in registered.run("validate", "--json").out


def test_annotations_escape_the_workflow_command_syntax() -> None:
    report = ValidationReport("HEAD", "0" * 40, None)
    report.problems.append(Problem("models/a,b:c/x.yaml", "", "100% bad\r\nnext line"))
    report.problems.append(Problem("command line", "", "no file here"))
    report.problems.append(Problem("models/\x1b[2Jm.yaml", "", "name \x1b]8;;x\x07 bad"))
    out = annotations.validation(report, lambda path: None).splitlines()
    assert out == [
        "::error file=models/a%2Cb%3Ac/x.yaml,title=gitreg validate::100%25 bad%0D%0Anext line",
        "::error title=gitreg validate::no file here",
        # a terminal or a CI log would run an escape sequence from a manifest
        "::error file=models/\\x1b[2Jm.yaml,title=gitreg validate::name \\x1b]8;;x\\x07 bad",
    ]


def test_annotations_read_each_file_once_and_give_each_field_its_line() -> None:
    report = ValidationReport("HEAD", "0" * 40, None)
    text = b"schema: gitreg/v1\nmetrics:\n  f1: high\n  auc: low\nparams:\n  - a: 1\n"
    for field in ("metrics.f1", "metrics.auc", "params[0].a", "metrics.missing"):
        report.problems.append(Problem("models/m/versions/1.0.0.yaml", field, "bad"))
    report.problems.append(Problem("models/m/versions/2.0.0.yaml", "", "invalid YAML: line 7"))
    reads: list[str] = []

    def read(path: str) -> bytes | None:
        reads.append(path)
        return text

    out = annotations.validation(report, read).splitlines()
    first = "::error file=models/m/versions/1.0.0.yaml,line="
    assert out == [
        f"{first}3,title=gitreg validate::metrics.f1: bad",
        f"{first}4,title=gitreg validate::metrics.auc: bad",
        f"{first}6,title=gitreg validate::params[0].a: bad",
        f"{first}3,title=gitreg validate::metrics.missing: bad",  # where metrics holds
        "::error file=models/m/versions/2.0.0.yaml,line=7,title=gitreg validate::invalid YAML: line 7",
    ]
    assert reads == ["models/m/versions/1.0.0.yaml"]  # once, and never a file without fields


def test_remote_options_are_written_and_read_by_dvc(tmp_path: Path) -> None:
    reg = tmp_path / "reg"
    res = run(
        "init", str(reg), "--remote", "s3://bucket/dvc",
        "--remote-opt", "endpointurl=http://127.0.0.1:9000", "--remote-opt", "profile=ml",
    )  # fmt: skip
    assert res.code == 0, res.err
    dvc = tool_path("dvc")
    for key, value in (("endpointurl", "http://127.0.0.1:9000"), ("profile", "ml")):
        got = subprocess.run(
            [dvc, "config", f"remote.default.{key}"], cwd=reg, capture_output=True, text=True
        )
        assert got.stdout.strip() == value, got.stderr
    committed = subprocess.run(
        ["git", "show", "HEAD:.dvc/config"], cwd=reg, capture_output=True, text=True
    ).stdout
    assert "endpointurl = http://127.0.0.1:9000" in committed


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("secret_access_key=abc", "a credential does not go into .dvc/config"),
        ("access_key_id=AKIA", "a credential does not go into .dvc/config"),
        ("my_password=x", "a credential does not go into .dvc/config"),
        ("endpoint=http://x", "DVC does not accept this for s3://bucket/dvc: extra keys"),
        ("use_ssl=maybe", "expected true or false (use_ssl)"),
        ("endpointurl", "expected KEY=VALUE"),
        ("url=s3://other/x", "the remote's URL is --remote URL"),
    ],
)
def test_remote_options_refused(tmp_path: Path, option: str, message: str) -> None:
    res = run("init", str(tmp_path / "reg"), "--remote", "s3://bucket/dvc", "--remote-opt", option)
    assert res.code == 2, res.out + res.err
    assert message in res.err
    if "credential" in message:
        assert "dvc remote modify --local default" in res.err
    assert not (tmp_path / "reg").exists()


def test_reusable_caller_runs_under_act(registered: Registry, tmp_path: Path) -> None:
    """The caller `init --reusable` writes, pointed at this repository's reusable validate
    workflow (copied in, as act cannot fetch OWNER/REPO), runs it: the inputs are wired."""
    from test_act import _act, _pr_payload

    assert run("init", str(tmp_path / "r"), "--reusable", "acme/gitreg@v0.1.0").code == 0
    text = (tmp_path / "r/.github/workflows/validate.yml").read_text()
    uses = "acme/gitreg/.github/workflows/registry-validate.yml@v0.1.0"
    assert uses in text
    workflows = registered.path / ".github/workflows"
    local = "./.github/workflows/registry-validate.yml"
    (workflows / "validate.yml").write_text(text.replace(uses, local))
    reusable = ROOT / ".github/workflows/registry-validate.yml"
    (workflows / "registry-validate.yml").write_text(reusable.read_text())
    registered.commit_all("validate through the reusable workflow")
    registered.git("push", "-q", "origin", "main")
    registered.git("checkout", "-q", "-b", "change")
    set_stages(registered, {"staging": "1.0.0"}, "stage 1.0.0")
    res = _act(registered, "pull_request", "validate.yml", _pr_payload("change"))
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert "ok: 1 model(s)" in out
    assert "[validate/gitreg validate (reusable)/validate]" in out  # the called job ran


def test_reusable_release_caller_builds_the_site_under_act(
    registered: Registry, tmp_path: Path
) -> None:
    """The release caller `init --reusable` writes runs the reusable release: the tags are
    written, its site job builds and uploads the catalog, its deploy job is skipped (the
    event says `"act": true`, as under the plain template)."""
    from test_act import _act

    assert run("init", str(tmp_path / "r"), "--reusable", "acme/gitreg@v0.1.0").code == 0
    text = (tmp_path / "r/.github/workflows/release.yml").read_text()
    uses = "acme/gitreg/.github/workflows/registry-release.yml@v0.1.0"
    assert uses in text
    workflows = registered.path / ".github/workflows"
    (workflows / "release.yml").write_text(
        text.replace(uses, "./.github/workflows/registry-release.yml")
    )
    reusable = ROOT / ".github/workflows/registry-release.yml"
    (workflows / "registry-release.yml").write_text(reusable.read_text())
    set_stages(registered, {"staging": "1.0.0"}, "Merge pull request #3 from acme/promote")
    registered.git("push", "-q", "origin", "main")
    head = registered.git("rev-parse", "HEAD")
    res = _act(
        registered, "push", "release.yml", {"ref": "refs/heads/main", "after": head, "act": True}
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    # act pads a job's name to the longest one's width
    assert re.search(r"\[release/gitreg release \(reusable\)/site *\]", out)  # site ran
    remote = git(registered.path, "ls-remote", "--tags", "--refs", registered.origin.as_uri())
    assert "refs/tags/churn#staging#1" in remote
    assert "site: 1 models, 1 versions" in out  # ... and `gitreg site`
    assert "pages artifact: _site, " in out
    assert "/deploy-site" not in out and "deploy-pages" not in out  # skipped under act


def test_each_plugin_extra_is_declared_in_pyproject() -> None:
    """The extra a missing-plugin hint names installs the package that provides the module."""
    tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11+")
    from gitreg.store.dvcconfig import PLUGINS

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    ours = {
        spec[len("gitreg[") : -1]: module
        for module, spec in PLUGINS.values()
        if spec.startswith("gitreg[")
    }
    assert sorted(ours) == ["azure", "gs", "s3"]
    for extra, module in ours.items():
        package = module.replace("_", "-")
        assert any(dep.startswith(package) for dep in extras[extra]), (extra, extras[extra])


def test_field_line_finds_keys_indexes_and_the_deepest_part_there() -> None:
    from gitreg.model.yamlio import field_line

    text = b"name: churn\nartifacts:\n  - path: a\n    md5: x\n  - path: b\n    md5: y\n"
    assert field_line(text, "name") == 1
    assert field_line(text, "artifacts[1].md5") == 6
    assert field_line(text, "artifacts[1].size") == 5  # missing: the item it would be in
    assert field_line(text, "nothing.here") is None
    assert field_line(b"a: [unclosed\n", "a") is None
    assert field_line(None, "a") is None
