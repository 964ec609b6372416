"""Read commands: list, show, history, diff. They read git objects at a ref, never DVC."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import Registry


def _promote(reg: Registry, mapping: dict[str, str], message: str) -> None:
    text = "schema: gitreg/v1\n" + "".join(f"{k}: {v}\n" for k, v in mapping.items())
    (reg.path / "models/churn/stages.yaml").write_text(text)
    reg.commit_all(message)


def _second_version(reg: Registry, train: Path) -> None:
    (train / "m2.json").write_text('{"f1": 0.95, "accuracy": 0.96, "auc": 0.9}')
    (train / "p2.yaml").write_text("C: 0.5\nsolver: lbfgs\n")
    res = reg.run(
        "register",
        "churn",
        "--version",
        "1.1.0",
        "--artifact",
        str(train / "model.pkl"),
        "--metrics",
        str(train / "m2.json"),
        "--params",
        str(train / "p2.yaml"),
        "--here",
    )
    assert res.code == 0, res.err


def test_list_and_show(registered: Registry, train: Path) -> None:
    _second_version(registered, train)
    _promote(registered, {"staging": "1.1.0", "production": "1.0.0"}, "stages")
    res = registered.run("list", "--json")
    assert res.code == 0
    assert res.json() == [
        {
            "name": "churn",
            "description": "",
            "owners": [],
            "task": None,
            "labels": {},
            "latest": "1.1.0",
            "versions": ["1.0.0", "1.1.0"],
            "stages": {"staging": "1.1.0", "production": "1.0.0"},
        }
    ]
    text = registered.run("list").out
    assert "churn" in text and "staging=1.1.0" in text
    assert registered.run("list", "--stage", "qa", "--json").json() == []
    assert "No model has a version in stage 'qa'" in registered.run("list", "--stage", "qa").out
    shown = registered.run("show", "churn", "--json").json()
    assert isinstance(shown, dict)
    assert [v["version"] for v in shown["versions"]] == ["1.0.0", "1.1.0"]
    assert shown["versions"][1]["metrics"]["auc"] == 0.9
    one = registered.run("show", "churn@1.1.0", "--json").json()
    assert isinstance(one, dict)
    assert one["version"] == "1.1.0" and one["stages"] == ["staging"]
    assert one["params"] == {"C": 0.5, "solver": "lbfgs"}
    text = registered.run("show", "churn@1.0.0").out
    assert "churn@1.0.0" in text and "production" in text and "model.pkl" in text


def test_history(registered: Registry, train: Path) -> None:
    _second_version(registered, train)
    _promote(registered, {"staging": "1.1.0"}, "stage 1.1.0")
    _promote(registered, {"production": "1.1.0"}, "swap")
    events = registered.run("history", "churn", "--json").json()
    assert isinstance(events, list)
    assert [(e["kind"], e["version"], e["stage"]) for e in events] == [
        ("registered", "1.0.0", None),
        ("registered", "1.1.0", None),
        ("promoted", "1.1.0", "staging"),
        ("promoted", "1.1.0", "production"),
        ("demoted", "1.1.0", "staging"),
    ]
    assert events[0]["author"] == "Ada Tester <ada@example.com>"


def test_diff(registered: Registry, train: Path) -> None:
    _second_version(registered, train)
    d = registered.run("diff", "churn", "1.0.0", "1.1.0", "--json").json()
    assert isinstance(d, dict)
    metrics = {m["metric"]: m for m in d["metrics"]}
    assert round(metrics["f1"]["delta"], 6) == 0.04
    assert metrics["auc"] == {"metric": "auc", "a": None, "b": 0.9, "delta": None}
    assert d["params"] == [{"field": "C", "a": 1.0, "b": 0.5}]
    assert "+0.04" in registered.run("diff", "churn", "1.0.0", "1.1.0").out


def test_reads_ignore_the_working_tree(registered: Registry) -> None:
    (registered.path / "models/churn/stages.yaml").write_text("schema: gitreg/v1\nstaging: 1.0.0\n")
    assert registered.run("list", "--json").json()[0]["stages"] == {}  # type: ignore[index]
    registered.commit_all("stage")
    assert registered.run("list", "--json").json()[0]["stages"] == {"staging": "1.0.0"}  # type: ignore[index]
    assert registered.run("list", "--ref", "HEAD~1", "--json").json()[0]["stages"] == {}  # type: ignore[index]


def test_unknown_things_are_clear_errors(registered: Registry, tmp_path: Path) -> None:
    res = registered.run("show", "nope")
    assert res.code == 3 and "model 'nope' not found at HEAD (known models: churn)" in res.err
    res = registered.run("show", "churn@2.0.0")
    assert res.code == 3 and "churn@2.0.0 not found at HEAD (versions: 1.0.0)" in res.err
    res = registered.run("list", "--ref", "nope")
    assert res.code == 3 and "ref 'nope' does not name a commit" in res.err
    plain = tmp_path / "plain"
    plain.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=plain, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "x"], cwd=plain, check=True)
    res = Registry(plain, plain, plain).run("list")
    assert res.code == 3 and "not a gitreg registry" in res.err


def test_read_commands_never_import_dvc(registered: Registry, train: Path) -> None:
    _second_version(registered, train)
    for args in (
        ["list"],
        ["show", "churn"],
        ["show", "churn@1.0.0"],
        ["history", "churn"],
        ["diff", "churn", "1.0.0", "1.1.0"],
        ["validate"],
        ["--help"],
    ):
        code = (
            "import sys\n"
            "from gitreg.cli import main\n"
            f"rc = main({[*args, '-C', str(registered.path)] if args != ['--help'] else args!r})\n"
            "heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('dvc', 'dvc_data', 'git'))\n"
            "print('IMPORTED', heavy)\n"
            "sys.exit(rc)\n"
        )
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert proc.returncode == 0, (args, proc.stderr)
        assert "IMPORTED []" in proc.stdout, (args, proc.stdout[-300:])


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys\nfrom gitreg.cli import main\n"
        "try:\n    main(['--help'])\nfinally:\n"
        "    print('MODS', sorted(m for m in sys.modules if m.split('.')[0] in "
        "('pydantic', 'yaml', 'dvc', 'ruamel')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "MODS []" in proc.stdout, proc.stdout[-300:]


def test_list_filter(registered: Registry, train: Path, tmp_path: Path) -> None:
    _second_version(registered, train)  # churn latest 1.1.0: f1 0.95
    other = tmp_path / "fraud.bin"
    other.write_bytes(b"fraud")
    (tmp_path / "fm.json").write_text('{"f1": 0.7}')
    assert (
        registered.run(
            "register",
            "fraud",
            "--version",
            "0.1.0",
            "--artifact",
            str(other),
            "--metrics",
            str(tmp_path / "fm.json"),
            "--here",
        ).code
        == 0
    )
    model = registered.path / "models/fraud/model.yaml"
    model.write_text(model.read_text().replace("labels: {}", "labels:\n  team: risk"))
    _promote(registered, {"staging": "1.1.0"}, "stage churn")

    def names(expr: str) -> list[str]:
        res = registered.run("list", "--filter", expr, "--json")
        assert res.code == 0, res.err
        out = res.json()
        assert isinstance(out, list)
        return [m["name"] for m in out]

    assert names("metrics.f1 > 0.9") == ["churn"]
    assert names("tags.team = 'risk'") == ["fraud"]
    assert names("name LIKE 'ch%' OR tags.team = 'risk'") == ["churn", "fraud"]
    assert names("stage = 'staging' AND metrics.f1 >= 0.95") == ["churn"]
    assert names("NOT (metrics.f1 > 0.9)") == ["fraud"]
    res = registered.run("list", "--filter", "metrics.f1 >")
    assert res.code == 2 and "column" in res.err and "Traceback" not in res.err
