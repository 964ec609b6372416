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

import json
import os
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


def _imported(repo: Path, *args: str, entry: str = "gitreg.cli") -> set[str]:
    """The modules loaded by `main` of `entry` (gitreg.entry: the console script's path)."""
    code = (
        f"import sys\nfrom {entry} import main\n"
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
    modules = _imported(reg, "resolve", *args, entry="gitreg.entry")
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


# `release` and `validate --base` need pydantic (they validate gitreg.yaml and the manifests
# they read), not what only other paths use: the GitHub client (HTTP, TLS) without a token,
# SSH signing without `signing:` in gitreg.yaml, the filter language; nor pydantic's plugin
# discovery, which reads every installed distribution's metadata (docs/performance.md)
RELEASE_MAY_NOT = {
    "gitreg.store.github",
    "gitreg.store.signing",
    "gitreg.model.query",
    "http",
    "ssl",
    "urllib.request",
}
VALIDATE_BASE_MAY_NOT = {"gitreg.store.github", "gitreg.model.query", "http", "ssl"}
# after the command: the manifest models whose validators were built, and whether pydantic
# looked for plugins (its cache of them stays None when it did not)
_AFTER = (
    "from pydantic import BaseModel\nfrom pydantic.plugin import _loader\n"
    "from gitreg.model import manifest\n"
    "built = [n for n, c in sorted(vars(manifest).items()) if isinstance(c, type) and "
    "issubclass(c, BaseModel) and c.__module__ == manifest.__name__ and "
    "c.__pydantic_complete__]\n"
    "print('\\nBUILT', ' '.join(built))\n"
    "print('PLUGINS', _loader._plugins is not None)\n"
    "print('MODULES', ' '.join(sorted(sys.modules)))\n"
)


def _cli(repo: Path, *args: str, plugins: str | None = None) -> tuple[str, dict[str, str]]:
    """The command's output, and what `_AFTER` found, run as the console script runs without a
    GitHub token (and with PYDANTIC_DISABLE_PLUGINS as `plugins` says: unset for None)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    env.pop("PYDANTIC_DISABLE_PLUGINS", None)
    if plugins is not None:
        env["PYDANTIC_DISABLE_PLUGINS"] = plugins
    code = "import sys\nfrom gitreg.entry import main, plugins_off\nplugins_off()  # as run()\n"
    code += f"rc = main({list(args)!r})\n"
    code += _AFTER + "sys.exit(rc)\n"
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=repo, env=env
    )
    assert proc.returncode == 0, proc.stderr
    out, _, after = proc.stdout.rpartition("\nBUILT ")
    found = dict(line.partition(" ")[::2] for line in ("BUILT " + after).splitlines())
    return out, found


@pytest.fixture()
def merged(tmp_path: Path) -> Path:
    """A registry whose main has one merged promotion that no release has tagged yet."""
    path = tmp_path / "reg"
    generate.generate(generate.Size.parse("3x5"), path, payloads=False)
    subprocess.run(
        ["git", "update-ref", "refs/heads/main", "refs/heads/bench/release"], cwd=path, check=True
    )
    return path


def test_release_loads_only_what_it_uses(merged: Path) -> None:
    out, found = _cli(merged, "release", "--ref", "main", "--json")
    created = [t["tag"] for t in json.loads(out)["created"]]
    assert any(t.startswith("m2#production#") for t in created)  # it did release
    modules = set(found["MODULES"].split())
    assert _heavy(modules, RELEASE_MAY_NOT) == []
    # the validators of gitreg.yaml and stages.yaml only: no version manifest was parsed
    assert found["BUILT"].split() == ["RegistryConfig", "Stages"]
    assert found["PLUGINS"] == "False"


def test_validate_base_loads_only_what_it_uses(reg: Path) -> None:
    out, found = _cli(reg, "validate", "--ref", "bench/register", "--base", "main")
    assert "ok: 1 model(s)" in out
    assert _heavy(set(found["MODULES"].split()), VALIDATE_BASE_MAY_NOT) == []
    assert "ModelSpec" in found["BUILT"].split()  # it did validate the model
    assert found["PLUGINS"] == "False"


def test_a_pydantic_plugins_setting_of_the_user_is_kept(reg: Path) -> None:
    """PYDANTIC_DISABLE_PLUGINS set (even empty: every plugin on) is not overridden."""
    _, found = _cli(reg, "validate", "--ref", "bench/register", "--base", "main", plugins="")
    assert found["PLUGINS"] == "True"


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
