"""The console script (gitreg.entry): plain `resolve` forms are answered without click, and
every form, answered or handed on, prints byte for byte what the click CLI prints and exits
with its code. Both paths run as real processes on a generated registry."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import git
from gitreg.entry import ResolveArgs, parse_resolve

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

# the click CLI, as the console script ran it before gitreg.entry
CLICK = "import sys\nfrom gitreg.cli import main\nsys.exit(main(sys.argv[1:]))\n"
# the console script; says on the file descriptor LOADED_FD whether click was loaded
ENTRY = (
    "import os, sys\nfrom gitreg.entry import main\nrc = main(sys.argv[1:])\n"
    "loaded = b'click' if 'click' in sys.modules else b'none'\n"
    "os.write(int(os.environ['LOADED_FD']), loaded)\nsys.exit(rc)\n"
)


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 models x 5 versions, released; m1's staging also has a hand-made lightweight tag
    (resolves, refused by --verify); a deprecation of m0 1.0.0."""
    path = tmp_path_factory.mktemp("entry") / "reg"
    generate.generate(generate.Size.parse("3x5"), path, payloads=False)
    git(path, "tag", "m1#staging#9", "m1@v1.3.0^{commit}")
    git(path, "tag", "-a", "-m", "Deprecate m0 1.0.0\n\nVersion: 1.0.0", "m0@v1.0.0!", "m0@v1.0.0")
    return path


def _run(code: str, args: list[str], cwd: Path) -> tuple[int, str, str, str]:
    import os

    r, w = os.pipe()
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=cwd,
        capture_output=True,
        pass_fds=(w,),
        env={**os.environ, "LOADED_FD": str(w)},
    )
    os.close(w)
    with os.fdopen(r, "rb") as fh:
        loaded = fh.read().decode()
    return proc.returncode, proc.stdout.decode(), proc.stderr.decode(), loaded


PLAIN = [
    ["resolve", "m2@production"],
    ["resolve", "m2@production", "--json"],
    ["resolve", "--json", "m2@staging", "--verify"],
    ["resolve", "m2@1.3.0"],
    ["resolve", "m2@v1.1.0", "--json"],
    ["resolve", "m2@latest", "--verify", "--json"],
    ["resolve", "m0@1.0.0"],  # deprecated
    ["resolve", "m0@1.0.0", "--json"],
    ["resolve", "m1@staging"],  # the lightweight tag: resolves
    ["resolve", "m1@staging", "--verify"],  # ... and is refused: exit 1
    ["resolve", "m2@canary"],  # errors the op raises: exit 3, or 2 for a bad ref
    ["resolve", "m2@9.0.0"],
    ["resolve", "ghost@production"],
    ["resolve", "m2"],
    ["resolve", "m2@"],
    ["resolve", "@production", "--json"],
    ["resolve", "-C", "{reg}", "m2@staging"],
    ["resolve", "--repo", "{reg}", "m2@production", "--json"],
    ["resolve", "--repo={reg}", "m2@latest"],
    ["resolve", "m2@staging", "-C", "{reg}/models"],  # a subdirectory
    ["resolve", "-C", "{reg}/no-such-dir", "m2@staging"],
    ["resolve", "-C", "{outside}", "m2@staging"],  # not a git repository
    ["resolve", "-C", "{url}", "m2@staging"],
    ["resolve", "-C", "{url}", "m2@production", "--json"],
]

HANDED_ON = [
    ["resolve"],
    ["resolve", "--help"],
    ["resolve", "-h"],
    ["resolve", "m2@production", "extra"],
    ["resolve", "--bogus", "m2@production"],
    ["resolve", "--jso", "m2@production"],
    ["resolve", "-C"],
    ["resolve", "m2@production", "-C"],
    ["resolve", "-C", "--json", "m2@production"],
    ["resolve", "-C", "{reg}", "-C", "{reg}", "m2@production"],
    ["resolve", "--repo=", "m2@production"],
    ["resolve", "--", "m2@production"],
    ["resolve", "-Cx", "m2@production"],
    ["resolve", "-", "--json"],
    ["--traceback", "resolve", "m2@production"],
    ["resolve", "--verify=yes", "m2@production"],
    ["list"],
    ["--version"],
    [],
]


def _args(form: list[str], reg: Path, outside: Path) -> list[str]:
    values = {"reg": str(reg), "outside": str(outside), "url": reg.as_uri()}
    return [a.format(**values) for a in form]


@pytest.mark.parametrize("form", PLAIN + HANDED_ON, ids=lambda f: " ".join(f) or "(none)")
def test_both_paths_print_the_same(form: list[str], reg: Path, tmp_path: Path) -> None:
    args = _args(form, reg, tmp_path)
    click_code, click_out, click_err, _ = _run(CLICK, args, reg)
    code, out, err, loaded = _run(ENTRY, args, reg)
    assert (code, out, err) == (click_code, click_out, click_err)
    fast = parse_resolve(args) is not None
    assert fast == (form in PLAIN)
    if fast and code == 0:
        assert loaded == "none", "a plain resolve loaded click"
    if not fast:
        assert loaded == "click"


def test_the_forms_say_what_they_should(reg: Path, tmp_path: Path) -> None:
    """The comparison above compares something: answers, refusals and usage errors."""
    code, out, _, _ = _run(ENTRY, ["resolve", "m2@production"], reg)
    assert code == 0 and out.startswith("m2@1.2.0 (production)\ntag:    m2#production#")
    assert _run(ENTRY, ["resolve", "m1@staging", "--verify"], reg)[0] == 1
    assert _run(ENTRY, ["resolve", "m2@canary"], reg)[0] == 3
    assert _run(ENTRY, ["resolve"], reg)[0] == 2
    assert "Usage: gitreg resolve" in _run(ENTRY, ["resolve", "--help"], reg)[1]


def test_parse_resolve() -> None:
    assert parse_resolve(["resolve", "a@b"]) == ResolveArgs("a@b", False, ".", False)
    got = parse_resolve(["resolve", "--json", "-C", "x", "a@b", "--verify"])
    assert got == ResolveArgs("a@b", True, "x", True)
    assert parse_resolve(["resolve", "--repo=x=y", "a@b"]) == ResolveArgs(
        "a@b", False, "x=y", False
    )
    assert parse_resolve(["show", "a"]) is None


def test_a_closed_stdout_is_handled_as_click_handles_it(reg: Path) -> None:
    """stdout a pipe nobody reads: the write fails with EPIPE; both exit 1, same stderr."""
    import os

    outcomes = []
    for code in (CLICK, ENTRY):
        r, w = os.pipe()
        os.close(r)
        env = {**os.environ, "LOADED_FD": str(w)}
        proc = subprocess.run(
            [sys.executable, "-c", code, "resolve", "m2@production"],
            cwd=reg,
            stdout=w,
            stderr=subprocess.PIPE,
            pass_fds=(w,),
            env=env,
        )
        os.close(w)
        outcomes.append((proc.returncode, proc.stderr.decode()))
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] == 1
