"""Package-wide rules: one home for errors, no exits or message matching in the core, the
Python API's two registries, and one number format in every output."""

from __future__ import annotations

import ast
import builtins
import importlib
import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import gitreg
import gitreg.errors
from conftest import Registry, make_artifact

SRC = Path(gitreg.__file__).parent
F1 = 0.912345678
SHOWN = "0.9123"


def _modules() -> list[str]:
    names = ["gitreg"]
    for info in pkgutil.walk_packages([str(SRC)], "gitreg."):
        if info.name != "gitreg.__main__":  # runs the CLI on import
            names.append(info.name)
    return names


def _sources() -> list[Path]:
    return sorted(SRC.rglob("*.py"))


# --- errors live in gitreg/errors.py -------------------------------------------------------


def test_walk_finds_the_layers() -> None:
    names = set(_modules())
    for layer in ("model", "store", "registry", "ops", "evaluation", "render", "cli"):
        assert f"gitreg.{layer}" in names
    assert {"gitreg.store.git", "gitreg.ops.pull", "gitreg.evaluation.builtin"} <= names


def test_every_exception_class_is_in_errors() -> None:
    misplaced = []
    seen = set()
    for name in _modules():
        module = importlib.import_module(name)
        for obj in vars(module).values():
            if not (isinstance(obj, type) and issubclass(obj, Exception)):
                continue
            if not obj.__module__.startswith("gitreg"):
                continue
            seen.add(obj)
            if obj.__module__ != "gitreg.errors":
                misplaced.append(f"{obj.__module__}.{obj.__qualname__}")
    assert misplaced == []
    assert gitreg.errors.GitregError in seen and gitreg.errors.NotFound in seen


def _exception_names() -> set[str]:
    found = {
        n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)
    }
    found |= {
        n
        for n, v in vars(gitreg.errors).items()
        if isinstance(v, type) and issubclass(v, BaseException)
    }
    return found


def test_no_exception_class_defined_outside_errors_even_nested() -> None:
    """Also classes inside functions, which a module's namespace does not show."""
    bases = _exception_names()
    offenders = []
    for path in _sources():
        if path == SRC / "errors.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.ClassDef):
                continue
            names = {
                b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases
            }
            if names & bases or any(n.endswith(("Error", "Exception")) for n in names):
                offenders.append(f"{path.relative_to(SRC)}:{node.lineno} {node.name}")
    assert offenders == []


# --- no exits and no message matching in the package ---------------------------------------

_MESSAGE_TEST = re.compile(
    r"\bin\s+[\w.\[\]()]*\.message\b"  # "x" in e.message
    r"|\.message\s*(?:==|!=)"  # e.message == "..."
    r"|(?:==|!=)\s*[\w.\[\]()]*\.message\b"
    r"|\.message\.(?:startswith|endswith|find|index|count|lower|__contains__)\("
    r"|re\.\w+\([^)]*\.message\b"  # re.search(..., e.message)
)


def test_no_raise_systemexit_or_message_tests() -> None:
    exits, tests = [], []
    for path in _sources():
        for n, line in enumerate(path.read_text().splitlines(), 1):
            where = f"{path.relative_to(SRC)}:{n}: {line.strip()}"
            if "raise SystemExit" in line:
                exits.append(where)
            if _MESSAGE_TEST.search(line):
                tests.append(where)
    assert exits == []
    assert tests == []


def test_the_message_pattern_catches_what_it_should() -> None:
    for bad in (
        'if "exists" in e.message:',
        "if err.message == 'x':",
        "ok = e.message.startswith('no such')",
        "re.search('gone', e.message)",
    ):
        assert _MESSAGE_TEST.search(bad), bad
    for fine in ('click.echo(f"error: {err.message}")', "self.message = message"):
        assert not _MESSAGE_TEST.search(fine), fine


# --- no fcntl needed to import ------------------------------------------------------------


def test_imports_without_fcntl() -> None:
    code = (
        "import sys\n"
        "sys.modules['fcntl'] = None\n"
        "import gitreg.store.remote, gitreg.api, gitreg.cli\n"
        "assert 'fcntl' not in [m for m, v in sys.modules.items() if v is not None]\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr


# --- the Python API ---------------------------------------------------------------------------


def test_open_gives_local_or_remote(registered: Registry) -> None:
    from gitreg.api import LocalRegistry, RemoteRegistry

    local = gitreg.Registry.open(str(registered.path))
    remote = gitreg.Registry.open(registered.origin.as_uri())
    assert type(local) is LocalRegistry
    assert type(remote) is RemoteRegistry
    assert not issubclass(LocalRegistry, RemoteRegistry)
    assert not issubclass(RemoteRegistry, LocalRegistry)
    for reg in (local, remote):
        for method in ("resolve", "pull", "close"):
            assert callable(getattr(reg, method)), (type(reg).__name__, method)
    assert isinstance(gitreg.Registry.open(registered.path), LocalRegistry)  # a Path too
    local.close()
    remote.close()


# --- one number format -------------------------------------------------------------------------


@pytest.fixture
def metrics_registry(registry: Registry, tmp_path: Path) -> Registry:
    for version, f1, content in (("1.0.0", F1, b"one"), ("1.1.0", 0.8, b"one-one")):
        d = tmp_path / f"train-{version}"
        make_artifact(d / "model.pkl", content)
        (d / "metrics.json").write_text(json.dumps({"f1": f1}))
        registry.register(version, d / "model.pkl", "--metrics", str(d / "metrics.json"))
    (registry.path / "models/churn/stages.yaml").write_text("schema: gitreg/v1\nstaging: 1.1.0\n")
    registry.commit_all("stage 1.1.0")
    return registry


def _row_cells(text: str, metric: str) -> list[str]:
    """The cells of the row that names `metric` (a plain table or a Markdown one)."""
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 1:
            cells = line.split()
        if cells and cells[0] == metric:
            return cells[1:]
    raise AssertionError(f"no {metric} row in:\n{text}")


def test_one_number_format(metrics_registry: Registry) -> None:
    from gitreg.model.gate import GateSummary, Measurement, decide
    from gitreg.ops.stage_change import plan_promotion
    from gitreg.registry.reader import Registry as Reader
    from gitreg.render import gate, pullrequest
    from gitreg.render.numbers import num

    assert num(F1) == SHOWN
    show = metrics_registry.run("show", "churn@1.0.0")
    assert show.code == 0, show.err
    assert _row_cells(show.out, "f1") == [SHOWN]
    diff = metrics_registry.run("diff", "churn", "1.0.0", "1.1.0")
    assert diff.code == 0, diff.err
    assert _row_cells(diff.out, "f1") == [SHOWN, "0.8", num(0.8 - F1, signed=True)]

    with Reader.open(metrics_registry.path, "main") as reader:
        plan = plan_promotion(reader, "churn", "1.0.0", "staging")
    body = pullrequest.pr_body(plan)
    assert _row_cells(body, "f1") == [SHOWN, "0.8", num(F1 - 0.8, signed=True)]

    report = decide(
        "churn", "staging", None, {}, Measurement("1.0.0", {"f1": F1}), None, {"f1": F1}
    )
    summary = GateSummary(ref="main", reports=[report])
    markdown = gate.markdown(summary)
    cells = [_row_cells(line, "f1") for line in markdown.splitlines() if line.startswith("| f1 ")]
    assert cells and cells[0][1] == SHOWN  # metric | baseline | candidate | ...
    assert cells[1] == ["-", "-", SHOWN, SHOWN]  # declared vs measured
    for text in (show.out, diff.out, body, markdown, gate.text(summary)):
        assert SHOWN in text
        assert "0.91234" not in text and "0.912 " not in text
