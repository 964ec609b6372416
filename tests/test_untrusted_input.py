"""Arguments are data (issue 13): URLs and paths from the command line, hostile tags and
listings, corrupt objects and terminal escapes get a clear refusal, never a command run,
a write outside its folder, a lost working tree or a traceback."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path

import pytest

from conftest import Registry, git, make_artifact, run
from gitreg.errors import ArtifactError, RegistryError

INJECTIONS = [
    "--upload-pack=touch {marker};://x",
    "ext::sh -c touch% {marker}",
    "-weird",
    "file://x\n--upload-pack=touch {marker}",
]


@pytest.mark.parametrize("url", INJECTIONS)
@pytest.mark.parametrize("verb", ["resolve", "pull"])
def test_a_repo_argument_never_runs_a_command(tmp_path: Path, url: str, verb: str) -> None:
    marker = tmp_path / "pwned"
    repo = url.format(marker=marker)
    args = [verb, "churn@latest", "--repo", repo]
    res = run(*args, *(["-o", str(tmp_path / "out")] if verb == "pull" else []), cwd=tmp_path)
    assert res.code == 3, res.err
    assert "refused" in res.err or "no such directory" in res.err
    assert "Traceback" not in res.err and not marker.exists()


def test_the_api_refuses_the_same(tmp_path: Path) -> None:
    from gitreg import Registry

    with pytest.raises(RegistryError, match="may not start with '-'"):
        Registry.open(f"--upload-pack=touch {tmp_path / 'x'};://x")
    assert not (tmp_path / "x").exists()


def test_a_missing_directory_is_exit_3(tmp_path: Path) -> None:
    for verb in ("resolve", "list"):
        args = [verb, "churn@latest"] if verb == "resolve" else [verb]
        res = run(*args, "-C", str(tmp_path / "nope"), cwd=tmp_path)
        assert res.code == 3 and "no such directory" in res.err


@pytest.fixture
def released(registered: Registry) -> Registry:
    (registered.path / "models/churn/stages.yaml").write_text("schema: gitreg/v1\nstaging: 1.0.0\n")
    registered.commit_all("Merge pull request #1")
    assert registered.run("release").code == 0
    return registered


def test_pull_never_replaces_a_registry_or_a_git_tree(released: Registry, tmp_path: Path) -> None:
    head = released.git("rev-parse", "HEAD")
    for dest in (released.path, released.path / "models"):
        res = released.run("pull", "churn@staging", "-o", str(dest), "--force")
        assert res.code == 3 and "registry's own working tree" in res.err, res.err
    other = tmp_path / "service"
    git(tmp_path, "init", "-q", str(other))
    (other / "keep.txt").write_text("unpushed work")
    res = released.run("pull", "churn@staging", "-o", str(other), "--force")
    assert res.code == 3 and "holds a git repository" in res.err
    assert (other / "keep.txt").read_text() == "unpushed work" and (other / ".git").is_dir()
    assert released.git("rev-parse", "HEAD") == head and (released.path / ".git").is_dir()


def test_two_artifacts_of_one_name_are_refused(released: Registry) -> None:
    """A version whose manifest names a/model.pkl and b/model.pkl: pull would merge them."""
    src = released.path / "models/churn/artifacts/1.0.0"
    data = json.loads(json.dumps(__import__("yaml").safe_load(
        (released.path / "models/churn/versions/1.0.0.yaml").read_text()
    ), default=str))  # fmt: skip
    art = data["artifacts"][0]
    dst = released.path / "models/churn/artifacts/2.0.0"
    for sub in ("a", "b"):
        (dst / sub).mkdir(parents=True)
        shutil.copy(src / "model.pkl.dvc", dst / sub / "model.pkl.dvc")
    data["version"] = "2.0.0"
    data["artifacts"] = [
        {**art, "path": f"models/churn/artifacts/2.0.0/{sub}/model.pkl"} for sub in ("a", "b")
    ]
    (released.path / "models/churn/versions/2.0.0.yaml").write_text(
        __import__("yaml").safe_dump(data, sort_keys=False)
    )
    released.commit_all("Merge pull request #2")
    assert released.run("release").code == 0
    res = released.run("resolve", "churn@2.0.0")
    assert res.code == 3 and "two artifacts share a file name" in res.err


def test_a_listing_that_climbs_out_is_refused(tmp_path: Path) -> None:
    from gitreg.store import dvc

    project = tmp_path / "project"
    md5 = "0" * 32 + ".dir"
    (project / ".dvc" / "cache" / "files" / "md5" / "00").mkdir(parents=True)
    (project / ".dvc" / "cache" / "files" / "md5" / "00" / md5[2:]).write_text(
        json.dumps([{"md5": "1" * 32, "relpath": "../../escaped"}])
    )
    (project / "model.dvc").write_text(f"outs:\n- md5: {md5}\n  size: 1\n  path: model\n")
    with pytest.raises(ArtifactError, match="outside the artifact's directory"):
        dvc.check_listing(project, "model.dvc")


def test_a_corrupt_object_is_an_error_not_an_empty_file(released: Registry) -> None:
    blob = released.git("rev-parse", "HEAD:models/churn/stages.yaml")
    obj = released.path / ".git" / "objects" / blob[:2] / blob[2:]
    obj.chmod(0o644)
    obj.write_bytes(b"not zlib at all")
    for args in (("validate",), ("release",), ("list",)):
        res = released.run(*args)
        assert res.code == 3, (args, res.err)
        assert "corrupt or unreadable" in res.err and "Traceback" not in res.err


def test_terminal_escapes_are_shown_escaped(released: Registry) -> None:
    spec = released.path / "models/churn/model.yaml"
    spec.write_text(spec.read_text().replace("description: ''", 'description: "a\\e[2Jb\\a"'))
    if "\\e[2J" not in spec.read_text():
        spec.write_text(spec.read_text() + 'description: "a\\e[2Jb\\a"\n')
    released.commit_all("a hostile description")
    for args in (("list",), ("show", "churn"), ("card", "churn")):
        res = released.run(*args)
        assert res.code == 0, res.err
        assert "\x1b" not in res.out and "\x07" not in res.out
        assert "\\x1b[2J" in res.out
    data = released.run("list", "--json").json()
    assert isinstance(data, list) and "\x1b[2J" in data[0]["description"]  # JSON keeps it


def test_a_bad_yaml_tag_value_is_a_manifest_error(released: Registry) -> None:
    cfg = released.path / "gitreg.yaml"
    cfg.write_text(cfg.read_text() + "created: !!timestamp x\n")
    released.commit_all("bad tag")
    res = released.run("validate")
    assert res.code in (1, 3) and "gitreg.yaml" in (res.out + res.err)
    assert "Traceback" not in res.err and "unexpected error" not in res.err


def test_a_filesystem_error_is_exit_3(tmp_path: Path) -> None:
    blocker = make_artifact(tmp_path / "a-file")
    res = run("init", str(blocker / "registry"), cwd=tmp_path)
    assert res.code == 3, res.err
    assert "unexpected error" not in res.err and "Traceback" not in res.err


def test_like_is_linear(registered: Registry) -> None:
    start = time.monotonic()
    res = registered.run("list", "--filter", "name LIKE '%a%a%a%a%a%a%a%a%a%a%a%a%a%a%b'")
    assert res.code == 0 and time.monotonic() - start < 5


def test_a_pointer_that_names_another_path_is_refused(released: Registry, tmp_path: Path) -> None:
    """A `.dvc` pointer whose output climbs out: DVC would write outside the pull's folder."""
    pointer = released.path / "models/churn/artifacts/1.0.0/model.pkl.dvc"
    pointer.write_text(pointer.read_text().replace("path: model.pkl", "path: ../../../escaped"))
    released.commit_all("a hostile pointer")
    released.git("tag", "-f", "-a", "-m", "x", "churn@v1.0.0", "HEAD")
    dest = tmp_path / "out"
    res = released.run("pull", "churn@1.0.0", "-o", str(dest), "--no-verify")
    assert res.code == 3 and "not 'model.pkl'" in res.err
    assert not dest.exists() and not list(tmp_path.rglob("escaped"))


def test_a_killed_fetch_leaves_no_wedged_lock(released: Registry, tmp_path: Path) -> None:
    """The cache lock is an flock on an open file: the kernel drops it when its holder dies."""
    import signal
    import subprocess
    import sys

    cache = tmp_path / "cache"
    env = {"GITREG_CACHE_DIR": str(cache)}
    url = released.origin.as_uri()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom gitreg.store import remote\n"
         "repo = remote._cache_repo(sys.argv[1])\n"
         "with remote._locked(repo / 'gitreg.lock'):\n    print('held', flush=True)\n"
         "    time.sleep(60)\n", url],
        stdout=subprocess.PIPE, text=True, env={**__import__("os").environ, **env},
    )  # fmt: skip
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    holder.send_signal(signal.SIGKILL)
    holder.wait(timeout=10)
    holder.stdout.close()
    start = time.monotonic()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GITREG_CACHE_DIR", str(cache))
        res = released.run("resolve", "churn@staging", "--repo", url)
    assert res.code == 0, res.err
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("target", ["/etc/passwd", "../../outside", "../sub/../../x"])
def test_an_evaluated_tree_with_a_link_out_is_refused(tmp_path: Path, target: str) -> None:
    """evaluate exports the PR's tree: a link that leaves it is exit 3, never exit 4."""
    from gitreg.evaluation.tree import export_tree as _export_tree
    from gitreg.store.git import Git

    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(repo))
    (repo / "ok.txt").write_text("fine")
    (repo / "sub").mkdir()
    (repo / "sub" / "evil").symlink_to(target)
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a link out")
    with pytest.raises(RegistryError, match="a link or path that leaves it"):
        _export_tree(Git(repo), "HEAD", tmp_path / "tree")
    assert not (tmp_path / "tree" / "ok.txt").exists()


def test_an_evaluated_tree_with_links_inside_exports(tmp_path: Path) -> None:
    from gitreg.evaluation.tree import export_tree as _export_tree
    from gitreg.store.git import Git

    repo = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(repo))
    (repo / "data").mkdir()
    (repo / "data" / "a.csv").write_text("x\n1\n")
    (repo / "link.csv").symlink_to("data/a.csv")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a link inside")
    _export_tree(Git(repo), "HEAD", tmp_path / "tree")
    assert (tmp_path / "tree" / "link.csv").read_text() == "x\n1\n"
