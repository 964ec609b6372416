"""The index page's filter (assets/filter.js, in Chromium) agrees with `gitreg list --filter`
(model/query.py, model/search.py) on every filter below, over the index the page embeds: the
same models match (a model with one of its versions), and the same filters are refused (an
unknown metrics/params/tags key with the same message and listing of the keys that exist)."""

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
    # a model with one of its versions: alpha's older 1.0.0 scored 0.95, its latest 0.91
    "metrics.f1 > 0.94", "metrics.f1 > 0.94 AND version = '1.10.0'", "version = '1.9.0'",
    "metrics.f1 > 0.94 AND params.solver = 'lbfgs'", "NOT metrics.f1 > 0.94", "params.solver > 'l'",
    "version_number = '1.2.0'", "version_number > '1.9.0'", "version >= '2.0.0-rc.1'",
    "current_stage = 'production'", "user_id LIKE 'Ada%'", "author = 'Bob <bob@example.com>'",
    "run_id = 'run-a1'", "run_id IS NULL", "run_id IS NOT NULL", "NOT run_id IS NULL",
    "created < '2026'", "creation_timestamp >= '2026-01-01T00:00:00Z'",
    "source_path LIKE '%/1.0.0/%'", "source_path IS NOT NULL",
    "metrics.accuracy IS NOT NULL", "metrics.accuracy IS NULL", "labels.team IS NULL",
    "task IS NULL", "owners IS NULL", "stage IS NOT NULL", "name IS NULL", "name is not null",
    'tags."cost center" = \'x y\'', 'metrics."f1 macro" > 0.5', 'labels."cost center" IS NULL',
    "params.C IS NULL AND name = 'beta'", "params.solver = 'lbfgs' AND version = '1.10.0'",
    "params.solver IS NULL AND name = 'alpha'", "metrics.`f1 macro` IS NULL",
    # refused, with the listing of the keys that exist
    "metrics.f2 > 0.5", "params.nope = 1", "tags.nope = 'x'", "name = 'alpha' OR labels.Team = 'a'",
    "NOT metrics.f1x IS NULL",
    # refused by both
    "name = ", "metrics.f1 LIKE 'x'", "metrics.f1 = 'high'", "foo = 1", "(name = 'a'",
    "name == 'a'", "name = 'a' name", "name = 'unterminated", "", "name LIKE 3", "tags. = 'x'",
    "name NOT = 'a'", "name = 1.2.3", "name IS 'x'", "name IS NOT 'x'", 'tags"x" = 1',
]  # fmt: skip


RUNS = {("alpha", "1.0.0"): "run-a1", ("beta", "1.2.0"): "run-b"}
CREATED = {("alpha", "1.0.0"): "2025-06-01T00:00:00Z", ("gamma-2", "1.9.0"): "2026-02-01T00:00:00Z"}
AUTHORS = {("gamma-2", "2.0.0-rc.1"): "Bob <bob@example.com>"}


def _version_yaml(name: str, version: str, metrics: dict[str, float], params: dict) -> str:  # type: ignore[type-arg]
    import yaml

    run = {"lineage": {"run": {"id": RUNS[name, version]}}} if (name, version) in RUNS else {}
    return yaml.safe_dump(
        {
            "schema": "gitreg/v1",
            "name": name,
            "version": version,
            "created": CREATED.get((name, version), "2026-01-01T00:00:00Z"),
            "author": AUTHORS.get((name, version), "Ada Tester <ada@example.com>"),
            **run,
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
    """The models `list --filter` answers; `refused` for a filter that does not parse, and
    the message itself for one that names a key no record has."""
    res = run("list", "-C", str(root), "--filter", expr, "--json")
    if res.code == 2:
        return "refused" if "--filter:" in res.err else res.err.strip()
    assert res.code == 0, res.err
    return sorted(m["name"] for m in res.json())  # type: ignore[attr-defined, index]


JS = """filters => {
  const index = gitregFilter.index(JSON.parse(document.getElementById('records').textContent));
  return filters.map(f => {
    try {
      const hits = gitregFilter.search(gitregFilter.parse(f), index);
      return index.models.filter((m, i) => hits[i]).map(m => m.name).sort();
    } catch (err) {
      if (err instanceof gitregFilter.UsageError) return `error: ${err.message}\nhint: ${err.hint}`;
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
    assert len(matched) > 50 and sum(py[f] == "refused" for f in FILTERS) >= 15  # not vacuous
    unknown = [py[f] for f in FILTERS if isinstance(py[f], str) and py[f] != "refused"]
    assert len(unknown) == 5 and all("fields that exist: " in u for u in unknown)
    # an older version matches: alpha's latest (1.10.0) has f1 0.91, its 1.0.0 has 0.95
    assert py["metrics.f1 > 0.94"] == ["alpha", "gamma-2"]
    assert py["metrics.f1 > 0.94 AND version = '1.10.0'"] == []
    assert browser.errors == [] and browser.outside == []


def test_search_box_shows_what_list_filter_answers(registry: Path, browser: Browser) -> None:
    page = browser.page()
    page.goto((registry.parent / "site" / "index.html").as_uri())
    expr = "metrics.f1 >= 0.9 OR task = 'regression'"
    page.fill("#filter", expr)
    shown = page.eval_on_selector_all(
        "#models tbody tr:not([hidden])", "rows => rows.map(r => r.dataset.model)"
    )
    # gamma-2's latest (1.9.0) has f1 0.8; its pre-release 2.0.0-rc.1 has 0.99
    assert sorted(shown) == python_answer(registry, expr) == ["alpha", "beta", "eps_1", "gamma-2"]
    assert page.text_content("#filter-status") == "4 of 5 models match"
    page.fill("#filter", "metrics.f2 > 1")
    status = page.text_content("#filter-status") or ""
    assert status.startswith("Filter error: unknown field 'metrics.f2': no model or version")
    assert "(metrics fields that exist: metrics.accuracy, metrics.auc, metrics.f1," in status


def test_browser_takes_the_field_table_from_the_page(registry: Path, browser: Browser) -> None:
    """filter.js keeps no copy of model/query.py's field table: a field the page's grammar
    adds is understood, and one it drops is refused with the page's own list of fields."""
    page = browser.page()
    page.goto((registry.parent / "site" / "index.html").as_uri())
    answers = page.evaluate(
        """() => {
      const data = JSON.parse(document.getElementById('records').textContent);
      const grammar = data.grammar;
      const named = data.models.length;
      const fields = Object.assign({}, grammar.fields, {nom: 'name'});
      delete fields.owner;
      data.grammar = Object.assign({}, grammar, {fields: fields, valid: 'nom, name'});
      const index = gitregFilter.index(data);
      const hits = gitregFilter.search(gitregFilter.parse("nom = 'alpha'"), index);
      let refused = null;
      try { gitregFilter.parse("owner = 'x'"); } catch (err) { refused = err.hint; }
      return [named, hits.filter(Boolean).length, refused];
    }"""
    )
    assert answers == [5, 1, "fields: nom, name"]
