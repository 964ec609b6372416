"""The layout's rules, checked: the import-linter contracts in pyproject.toml, no import
cycles, modules of at most 400 lines and functions of at most 60 (docs/architecture.md)."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src" / "gitreg"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _lint_imports() -> str:
    exe = Path(sys.executable).parent / "lint-imports"
    found = str(exe) if exe.exists() else shutil.which("lint-imports")
    if found is None:
        pytest.skip("lint-imports is not installed: pip install import-linter (the dev extra)")
    return found


def test_import_contracts_hold() -> None:
    proc = subprocess.run([_lint_imports(), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 broken" in proc.stdout


def test_the_contracts_catch_a_back_edge(tmp_path: Path) -> None:
    """A copy of the package with model/ importing ops/ must break the layers contract."""
    pkg = tmp_path / "src" / "gitreg"
    shutil.copytree(SRC, pkg)
    layout = pkg / "model" / "layout.py"
    layout.write_text(layout.read_text() + "\nfrom gitreg.ops import resolve  # noqa\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    env = {"PYTHONPATH": str(tmp_path / "src"), "PATH": str(Path(sys.executable).parent)}
    proc = subprocess.run(
        [_lint_imports(), "--no-cache"], cwd=tmp_path, capture_output=True, text=True, env=env
    )
    assert proc.returncode != 0
    assert "gitreg.model is not allowed to import gitreg.ops" in proc.stdout


def _module(path: Path) -> str:
    rel = path.relative_to(SRC.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, name: str) -> set[str]:
    """gitreg modules `path` imports at run time (TYPE_CHECKING blocks excluded)."""
    tree = ast.parse(path.read_text())
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for n in ast.walk(node)}
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("gitreg")}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("gitreg"):
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out - {name}


def test_no_import_cycles() -> None:
    files = {_module(p): p for p in SRC.rglob("*.py")}
    graph = {m: {i for i in _imports(p, m) if i in files} for m, p in files.items()}
    # packages' __init__ modules hold docstrings only (the root's imports lazily)
    cycles = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*stack, nxt])
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def test_modules_and_functions_stay_small() -> None:
    big_modules, big_functions = [], []
    for path in sorted(SRC.rglob("*.py")):
        text = path.read_text()
        if len(text.splitlines()) > MAX_MODULE_LINES:
            big_modules.append(f"{_module(path)}: {len(text.splitlines())} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    big_functions.append(f"{_module(path)}.{node.name}: {lines} lines")
    assert big_modules == [] and big_functions == []


def test_only_store_spawns_processes_or_opens_sockets() -> None:
    allowed = {"store", "evaluation"}  # evaluation runs the evaluator processes
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        layer = path.relative_to(SRC).parts[0]
        text = path.read_text()
        if layer not in allowed and any(
            word in text for word in ("import subprocess", "import socket", "urllib.request")
        ):
            offenders.append(_module(path))
    assert offenders == []
