"""`gitreg card`: the rendered card is compared with a golden file (tests/data/cards/), and
parsed by the real `huggingface_hub.ModelCard` (offline): its front matter's license,
library_name, tags, datasets and model-index survive, with the gate's measurements when
there are any and the declared metrics otherwise, each marked as which."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from conftest import Registry
from gitreg.ops.card import Measurements, build_card
from gitreg.registry.reader import Registry as Reader
from gitreg.render.card import render_hf

RUN = "https://mlflow.acme.example/#/experiments/3/runs/42"
GOLDEN = Path(__file__).parent / "data" / "cards" / "churn.md"

MODEL_YAML = """\
schema: gitreg/v1
name: churn
description: Predicts which subscribers cancel within 30 days.
owners: ["@acme/growth-ml"]
task: classification
labels: {team: growth}
card:
  details: Logistic regression by the growth ML team; contact growth-ml@acme.example.
  intended_use: Rank accounts for the retention team's weekly outreach.
  factors: Plan (basic, pro) and signup channel; performance is reported by plan.
  limitations: Trained on 2025 data; new plans are unseen.
  training_data: Subscriptions 2025-01 to 2025-12.
  license: apache-2.0
  datasets: [acme/subscriptions-2025]
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
    registered.register("1.1.0", train / "model.pkl")
    data = registered.run("card", "churn", "--json").json()
    assert isinstance(data, dict)
    assert data["version"]["version"] == "1.0.0"  # production's holder, not the latest
    assert data["model"]["card"]["intended_use"].startswith("Rank accounts")
    assert data["results"]["kind"] == "declared"
    assert data["metadata"]["license"] == "apache-2.0"
    assert registered.run("card", "churn", "--format", "json").json() == data
    latest = registered.run("card", "churn@1.1.0", "--format", "md").out
    assert latest.startswith("# Model card: churn\n")  # md: no front matter
    assert "## Version 1.1.0\n" in latest
    assert "### Out-of-scope uses\n\n_Not stated._" in latest
    assert "No results: the version declares no metrics" in latest
    res = registered.run("card", "churn@9.9.9")
    assert res.code == 3 and "churn@9.9.9 not found" in res.err


@pytest.fixture
def hf(monkeypatch: pytest.MonkeyPatch) -> Any:
    """huggingface_hub, offline (the dev extra installs it)."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return pytest.importorskip("huggingface_hub", reason="pip install -e '.[dev]'")


def test_hf_model_card_reads_the_front_matter(registered: Registry, train: Path, hf: Any) -> None:
    _card_registry(registered)
    registered.register("1.1.0", train / "model.pkl", "--framework", "sklearn==1.5.2",
                        "--metrics", str(train / "metrics.json"), "--run-url", RUN)  # fmt: skip
    res = registered.run("card", "churn@1.1.0")
    assert res.code == 0, res.err
    card = hf.ModelCard(res.out)
    data = card.data
    assert isinstance(data, hf.ModelCardData)
    assert data.license == "apache-2.0"
    assert data.library_name == "sklearn"  # from the version's framework
    assert data.tags == ["team:growth"]
    assert data.datasets == ["acme/subscriptions-2025"]
    assert data.model_name == "churn"
    results = {r.metric_type: r for r in data.eval_results}
    assert {m: r.metric_value for m, r in results.items()} == {"f1": 0.91, "accuracy": 0.93}
    f1 = results["f1"]
    assert f1.task_type == "classification" and f1.verified is False
    assert f1.metric_name == "f1 (declared at registration)"
    assert f1.source_url == RUN  # the declared numbers' run
    assert f1.source_name is not None and f1.source_name.startswith("declared at registration")
    for section in ("Model details", "Intended use", "Factors", "Metrics", "Evaluation data",
                    "Training data", "Quantitative analyses", "Ethical considerations",
                    "Caveats and recommendations"):  # fmt: skip
        assert f"\n## {section}\n" in card.text, section
    assert "Plan (basic, pro) and signup channel" in card.text
    # and back: ModelCardData writes the same metadata again
    again = hf.ModelCard(str(card)).data.to_dict()
    assert again["model-index"][0]["results"][0]["metrics"][0]["value"] == 0.91


def test_hf_model_index_holds_the_gate_measurements(registered: Registry, hf: Any) -> None:
    """With the gate's measurements, model-index reports them (not the declared ones), and
    names where they came from and the data set they were measured on."""
    _card_registry(registered)
    measured = Measurements(
        {"f1": 0.884, "latency_ms": 12.5},
        source="gitreg evaluate in PR #7 at 0123abc",
        url="https://github.com/acme/models/pull/7",
    )
    with Reader.open(registered.path) as reg:
        text = render_hf(build_card(reg, "churn", None, measured))
    data = hf.ModelCard(text).data
    results = {r.metric_type: r for r in data.eval_results}
    assert {m: r.metric_value for m, r in results.items()} == {"f1": 0.884, "latency_ms": 12.5}
    assert results["f1"].source_name == "gitreg evaluate in PR #7 at 0123abc"
    assert results["f1"].source_url == "https://github.com/acme/models/pull/7"
    assert results["f1"].dataset_name == "data/holdout.csv"
    assert results["f1"].metric_name == "f1 (measured by the gate)"
    assert "Measured by the evaluation gate: gitreg evaluate in PR #7" in text
    assert "| accuracy |" not in text  # the declared numbers are not reported as results


def test_hf_card_without_metadata_still_parses(registered: Registry, hf: Any) -> None:
    """A bare model.yaml and a version without metrics: no front matter, and the Hub's parser
    reads an empty card, never an error."""
    (registered.path / "models/churn/versions/1.0.0.yaml").write_text(
        (registered.path / "models/churn/versions/1.0.0.yaml")
        .read_text()
        .split("metrics:")[0]
        .rstrip()
        + "\n"
    )
    registered.commit_all("no metrics")
    res = registered.run("card", "churn")
    assert res.code == 0, res.err
    assert not res.out.startswith("---")
    assert hf.ModelCard(res.out).data.to_dict() == {}


def test_card_policy_table_shows_every_limit_the_policy_sets(registered: Registry) -> None:
    """The limits come from MetricPolicy's fields (the site's table reads the same list),
    so a newer one such as min_improvement_pct shows; a column nobody sets does not."""
    text = MODEL_YAML.replace(
        "latency_ms: {goal: minimize, max: 50}",
        "latency_ms: {goal: minimize, max: 50, min_improvement_pct: 5}",
    )
    (registered.path / "models/churn/model.yaml").write_text(text)
    registered.commit_all("a percentage limit")
    res = registered.run("card", "churn", "--format", "md")
    assert res.code == 0, res.err
    assert "| metric | goal | min | max | max regression | min improvement % |" in res.out
    assert "| latency_ms | minimize | - | 50 | - | 5 |" in res.out
    assert "max regression %" not in res.out
