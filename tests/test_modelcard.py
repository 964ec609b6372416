"""`gitreg card`: the rendered card is compared with a golden file (tests/data/cards/)."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import Registry

GOLDEN = Path(__file__).parent / "data" / "cards" / "churn.md"

MODEL_YAML = """\
schema: gitreg/v1
name: churn
description: Predicts which subscribers cancel within 30 days.
owners: ["@acme/growth-ml"]
task: classification
labels: {team: growth}
card:
  intended_use: Rank accounts for the retention team's weekly outreach.
  limitations: Trained on 2025 data; new plans are unseen.
  training_data: Subscriptions 2025-01 to 2025-12.
evaluation:
  dataset: data/holdout.csv
  target: churned
  metrics:
    f1: {goal: maximize, min: 0.8, max_regression: 0.01}
    latency_ms: {goal: minimize, max: 50}
  slices: [plan]
"""


def _card_registry(reg: Registry) -> None:
    (reg.path / "models/churn/model.yaml").write_text(MODEL_YAML)
    (reg.path / "data").mkdir(exist_ok=True)
    (reg.path / "data/holdout.csv").write_text("plan,churned\nbasic,0\n")
    (reg.path / "models/churn/stages.yaml").write_text("schema: gitreg/v1\nproduction: 1.0.0\n")
    reg.commit_all("card and stage")


def test_card_matches_golden(registered: Registry) -> None:
    _card_registry(registered)
    res = registered.run("card", "churn")
    assert res.code == 0, res.err
    if os.environ.get("GITREG_UPDATE_GOLDEN"):
        GOLDEN.write_text(res.out)
    assert res.out == GOLDEN.read_text()


def test_card_json_and_version_choice(registered: Registry, train: Path) -> None:
    _card_registry(registered)
    assert (
        registered.run(
            "register",
            "churn",
            "--version",
            "1.1.0",
            "--artifact",
            str(train / "model.pkl"),
            "--here",
        ).code
        == 0
    )
    data = registered.run("card", "churn", "--json").json()
    assert isinstance(data, dict)
    assert data["version"]["version"] == "1.0.0"  # production's holder, not the latest
    assert data["model"]["card"]["intended_use"].startswith("Rank accounts")
    latest = registered.run("card", "churn@1.1.0").out
    assert "## Version 1.1.0\n" in latest and "## Out of scope\n\n_Not stated._" in latest
    res = registered.run("card", "churn@9.9.9")
    assert res.code == 3 and "churn@9.9.9 not found" in res.err
