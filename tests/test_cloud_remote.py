"""An S3 DVC remote, end to end: real bytes through moto's S3 server on 127.0.0.1.

One registry per module (`init --remote s3://... --remote-opt endpointurl=...`), credentials
from the environment only (fake ones, set here), holding churn 1.0.0 registered, released
and pushed to a bare origin. register, release, resolve, pull and the real `dvc artifacts
get` each read or write the bucket; a registry whose plugin is hidden from Python (as if
`dvc-s3` were not installed) makes every command that touches the remote exit 3 naming the
extra to install.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Registry, git, isolate, make_artifact, run, tool_path

moto_server = pytest.importorskip(
    "moto.server", reason="moto is not installed: pip install -e '.[dev]'"
)
boto3 = pytest.importorskip("boto3", reason="boto3 (with moto) is not installed")
pytest.importorskip("dvc_s3", reason="dvc-s3 is not installed: pip install -e '.[s3]'")

BUCKET = "models"
MODEL = b"\x80\x04K\x02." + bytes(range(256)) * 64  # a 16 KiB "model"
CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing-key-id",
    "AWS_SECRET_ACCESS_KEY": "testing-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_EC2_METADATA_DISABLED": "true",  # never ask the instance-metadata address
}
# hides dvc_s3 from Python in a child process, as an environment without it would
HIDE_PLUGIN = """
import sys

class HidePlugin:
    def find_spec(self, name, path=None, target=None):
        if name == "dvc_s3" or name.startswith("dvc_s3."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, HidePlugin())
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """moto's S3 server on a free loopback port; its endpoint URL."""
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=_free_port())
    server.start()
    try:
        yield f"http://127.0.0.1:{server._port}"
    finally:
        server.stop()


def _client(endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        region_name="us-east-1",
    )


@pytest.fixture(scope="module")
def s3_registry(s3: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """churn 1.0.0 registered to s3://models/dvc, released and pushed to origin."""
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("home"))
        for k, v in CREDENTIALS.items():
            mp.setenv(k, v)
        _client(s3).create_bucket(Bucket=BUCKET)
        where = tmp_path_factory.mktemp("s3reg")
        origin = where / "origin.git"
        git(where, "init", "-q", "--bare", str(origin))
        remote = f"s3://{BUCKET}/dvc"
        res = run(
            "init", str(where / "reg"), "--remote", remote, "--remote-opt", f"endpointurl={s3}"
        )
        assert res.code == 0, res.err
        reg = Registry(where / "reg", where / "no-local-remote", origin)
        reg.git("remote", "add", "origin", origin.as_uri())
        reg.register("1.0.0", make_artifact(where / "train" / "model.pkl", MODEL))
        res = reg.run("release")
        assert res.code == 0, res.err
        reg.git("push", "-q", "origin", "main", "--tags")
        yield reg


@pytest.fixture(autouse=True)
def _credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for k, v in CREDENTIALS.items():
        monkeypatch.setenv(k, v)


def _manifest(reg: Registry) -> dict[str, Any]:
    res = reg.run("resolve", "churn@1.0.0", "--json")
    assert res.code == 0, res.err
    data: dict[str, Any] = json.loads(res.out)
    return data


def test_init_writes_the_endpoint_and_no_credential(s3_registry: Registry, s3: str) -> None:
    dvc = tool_path("dvc")
    shown = subprocess.run(
        [dvc, "config", "remote.default.endpointurl"],
        cwd=s3_registry.path,
        capture_output=True,
        text=True,
    )
    assert shown.stdout.strip() == s3, shown.stderr
    committed = s3_registry.git("show", "HEAD:.dvc/config")
    assert "testing" not in committed and "secret" not in committed


def test_register_puts_the_bytes_where_resolve_says(s3_registry: Registry, s3: str) -> None:
    """resolve --json names the object's S3 URL; the bucket holds the model's bytes there."""
    data = _manifest(s3_registry)
    assert data["tag"] == "churn@v1.0.0"
    md5 = data["artifacts"][0]["md5"]
    key = f"dvc/files/md5/{md5[:2]}/{md5[2:]}"
    assert data["artifacts"][0]["url"] == f"s3://{BUCKET}/{key}"
    assert _client(s3).get_object(Bucket=BUCKET, Key=key)["Body"].read() == MODEL


def test_pull_by_url_downloads_from_s3(
    s3_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From the origin's URL with an empty gitreg cache: the bytes can only come from S3."""
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    res = run("pull", "churn@1.0.0", "--repo", s3_registry.origin.as_uri(), "-o", str(out))
    assert res.code == 0, res.err
    assert (out / "model.pkl").read_bytes() == MODEL
    cached = list((tmp_path / "cache").rglob("files/md5/*/*"))
    assert [p.read_bytes() for p in cached] == [MODEL]


def test_dvc_artifacts_get_reads_the_same_bytes(s3_registry: Registry, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DVC_STUDIO_TOKEN"}
    env["DVC_STUDIO_OFFLINE"] = "1"
    out = tmp_path / "dvc-out"
    url = s3_registry.origin.as_uri()
    proc = subprocess.run(
        [tool_path("dvc"), "artifacts", "get", url, "churn", "--rev", "v1.0.0", "-o", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == MODEL


def _without_plugin(tmp_path: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    hide = tmp_path / "hide"
    hide.mkdir(exist_ok=True)
    (hide / "sitecustomize.py").write_text(HIDE_PLUGIN)
    env = dict(os.environ, PYTHONPATH=str(hide))
    return subprocess.run(
        [sys.executable, "-m", "gitreg", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def _refused(proc: subprocess.CompletedProcess[str]) -> None:
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "unexpected error" not in proc.stderr and "ImportError" not in proc.stderr
    assert f"the DVC remote s3://{BUCKET}/dvc needs DVC's s3 plugin" in proc.stderr
    assert "hint: pip install 'gitreg[s3]'" in proc.stderr


def test_missing_plugin_register_exit_3(s3_registry: Registry, tmp_path: Path) -> None:
    model = make_artifact(tmp_path / "m2" / "model.pkl", MODEL + b"2")
    before = s3_registry.git("rev-parse", "HEAD")
    proc = _without_plugin(
        tmp_path, "register", "churn", "--version", "2.0.0", "--artifact", str(model),
        cwd=s3_registry.path,
    )  # fmt: skip
    _refused(proc)
    assert s3_registry.git("rev-parse", "HEAD") == before
    assert "gitreg/register/churn/2.0.0" not in s3_registry.git("branch", "--list")


def test_missing_plugin_pull_exit_3(
    s3_registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITREG_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    proc = _without_plugin(
        tmp_path, "pull", "churn@1.0.0", "--repo", s3_registry.origin.as_uri(), "-o", str(out),
        cwd=tmp_path,
    )  # fmt: skip
    _refused(proc)
    assert not out.exists()


def test_missing_plugin_evaluate_exit_3(s3_registry: Registry, tmp_path: Path) -> None:
    """evaluate fetches both versions' artifacts (and the data) from the remote."""
    work = tmp_path / "work"
    git(tmp_path, "clone", "-q", s3_registry.origin.as_uri(), str(work))
    spec = work / "models/churn/model.yaml"
    policy = (
        "evaluation:\n  dataset: models/churn/model.yaml\n"
        f"  command: [{json.dumps(sys.executable)}, -c, pass, '{{model}}', '{{output}}']\n"
        "  metrics:\n    f1:\n      min: 0.5\n"
    )
    spec.write_text(spec.read_text() + policy)
    git(work, "commit", "-qam", "policy")
    proc = _without_plugin(tmp_path, "evaluate", "churn", "1.0.0", cwd=work)
    _refused(proc)
