"""Searching models and versions (model/search.py, ops/listing.py search_*, search-versions,
list --versions): MLflow's fields and forms, every version, --order-by, --max-results,
unknown fields as errors, and the filter string in the Python API."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import Registry, make_artifact, set_stages
from gitreg.errors import QueryError, UsageError
from gitreg.model.query import parse
from gitreg.model.search import OrderKey, ordered, parse_order_by


def _register(reg: Registry, tmp: Path, name: str, version: str, f1: float, *extra: str) -> None:
    art = make_artifact(tmp / f"{name}-{version}" / "model.pkl", f"{name}{version}".encode())
    metrics = tmp / f"{name}-{version}.json"
    metrics.write_text(json.dumps({"f1": f1}))
    reg.register(version, art, "--metrics", str(metrics), *extra, name=name)


@pytest.fixture
def many(registry: Registry, tmp_path: Path) -> Registry:
    """churn 1.0.0 (f1 0.997, staging), 1.1.0 (f1 0.95, run abc, latest); fraud 0.1.0 (f1 0.7,
    labels {cost center: ml})."""
    _register(registry, tmp_path, "churn", "1.0.0", 0.997)
    _register(registry, tmp_path, "churn", "1.1.0", 0.95, "--run-id", "abc")
    _register(registry, tmp_path, "fraud", "0.1.0", 0.7)
    model = registry.path / "models/fraud/model.yaml"
    model.write_text(model.read_text().replace("labels: {}", "labels:\n  cost center: ml"))
    set_stages(registry, {"staging": "1.0.0"}, "stage churn 1.0.0")
    return registry


def _names(reg: Registry, *args: str) -> list[str]:
    res = reg.run(*args, "--json")
    assert res.code == 0, res.err
    out = res.json()
    assert isinstance(out, list)
    return [m["name"] if "version" not in m else f"{m['name']}@{m['version']}" for m in out]


def test_model_filter_judges_every_version_not_only_the_latest(many: Registry) -> None:
    # 1.1.0 (the latest) has 0.95: the latest-only rule missed churn
    assert _names(many, "list", "--filter", "metrics.f1 > 0.99") == ["churn"]
    assert _names(many, "list", "--filter", "version = '1.0.0'") == ["churn"]
    assert _names(many, "list", "--filter", "version = '0.1.0'") == ["fraud"]
    assert _names(many, "list", "--filter", "version = '9.9.9'") == []
    # one version must satisfy the whole expression: none has f1 > 0.99 and run abc
    assert _names(many, "list", "--filter", "metrics.f1 > 0.99 AND run_id = 'abc'") == []
    assert _names(many, "list", "--filter", "metrics.f1 > 0.9 AND run_id = 'abc'") == ["churn"]
    assert _names(many, "list", "--filter", "latest = '1.1.0'") == ["churn"]


def test_search_versions_mlflow_fields_and_forms(many: Registry) -> None:
    def found(expr: str) -> list[str]:
        return _names(many, "search-versions", expr)

    assert found("metrics.f1 > 0.9") == ["churn@1.0.0", "churn@1.1.0"]
    assert found("run_id = 'abc'") == ["churn@1.1.0"]
    assert found("run_id IS NULL") == ["churn@1.0.0", "fraud@0.1.0"]
    assert found("run_id IS NOT NULL") == ["churn@1.1.0"]
    assert found("version_number = '1.1.0'") == ["churn@1.1.0"]
    assert found("version = '1.0.0'") == ["churn@1.0.0"]
    assert found("tags.\"cost center\" = 'ml'") == ["fraud@0.1.0"]
    assert found("tags.`cost center` IS NOT NULL") == ["fraud@0.1.0"]
    assert found("source_path LIKE 'models/churn/artifacts/1.1.0/%'") == ["churn@1.1.0"]
    assert found("stage = 'staging'") == ["churn@1.0.0"]
    assert found("stage IS NULL AND name = 'churn'") == ["churn@1.1.0"]
    assert found("user_id LIKE '%'") == ["churn@1.0.0", "churn@1.1.0", "fraud@0.1.0"]
    # `list --versions` is the same search
    assert _names(many, "list", "--versions", "--filter", "run_id = 'abc'") == ["churn@1.1.0"]


def test_order_by_and_max_results(many: Registry) -> None:
    top = _names(many, "search-versions", "--order-by", "metrics.f1 DESC", "--max-results", "2")
    assert top == ["churn@1.0.0", "churn@1.1.0"]
    asc = _names(many, "search-versions", "--order-by", "metrics.f1")
    assert asc == ["fraud@0.1.0", "churn@1.1.0", "churn@1.0.0"]
    both = _names(many, "search-versions", "--order-by", "name DESC, version DESC")
    assert both == ["fraud@0.1.0", "churn@1.1.0", "churn@1.0.0"]
    # models sort by their latest version's fields: churn 0.95 > fraud 0.7
    assert _names(many, "list", "--order-by", "metrics.f1 ASC") == ["fraud", "churn"]
    assert _names(many, "list", "--max-results", "1") == ["churn"]
    res = many.run("list", "--max-results", "0")
    assert res.code == 2 and "--max-results" in res.err
    text = many.run("search-versions", "metrics.f1 > 0.9")
    assert (
        text.code == 0 and "churn" in text.out and "1.0.0" in text.out and "fraud" not in text.out
    )


def test_a_field_that_exists_nowhere_is_an_error_not_an_empty_answer(many: Registry) -> None:
    res = many.run("search-versions", "metrics.f2 > 0.9")
    assert res.code == 2, res.out
    assert "'metrics.f2'" in res.err and "metrics.f1" in res.err and "Traceback" not in res.err
    res = many.run("list", "--filter", "tags.team = 'x'")
    assert res.code == 2 and "'tags.team'" in res.err and "tags.cost center" in res.err
    res = many.run("list", "--order-by", "params.depth DESC")
    assert res.code == 2 and "'params.depth'" in res.err
    res = many.run("search-versions", "colour = 'red'")
    assert res.code == 2 and "unknown field 'colour'" in res.err and "run_id" in res.err
    res = many.run("search-versions", "--order-by", "metrics.f1 SIDEWAYS")
    assert res.code == 2 and "--order-by" in res.err


def test_the_api_takes_the_filter_string(many: Registry) -> None:
    from gitreg import Registry as Api

    with Api.open(str(many.path)) as reg:
        assert [m.name for m in reg.find("metrics.f1 > 0.99")] == ["churn"]
        rows = reg.find_versions("metrics.f1 > 0.9", order_by=["metrics.f1 DESC"])
        assert [(v.manifest.name, v.manifest.version) for v in rows] == [
            ("churn", "1.0.0"),
            ("churn", "1.1.0"),
        ]
        assert rows[0].stages == ["staging"]
        with pytest.raises(UsageError, match=r"metrics\.nope"):
            reg.find("metrics.nope > 1")


# -- the language, without git ---------------------------------------------------------------

RECORD: dict[str, Any] = {"name": "churn", "run_id": None, "stages": [], "tags.cost center": "ml"}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("run_id IS NULL", True),
        ("run_id IS NOT NULL", False),
        ("stage IS NULL", True),  # an empty list is NULL
        ("metrics.f1 IS NULL", True),  # missing is NULL
        ("name IS NOT NULL", True),
        ("NOT name IS NULL", True),
        ("tags.\"cost center\" = 'ml'", True),
        ("tags.`cost center` = 'ml'", True),
        ("current_stage IS NULL", True),
    ],
)
def test_is_null_and_quoted_keys(expr: str, expected: bool) -> None:
    assert parse(expr).matches(RECORD) is expected


def test_is_needs_null() -> None:
    with pytest.raises(QueryError, match="expected NULL or NOT NULL after IS"):
        parse("run_id IS 'x'")


def test_order_by_parsing_and_missing_values_last() -> None:
    keys = parse_order_by(['metrics.f1 DESC, tags."cost center"', "version"])
    assert keys == [
        OrderKey("metrics.f1", True),
        OrderKey("tags.cost center", False),
        OrderKey("version", False),
    ]
    rows = [{"version": "1.10.0"}, {"version": "1.9.0", "metrics.f1": 0.5}, {"version": "1.2.0"}]
    by_version = ordered(rows, rows, parse_order_by(["version DESC"]))
    assert [r["version"] for r in by_version] == ["1.10.0", "1.9.0", "1.2.0"]  # SemVer order
    by_f1 = ordered(rows, rows, parse_order_by(["metrics.f1 DESC", "version"]))
    assert [r["version"] for r in by_f1] == ["1.9.0", "1.2.0", "1.10.0"]  # missing ones last
    with pytest.raises(QueryError, match="unknown field 'sideways'"):
        parse_order_by(["sideways"])
