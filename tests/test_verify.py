"""Only reviewed, merged state reaches a deploy tool (issue 9): release runs on main only,
verified reads refuse forged, moved, replayed and off-main tags locally and by URL,
deprecation is visible, and signed tags are checked."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from conftest import Registry, git, make_artifact
from conftest import set_stages as _stages


def _tag(reg: Registry, name: str, commit: str, **trailers: str) -> None:
    body = "".join(f"{k.replace('_', '-')}: {v}\n" for k, v in trailers.items())
    reg.git("tag", "-a", "-m", f"made by hand\n\n{body}", name, commit)


def _push_tags(reg: Registry) -> None:
    reg.git("push", "-q", "--force", "origin", "refs/tags/*:refs/tags/*")


@pytest.fixture
def shipped(registered: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    """churn 1.0.0 in production, 1.1.0 registered; released and pushed."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    art = make_artifact(tmp_path / "v11" / "model.pkl", b"model one-one")
    registered.register("1.1.0", art)
    _stages(registered, {"staging": "1.0.0"}, "Merge pull request #1 from acme/staging")
    _stages(registered, {"staging": "1.0.0", "production": "1.0.0"}, "Merge pull request #2")
    registered.git("push", "-q", "origin", "main")
    assert registered.run("release", "--push").code == 0
    git(registered.origin, "symbolic-ref", "HEAD", "refs/heads/main")
    return registered


def _verify(reg: Registry, ref: str, remote: bool) -> tuple[int, str]:
    where = ["--repo", reg.origin.as_uri()] if remote else []
    res = reg.run("resolve", ref, "--verify", "--json", *where)
    return res.code, res.err


# --- release writes only what main says ------------------------------------------------------


def test_release_refuses_an_unmerged_branch(shipped: Registry) -> None:
    shipped.git("checkout", "-q", "-b", "gitreg/promote/churn/production/1.1.0")
    _stages(shipped, {"staging": "1.0.0", "production": "1.1.0"}, "Promote 1.1.0")
    before, published = shipped.git("tag", "-l"), git(shipped.origin, "tag", "-l")
    res = shipped.run("release", "--push")
    assert res.code == 3
    assert "refusing to release from branch 'gitreg/promote/churn/production/1.1.0'" in res.err
    assert "git checkout main" in res.err and "Traceback" not in res.err
    # nor with --ref naming it, nor from a detached HEAD at it
    assert shipped.run("release", "--ref", "HEAD~0").code == 3
    shipped.git("checkout", "-q", "--detach")
    res = shipped.run("release")
    assert res.code == 3 and "not on the first-parent history of main" in res.err
    assert shipped.git("tag", "-l") == before
    assert git(shipped.origin, "tag", "-l") == published


def test_release_in_actions_only_on_a_push_to_main(
    shipped: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_REF", "refs/pull/7/merge")
    res = shipped.run("release")
    assert res.code == 3 and "GITHUB_REF=refs/pull/7/merge" in res.err
    monkeypatch.setenv("GITHUB_REF", "refs/heads/main")
    assert shipped.run("release").code == 0


def test_main_branch_comes_from_gitreg_yaml(shipped: Registry) -> None:
    cfg = shipped.path / "gitreg.yaml"
    cfg.write_text(cfg.read_text() + "main_branch: trunk\n")
    shipped.commit_all("main is trunk")
    res = shipped.run("release")
    assert res.code == 3 and "refusing to release from branch 'main'" in res.err
    assert "git checkout trunk" in res.err
    shipped.git("branch", "-m", "main", "trunk")
    assert shipped.run("release").code == 0


# --- verified reads --------------------------------------------------------------------------


@pytest.mark.parametrize("remote", [False, True], ids=["local", "url"])
def test_released_tags_verify(shipped: Registry, remote: bool) -> None:
    for ref in ("churn@production", "churn@staging", "churn@1.1.0", "churn@latest"):
        code, err = _verify(shipped, ref, remote)
        assert code == 0, (ref, err)


@pytest.mark.parametrize("remote", [False, True], ids=["local", "url"])
def test_a_stage_tag_from_an_unmerged_branch_is_refused(shipped: Registry, remote: bool) -> None:
    """The reproduction: a branch's release tag pushed by hand."""
    shipped.git("checkout", "-q", "-b", "gitreg/promote/churn/production/1.1.0")
    side = _stages(shipped, {"staging": "1.0.0", "production": "1.1.0"}, "Promote 1.1.0")
    v11 = shipped.git("rev-parse", "churn@v1.1.0^{commit}")
    _tag(shipped, "churn#production#9", v11, Version="1.1.0", Stage="production",
         Promoted_in=side, Approved_by="mallory")  # fmt: skip
    shipped.git("checkout", "-q", "main")
    _push_tags(shipped)
    assert shipped.run("resolve", "churn@production").out.startswith("churn@1.1.0")
    code, err = _verify(shipped, "churn@production", remote)
    assert code == 1
    assert "churn#production#9: refused by --verify" in err
    assert f"its Promoted-in {side[:12]} is not a commit of main" in err
    dest = shipped.path.parent / "deploy"
    where = ["--repo", shipped.origin.as_uri()] if remote else []
    res = shipped.run("pull", "churn@production", "-o", str(dest), *where)
    assert res.code == 1 and not dest.exists()


@pytest.mark.parametrize("remote", [False, True], ids=["local", "url"])
def test_a_registration_off_main_is_refused(shipped: Registry, remote: bool) -> None:
    base = shipped.git("rev-parse", "HEAD")
    side = shipped.git("commit-tree", "-p", base, "-m", "side", f"{base}^{{tree}}")
    _tag(shipped, "churn@v9.9.9", side, Version="9.9.9", Promoted_in=side)
    _push_tags(shipped)
    code, err = _verify(shipped, "churn@9.9.9", remote)
    assert code == 1 and f"points to {side[:12]}, which is not on main" in err


@pytest.mark.parametrize("remote", [False, True], ids=["local", "url"])
def test_a_replayed_stage_tag_is_refused(shipped: Registry, remote: bool) -> None:
    """Well-formed trailers naming a real commit of main that once set the stage."""
    old = shipped.git("log", "-1", "--format=%H", "--grep=#1 from acme/staging")
    v10 = shipped.git("rev-parse", "churn@v1.0.0^{commit}")
    _stages(shipped, {"staging": "1.1.0", "production": "1.0.0"}, "Merge pull request #3")
    shipped.git("push", "-q", "origin", "main")
    assert shipped.run("release", "--push").code == 0
    _tag(shipped, "churn#staging#9", v10, Version="1.0.0", Stage="staging", Promoted_in=old)
    _push_tags(shipped)
    code, err = _verify(shipped, "churn@staging", remote)
    assert code == 1 and "a replayed or hand-made tag" in err


def test_forged_trailers_are_refused(shipped: Registry) -> None:
    v10 = shipped.git("rev-parse", "churn@v1.0.0^{commit}")
    head = shipped.git("rev-parse", "HEAD")
    # a newline smuggled into a value reads as a second Version trailer
    _tag(shipped, "churn#production#9", v10, Version="1.0.0\nVersion: 7.7.7",
         Stage="production", Promoted_in=head)  # fmt: skip
    res = shipped.run("resolve", "churn@production", "--json")
    assert res.code == 0 and res.json()["version"] == "1.0.0"  # never the forged 7.7.7
    code, err = _verify(shipped, "churn@production", False)
    assert code == 1 and "malformed trailer Version: appears more than once" in err
    _tag(shipped, "churn#production#10", v10, Version="1.1.0", Stage="production",
         Promoted_in=head)  # fmt: skip
    code, err = _verify(shipped, "churn@production", False)
    assert code == 1 and "its Version trailer says 1.1.0, not 1.0.0" in err


def test_an_edited_pointer_is_refused(shipped: Registry) -> None:
    """A registration tag repointed at a commit whose .dvc pointer names another object."""
    pointer = shipped.path / "models/churn/artifacts/1.1.0/model.pkl.dvc"
    pointer.write_text(pointer.read_text().replace("md5: ", "md5: 0", 1)[:-1] + "\n")
    shipped.git("add", "-A")
    shipped.git("commit", "-q", "-m", "edit the pointer on main, against the rules")
    head = shipped.git("rev-parse", "HEAD")
    shipped.git("tag", "-d", "churn@v1.1.0")
    _tag(shipped, "churn@v1.1.0", head, Version="1.1.0", Promoted_in=head)
    shipped.git("reset", "-q", "--hard", "HEAD~1")
    code, err = _verify(shipped, "churn@1.1.0", False)
    assert code == 1 and "which is not on main" in err


def test_doctor_names_each_kind(shipped: Registry) -> None:
    v10 = shipped.git("rev-parse", "churn@v1.0.0^{commit}")
    shipped.git("tag", "churn#staging#9", v10)  # lightweight
    res = shipped.run("doctor", "--json")
    data = res.json()
    assert res.code == 1 and isinstance(data, dict)
    kinds = {(f["tag"], f["kind"]) for f in data["findings"]}
    assert ("churn#staging#9", "lightweight") in kinds


# --- stage moves and deprecation -------------------------------------------------------------


def test_a_move_writes_the_removal_tag_of_the_version_that_leaves(shipped: Registry) -> None:
    _stages(shipped, {"staging": "1.1.0", "production": "1.0.0"}, "Merge pull request #3")
    res = shipped.run("release", "--json")
    created = [t["tag"] for t in res.json()["created"]]  # type: ignore[index]
    assert created == ["churn#staging!#3", "churn#staging#4"]
    v10 = shipped.git("rev-parse", "churn@v1.0.0^{commit}")
    assert shipped.git("rev-parse", "churn#staging!#3^{commit}") == v10
    assert shipped.run("resolve", "churn@staging").out.startswith("churn@1.1.0")
    assert shipped.run("doctor").code == 0


def test_deprecation_is_visible_to_deploy_tools(shipped: Registry, tmp_path: Path) -> None:
    vfile = shipped.path / "models/churn/versions/1.1.0.yaml"
    vfile.write_text(vfile.read_text().replace("status: active", '"status": deprecated'))
    shipped.commit_all("Merge pull request #4: deprecate 1.1.0")
    shipped.git("push", "-q", "origin", "main")
    assert shipped.run("release", "--push").code == 0  # a quoted key still counts
    assert "churn@v1.1.0!" in shipped.git("tag", "-l")
    for where in ([], ["--repo", shipped.origin.as_uri()]):
        data = shipped.run("resolve", "churn@1.1.0", "--json", *where).json()
        assert isinstance(data, dict)
        assert data["status"] == "deprecated" and data["deprecated_by"] == shipped.git(
            "rev-parse", "HEAD"
        )
        assert shipped.run("resolve", "churn@latest", *where).out.startswith("churn@1.0.0")
    dest = tmp_path / "out"
    res = shipped.run("pull", "churn@1.1.0", "-o", str(dest))
    assert res.code == 1 and "deprecated" in res.err and not dest.exists()
    assert shipped.run("pull", "churn@1.1.0", "-o", str(dest), "--allow-deprecated").code == 0
    assert (dest / "model.pkl").read_bytes() == b"model one-one"


# --- signed tags -----------------------------------------------------------------------------


def _key(tmp_path: Path, name: str) -> tuple[Path, str]:
    key = tmp_path / name
    subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", str(key)], check=True
    )
    return key, (tmp_path / f"{name}.pub").read_text().strip()


def test_signed_release_tags(
    registered: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    key, public = _key(tmp_path, "release")
    other, _ = _key(tmp_path, "mallory")
    (registered.path / ".github/allowed_signers").write_text(f"release@acme {public}\n")
    cfg = registered.path / "gitreg.yaml"
    cfg.write_text(
        cfg.read_text() + "signing:\n  format: ssh\n  allowed_signers: .github/allowed_signers\n"
    )
    _stages(registered, {"staging": "1.0.0"}, "Merge pull request #1")
    res = registered.run("release")
    assert res.code == 3 and "GITREG_SIGNING_KEY" in res.err  # no key: no tags
    assert registered.git("tag", "-l") == ""
    monkeypatch.setenv("GITREG_SIGNING_KEY", str(key))
    assert registered.run("release", "--push").code == 0
    git(registered.origin, "symbolic-ref", "HEAD", "refs/heads/main")
    for where in ([], ["--repo", registered.origin.as_uri()]):
        res = registered.run("resolve", "churn@staging", "--verify", *where)
        assert res.code == 0, res.err
    v10 = registered.git("rev-parse", "churn@v1.0.0^{commit}")
    head = registered.git("rev-parse", "HEAD")
    _stages(registered, {"staging": "1.0.0", "production": "1.0.0"}, "Merge pull request #2")
    head = registered.git("rev-parse", "HEAD")
    fields = f"Version: 1.0.0\nStage: production\nPromoted-in: {head}\n"
    registered.git("tag", "-a", "-m", f"x\n\n{fields}", "churn#production#3", v10)
    res = registered.run("resolve", "churn@production", "--verify")
    assert res.code == 1 and "unsigned" in res.err
    registered.git("tag", "-d", "churn#production#3")
    registered.git("-c", "gpg.format=ssh", "-c", f"user.signingkey={other}", "tag", "-s",
                   "-m", f"x\n\n{fields}", "churn#production#3", v10)  # fmt: skip
    res = registered.run("resolve", "churn@production", "--verify")
    assert res.code == 1 and "bad signature" in res.err
