"""`gitreg validate`: whole-registry rules and the rules of a change against its base."""

from __future__ import annotations

from pathlib import Path

import yaml

from conftest import Registry


def _set_stages(reg: Registry, mapping: dict[str, str]) -> None:
    text = "schema: gitreg/v1\n" + "".join(f"{k}: {v}\n" for k, v in mapping.items())
    (reg.path / "models/churn/stages.yaml").write_text(text)


def test_clean_registry_validates(registered: Registry) -> None:
    res = registered.run("validate", "--json")
    assert res.code == 0, res.out
    data = res.json()
    assert isinstance(data, dict)
    assert data["ok"] is True and data["models"] == ["churn"] and data["problems"] == []


def test_stage_rules(registered: Registry) -> None:
    _set_stages(registered, {"staging": "1.0.0", "qa": "1.0.0", "production": "9.9.9"})
    registered.commit_all("bad stages")
    res = registered.run("validate")
    assert res.code == 1
    assert (
        "models/churn/stages.yaml: qa: unknown stage (gitreg.yaml defines: staging, production)"
        in res.out
    )
    assert "models/churn/stages.yaml: production: version 9.9.9 is not registered" in res.out


def test_deprecated_version_cannot_hold_a_stage(registered: Registry) -> None:
    path = registered.path / "models/churn/versions/1.0.0.yaml"
    path.write_text(path.read_text().replace("status: active", "status: deprecated"))
    _set_stages(registered, {"staging": "1.0.0"})
    registered.commit_all("deprecate but keep staging")
    res = registered.run("validate")
    assert res.code == 1
    assert "staging: version 1.0.0 is deprecated" in res.out


def test_artifact_pointer_mismatch(registered: Registry) -> None:
    pointer = registered.path / "models/churn/artifacts/1.0.0/model.pkl.dvc"
    data = yaml.safe_load(pointer.read_text())
    data["outs"][0]["md5"] = "0" * 32
    data["outs"][0]["size"] = 1
    pointer.write_text(yaml.safe_dump(data))
    registered.commit_all("tamper")
    res = registered.run("validate")
    assert res.code == 1
    vfile = "models/churn/versions/1.0.0.yaml"
    assert f"{vfile}: artifacts[0].md5:" in res.out and "00000000" in res.out
    assert f"{vfile}: artifacts[0].size:" in res.out


def test_missing_pointer(registered: Registry) -> None:
    registered.git("rm", "-q", "models/churn/artifacts/1.0.0/model.pkl.dvc")
    registered.git("commit", "-qm", "drop pointer")
    res = registered.run("validate")
    assert res.code == 1
    assert "artifacts[0].path: no DVC pointer models/churn/artifacts/1.0.0/model.pkl.dvc" in res.out


def test_requires_staging_before_production(registered: Registry, train: Path) -> None:
    base = registered.git("rev-parse", "HEAD")
    _set_stages(registered, {"production": "1.0.0"})
    registered.commit_all("straight to production")
    res = registered.run("validate", "--base", base)
    assert res.code == 1
    assert (
        "models/churn/stages.yaml: production: churn@1.0.0 must hold 'staging' on the base"
        in res.out
    )
    # staging first (on the base), then production: accepted
    registered.git("reset", "-q", "--hard", base)
    _set_stages(registered, {"staging": "1.0.0"})
    staged = registered.commit_all("to staging")
    assert registered.run("validate", "--base", base).code == 0
    _set_stages(registered, {"staging": "1.0.0", "production": "1.0.0"})
    registered.commit_all("to production")
    res = registered.run("validate", "--base", staged)
    assert res.code == 0, res.out


def test_versions_are_immutable(registered: Registry, train: Path) -> None:
    base = registered.git("rev-parse", "HEAD")
    path = registered.path / "models/churn/versions/1.0.0.yaml"
    path.write_text(path.read_text().replace("f1: 0.91", "f1: 0.99"))
    registered.commit_all("improve the past")
    res = registered.run("validate", "--base", base)
    assert res.code == 1
    assert "models/churn/versions/1.0.0.yaml: versions are immutable" in res.out
    # deprecation (status only) is the one allowed edit
    registered.git("reset", "-q", "--hard", base)
    path.write_text(path.read_text().replace("status: active", "status: deprecated"))
    registered.commit_all("deprecate")
    assert registered.run("validate", "--base", base).code == 0
    # deleting a version or an artifact pointer is refused
    registered.git("reset", "-q", "--hard", base)
    registered.git(
        "rm", "-q", "-r", "models/churn/versions/1.0.0.yaml", "models/churn/artifacts/1.0.0"
    )
    registered.git("commit", "-qm", "delete")
    res = registered.run("validate", "--base", base)
    assert res.code == 1
    assert (
        "versions/1.0.0.yaml: versions are immutable: a version manifest may not be deleted"
        in res.out
    )
    assert (
        "artifacts/1.0.0/model.pkl.dvc: artifacts are immutable: this file was deleted" in res.out
    )


def test_one_new_version_per_model_per_merge(registered: Registry, train: Path) -> None:
    base = registered.git("rev-parse", "HEAD")
    registered.register("1.1.0", train / "model.pkl")
    registered.register("1.2.0", train / "model.pkl")
    res = registered.run("validate", "--base", base)
    assert res.code == 1
    assert "one new version of 'churn' per merge (2 here)" in res.out
    # each on its own is fine
    assert registered.run("validate", "--base", "HEAD~1").code == 0


def test_base_checks_only_touched_models(registered: Registry, train: Path) -> None:
    # a broken model the change does not touch is not this PR's problem...
    broken = registered.path / "models/legacy"
    broken.mkdir()
    (broken / "model.yaml").write_text("schema: gitreg/v1\nname: wrong-name\n")
    registered.commit_all("legacy")
    base = registered.git("rev-parse", "HEAD")
    registered.register("1.1.0", train / "model.pkl")
    res = registered.run("validate", "--base", base, "--json")
    assert res.code == 0, res.out
    data = res.json()
    assert isinstance(data, dict) and data["models"] == ["churn"]
    # ...but the whole-registry check sees it
    res = registered.run("validate")
    assert res.code == 1
    assert (
        "models/legacy/model.yaml: name: 'wrong-name' does not match the directory 'legacy'"
        in res.out
    )


def test_validate_reads_the_ref_not_the_worktree(registered: Registry) -> None:
    (registered.path / "models/churn/stages.yaml").write_text("staging: [not, valid\n")
    assert registered.run("validate").code == 0
    registered.commit_all("break it")
    assert registered.run("validate").code == 1
    assert registered.run("validate", "--ref", "HEAD~1").code == 0


def test_unknown_base_ref(registered: Registry) -> None:
    res = registered.run("validate", "--base", "no-such-branch")
    assert res.code == 3
    assert "ref 'no-such-branch' does not name a commit" in res.err


def test_rollback_into_a_stage_the_version_held_in_a_release(
    registered: Registry, train: Path
) -> None:
    _set_stages(registered, {"staging": "1.0.0"})
    registered.commit_all("1.0.0 to staging")
    _set_stages(registered, {"production": "1.0.0"})
    registered.commit_all("1.0.0 to production")
    assert registered.run("release").code == 0
    registered.register("1.1.0", train / "model.pkl")
    _set_stages(registered, {"staging": "1.1.0", "production": "1.0.0"})
    registered.commit_all("1.1.0 to staging")
    _set_stages(registered, {"production": "1.1.0"})
    registered.commit_all("1.1.0 to production")
    assert registered.run("release").code == 0
    base = registered.git("rev-parse", "HEAD")
    # production goes back to 1.0.0, which staging does not hold: allowed, a release had it there
    _set_stages(registered, {"production": "1.0.0"})
    registered.commit_all("roll back production")
    res = registered.run("validate", "--base", base)
    assert res.code == 0, res.out
    # but a version never released into production still needs staging first
    registered.git("reset", "-q", "--hard", base)
    registered.register("1.2.0", train / "model.pkl")
    base = registered.git("rev-parse", "HEAD")
    _set_stages(registered, {"production": "1.2.0"})
    registered.commit_all("1.2.0 straight to production")
    res = registered.run("validate", "--base", base)
    assert res.code == 1 and "no release ever put it in 'production'" in res.out


def test_branch_behind_its_base_is_judged_from_its_fork_point(
    registered: Registry, train: Path
) -> None:
    registered.git("checkout", "-q", "-b", "stale")
    registered.git("checkout", "-q", "main")
    registered.register("1.1.0", train / "model.pkl")  # main moves on after the branch forked
    _set_stages(registered, {"staging": "1.1.0"})
    registered.commit_all("1.1.0 to staging on main")
    registered.git("checkout", "-q", "stale")
    _set_stages(registered, {"staging": "1.0.0"})
    registered.commit_all("1.0.0 to staging on the stale branch")
    res = registered.run("validate", "--base", "main")
    assert res.code == 0, res.out  # nothing of 1.1.0 was "deleted" by this branch
    _set_stages(registered, {"production": "1.0.0"})
    registered.commit_all("and to production")
    res = registered.run("validate", "--base", "main")
    # staging holds 1.1.0 on the base now, so 1.0.0 may not enter production
    assert res.code == 1 and "('staging' held 1.1.0 there" in res.out, res.out


def test_pointer_must_name_the_artifact_beside_it(registered: Registry) -> None:
    pointer = registered.path / "models/churn/artifacts/1.0.0/model.pkl.dvc"
    data = yaml.safe_load(pointer.read_text())
    data["outs"][0]["path"] = "../../../../gitreg.yaml"
    pointer.write_text(yaml.safe_dump(data))
    registered.commit_all("point elsewhere")
    res = registered.run("validate")
    assert res.code == 1
    assert (
        "models/churn/artifacts/1.0.0/model.pkl.dvc: outs[0].path: '../../../../gitreg.yaml' "
        "must be 'model.pkl': a pointer tracks the file it sits beside" in res.out
    )


def test_artifact_paths_are_unique_within_a_version(registered: Registry) -> None:
    path = registered.path / "models/churn/versions/1.0.0.yaml"
    manifest = yaml.safe_load(path.read_text())
    first = manifest["artifacts"][0]
    manifest["artifacts"] += [
        {**first, "path": first["path"].replace("model.pkl", "MODEL.pkl")},
        {**first, "path": first["path"] + "/inner.bin"},
        dict(first),
    ]
    path.write_text(yaml.safe_dump(manifest))
    registered.commit_all("the same artifact, thrice")
    res = registered.run("validate")
    assert res.code == 1
    vfile = "models/churn/versions/1.0.0.yaml"
    assert f"{vfile}: artifacts[1].path: 'models/churn/artifacts/1.0.0/MODEL.pkl' and " in res.out
    assert "differ only in case" in res.out
    assert f"{vfile}: artifacts[2].path: " in res.out and "overlaps" in res.out
    assert f"{vfile}: artifacts[3].path: " in res.out and "is listed twice" in res.out


def test_corrupt_stages_file_fails_with_and_without_base(registered: Registry) -> None:
    registered.git("checkout", "-q", "-b", "pr")
    cfg = registered.path / "gitreg.yaml"
    cfg.write_text(cfg.read_text() + "# a config change: every model is checked\n")
    (registered.path / "models/churn/stages.yaml").write_text(
        "schema: gitreg/v1\nproduction: [1.0.0\n"
    )
    registered.commit_all("corrupt")
    for args in (["--base", "main"], []):
        res = registered.run("validate", *args)
        assert res.code == 1, (args, res.out)
        assert "models/churn/stages.yaml: invalid YAML" in res.out


def test_corrupt_stages_file_on_the_base_holds_nothing(registered: Registry) -> None:
    """A base whose stages.yaml does not parse (pushed past CI) gives no version a stage: a
    pull request cannot use it to skip `requires`."""
    (registered.path / "models/churn/stages.yaml").write_text("schema: gitreg/v1\nstaging: [\n")
    registered.commit_all("broken on main")
    registered.git("checkout", "-q", "-b", "pr")
    _set_stages(registered, {"staging": "1.0.0", "production": "1.0.0"})
    registered.commit_all("repair and promote")
    res = registered.run("validate", "--base", "main")
    assert res.code == 1
    assert "production: churn@1.0.0 must hold 'staging' on the base" in res.out
    assert "('staging' held nothing there" in res.out


def test_warnings_are_printed_in_text(registered: Registry) -> None:
    registered.git("checkout", "-q", "-b", "pr")
    cfg = registered.path / "gitreg.yaml"
    cfg.write_text(cfg.read_text().replace("    requires: staging\n", ""))
    registered.commit_all("loosen")
    res = registered.run("validate", "--base", "main")
    assert res.code == 0
    assert "warning: gitreg.yaml: stages.production.requires: rule change" in res.out
