"""`gitreg register`: real git, real DVC, a local-folder remote."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import Registry, make_artifact


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def _state(reg: Registry) -> dict[str, object]:
    """Everything a failed register must leave as it was."""
    cache = reg.path / ".dvc" / "cache"
    files = sorted(
        str(p.relative_to(reg.path))
        for p in reg.path.rglob("*")
        if ".git" not in p.relative_to(reg.path).parts[:1]
    )
    return {
        "refs": reg.git("for-each-ref", "--format=%(refname) %(objectname)"),
        "head": reg.git("symbolic-ref", "HEAD"),
        "index": reg.git("ls-files", "--stage"),
        "status": reg.git("status", "--porcelain", "--untracked-files=all"),
        "files": files,
        "cache": sorted(str(p) for p in cache.rglob("*")) if cache.exists() else [],
        "worktrees": reg.git("worktree", "list", "--porcelain"),
    }


def test_register_new_branch(registry: Registry, train: Path) -> None:
    before = _state(registry)
    res = registry.run(
        "register",
        "churn",
        "--version",
        "1.0.0",
        "--artifact",
        str(train / "model.pkl"),
        "--metrics",
        str(train / "metrics.json"),
        "--params",
        str(train / "params.yaml"),
        "--owner",
        "@acme/ml",
        "--task",
        "classification",
        "--json",
    )
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    assert data["branch"] == "gitreg/register/churn/1.0.0"
    # the user's branch, index and working tree are untouched
    after = _state(registry)
    assert after["head"] == before["head"]
    assert after["status"] == before["status"] == ""
    assert after["worktrees"] == before["worktrees"]
    # the branch holds the manifest, whose md5 is the artifact's and DVC's
    branch = "gitreg/register/churn/1.0.0"
    text = registry.git("show", f"{branch}:models/churn/versions/1.0.0.yaml")
    manifest = yaml.safe_load(text)
    art = manifest["artifacts"][0]
    assert art["path"] == "models/churn/artifacts/1.0.0/model.pkl"
    assert art["md5"] == _md5(train / "model.pkl")
    assert art["size"] == (train / "model.pkl").stat().st_size
    assert manifest["metrics"] == {"f1": 0.91, "accuracy": 0.93}
    assert manifest["params"] == {"C": 1.0, "solver": "lbfgs"}
    pointer = yaml.safe_load(
        registry.git("show", f"{branch}:models/churn/artifacts/1.0.0/model.pkl.dvc")
    )
    assert pointer["outs"][0]["md5"] == art["md5"]
    # the payload is in the DVC remote, and in the local cache for later checkouts
    digest = art["md5"]
    assert (registry.remote / "files" / "md5" / digest[:2] / digest[2:]).is_file()
    assert (registry.path / ".dvc/cache/files/md5" / digest[:2] / digest[2:]).is_file()
    model = yaml.safe_load(registry.git("show", f"{branch}:models/churn/model.yaml"))
    assert model["owners"] == ["@acme/ml"] and model["task"] == "classification"
    assert "/models/churn/ @acme/ml" in registry.git("show", f"{branch}:.github/CODEOWNERS")
    # and the branch validates
    assert registry.run("validate", "--ref", branch).code == 0


def test_register_here_and_lineage(registry: Registry, train: Path, tmp_path: Path) -> None:
    code = tmp_path / "code"
    code.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=code, check=True)
    make_artifact(code / "out" / "model.onnx", b"onnx-bytes")
    subprocess.run(["git", "add", "-A"], cwd=code, check=True)
    subprocess.run(["git", "commit", "-qm", "train"], cwd=code, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=code, capture_output=True, text=True, check=True
    ).stdout.strip()
    res = registry.run(
        "register",
        "churn",
        "--version",
        "2.0.0-rc.1",
        "--artifact",
        str(code / "out/model.onnx"),
        "--dataset",
        str(train / "params.yaml"),
        "--dataset",
        "s3://bucket/train.csv@v3",
        "--run-url",
        "https://mlflow.example/runs/1",
        "--here",
    )
    assert res.code == 0, res.err
    assert registry.git("log", "-1", "--format=%s") == "Register churn 2.0.0-rc.1"
    assert registry.git("status", "--porcelain") == ""
    m = yaml.safe_load((registry.path / "models/churn/versions/2.0.0-rc.1.yaml").read_text())
    assert m["lineage"]["code"] == {"repo": str(code), "commit": head}
    assert m["lineage"]["data"][0]["md5"] == _md5(train / "params.yaml")
    assert m["lineage"]["data"][1] == {
        "name": "train.csv",
        "path": "s3://bucket/train.csv",
        "rev": "v3",
    }
    assert m["lineage"]["run"]["url"] == "https://mlflow.example/runs/1"
    assert m["framework"]["name"] == "onnx"
    assert m["artifacts"][0]["format"] == "onnx"


def test_register_directory_artifact(registry: Registry, tmp_path: Path) -> None:
    d = tmp_path / "bundle"
    make_artifact(d / "weights.bin", b"w" * 100)
    make_artifact(d / "config.json", b"{}")
    res = registry.run("register", "churn", "--version", "1.0.0", "--artifact", str(d), "--here")
    assert res.code == 0, res.err
    m = yaml.safe_load((registry.path / "models/churn/versions/1.0.0.yaml").read_text())
    assert m["artifacts"][0]["md5"].endswith(".dir")
    assert m["artifacts"][0]["size"] == 102
    assert registry.run("validate").code == 0


def test_refuses_existing_version(registered: Registry, train: Path) -> None:
    before = _state(registered)
    res = registered.run(
        "register", "churn", "--version", "1.0.0", "--artifact", str(train / "model.pkl")
    )
    assert res.code == 3
    assert "churn@1.0.0 is already registered" in res.err
    assert "immutable" in res.err
    assert _state(registered) == before


def test_refuses_bad_input(registry: Registry, train: Path, tmp_path: Path) -> None:
    before = _state(registry)
    cases = [
        (["--version", "v1.0.0", "--artifact", str(train / "model.pkl")], "SemVer"),
        (["--version", "1.0", "--artifact", str(train / "model.pkl")], "SemVer"),
        (["--version", "1.0.0", "--artifact", str(tmp_path / "missing.pkl")], "no such file"),
    ]
    for extra, needle in cases:
        res = registry.run("register", "churn", *extra)
        assert res.code == 2, (extra, res.err)
        assert needle in res.err
        assert "Traceback" not in res.err
    res = registry.run(
        "register", "Bad#Name", "--version", "1.0.0", "--artifact", str(train / "model.pkl")
    )
    assert res.code == 2 and "not a valid name" in res.err
    bad_metrics = tmp_path / "m.json"
    bad_metrics.write_text('{"f1": "high"}')
    res = registry.run(
        "register",
        "churn",
        "--version",
        "1.0.0",
        "--artifact",
        str(train / "model.pkl"),
        "--metrics",
        str(bad_metrics),
    )
    assert res.code == 3
    assert f"{bad_metrics}: f1: input should be a valid number" in res.err
    assert _state(registry) == before


def test_refuses_symlink_escaping_artifact_dir(registry: Registry, tmp_path: Path) -> None:
    d = tmp_path / "bundle"
    make_artifact(d / "weights.bin")
    secret = make_artifact(tmp_path / "secret.txt", b"secret")
    os.symlink(secret, d / "leak.txt")
    res = registry.run("register", "churn", "--version", "1.0.0", "--artifact", str(d))
    assert res.code == 2
    assert "outside" in res.err and "leak.txt" in res.err


def _dir_md5(directory: Path, scratch: Path) -> str:
    """The .dir hash DVC gives a directory, from a scratch DVC project."""
    scratch.mkdir()
    subprocess.run([sys.executable, "-m", "dvc", "init", "-q", "--no-scm"], cwd=scratch, check=True)
    import shutil

    shutil.copytree(directory, scratch / directory.name)
    subprocess.run(
        [sys.executable, "-m", "dvc", "add", "-q", directory.name], cwd=scratch, check=True
    )
    pointer = yaml.safe_load((scratch / f"{directory.name}.dvc").read_text())
    return str(pointer["outs"][0]["md5"]).removesuffix(".dir") + ".dir"


def test_push_failing_half_way_changes_nothing(registry: Registry, tmp_path: Path) -> None:
    """A 20-file artifact; the remote takes some objects, then refuses one."""
    bundle = tmp_path / "bundle"
    for i in range(20):
        make_artifact(bundle / f"part{i:02d}.bin", f"part {i}".encode())
    digest = _dir_md5(bundle, tmp_path / "scratch")
    # DVC uploads a directory's files first and its .dir listing last; a dangling link
    # where the remote needs the listing's prefix directory makes that last upload fail
    blocker = registry.remote / "files" / "md5" / digest[:2]
    blocker.parent.mkdir(parents=True, exist_ok=True)
    os.symlink(tmp_path / "nowhere", blocker)
    expected = {_md5(p) for p in bundle.iterdir()}
    expected = {d for d in expected if d[:2] != digest[:2]}
    before = _state(registry)
    res = registry.run("register", "churn", "--version", "1.0.0", "--artifact", str(bundle))
    assert res.code == 3, res.err
    assert "DVC could not store the artifacts" in res.err
    assert "Traceback" not in res.err
    assert _state(registry) == before
    assert not registry.git("branch", "--list", "gitreg/*")
    # the remote did take other objects: the failure really was half-way
    stored = [p for p in (registry.remote / "files" / "md5").rglob("*") if p.is_file()]
    assert {p.parent.name + p.name for p in stored} == expected
    # the same with --here: the current branch does not move
    res = registry.run(
        "register", "churn", "--version", "1.0.0", "--here", "--artifact", str(bundle)
    )
    assert res.code == 3
    assert _state(registry) == before


def test_interrupt_leaves_nothing(registry: Registry, tmp_path: Path) -> None:
    """Ctrl-C (SIGINT) in the middle of a register: exit 130, nothing changed."""
    big = make_artifact(tmp_path / "big.bin", os.urandom(64 * 1024 * 1024))
    before = _state(registry)
    script = (
        "import os, signal, threading, sys\n"
        "from gitreg.store import dvc as artifacts\n"
        "real = artifacts.add_and_push\n"
        "def interrupted(*a, **k):\n"
        "    out = real(*a, **k)\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    return out\n"
        "artifacts.add_and_push = interrupted\n"
        "from gitreg.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            "register",
            "churn",
            "--version",
            "1.0.0",
            "--artifact",
            str(big),
            "-C",
            str(registry.path),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 130, proc.stderr
    assert "Traceback" not in proc.stderr
    assert _state(registry) == before


def test_push_branch_to_origin(registry: Registry, train: Path) -> None:
    res = registry.run(
        "register", "churn", "--version", "1.0.0", "--artifact", str(train / "model.pkl"), "--push"
    )
    assert res.code == 0, res.err
    remote_refs = subprocess.run(
        ["git", "ls-remote", registry.origin.as_uri()], capture_output=True, text=True
    ).stdout
    assert "refs/heads/gitreg/register/churn/1.0.0" in remote_refs


def test_bad_owner_and_commit_are_usage_errors(registry: Registry, train: Path) -> None:
    before = _state(registry)
    res = registry.run(
        "register",
        "churn",
        "--version",
        "1.0.0",
        "--artifact",
        str(train / "model.pkl"),
        "--owner",
        "acme",
    )
    assert res.code == 2 and "owners[0]" in res.err and "Traceback" not in res.err
    res = registry.run(
        "register",
        "churn",
        "--version",
        "1.0.0",
        "--artifact",
        str(train / "model.pkl"),
        "--code-commit",
        "HEAD",
    )
    assert res.code == 2 and "commit" in res.err
    assert _state(registry) == before


def test_here_refuses_to_overwrite_uncommitted_edits(registered: Registry, train: Path) -> None:
    dvc_yaml = registered.path / "dvc.yaml"
    dvc_yaml.write_text(dvc_yaml.read_text() + "# my uncommitted note\n")
    res = registered.run(
        "register", "churn", "--version", "1.1.0", "--artifact", str(train / "model.pkl"), "--here"
    )
    assert res.code == 3
    assert "uncommitted changes in dvc.yaml" in res.err
    assert dvc_yaml.read_text().endswith("# my uncommitted note\n")
    # on a branch of its own, the working tree is not touched: allowed
    res = registered.run(
        "register", "churn", "--version", "1.1.0", "--artifact", str(train / "model.pkl")
    )
    assert res.code == 0, res.err
    assert dvc_yaml.read_text().endswith("# my uncommitted note\n")


# --- what register reads: only what it was given -------------------------------------------


def test_refuses_an_artifact_that_is_a_symlink(registry: Registry, tmp_path: Path) -> None:
    """A training folder with `model.pkl -> ~/.aws/credentials`: nothing is read or pushed."""
    secret = make_artifact(tmp_path / "home/.aws/credentials", b"aws_secret=xyz")
    out = tmp_path / "out"
    out.mkdir()
    os.symlink(secret, out / "model.pkl")
    before = _state(registry)
    res = registry.run(
        "register", "churn", "--version", "1.0.0", "--artifact", str(out / "model.pkl")
    )
    assert res.code == 2, res.err
    assert f"{out / 'model.pkl'} is a symbolic link (to {secret})" in res.err
    assert "Traceback" not in res.err
    assert _state(registry) == before
    stored = {p.parent.name + p.name for p in registry.remote.rglob("*") if p.is_file()}
    assert _md5(secret) not in stored


def test_refuses_metrics_and_params_through_a_symlink(
    registry: Registry, train: Path, tmp_path: Path
) -> None:
    secret = make_artifact(tmp_path / "secret.yaml", b"token: 1\n")
    os.symlink(secret, tmp_path / "params.yaml")
    link = str(tmp_path / "params.yaml")
    artifact = str(train / "model.pkl")
    res = registry.run(
        "register", "churn", "--version", "1.0.0", "--artifact", artifact, "--params", link
    )
    assert res.code == 2, res.err
    assert "--params" in res.err and "is a symbolic link" in res.err


def _bundle(tmp_path: Path, links: dict[str, str]) -> Path:
    d = tmp_path / "bundle"
    make_artifact(d / "weights.bin", b"w" * 10)
    make_artifact(d / "sub" / "config.json", b"{}")
    for name, target in links.items():
        os.symlink(target, d / name)
    return d


@pytest.mark.parametrize(
    ("links", "needle"),
    [
        ({"a": "b", "b": "a"}, "is a symbolic link loop"),
        ({"again": "."}, "links back to"),
        ({"sub/up": ".."}, "links back to"),
        ({"gone.bin": "missing.bin"}, "which does not exist"),
        ({"etc": "/etc"}, "outside"),
    ],
    ids=["loop", "self", "parent", "dangling", "outside"],
)
def test_refuses_bad_links_in_a_directory_artifact(
    registry: Registry, tmp_path: Path, links: dict[str, str], needle: str
) -> None:
    d = _bundle(tmp_path, links)
    before = _state(registry)
    res = registry.run("register", "churn", "--version", "1.0.0", "--artifact", str(d))
    assert res.code == 2, res.err
    assert needle in res.err and "Traceback" not in res.err
    assert _state(registry) == before


def test_refuses_a_pipe_in_a_directory_artifact(registry: Registry, tmp_path: Path) -> None:
    """Copying a FIFO would wait for a writer forever."""
    d = _bundle(tmp_path, {})
    os.mkfifo(d / "pipe")
    res = registry.run("register", "churn", "--version", "1.0.0", "--artifact", str(d))
    assert res.code == 2, res.err
    assert "not a regular file" in res.err


def test_links_inside_a_directory_artifact_are_followed(registry: Registry, tmp_path: Path) -> None:
    d = _bundle(tmp_path, {"best.bin": "weights.bin", "conf": "sub"})
    res = registry.run("register", "churn", "--version", "1.0.0", "--artifact", str(d), "--here")
    assert res.code == 0, res.err
    m = yaml.safe_load((registry.path / "models/churn/versions/1.0.0.yaml").read_text())
    assert m["artifacts"][0]["size"] == 10 + 10 + 2 + 2  # links are copied as their files
    assert registry.run("validate").code == 0


@pytest.mark.parametrize("name", ["churn\n", "a..b", "model.lock", "fraud.eu"])
def test_refuses_names_git_or_gto_cannot_carry(registry: Registry, train: Path, name: str) -> None:
    before = _state(registry)
    res = registry.run(
        "register", name, "--version", "1.0.0", "--artifact", str(train / "model.pkl")
    )
    assert res.code == 2, res.err
    assert "is not a valid name" in res.err
    assert _state(registry) == before


def test_refuses_artifact_names_that_differ_only_in_case(
    registry: Registry, tmp_path: Path
) -> None:
    a = make_artifact(tmp_path / "a" / "Model.pkl")
    b = make_artifact(tmp_path / "b" / "model.pkl")
    res = registry.run(
        "register", "churn", "--version", "1.0.0", "--artifact", str(a), "--artifact", str(b)
    )
    assert res.code == 2 and "same file name (ignoring case)" in res.err
