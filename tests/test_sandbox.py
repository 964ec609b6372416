"""The evaluator's sandbox (`gitreg.evaluation.sandbox`, `jail.py`) and what may reach the
report (`gitreg.evaluation.disclosure`), with real processes: each test runs a small
Python program through `runner.run`, as `gitreg evaluate` runs an evaluator, and reads
what it reports in its output JSON (keys are metric names, values numbers).

Tests of the namespaces skip, saying why, where the machine does not allow unprivileged
user namespaces (docs/evaluation.md says what CI needs).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest

from gitreg.evaluation import disclosure, runner, sandbox
from gitreg.model.gate import Measurement

PY = sys.executable
SECRETS = {
    "GITHUB_TOKEN": "ghp_x" + "1" * 36,
    "AZURE_STORAGE_KEY": "c2VjcmV0LWF6dXJlLXN0b3JhZ2Uta2V5",
    "DVC_REMOTE_READ_SECRET": "dvc-remote-secret-5b1f",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "WEBDAV_PASSWORD": "webdav-password-0c9a",
    "INNOCENT_LOOKING": "not-a-secret-but-dropped",
}
# the whole environment of an evaluator, by name (PASSTHROUGH ones only when set)
ALLOWED = {
    "PATH",
    "HOME",
    "TMPDIR",
    "LANG",
    "LC_ALL",
    "TZ",
    "PYTHONHASHSEED",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONNOUSERSITE",
    *sandbox.THREADS,
}


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    return SECRETS


@pytest.fixture
def full_sandbox() -> sandbox.Isolation:
    how = sandbox.isolation()
    if how.level != "full":
        pytest.skip(f"the full sandbox is unavailable on this machine: {how.reason}")
    return how


PRELUDE = """
import json, os, sys
OUT = sys.argv[1]
def report(**metrics):
    json.dump(metrics, open(OUT, 'w'))
"""


def evaluate(
    tmp_path: Path, code: str, *args: str, timeout: int = 30, hidden: tuple[Path, ...] = ()
) -> Measurement:
    """Run `code` as an evaluator with `args` after the output path: its cwd is the tree
    in the work folder `tmp_path/work`, `OUT` is the output path, and `report(**metrics)`
    writes the output JSON."""
    work = tmp_path / "work"
    tree = work / "tree"
    tree.mkdir(parents=True, exist_ok=True)
    box = sandbox.Sandbox(work, work / "candidate", hidden)
    output = box.writable / "metrics.json"
    argv = [PY, "-c", PRELUDE + code, str(output), *args]
    return runner.run(argv, "candidate", "1.0.0", output, timeout, tree, box)


def attempts(**expressions: str) -> str:
    """Code that reports, for each name, 1 if its expression ran and 0 if it raised OSError."""
    code = "done = {}\n"
    for name, expression in expressions.items():
        code += f"try:\n    {expression}\n    done[{name!r}] = 1\n"
        code += f"except OSError:\n    done[{name!r}] = 0\n"
    return code + "report(**done)\n"


# --- the environment -------------------------------------------------------------------------


def test_environment_is_an_allow_list(tmp_path: Path, secrets: dict[str, str]) -> None:
    measured = evaluate(tmp_path, "report(**{f'{k}={v}': 1 for k, v in os.environ.items()})")
    assert measured.error is None, measured
    env = dict(key.split("=", 1) for key in measured.metrics)
    assert set(env) == ALLOWED | {k for k in sandbox.PASSTHROUGH if k in os.environ}
    assert env["HOME"] == "$TMP/candidate/home" and env["TMPDIR"] == "$TMP/candidate/tmp"
    assert (env["LC_ALL"], env["TZ"], env["PYTHONHASHSEED"]) == ("C.UTF-8", "UTC", "0")
    assert env["PATH"].split(":")[0] == str(Path(PY).parent)  # finds this interpreter
    for value in secrets.values():
        assert value not in json.dumps(measured.metrics)


def test_passthrough_variables_are_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    code = (
        "report(**{'omp': int(os.environ['OMP_NUM_THREADS']), "
        "'core ' + os.environ['OPENBLAS_CORETYPE']: 1})"
    )
    measured = evaluate(tmp_path, code)
    assert measured.metrics == {"omp": 3, "core Haswell": 1}


# --- redaction -------------------------------------------------------------------------------


def test_redactor_rules() -> None:
    parent = {
        "GITHUB_TOKEN": "ghp_abcdefgh12345678",  # dropped and secret-ish
        "MY_API_KEY": "short",  # < 8 characters: left alone
        "BUILD_LABEL": "release-candidate-7",  # dropped: redacted too
        "OMP_NUM_THREADS": "12345678",  # given to the evaluator unchanged: not redacted
        "SERVICE_PASSWORD": "release-candidate-7-extended",  # longer value first
    }
    child = {"OMP_NUM_THREADS": "12345678"}
    shown = disclosure.Redactor(parent, child, Path("/tmp/gitreg-evaluate-x"))
    text = (
        "ghp_abcdefgh12345678 short release-candidate-7-extended release-candidate-7 "
        "12345678 /tmp/gitreg-evaluate-x/project/model.pkl"
    )
    assert shown(text) == "*** short *** *** 12345678 $TMP/project/model.pkl"
    assert shown.keys({"f1 ghp_abcdefgh12345678": 1.0}) == {"f1 ***": 1.0}
    # the policy's metric names stay as they are, so that they still match the policy
    assert shown.keys({"release-candidate-7": 1.0}, known={"release-candidate-7"}) == {
        "release-candidate-7": 1.0
    }
    # a dropped variable whose value is an existing path is not a secret; a secret-looking
    # name is redacted even when its value is a path
    paths = {"VIRTUAL_ENV": sys.prefix, "GOOGLE_APPLICATION_CREDENTIALS": str(Path(PY).parent)}
    shown = disclosure.Redactor(paths, {})
    assert shown(f"{sys.prefix}/lib") == f"{sys.prefix}/lib"
    assert shown(PY) == "***/" + Path(PY).name


PRINTS_SECRET = """
secret = open(sys.argv[2]).read().strip()
print('stdout:', secret)
sys.stderr.write(f'stderr: {secret}\\n')
report(**{'f1': 0.9, secret: 1.0, 'by_slice': {secret: {secret: 0.5}}})
if len(sys.argv) > 3:
    sys.exit(f'failed with {secret}')
"""


@pytest.mark.parametrize("fails", [False, True], ids=["reports", "fails"])
def test_secret_read_from_a_file_is_redacted(
    tmp_path: Path, secrets: dict[str, str], fails: bool
) -> None:
    planted = tmp_path / "work" / "tree" / "leak.txt"
    planted.parent.mkdir(parents=True)
    planted.write_text(secrets["DVC_REMOTE_READ_SECRET"] + "\n")
    measured = evaluate(tmp_path, PRINTS_SECRET, str(planted), *(["fail"] if fails else []))
    text = json.dumps([measured.metrics, measured.by_slice, measured.error, asdict(measured.log)])
    assert secrets["DVC_REMOTE_READ_SECRET"] not in text
    assert measured.log is not None
    assert "stdout: ***" in measured.log.stdout and "stderr: ***" in measured.log.stderr
    if fails:
        assert measured.error == "exited with code 1: failed with ***"
    else:
        assert measured.metrics == {"f1": 0.9, "***": 1.0}
        assert measured.by_slice == {"***": {"***": 0.5}}


def test_foreign_messages_and_names_are_cut() -> None:
    error = ValueError("could not convert string to float: 'jane@example.com,42'\nmore")
    assert disclosure.message(error) == "ValueError: could not convert string to float: '…'"
    assert disclosure.message(KeyError("f0")) == "KeyError: 'f0'"
    listed = ValueError("unseen features ['f0', 'root:x:0:0:root:/root:/bin/bash\\n']")
    assert disclosure.message(listed) == "ValueError: unseen features […]"
    assert disclosure.message(RuntimeError("x" * 500)).endswith("…")
    assert len(disclosure.message(RuntimeError("x" * 500))) <= disclosure.MAX_MESSAGE + 20
    names = disclosure.names(["f0", "a b", "line\nbreak", "x" * 65, *(f"c{i}" for i in range(9))])
    assert names == (
        "'f0', 'a b', <a name not shown>, <a name not shown>, 'c0', 'c1', 'c2', 'c3' and 5 more"
    )


# --- the network -----------------------------------------------------------------------------


@pytest.fixture
def listening() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections; its port."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                server.accept()[0].close()
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    done.set()
    thread.join()
    server.close()


def connects(port: int) -> str:
    connect = f"socket.create_connection(('127.0.0.1', {port}), timeout=2).close()"
    return "import socket\n" + attempts(connected=connect)


def test_no_network_in_the_sandbox(
    tmp_path: Path, listening: int, full_sandbox: sandbox.Isolation
) -> None:
    measured = evaluate(tmp_path, connects(listening))
    assert measured.metrics == {"connected": 0}, measured
    assert sandbox.note(30).startswith("sandbox: no network, a read-only filesystem")


def test_without_unshare_it_runs_and_says_so(
    tmp_path: Path, listening: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sandbox, "UNSHARE", str(tmp_path / "no-unshare"))
    sandbox.isolation.cache_clear()
    try:
        measured = evaluate(tmp_path, connects(listening))
        note = sandbox.note(30)
    finally:
        monkeypatch.undo()
        sandbox.isolation.cache_clear()
    assert measured.metrics == {"connected": 1}  # the server is there: only the sandbox stops it
    assert note.startswith("sandbox: network isolation unavailable: ")
    assert "no-unshare not found (install util-linux)" in note
    assert "4 GiB of memory" in note  # the limits still apply


# --- the limits ------------------------------------------------------------------------------


def test_limits_are_set(tmp_path: Path) -> None:
    code = (
        "import resource\n"
        "report(**{n: resource.getrlimit(getattr(resource, 'RLIMIT_' + n))[0] "
        "for n in ('CPU', 'AS', 'FSIZE', 'CORE')})"
    )
    measured = evaluate(tmp_path, code, timeout=17)
    assert measured.metrics == {
        "CPU": 17,
        "AS": sandbox.MEMORY_LIMIT,
        "FSIZE": sandbox.FILE_LIMIT,
        "CORE": 0,
    }


def test_allocating_8_gib_fails_clearly(tmp_path: Path) -> None:
    measured = evaluate(tmp_path, "data = bytearray(8 << 30)\nreport(f1=1.0)")
    assert measured.error is not None and measured.metrics == {}
    assert measured.error.startswith("exited with code 1: MemoryError")
    assert measured.error.endswith("(evaluators may use at most 4 GiB of memory)")


def test_writing_a_2_gib_file_fails_clearly(tmp_path: Path) -> None:
    code = (
        "with open(os.path.join(os.environ['TMPDIR'], 'big'), 'wb') as f:\n"
        "    f.seek(2 << 30)\n"
        "    f.write(b'x')\n"
        "report(f1=1.0)"
    )
    measured = evaluate(tmp_path, code)
    assert measured.error is not None
    assert "File too large" in measured.error
    assert measured.error.endswith("(evaluators may write files of at most 1 GiB)")


def test_cpu_signal_is_named() -> None:
    assert (
        runner.exit_reason(-24, "", 60)
        == "was killed by SIGXCPU: it used more than its 60 s of CPU time"
    )
    assert runner.exit_reason(-9, "", 60).startswith("was killed by SIGKILL (most likely")
    assert runner.exit_reason(-11, "", 60) == "was killed by SIGSEGV"


def test_nothing_it_started_survives(tmp_path: Path, full_sandbox: sandbox.Isolation) -> None:
    marker = uuid.uuid4().hex
    code = (
        "import subprocess\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', '{marker}'], "
        "start_new_session=True)\nreport(f1=1.0)"
    )
    assert evaluate(tmp_path, code).metrics == {"f1": 1.0}
    time.sleep(0.2)
    alive = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            if marker.encode() in cmdline.read_bytes():
                alive.append(cmdline.parent.name)
        except OSError:
            continue
    assert alive == []


# --- the filesystem --------------------------------------------------------------------------


def test_filesystem_is_read_only_and_private(
    tmp_path: Path,
    secrets: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    full_sandbox: sandbox.Isolation,
) -> None:
    home = Path(os.environ["HOME"])
    (home / ".git-credentials").write_text(f"https://x:{secrets['GITHUB_TOKEN']}@github.com\n")
    checkout = tmp_path / "work" / "checkout"  # as the registry's checkout: hidden
    (checkout / ".dvc").mkdir(parents=True)
    (checkout / ".dvc" / "config.local").write_text("secret_access_key = dvc-local-secret\n")
    venv_probe = Path(sys.prefix) / f"gitreg-sandbox-probe-{uuid.uuid4().hex}"
    code = attempts(
        home="open(os.path.join(os.environ['HOME'], 'x'), 'w').write('x')",
        tmp="open(os.path.join(os.environ['TMPDIR'], 'x'), 'w').write('x')",
        tree="open('in-the-tree', 'w')",
        system=f"open({str(venv_probe)!r}, 'w')",
        credentials=f"open({str(home / '.git-credentials')!r}).read()",
        checkout=f"open({str(checkout / '.dvc' / 'config.local')!r}).read()",
        parent_env=f"open('/proc/{os.getpid()}/environ', 'rb').read()",
    ).replace(
        "report(**done)",
        "status = open('/proc/self/status').read().split('CapEff:')[1].split()[0]\n"
        "report(**done, caps=int(status, 16), pid=os.getpid())",
    )
    try:
        measured = evaluate(tmp_path, code, hidden=(checkout,))
    finally:
        written = venv_probe.exists()
        venv_probe.unlink(missing_ok=True)
    assert not written
    assert measured.metrics == {
        "home": 1,
        "tmp": 1,
        "tree": 0,
        "system": 0,
        "credentials": 0,
        "checkout": 0,
        "parent_env": 0,
        "caps": 0,
        "pid": 1,  # the first process of its own PID namespace
    }, measured


def test_hidden_paths_never_hide_the_system() -> None:
    hidden = sandbox.hidden_paths([Path("/"), Path("/usr"), Path("/")])
    assert "/" not in hidden and "/usr" not in hidden
    assert os.path.realpath("/tmp") in hidden


def test_path_is_minimal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tool on gitreg's PATH but not on the evaluator's is not found."""
    tools = tmp_path / "tools"
    tools.mkdir()
    tool = tools / "only-on-my-path"
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:{os.environ['PATH']}")
    work = tmp_path / "work"
    (work / "tree").mkdir(parents=True)
    box = sandbox.Sandbox(work, work / "candidate")
    output = box.writable / "metrics.json"
    measured = runner.run([tool.name], "candidate", "1.0.0", output, 30, work / "tree", box)
    assert measured.error == (
        "could not start 'only-on-my-path': not found on the evaluator's PATH, or not executable"
    )
