"""Start-up is most of what `resolve` and a warm `list` cost: what they may not import.

Measured with `python -X importtime` (docs/performance.md): pydantic (~100 ms), DVC, ruamel,
the release checks of `--verify` and `secrets` (hmac, hashlib's OpenSSL wrappers) are kept
out of resolve's import closure; a warm `list` answers from the object-id cache without
loading pydantic. Through the console script, resolve also loads no PyYAML (the plain
block YAML it reads goes through model/blockyaml.py), configobj (store/dvcconfig._plain),
dataclasses and the inspect/ast/dis/tokenize it imports (gitreg.record), pathlib, urllib or
ipaddress: each was milliseconds of its start-up.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402

RESOLVE_MAY_NOT = {
    "pydantic",
    "dvc",
    "ruamel",
    "secrets",
    "gitreg.registry.audit",
    "gitreg.store.signing",
    "gitreg.registry.cache",
    "gitreg.model.manifest",
    "yaml_rs",  # the fast YAML path is for reads of many files (yamlio.FAST_AFTER)
}


# ... nor, through the console script (gitreg.entry), click, the command modules or what
# only other commands and the URL path use
ENTRY_MAY_NOT = RESOLVE_MAY_NOT | {
    "click",
    "gitreg.cli",
    "typing",
    "tempfile",
    "shutil",
    "hashlib",
    "uuid",
    "importlib.metadata",
    "json",
    "gitreg.model.diff",
    # docs/performance.md, "Start-up": what the fast paths replaced
    "yaml",
    "configobj",
    "dataclasses",
    "inspect",
    "ast",
    "dis",
    "tokenize",
    "pathlib",
    "urllib",
    "ipaddress",
}


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("startup") / "reg"
    generate.generate(generate.Size.parse("3x5"), path, payloads=False)
    return path


def _imported(repo: Path, *args: str) -> set[str]:
    code = (
        "import sys\nfrom gitreg.cli import main\n"
        f"rc = main({list(args)!r})\n"
        "print('MODULES', ' '.join(sorted(sys.modules)))\nsys.exit(rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=repo)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES "))
    return set(line.split()[1:])


def _heavy(modules: set[str], banned: set[str]) -> list[str]:
    return sorted(m for m in modules if m in banned or m.split(".")[0] in banned)


@pytest.mark.parametrize("ref", ["m2@production", "m2@latest", "m2@1.1.0"])
def test_resolve_imports_nothing_heavy(reg: Path, ref: str) -> None:
    modules = _imported(reg, "resolve", ref)
    assert "gitreg.registry.released" in modules  # it did resolve
    assert _heavy(modules, RESOLVE_MAY_NOT) == []


@pytest.mark.parametrize(
    "args",
    [["m2@production"], ["m2@latest"], ["m2@1.1.0"], ["--json", "m2@staging"]],
    ids=" ".join,
)
def test_console_script_resolve_loads_no_click(reg: Path, args: list[str]) -> None:
    code = (
        "import sys\nfrom gitreg.entry import main\n"
        f"rc = main(['resolve', *{args!r}])\n"
        "print('MODULES', ' '.join(sorted(sys.modules)))\nsys.exit(rc)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=reg)
    assert proc.returncode == 0, proc.stderr
    line = next(x for x in proc.stdout.splitlines() if x.startswith("MODULES "))
    modules = set(line.split()[1:])
    assert "gitreg.registry.released" in modules  # it did resolve
    assert "gitreg.model.blockyaml" in modules  # and read its YAML without PyYAML
    banned = ENTRY_MAY_NOT - {"json"} if "--json" in args else ENTRY_MAY_NOT
    assert _heavy(modules, banned) == []


def test_resolve_by_url_imports_nothing_heavy(reg: Path, tmp_path: Path) -> None:
    modules = _imported(tmp_path, "resolve", "-C", reg.as_uri(), "m2@staging")
    assert "gitreg.store.remote" in modules
    assert _heavy(modules, RESOLVE_MAY_NOT) == []


def test_warm_list_does_not_load_pydantic(reg: Path) -> None:
    cold = _imported(reg, "list")
    assert "pydantic" in cold  # the first run parses model.yaml files
    warm = _imported(reg, "list")
    assert _heavy(warm, {"pydantic", "gitreg.model.manifest"}) == []


def test_the_fast_path_leaves_the_garbage_collector_as_it_found_it(
    reg: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import gc

    from gitreg.entry import main

    assert gc.isenabled()
    assert main(["resolve", "-C", str(reg), "m2@production"]) == 0
    assert gc.isenabled()  # off only while it resolved
    assert main(["resolve", "-C", str(reg), "m2@nope"]) != 0  # an error on the way out too
    assert gc.isenabled()
    gc.disable()
    try:
        assert main(["resolve", "-C", str(reg), "m2@production"]) == 0
        assert not gc.isenabled()  # a caller's choice stays
    finally:
        gc.enable()
    assert "m2@" in capsys.readouterr().out
