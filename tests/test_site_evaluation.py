"""`gitreg site` shows on a version's page the last evaluation `gitreg evaluate` stored in
this clone (the result store, the same key `gitreg card` reads): the outcome, the verdicts
with candidate and baseline (the version the highest stage holds), the data set, when it
was stored and the policy's commit; the page is rewritten when a result is stored, and a
clone without results shows none."""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

from conftest import Registry, set_stages
from gitreg.store import results
from test_card_measured import SCRIPT, policy
from test_evaluate import register, set_policy, track_holdout


def _text(page: Path) -> str:
    """The page's text without tags, whitespace squeezed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.read_text())).split())


def _site(reg: Registry, out: Path) -> dict[str, object]:
    res = reg.run("site", "-o", str(out), "--json")
    assert res.code == 0, res.err
    data = res.json()
    assert isinstance(data, dict)
    return data


def _model(tmp_path: Path, version: str, accuracy: float) -> Path:
    path = tmp_path / version / "model.json"
    path.parent.mkdir()
    path.write_text(json.dumps({"accuracy": accuracy}))
    return path


def test_version_page_shows_the_stored_evaluation(registry: Registry, tmp_path: Path) -> None:
    track_holdout(registry)
    (registry.path / "scripts").mkdir()
    (registry.path / "scripts/score.py").write_text(SCRIPT)
    registry.commit_all("Evaluator")
    declared = {"accuracy": 0.5, "rows": 1.0}
    register(registry, "1.0.0", _model(tmp_path, "1.0.0", 0.875), declared)
    register(registry, "1.1.0", _model(tmp_path, "1.1.0", 0.81), declared)
    set_policy(registry, {**policy(0.8), "metrics": {"accuracy": {"max_regression": 0.05}}})
    commit = set_stages(registry, {"production": "1.0.0"}, "Promote 1.0.0")
    out = tmp_path / "out"
    first = _site(registry, out)
    page = out / "models/churn/1.1.0.html"
    assert "No stored evaluation report for this version." in page.read_text()

    for version in ("1.0.0", "1.1.0"):
        res = registry.run("evaluate", "churn", version, "--json")
        assert res.code in (0, 1), res.err + res.out
    # each result names its model first: a build looks up only the models that have some
    assert results.models(registry.path / ".git/gitreg/evaluations") == {"churn"}
    again = _site(registry, out)
    # the two version pages are rewritten (their results are new), nothing else is
    assert sorted(again["written"]) == ["models/churn/1.0.0.html", "models/churn/1.1.0.html"]  # type: ignore[arg-type]
    assert again["unchanged"] == len(first["written"]) - 2  # type: ignore[arg-type,operator]

    text = _text(page)
    assert "Outcome failed" in text
    assert "Baseline 1.0.0 (in production)" in text
    assert "Data set data/holdout.csv" in text
    assert f"Policy commit {commit[:12]}" in text
    assert re.search(r"Measured 20\d\d-\d\d-\d\d \d\d:\d\d:\d\dZ", text), text
    # accuracy: candidate 0.81 against 0.875, a drop of 0.065 > the 0.05 allowed
    assert "accuracy 0.81 0.875 -0.065 drop <= 0.05 fail: dropped by 0.065" in text, text
    assert "rows 50 50 +0 - info: no policy" in text  # measured, outside the policy

    held = _text(out / "models/churn/1.0.0.html")  # the baseline itself: nothing to compare
    assert "Outcome passed" in held and "Baseline no baseline" in held
    assert "only absolute thresholds apply" in held

    shutil.rmtree(registry.path / ".git/gitreg/evaluations")  # a fresh clone, say
    assert _site(registry, out)["written"] == ["models/churn/1.0.0.html", "models/churn/1.1.0.html"]
    assert "No stored evaluation report for this version." in page.read_text()
