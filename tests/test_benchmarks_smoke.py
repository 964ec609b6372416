"""The benchmark suite at its smallest size, as a smoke test: it runs and gitreg answers right.

A benchmark is not a timed test: nothing here asserts how fast anything is. Peers (GTO,
MLflow, DVC) are skipped, so no venv is made; docs/performance.md has the real runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import generate  # noqa: E402
import run as bench  # noqa: E402

GITREG_OPS = {
    "help",
    "resolve",
    "resolve-latest",
    "resolve-remote-cold",
    "resolve-remote-warm",
    "show",
    "list",
    "list-cold",
    "validate",
    "validate-cold",
    "validate-base",
    "history",
    "release",
    "register",
}


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object]]:
    out = tmp_path_factory.mktemp("bench")
    argv = ["--sizes", "3x5", "--runs", "1", "--no-peers", "--register", "--register-mb", "1"]
    by_size = bench.main([*argv, "--out", str(out)])
    return out, {r.case.op + "/" + r.case.tool: r for r in by_size["3x5"]}


def test_every_operation_runs_and_gitreg_answers_right(
    results: tuple[Path, dict[str, object]],
) -> None:
    _, by_case = results
    assert {k.split("/")[0] for k in by_case} == GITREG_OPS
    for key, r in by_case.items():
        d = r.to_dict()  # type: ignore[attr-defined]
        assert d["error"] is None and d["timed_out_s"] is None, (key, d)
        assert d["runs"] == 1, key
        assert d["answer_ok"] is not False, (key, d["wrong_answer"], d["first_output"])
        if key.endswith("/gitreg") and key.split("/")[0] not in (
            "help",
            "validate",
            "validate-cold",
        ):
            assert d["answer_ok"] is True, key  # every gitreg read checks its answer


def test_answers_are_what_the_generator_made(results: tuple[Path, dict[str, object]]) -> None:
    _, by_case = results
    want = generate.expected(generate.Size(3, 5))
    assert want["stages"] == {"staging": "1.4.0", "production": "1.2.0"}
    resolve = by_case["resolve/gitreg"].to_dict()  # type: ignore[attr-defined]
    assert resolve["first_output"].split()[0] == "m2@1.2.0"
    listing = by_case["list/gitreg"].to_dict()["first_output"]  # type: ignore[attr-defined]
    assert [line.split()[0] for line in listing.splitlines()[1:]] == ["m0", "m1", "m2"]


def test_reports_and_registry(results: tuple[Path, dict[str, object]]) -> None:
    out, _ = results
    summary = (out / "results-summary.md").read_text()
    assert "| `resolve NAME@STAGE` (local) <= 0.10 s | 3x5 |" in summary
    assert "| stage -> version (local) | git (floor) |" in summary
    md = (out / "results-3x5.md").read_text()
    assert "| operation | tool | median | min\u2013max | peak RSS |" in md
    assert "gitreg resolve m2@production" in md
    data = json.loads((out / "results-3x5.json").read_text())
    assert data["registry"]["tags"] > 0 and "gitreg" in data["versions"]
    repo = out / "repos" / "3x5"
    # the release and register cases undid their tags and branches
    doctor = subprocess.run(
        [sys.executable, "-m", "gitreg", "doctor"], cwd=repo, capture_output=True, text=True
    )
    assert doctor.returncode == 0, doctor.stdout + doctor.stderr
    branches = subprocess.run(
        ["git", "branch", "--format=%(refname:short)"], cwd=repo, capture_output=True, text=True
    ).stdout.split()
    assert sorted(branches) == ["bench/register", "bench/release", "main"]
