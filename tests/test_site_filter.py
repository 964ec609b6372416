"""The index page's filter (assets/filter.js, in Chromium) agrees with `gitreg list --filter`
(model/query.py) on every filter below, over the records the page embeds: the same models
match, and the same filters are refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import git, isolate, run
from site_browser import Browser, chromium

MODELS = {
    # name: (labels, owners, task, description, versions {version: (metrics, params)}, stages)
    "alpha": ({"team": "a", "cost center": "x y"}, ["@acme/a"], "classification",
              "Finds flowers", {"1.0.0": ({"f1": 0.95, "f1 macro": 0.7}, {"C": 1.0, "solver": "lbfgs"}),
                                "1.10.0": ({"f1": 0.91, "accuracy": 0.4}, {"C": 10, "flag": True})},
              {"production": "1.10.0", "staging": "1.10.0"}),
    "beta": ({"team": "b"}, ["@acme/b", "@bob"], "regression", "50% of it's data",
             {"1.2.0": ({"rmse": 3.5, "f1": 0.5}, {"depth": 5, "lr": 0.001})}, {"staging": "1.2.0"}),
    "gamma-2": ({"team": "a"}, ["@acme/a"], "classification", "Σ unicode ß",
                {"2.0.0-rc.1": ({"f1": 0.99}, {"solver": "saga"}), "1.9.0": ({"f1": 0.8}, {"C": "1.0"})}, {}),
    "delta": ({}, [], None, "", {}, {}),
    "eps_1": ({"team": "c"}, ["@carol"], "classification", "Old",
              {"0.1.0": ({"f1": 0.9, "auc": 0.8}, {"C": 0.5, "flag": False})}, {"production": "0.1.0"}),
}  # fmt: skip

FILTERS = [
    "name = 'alpha'", 'name = "beta"', "name LIKE 'a%'", "name ILIKE 'ALP%'", "name NOT LIKE '%a'",
    "name LIKE '_eta'", "name IN ('alpha', 'delta')", "name NOT IN ('alpha')", "name != 'beta'",
    "stage = 'production'", "stage != 'production'", "stages = 'staging' AND stage = 'production'",
    "owner = '@acme/a'", "owners = '@bob'", "owner != '@acme/a'", "tags.team = 'a'",
    "labels.team != 'a'", "tags.`cost center` = 'x y'", "metrics.f1 > 0.9", "metrics.f1 >= 0.9",
    "metrics.f1 >= 0.9 OR metrics.accuracy < 0.5", "NOT metrics.f1 > 0.9", "metrics.auc = 0.8",
    "metrics.`f1 macro` > 0.5", "metrics.f1 > 9e-1", "metrics.rmse < 4", "params.C > 1",
    "params.C = '1.0'", "params.C = 10", "params.solver = 'lbfgs'", "params.flag = 'true'",
    "params.flag = 'false'", "params.depth >= 5", "params.lr < 0.01", "params.solver > 'l'",
    "latest > '1.2.0'", "latest >= '1.10.0'", "latest < '1.9.1'", "latest = '1.2.0'",
    "task = 'regression'", "task != 'regression'", "description LIKE '%flower%'",
    "description ILIKE '%FLOWER%'", "description LIKE '50\\%%'", "description LIKE '%it''s%'",
    "description LIKE '%Σ%'", "status = 'active'", "status = 'deprecated'", "framework = 'sklearn'",
    "author LIKE 'Ada%'", "(name = 'alpha' OR name = 'beta') AND metrics.f1 > 0.6",
    "NOT (name = 'alpha' OR name = 'beta')", "NOT NOT name = 'delta'", "version = '1.0.0'",
    "name = 'alpha' or NAME = 'beta'", "name > 'c'",
    # refused by both
    "name = ", "metrics.f1 LIKE 'x'", "metrics.f1 = 'high'", "foo = 1", "(name = 'a'",
    "name == 'a'", "name = 'a' name", "name = 'unterminated", "", "name LIKE 3", "tags. = 'x'",
    "name NOT = 'a'", "name = 1.2.3",
]  # fmt: skip


def _version_yaml(name: str, version: str, metrics: dict[str, float], params: dict) -> str:  # type: ignore[type-arg]
    import yaml

    return yaml.safe_dump(
        {
            "schema": "gitreg/v1",
            "name": name,
            "version": version,
            "created": "2026-01-01T00:00:00Z",
            "author": "Ada Tester <ada@example.com>",
            "artifacts": [
                {"path": f"models/{name}/artifacts/{version}/m.pkl", "md5": "0" * 32, "size": 1}
            ],
            "framework": {"name": "sklearn"},
            "metrics": metrics,
            "params": params,
        },
        sort_keys=False,
    )


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    import yaml

    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("home"))
        root = tmp_path_factory.mktemp("filter") / "reg"
        (root / "models").mkdir(parents=True)
        (root / "gitreg.yaml").write_text(
            "schema: gitreg/v1\nstages:\n  - name: staging\n  - name: production\n"
        )
        for name, (labels, owners, task, desc, versions, stages) in MODELS.items():
            d = root / "models" / name
            (d / "versions").mkdir(parents=True)
            spec = {"schema": "gitreg/v1", "name": name, "description": desc, "owners": owners}
            spec |= {"labels": labels, **({"task": task} if task else {})}
            (d / "model.yaml").write_text(yaml.safe_dump(spec, allow_unicode=True))
            for v, (metrics, params) in versions.items():
                (d / "versions" / f"{v}.yaml").write_text(_version_yaml(name, v, metrics, params))
            if stages:
                (d / "stages.yaml").write_text(yaml.safe_dump({"schema": "gitreg/v1", **stages}))
        git(root, "init", "-q", "--initial-branch=main")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "models")
        res = run("site", "-C", str(root), "-o", str(root.parent / "site"))
        assert res.code == 0, res.err
        yield root


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from chromium()


def python_answer(root: Path, expr: str) -> list[str] | str:
    res = run("list", "-C", str(root), "--filter", expr, "--json")
    if res.code == 2:
        return "refused"
    assert res.code == 0, res.err
    return sorted(m["name"] for m in res.json())  # type: ignore[attr-defined, index]


JS = """filters => {
  const records = JSON.parse(document.getElementById('records').textContent);
  return filters.map(f => {
    try {
      const e = gitregFilter.parse(f);
      return records.filter(r => e.matches(r)).map(r => r.name).sort();
    } catch (err) {
      if (!(err instanceof gitregFilter.QueryError)) throw err;
      return 'refused';
    }
  });
}"""


def test_browser_filter_agrees_with_list_filter(registry: Path, browser: Browser) -> None:
    page = browser.page()
    page.goto((registry.parent / "site" / "index.html").as_uri())
    js = dict(zip(FILTERS, page.evaluate(JS, FILTERS)))
    py = {f: python_answer(registry, f) for f in FILTERS}
    assert {f: js[f] for f in FILTERS} == py
    matched = [f for f in FILTERS if py[f] not in ("refused", [])]
    assert len(matched) > 30 and sum(py[f] == "refused" for f in FILTERS) >= 12  # not vacuous
    assert browser.errors == [] and browser.outside == []


def test_search_box_shows_what_list_filter_answers(registry: Path, browser: Browser) -> None:
    page = browser.page()
    page.goto((registry.parent / "site" / "index.html").as_uri())
    expr = "metrics.f1 >= 0.9 OR task = 'regression'"
    page.fill("#filter", expr)
    shown = page.eval_on_selector_all(
        "#models tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.model)"
    )
    assert sorted(shown) == python_answer(registry, expr) == ["alpha", "beta", "eps_1"]
