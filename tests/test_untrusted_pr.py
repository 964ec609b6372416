"""Pull requests that try to change the rules that judge them, or to reach outside the
registry. `validate --base` judges a pull request by the base's rules, warns about every
change to those rules (naming the CODEOWNERS who must approve it), and refuses pointers,
links and names that would make git, DVC or GTO see something other than what it checked.

Each test works on a branch `pr` of a real registry (git, DVC, a bare origin) holding
churn@1.0.0 on `main`, and runs `gitreg validate --base main` as CI does.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Registry
from gitreg.model.rules import owners_of, ref_name_problem

CODEOWNERS = ".github/CODEOWNERS"


def _set_stages(reg: Registry, mapping: dict[str, str]) -> None:
    text = "schema: gitreg/v1\n" + "".join(f"{k}: {v}\n" for k, v in mapping.items())
    (reg.path / "models/churn/stages.yaml").write_text(text)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (old, text)
    path.write_text(text.replace(old, new))


def _on_main(reg: Registry, message: str) -> None:
    reg.commit_all(message)
    reg.git("push", "-q", "origin", "main")


def _validate(reg: Registry) -> tuple[int, dict[str, Any]]:
    res = reg.run("validate", "--base", "main", "--json")
    assert res.code in (0, 1), res.err
    data = res.json()
    assert isinstance(data, dict)
    return res.code, data


def _messages(data: dict[str, Any]) -> list[str]:
    return [f"{p['path']}: {p['field']}: {p['message']}" for p in data["problems"]]


def _warnings(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(w["path"], w["field"]): w for w in data["warnings"]}


# --- the rules are the base's ----------------------------------------------------------------


def test_a_pr_that_drops_requires_cannot_use_it(registered: Registry) -> None:
    """The reproduction of issue 13: remove `requires: staging` and promote 1.0.0 straight
    to production in the same pull request."""
    registered.git("checkout", "-q", "-b", "pr")
    _edit(registered.path / "gitreg.yaml", "    requires: staging\n", "")
    _set_stages(registered, {"production": "1.0.0"})
    registered.commit_all("production without staging")
    code, data = _validate(registered)
    assert code == 1, data
    assert data["ok"] is False
    assert any(
        m.startswith("models/churn/stages.yaml: production: churn@1.0.0 must hold 'staging'")
        for m in _messages(data)
    ), data["problems"]
    warning = _warnings(data)[("gitreg.yaml", "stages.production.requires")]
    assert warning["kind"] == "needs-review"
    assert warning["owners"] == []
    assert "rule change ('staging' -> none)" in warning["message"]
    assert "no CODEOWNERS entry for gitreg.yaml" in warning["message"]
    # the text output says it too, and the exit code is the problem's
    res = registered.run("validate", "--base", "main")
    assert res.code == 1
    assert "must hold 'staging' on the base" in res.out


def test_a_config_pr_passes_with_warnings_and_rules_apply_after_merge(
    registered: Registry,
) -> None:
    registered.git("checkout", "-q", "-b", "pr")
    cfg = registered.path / "gitreg.yaml"
    _edit(cfg, "    requires: staging\n", "")
    _edit(cfg, "dvc_remote: default\n", "dvc_remote: default\nmain_branch: trunk\n")
    cfg.write_text(
        cfg.read_text() + "allow_pickle_imports: [evil]\n"
        "signing: {format: ssh, allowed_signers: .github/allowed_signers}\n"
    )
    registered.commit_all("loosen the rules")
    code, data = _validate(registered)
    assert code == 0, data["problems"]
    assert data["ok"] is True and data["problems"] == []
    assert sorted(_warnings(data)) == [
        ("gitreg.yaml", "allow_pickle_imports"),
        ("gitreg.yaml", "main_branch"),
        ("gitreg.yaml", "signing"),
        ("gitreg.yaml", "stages.production.requires"),
    ]
    res = registered.run("validate", "--base", "main")
    assert res.code == 0, res.out
    lines = res.out.splitlines()
    assert len(lines) == 5 and lines[-1].startswith("ok: "), res.out
    assert all(line.startswith("warning: gitreg.yaml: ") for line in lines[:-1]), res.out
    # merged, the new rules judge the next pull request: production no longer needs staging
    registered.git("checkout", "-q", "main")
    registered.git("merge", "-q", "--ff-only", "pr")
    registered.git("checkout", "-q", "-b", "pr2")
    _set_stages(registered, {"production": "1.0.0"})
    registered.commit_all("production")
    code, data = _validate(registered)
    assert code == 0, data["problems"]
    assert data["warnings"] == []


def test_a_pr_that_adds_a_stage_cannot_use_it(registered: Registry) -> None:
    registered.git("checkout", "-q", "-b", "pr")
    cfg = registered.path / "gitreg.yaml"
    cfg.write_text(cfg.read_text().replace("stages:\n", "stages:\n  - name: canary\n", 1))
    _set_stages(registered, {"canary": "1.0.0"})
    registered.commit_all("a stage of my own")
    code, data = _validate(registered)
    assert code == 1
    assert (
        "models/churn/stages.yaml: canary: stage 'canary' is not declared in gitreg.yaml on "
        "the base" in "\n".join(_messages(data))
    )
    assert ("gitreg.yaml", "stages.canary") in _warnings(data)


def test_a_base_without_readable_rules_judges_no_stage_change(registered: Registry) -> None:
    cfg = registered.path / "gitreg.yaml"
    good = cfg.read_text()
    cfg.write_text("schema: gitreg/v1\nstages: [\n")  # pushed to main past CI
    registered.commit_all("break the rules on main")
    registered.git("checkout", "-q", "-b", "pr")
    cfg.write_text(good)
    _set_stages(registered, {"staging": "1.0.0"})
    registered.commit_all("repair and promote")
    code, data = _validate(registered)
    assert code == 1
    assert (
        "models/churn/stages.yaml: : the base has no readable gitreg.yaml, so no stage rule "
        "can judge this change" in "\n".join(_messages(data))
    )
    assert _warnings(data)[("gitreg.yaml", "")]["message"].startswith(
        "rule change (gitreg.yaml changed)"
    )


def test_warnings_name_the_owners_on_the_base(registered: Registry) -> None:
    (registered.path / CODEOWNERS).write_text(
        "* @acme/everyone\n/gitreg.yaml @acme/admins  # settings\n/models/churn/ @acme/churn\n"
    )
    _on_main(registered, "owners")
    registered.git("checkout", "-q", "-b", "pr")
    # the pull request makes itself owner of everything: GitHub, and gitreg, read the base's
    (registered.path / CODEOWNERS).write_text("* @mallory\n")
    _edit(registered.path / "gitreg.yaml", "    gate: true\n", "    gate: false\n")
    registered.commit_all("ungate")
    code, data = _validate(registered)
    assert code == 0, data["problems"]
    warnings = _warnings(data)
    assert set(warnings) == {
        ("gitreg.yaml", "stages.production.gate"),
        ("gitreg.yaml", "stages.staging.gate"),
    }
    for w in warnings.values():
        assert w["owners"] == ["@acme/admins"]
        assert "its CODEOWNERS (@acme/admins) must approve it" in w["message"]
        assert "true -> false" in w["message"]


def test_evaluation_policy_and_data_changes_are_warned(registered: Registry) -> None:
    (registered.path / "data").mkdir(exist_ok=True)
    pointer = registered.path / "data/holdout.csv.dvc"
    pointer.write_text(f"outs:\n- md5: {'1' * 32}\n  size: 10\n  path: holdout.csv\n")
    spec = registered.path / "models/churn/model.yaml"
    spec.write_text(
        spec.read_text() + "evaluation:\n  dataset: data/holdout.csv\n  target: churned\n"
        "  metrics:\n    f1: {min: 0.8, max_regression: 0.01}\n"
    )
    (registered.path / CODEOWNERS).write_text("/models/churn/ @acme/churn\n/data/ @acme/data\n")
    _on_main(registered, "policy")
    registered.git("checkout", "-q", "-b", "pr")
    _edit(spec, "max_regression: 0.01", "max_regression: 0.5")
    _edit(pointer, "1" * 32, "2" * 32)
    registered.commit_all("a gentler gate, easier data")
    code, data = _validate(registered)
    assert code == 0, data["problems"]
    warnings = _warnings(data)
    policy = warnings[("models/churn/model.yaml", "evaluation")]
    assert policy["owners"] == ["@acme/churn"]
    assert "rule change (changed: metrics)" in policy["message"]
    dataset = warnings[("data/holdout.csv.dvc", "")]
    assert dataset["owners"] == ["@acme/data"]
    assert "evaluation data of churn changed" in dataset["message"]
    # the data pointer alone (no model touched) is still a rule change
    registered.git("checkout", "-q", "main")
    registered.git("checkout", "-q", "-b", "pr2")
    _edit(pointer, "1" * 32, "3" * 32)
    registered.commit_all("easier data only")
    code, data = _validate(registered)
    assert code == 0
    assert list(_warnings(data)) == [("data/holdout.csv.dvc", "")]


# --- names git, GTO and DVC can carry -------------------------------------------------------


def test_a_stage_name_with_a_trailing_newline_fails(registered: Registry) -> None:
    """`canary\\n` passed the name rule (a `$` matches before a final newline) and would make
    `gitreg release` write a tag git refuses."""
    registered.git("checkout", "-q", "-b", "pr")
    cfg = registered.path / "gitreg.yaml"
    text = cfg.read_text().replace("stages:\n", 'stages:\n  - name: "canary\\n"\n', 1)
    cfg.write_text(text)
    (registered.path / "models/churn/stages.yaml").write_text(
        'schema: gitreg/v1\n"canary\\n": 1.0.0\n'
    )
    registered.commit_all("a stage with a newline")
    code, data = _validate(registered)
    assert code == 1
    text = "\n".join(_messages(data))
    assert "gitreg.yaml: stages[0].name: 'canary\\n' is not a valid name" in text
    assert "models/churn/stages.yaml: canary\n: stage 'canary\\n' is not a valid name" in text
    # without --base too
    res = registered.run("validate")
    assert res.code == 1 and "'canary\\n' is not a valid name" in res.out


def test_a_model_directory_name_with_a_newline_fails(registered: Registry) -> None:
    registered.git("checkout", "-q", "-b", "pr")
    odd = registered.path / "models" / "churn\n"
    odd.mkdir()
    (odd / "model.yaml").write_text("schema: gitreg/v1\nname: churn\n")
    registered.commit_all("a model with a newline")
    code, data = _validate(registered)
    assert code == 1
    assert "model directory name: 'churn\\n' is not a valid name" in "\n".join(
        p["message"] for p in data["problems"]
    )


@pytest.mark.parametrize(
    ("name", "needle"),
    [
        ("churn\n", "is not a valid name: use lowercase"),
        ("a..b", "no '.': GTO and DVC could not read it"),
        ("model.lock", "no '.'"),
        ("fraud.eu", "no '.'"),
    ],
)
def test_ref_name_problem(name: str, needle: str) -> None:
    problem = ref_name_problem(name)
    assert problem is not None and needle in problem


@pytest.mark.parametrize("name", ["churn", "churn-v2", "fraud_eu", "a", "a1-b_2"])
def test_ref_name_problem_accepts(name: str) -> None:
    assert ref_name_problem(name) is None


def test_gto_names_agree_with_gto() -> None:
    """GTO_NAME_RE is GTO's own pattern, checked against the installed gto."""
    constants = pytest.importorskip("gto.constants")
    for name in ["churn", "fraud.eu", "a-b", "a_b", "a/b", "a:b", "-a", "a-", "ab\n", "A1"]:
        ours = ref_name_problem(name) is None
        gto_ok = constants.name_re.fullmatch(name) is not None
        if ours:
            assert gto_ok, name


# --- pointers and links ---------------------------------------------------------------------


def _forged_version(reg: Registry, pointer_outs: dict[str, Any], **top: Any) -> None:
    """churn@1.1.0 by hand: a copy of 1.0.0's manifest whose pointer says `pointer_outs`."""
    src = yaml.safe_load((reg.path / "models/churn/versions/1.0.0.yaml").read_text())
    src["version"] = "1.1.0"
    art = src["artifacts"][0]
    art["path"] = "models/churn/artifacts/1.1.0/model.pkl"
    (reg.path / "models/churn/versions/1.1.0.yaml").write_text(yaml.safe_dump(src))
    adir = reg.path / "models/churn/artifacts/1.1.0"
    adir.mkdir(parents=True)
    out = {"md5": art["md5"], "size": art["size"], "hash": "md5", **pointer_outs}
    (adir / "model.pkl.dvc").write_text(yaml.safe_dump({"outs": [out], **top}))


@pytest.mark.parametrize(
    ("outs", "top", "field", "needle"),
    [
        ({"path": "../1.0.0/model.pkl"}, {}, "outs[0].path", "'../1.0.0/model.pkl' must be"),
        ({"path": "/etc/passwd"}, {}, "outs[0].path", "'/etc/passwd' must be 'model.pkl'"),
        ({"path": "other.pkl"}, {}, "outs[0].path", "the file it sits beside"),
        ({"path": "model.pkl"}, {"wdir": "../1.0.0"}, "wdir", "remove wdir"),
    ],
)
def test_a_pointer_names_the_artifact_beside_it(
    registered: Registry, outs: dict[str, Any], top: dict[str, Any], field: str, needle: str
) -> None:
    registered.git("checkout", "-q", "-b", "pr")
    _forged_version(registered, outs, **top)
    registered.commit_all("a pointer that points elsewhere")
    code, data = _validate(registered)
    assert code == 1
    pointer = "models/churn/artifacts/1.1.0/model.pkl.dvc"
    found = [p for p in data["problems"] if p["path"] == pointer and p["field"] == field]
    assert found and needle in found[0]["message"], data["problems"]


def test_an_honest_forged_pointer_passes(registered: Registry) -> None:
    """The fixture of the test above is right when the pointer is: only the path fails it."""
    registered.git("checkout", "-q", "-b", "pr")
    _forged_version(registered, {"path": "model.pkl"})
    registered.commit_all("a pointer beside its artifact")
    code, data = _validate(registered)
    assert code == 0, data["problems"]


def test_links_and_submodules_under_models_fail(registered: Registry) -> None:
    registered.git("checkout", "-q", "-b", "pr")
    adir = registered.path / "models/churn/artifacts/1.0.0"
    os.symlink("/home/runner/.aws/credentials", adir / "extra.bin")
    registered.git("add", "-f", str(adir / "extra.bin"))
    os.symlink("churn", registered.path / "models/alias")
    registered.git("add", "-A")
    head = registered.git("rev-parse", "HEAD")
    registered.git("update-index", "--add", "--cacheinfo", f"160000,{head},models/churn/sub")
    registered.git("commit", "-q", "-m", "links and a submodule")
    code, data = _validate(registered)
    assert code == 1
    text = "\n".join(_messages(data))
    assert "models/churn/artifacts/1.0.0/extra.bin: : a symbolic link" in text
    assert "models/churn/sub: : a submodule" in text
    assert "models/alias: : unexpected file: models/ holds one directory per model" in text


def test_files_added_to_a_released_version_fail(registered: Registry) -> None:
    """The payload committed to git beside its pointer would shadow what DVC holds."""
    registered.git("checkout", "-q", "-b", "pr")
    payload = registered.path / "models/churn/artifacts/1.0.0/model.pkl"
    payload.write_bytes(b"not the model that was reviewed")
    registered.git("add", "-f", str(payload))
    registered.commit_all("shadow the artifact")
    code, data = _validate(registered)
    assert code == 1
    assert (
        "models/churn/artifacts/1.0.0/model.pkl: : artifacts are immutable: this file was "
        "added to the released version 1.0.0" in "\n".join(_messages(data))
    )


def test_owners_of_follows_githubs_examples() -> None:
    """The examples of GitHub's CODEOWNERS documentation; the last match wins."""
    text = (
        "*       @global-owner1 @global-owner2\n"
        "*.js    @js-owner #This is an inline comment.\n"
        "*.go docs@example.com\n"
        "/build/logs/ @doctocat\n"
        "docs/*  docs@example.com\n"
        "apps/ @octocat\n"
        "/docs/ @doctocat\n"
        "/scripts/ @doctocat @octocat\n"
        "**/logs @octocat\n"
        "/apps/ @octocat\n"
        "/apps/github\n"
    )
    assert owners_of(text, "README.md") == ["@global-owner1", "@global-owner2"]
    assert owners_of(text, "src/app.js") == ["@js-owner"]
    assert owners_of(text, "build/logs/a/b.txt") == ["@octocat"]  # **/logs comes later
    assert owners_of(text, "docs/getting-started.md") == ["@doctocat"]
    assert owners_of(text, "x/docs/a.md") == ["@global-owner1", "@global-owner2"]
    assert owners_of(text, "x/apps/a.py") == ["@octocat"]  # apps/ matches at any depth
    assert owners_of(text, "apps/github/a.py") == []  # a line without owners: no owner
    assert owners_of("docs/* @d\n", "docs/a.md") == ["@d"]
    assert owners_of("docs/* @d\n", "docs/build/a.md") is None  # not nested files
    assert owners_of("docs/* @d\n", "x/docs/a.md") is None  # an inner '/' anchors it
    assert owners_of(text, "scripts/x.sh") == ["@doctocat", "@octocat"]
    assert owners_of("/models/churn/ @a\n", "models/churn/model.yaml") == ["@a"]
    assert owners_of("/models/churn/ @a\n", "models/churnx/model.yaml") is None
    assert owners_of("# nothing\n", "gitreg.yaml") is None
