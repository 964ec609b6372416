"""Issue 10, part B, end to end through `gitreg evaluate` on real registries: significance
from per-row scores and bootstrap blocks, rollbacks, overrides (stages.yaml comment, label,
approval through the fake GitHub, the release tag's trailer), reused results, the JSON's
environment and the Actions annotations.

The evaluator is a command the registry holds (`scripts/score.py`): a "model" is a JSON
file listing the rows it gets wrong out of 150, and the command reports accuracy with its
per-row scores or a bootstrap block drawn by `gitreg.evaluation.resample.counts`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import Registry, copy_registry, isolate, run
from fakegithub import FakeGitHub
from test_evaluate import register, report_of, set_stages, track_holdout, verdicts

PY = sys.executable
ROWS = 150
SCRIPT = """
import json, sys
model, out, mode = sys.argv[1], sys.argv[2], sys.argv[3]
spec = json.load(open(model))
if spec.get("broken"):
    sys.exit("broken model")
rows, wrong = spec["rows"], set(spec["wrong"])
scores = [0.0 if i in wrong else 1.0 for i in range(rows)]
result = {"accuracy": sum(scores) / rows, "environment": {"python": sys.version.split()[0]}}
if mode == "per_row":
    result["per_row"] = {"accuracy": scores}
elif mode == "bootstrap":
    from gitreg.evaluation.resample import counts
    draws = [float(c @ scores) / rows for c in counts(0, 1000, rows)]
    result["bootstrap"] = {"samples": 1000, "seed": 0, "rows": rows, "metrics": {"accuracy": draws}}
json.dump(result, open(out, "w"))
"""


def policy(mode: str = "per_row", significance: bool = True, **metric: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "dataset": "data/holdout.csv",
        "command": [PY, "scripts/score.py", "{model}", "{output}", mode],
        "timeout": 60,
        "metrics": {"accuracy": metric or {"max_regression": 0.01}},
    }
    if significance:
        out["significance"] = {"samples": 1000, "confidence": 0.95, "seed": 0}
    return out


def write_policy(reg: Registry, evaluation: dict[str, Any], message: str = "Policy") -> None:
    path = reg.path / "models/churn/model.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["evaluation"] = evaluation
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    reg.commit_all(message)


def model_file(where: Path, version: str, **spec: Any) -> Path:
    path = where / f"m{version}" / "model.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"rows": ROWS, **spec}))
    return path


VERSIONS = {
    "1.0.0": {"wrong": list(range(15))},  # accuracy 0.9
    "1.1.0": {"wrong": [*range(2, 15), 15, 16, 140, 141]},  # 0.8867: -0.0133, other rows
    "1.2.0": {"wrong": list(range(45))},  # 0.7: a real regression
    "1.3.0": {"broken": True},  # cannot be measured
}


def build(reg: Registry, where: Path) -> None:
    """churn 1.0.0 .. 1.3.0; main: staging and production hold 1.0.0."""
    track_holdout(reg)
    (reg.path / "scripts").mkdir()
    (reg.path / "scripts/score.py").write_text(SCRIPT)
    reg.commit_all("Evaluator")
    for version, spec in VERSIONS.items():
        register(reg, version, model_file(where, version, **spec))
    write_policy(reg, policy())
    set_stages(reg, {"staging": "1.0.0", "production": "1.0.0"})


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("home"))
        where = tmp_path_factory.mktemp("sig")
        assert run("init", str(where / "reg"), "--remote", str(where / "dvc-remote")).code == 0
        reg = Registry(where / "reg", where / "dvc-remote", where / "origin.git")
        build(reg, where)
        yield reg


@pytest.fixture
def reg(template: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return copy_registry(template, tmp_path)


def on_branch(reg: Registry, branch: str, stages: str, evaluation: dict[str, Any] | None = None):
    """A pull request branch from main: its stages.yaml text (and maybe a policy on main)."""
    if evaluation is not None:
        write_policy(reg, evaluation, "Policy on main")
    reg.git("checkout", "-q", "-b", branch, "main")
    (reg.path / "models/churn/stages.yaml").write_text("schema: gitreg/v1\n" + stages)
    reg.commit_all(f"Change on {branch}")
    reg.git("checkout", "-q", "main")


def changed(reg: Registry, branch: str, *extra: str) -> tuple[int, dict[str, Any]]:
    res = reg.run("evaluate", "--changed", "--base", "main", "--ref", branch, "--json", *extra)
    assert res.code in (0, 1), res.err + res.out
    return res.code, report_of(res.out)


# --- significance -------------------------------------------------------------------------------


def test_noise_on_150_rows_is_not_a_regression(reg: Registry) -> None:
    """Issue 10: a drop of 0.01 on 150 held-out rows is noise, but the gate called it one."""
    on_branch(reg, "noise", "staging: 1.1.0\nproduction: 1.0.0\n")
    code, report = changed(reg, "noise")
    acc = verdicts(report)["accuracy"]
    assert code == 0 and report["outcome"] == "passed"
    assert acc["delta"] == pytest.approx(-2 / 150)
    assert acc["significance"] == "not significant"
    lo, hi = acc["interval"]
    assert lo < acc["delta"] < 0 < hi
    assert acc["reason"].startswith("dropped by 0.01333 against the baseline (allowed 0.01), not")
    text = reg.run("evaluate", "--changed", "--base", "main", "--ref", "noise").out
    assert "pass (not significant)" in text and f"-0.01333 [{lo:+.4g}, {hi:+.4g}]" in text
    assert "paired-bootstrap interval" in text, text


def test_a_real_regression_is_significant(reg: Registry) -> None:
    on_branch(reg, "worse", "staging: 1.2.0\nproduction: 1.0.0\n")
    code, report = changed(reg, "worse")
    acc = verdicts(report)["accuracy"]
    assert code == 1 and (acc["verdict"], acc["significance"]) == ("fail", "significant")
    assert acc["interval"][1] < -0.01


def test_without_significance_the_noise_fails(reg: Registry) -> None:
    on_branch(reg, "plain", "staging: 1.1.0\nproduction: 1.0.0\n", policy(significance=False))
    code, report = changed(reg, "plain")
    acc = verdicts(report)["accuracy"]
    assert code == 1 and (acc["interval"], acc["significance"]) == (None, None)


def test_a_bootstrap_block_gives_the_same_interval(reg: Registry) -> None:
    on_branch(reg, "noise", "staging: 1.1.0\nproduction: 1.0.0\n")
    _, per_row = changed(reg, "noise")
    write_policy(reg, policy("bootstrap"))
    _, boot = changed(reg, "noise")
    assert verdicts(boot)["accuracy"]["interval"] == pytest.approx(
        verdicts(per_row)["accuracy"]["interval"]
    )  # resample i: the same rows, whoever draws them


def test_without_resampled_scores_the_plain_rule_applies(reg: Registry) -> None:
    on_branch(reg, "none", "staging: 1.1.0\nproduction: 1.0.0\n", policy("plain"))
    code, report = changed(reg, "none")
    acc = verdicts(report)["accuracy"]
    assert code == 1 and acc["significance"] == "not judged"
    assert (
        "significance not judged (the candidate's evaluation reported no resampled"
        in (acc["reason"])
    )


def test_min_improvement_must_be_significant(reg: Registry) -> None:
    set_stages(reg, {"staging": "1.1.0", "production": "1.0.0"})  # main: staging holds 1.1.0
    on_branch(
        reg, "gain", "staging: 1.0.0\nproduction: 1.0.0\n",
        {**policy(min_improvement=0.005), "rollback": "full"},
    )  # fmt: skip
    code, report = changed(reg, "gain")
    acc = verdicts(report)["accuracy"]
    # 1.0.0 beats 1.1.0 by 0.0133 (more than 0.005), but the interval reaches below 0
    assert code == 1 and acc["reason"].startswith("improved by 0.01333, not significantly")
    assert acc["significance"] == "not significant"


# --- reports --------------------------------------------------------------------------------


def test_the_baseline_is_shown_when_the_candidate_fails(reg: Registry) -> None:
    """Issue 10: BASELINE showed "-" and verdicts[].baseline was null on a failure."""
    on_branch(reg, "broken", "staging: 1.3.0\nproduction: 1.0.0\n")
    code, report = changed(reg, "broken")
    acc = verdicts(report)["accuracy"]
    assert code == 1 and (acc["baseline"], acc["candidate"]) == (0.9, None)
    assert acc["reason"].startswith("not measured: exited with code 1: broken model")
    text = reg.run("evaluate", "--changed", "--base", "main", "--ref", "broken").out
    row = next(line.split() for line in text.splitlines() if line.split()[:1] == ["accuracy"])
    assert row[:3] == ["accuracy", "0.9", "-"]


def test_environment_and_annotations(reg: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    on_branch(reg, "worse", "staging: 1.2.0\nproduction: 1.0.0\n")
    _, report = changed(reg, "worse")
    env = report["environment"]
    assert set(env) == {"baseline", "candidate"}
    md5 = yaml.safe_load((reg.path / "data/holdout.csv.dvc").read_text())["outs"][0]["md5"]
    assert env["candidate"]["dataset_md5"] == md5 and env["candidate"]["seed"] == 0
    assert env["candidate"]["evaluator"] == "command" and env["candidate"]["gitreg"]
    assert env["candidate"]["python"] == sys.version.split()[0]  # what the evaluator said
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    res = reg.run("evaluate", "--changed", "--base", "main", "--ref", "worse")
    errors = [line for line in res.out.splitlines() if line.startswith("::error ")]
    assert errors == [
        "::error title=gitreg evaluate%3A churn 1.2.0 -> staging failed::accuracy: dropped by "
        + verdicts(report)["accuracy"]["reason"].removeprefix("dropped by ").replace("%", "%25")
    ]
    assert "churn 1.2.0 -> staging against 1.0.0: FAILED" in res.out


# --- rollback and override ------------------------------------------------------------------


def promote_on_main(reg: Registry, stages: dict[str, str]) -> None:
    set_stages(reg, stages, "Merged promotion")


def test_a_rollback_is_gated_on_min_max_only(reg: Registry) -> None:
    """Issue 10: rolling back to a slightly worse version was refused like a promotion."""
    write_policy(reg, policy(significance=False, min=0.8, max_regression=0.001))
    promote_on_main(reg, {"staging": "1.1.0", "production": "1.1.0"})
    promote_on_main(reg, {"staging": "1.0.0", "production": "1.0.0"})  # 1.1.0 -> 1.0.0
    on_branch(reg, "back", "staging: 1.0.0\nproduction: 1.1.0\n")  # 1.1.0 held it before
    code, report = changed(reg, "back")
    assert code == 0 and report["kind"] == "rollback"
    acc = verdicts(report)["accuracy"]
    assert acc["baseline"] == 0.9 and acc["reason"].startswith("within min/max (a rollback")
    assert any("rollback: 1.1.0 held production before" in n for n in report["notes"])
    on_branch(reg, "worse", "staging: 1.0.0\nproduction: 1.2.0\n")  # never held it
    code, report = changed(reg, "worse")
    assert code == 1 and report["kind"] == "promotion"
    write_policy(reg, {**policy(significance=False, min=0.8, max_regression=0.001),
                       "rollback": "full"})  # fmt: skip
    code, report = changed(reg, "back")
    assert code == 1 and report["kind"] == "promotion"


OVERRIDE = "schema: gitreg/v1\n# gitreg-override: incident 4711, accepted by the owners\n"


def event_file(tmp_path: Path, number: int, head: str, labels: list[str] = ()) -> Path:
    path = tmp_path / "event.json"
    pull = {"number": number, "head": {"sha": head}, "labels": [{"name": n} for n in labels]}
    path.write_text(json.dumps({"pull_request": pull}))
    return path


def test_override_in_stages_yaml_counts_once_approved(
    reg: Registry, fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reg.git("checkout", "-q", "-b", "urgent", "main")
    (reg.path / "models/churn/stages.yaml").write_text(
        OVERRIDE + "staging: 1.2.0\nproduction: 1.0.0\n"
    )
    head = reg.commit_all("Promote 1.2.0 despite the gate")
    reg.git("checkout", "-q", "main")
    code, report = changed(reg, "urgent")  # no pull request event: cannot be approved
    assert code == 1 and report["outcome"] == "failed"
    assert report["override"]["reason"] == "incident 4711, accepted by the owners"
    assert "no pull request event" in report["override"]["pending"]
    number = fake_github.add_pull("urgent")
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event_file(tmp_path, number, head)))
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo-org/models")
    code, report = changed(reg, "urgent")
    assert code == 1 and "none has yet" in report["override"]["pending"]
    fake_github.add_review(number, "alice", "APPROVED", commit_id="0" * 40)  # an older push
    assert changed(reg, "urgent")[0] == 1
    fake_github.add_review(number, "alice", "APPROVED", commit_id=head)
    code, report = changed(reg, "urgent")
    assert code == 0 and report["outcome"] == "overridden" and report["passed"] is True
    assert report["override"]["approved_by"] == ["alice"]
    assert verdicts(report)["accuracy"]["verdict"] == "fail"  # the checks' verdicts stand
    text = reg.run("evaluate", "--changed", "--base", "main", "--ref", "urgent").out
    assert "churn 1.2.0 -> staging against 1.0.0: OVERRIDDEN" in text
    assert "Override (stages.yaml comment): incident 4711, accepted by the owners." in text
    # merged: the release tag records it; a later change does not inherit the old line
    reg.git("merge", "-q", "--no-ff", "-m", "Merge pull request #1 from urgent", "urgent")
    assert reg.run("release").code == 0
    message = reg.git("tag", "-l", "--format=%(contents)", "churn#staging#*")
    assert "Override: incident 4711, accepted by the owners" in message
    on_branch(
        reg,
        "later",
        OVERRIDE.removeprefix("schema: gitreg/v1\n") + "staging: 1.2.0\nproduction: 1.2.0\n",
    )
    _, report = changed(reg, "later")
    assert report["override"] is None


def test_override_label_from_the_event_file(
    reg: Registry, fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_branch(reg, "labelled", "staging: 1.2.0\nproduction: 1.0.0\n")
    head = reg.git("rev-parse", "labelled").strip()
    number = fake_github.add_pull("labelled")
    fake_github.add_review(number, "bob", "APPROVED", commit_id=head)
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo-org/models")
    path = event_file(tmp_path, number, head, ["bug"])
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(path))
    assert changed(reg, "labelled")[0] == 1  # approved, but nobody asked for an override
    event_file(tmp_path, number, head, ["gitreg-override: data drift, retrain next week"])
    code, report = changed(reg, "labelled")
    assert code == 0 and report["outcome"] == "overridden"
    assert report["override"]["source"] == "label gitreg-override"
    assert report["override"]["reason"] == "data drift, retrain next week"


# --- reused results -----------------------------------------------------------------------


def cache(reg: Registry) -> Path:
    return reg.path / ".git/gitreg/evaluations"


def test_results_are_reused(reg: Registry) -> None:
    on_branch(reg, "noise", "staging: 1.1.0\nproduction: 1.0.0\n")
    _, first = changed(reg, "noise")  # a miss: both measured, both stored
    assert first["cached"] == [] and len(list(cache(reg).glob("*.json"))) == 2
    _, again = changed(reg, "noise")
    assert again["cached"] == ["baseline", "candidate"]
    assert any(n.startswith("baseline 1.0.0: result reused from the cache") for n in again["notes"])
    assert verdicts(again)["accuracy"]["interval"] == verdicts(first)["accuracy"]["interval"]
    _, fresh = changed(reg, "noise", "--no-cache")
    assert fresh["cached"] == []
    for entry in cache(reg).glob("*.json"):  # corrupt entries: ignored, measured, rewritten
        entry.write_text('{"key": "truncated')
    _, rebuilt = changed(reg, "noise")
    assert rebuilt["cached"] == []
    assert all(json.loads(e.read_text())["key"] == e.stem for e in cache(reg).glob("*.json"))
    write_policy(reg, policy(max_regression=0.02))  # another policy: another key, a miss
    _, other = changed(reg, "noise")
    assert other["cached"] == []


# --- the blocks of a result, and the workflow's cache rule ----------------------------------


@pytest.mark.parametrize(
    ("extra", "error"),
    [
        ({"per_row": {"accuracy": [1, 0], "f1": [1]}}, '"per_row" lists differ in length'),
        ({"per_row": {"accuracy": [1, "x"]}}, "\"per_row.accuracy\" holds 'x', not a finite"),
        ({"per_row": {"accuracy": []}}, '"per_row.accuracy" is not a non-empty list'),
        (
            {"bootstrap": {"samples": 3, "seed": 0, "rows": 2, "metrics": {"accuracy": [1, 1]}}},
            '"bootstrap.metrics.accuracy" holds 2 values, not 3',
        ),
        (
            {"bootstrap": {"samples": 0, "seed": 0, "rows": 2, "metrics": {}}},
            "\"bootstrap.samples\" is '0', not an integer in 1..100000",
        ),
        ({"environment": {"python": ["3.11"]}}, '"environment.python" is not a text or a number'),
    ],
)
def test_malformed_blocks_fail_the_run(tmp_path: Path, extra: dict[str, Any], error: str) -> None:
    from gitreg.evaluation import runner

    out = tmp_path / "metrics.json"
    out.write_text(json.dumps({"accuracy": 0.5, **extra}))
    with pytest.raises(ValueError) as e:
        runner.read_output(out, {"accuracy", "f1"})
    assert str(e.value).startswith(error)


def test_blocks_keep_only_the_policy_metrics(tmp_path: Path) -> None:
    from gitreg.evaluation import runner

    out = tmp_path / "metrics.json"
    boot = {"samples": 2, "seed": 5, "rows": 2, "metrics": {"accuracy": [1, 0.5], "x": [0, 0]}}
    out.write_text(
        json.dumps(
            {"accuracy": 0.75, "per_row": {"accuracy": [1, 0.5], "other": [0, 1]},
             "bootstrap": boot, "environment": {"python": "3.11", "libs": {"numpy": "2.0"}}}
        )
    )  # fmt: skip
    metrics, _, blocks = runner.read_output(out, {"accuracy"})
    assert metrics == {"accuracy": 0.75}
    assert blocks["per_row"] == {"accuracy": [1.0, 0.5]}
    assert blocks["bootstrap"].metrics == {"accuracy": [1.0, 0.5]}
    assert (blocks["bootstrap"].samples, blocks["bootstrap"].seed) == (2, 5)
    assert blocks["environment"] == {"python": "3.11", "libs": {"numpy": "2.0"}}


def test_only_runs_on_main_save_the_cache() -> None:
    """The trust rule of reused results (docs/security.md): pull requests restore, main saves."""
    root = Path(__file__).resolve().parents[1]
    for path in (
        root / "src/gitreg/templates/workflows/evaluate.yml",
        root / ".github/workflows/registry-evaluate.yml",
    ):
        doc = yaml.safe_load(path.read_text())
        steps = next(iter(doc["jobs"].values()))["steps"]
        uses = [(s.get("uses", ""), s.get("if", "")) for s in steps]
        saves = [cond for action, cond in uses if action.startswith("actions/cache/save@")]
        assert saves == ["always() && github.event_name == 'push'"], path
        assert any(a.startswith("actions/cache/restore@") for a, _ in uses), path
        assert not any(a.startswith("actions/cache@") for a, _ in uses), path  # restore+save
        if "workflow_call" not in doc[True]:
            assert doc[True]["push"]["branches"] == ["main"]
            assert "pull_request_target" not in doc[True]
