"""`gitreg card` shows the gate's measurements that `gitreg evaluate` stored in this clone
(the same result key: artifacts, data set, evaluator, policy at the ref, task), marked as
measured in `model-index`, and the declared metrics, saying so, when none is stored: after
`rm -r .git/gitreg/evaluations` (a fresh clone, another machine) or under another policy.
Parsed with the real `huggingface_hub.ModelCard`, offline."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path
from typing import Any

import pytest

from conftest import Registry
from test_evaluate import register, set_policy, track_holdout

SCRIPT = """
import json, sys
model, data, out = sys.argv[1:4]
spec = json.load(open(model))
rows = sum(1 for _ in open(data)) - 1
json.dump({"accuracy": spec["accuracy"], "rows": float(rows)}, open(out, "w"))
"""
DECLARED = {"accuracy": 0.5, "rows": 1.0}


def policy(min_accuracy: float) -> dict[str, Any]:
    return {
        "dataset": "data/holdout.csv",
        "command": [sys.executable, "scripts/score.py", "{model}", "{dataset}", "{output}"],
        "timeout": 60,
        "metrics": {"accuracy": {"min": min_accuracy}, "rows": {"goal": "maximize"}},
    }


@pytest.fixture
def hf(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return pytest.importorskip("huggingface_hub", reason="pip install -e '.[dev]'")


def results(hf: Any, text: str) -> dict[str, Any]:
    return {r.metric_type: r for r in hf.ModelCard(text).data.eval_results}


def card(reg: Registry, *args: str) -> str:
    res = reg.run("card", *args)
    assert res.code == 0, res.err
    return res.out


def test_card_shows_what_evaluate_stored(registry: Registry, tmp_path: Path, hf: Any) -> None:
    track_holdout(registry)
    (registry.path / "scripts").mkdir()
    (registry.path / "scripts/score.py").write_text(SCRIPT)
    registry.commit_all("Evaluator")
    model = tmp_path / "m" / "model.json"
    model.parent.mkdir()
    model.write_text(json.dumps({"accuracy": 0.875}))
    register(registry, "1.0.0", model, DECLARED)
    set_policy(registry, policy(0.8))
    evaluated = registry.git("rev-parse", "HEAD").strip()

    before = results(hf, card(registry, "churn@1.0.0"))  # nothing stored yet: declared
    assert before["accuracy"].metric_value == 0.5
    res = registry.run("evaluate", "churn", "1.0.0", "--json")
    assert res.code == 0, res.err + res.out

    out = card(registry, "churn@1.0.0")
    got = results(hf, out)
    assert {m: r.metric_value for m, r in got.items()} == {"accuracy": 0.875, "rows": 50.0}
    assert got["accuracy"].metric_name == "accuracy (measured by the gate)"
    assert got["accuracy"].dataset_name == "data/holdout.csv"
    assert got["accuracy"].source_url is None  # no URL is known for a local run
    assert "Measured by the evaluation gate: gitreg evaluate, on `data/holdout.csv`." in out
    assert card(registry, "churn") == out  # the latest version: the same lookup
    data = registry.run("card", "churn@1.0.0", "--json").json()
    assert isinstance(data, dict)
    assert data["results"]["kind"] == "measured" and data["results"]["source"] == "gitreg evaluate"

    # another policy at a later ref is another key: evaluate would measure again, the card
    # shows the declared numbers; at the evaluated ref the stored result still counts
    set_policy(registry, policy(0.85), "Tighter policy")
    assert results(hf, card(registry, "churn@1.0.0"))["accuracy"].metric_value == 0.5
    again = results(hf, card(registry, "churn@1.0.0", "--ref", evaluated))
    assert again["accuracy"].metric_value == 0.875

    # a policy whose data set is not in the registry: evaluate would refuse it, the card
    # still renders, with the declared numbers
    set_policy(registry, {**policy(0.8), "dataset": "data/missing.csv"}, "No data")
    assert results(hf, card(registry, "churn@1.0.0"))["accuracy"].metric_value == 0.5

    shutil.rmtree(registry.path / ".git/gitreg/evaluations")  # a fresh clone, say
    out = card(registry, "churn@1.0.0", "--ref", evaluated)
    gone = results(hf, out)
    assert {m: r.metric_value for m, r in gone.items()} == DECLARED
    assert gone["accuracy"].metric_name == "accuracy (declared at registration)"
    assert "no measurement of this version by the gate is stored here." in out
