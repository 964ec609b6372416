"""The --filter language (query.py): parsing, evaluation, records and errors. No git needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gitreg.cli.exits import EXIT_USAGE, exit_code
from gitreg.errors import QueryError, UsageError
from gitreg.model.manifest import VersionManifest
from gitreg.model.query import parse
from gitreg.model.records import ModelSummary, model_record, needs_version_fields, version_record
from gitreg.model.schema import parse as parse_manifest

DATA = Path(__file__).parent / "data" / "manifests" / "valid"

# A model record as `model_record` builds it for a model whose latest version is loaded.
MODEL: dict[str, Any] = {
    "name": "churn",
    "description": "Predicts churn",
    "task": "classification",
    "owners": ["@alice", "@acme/ml-team"],
    "stages": ["staging", "production"],
    "latest": "1.10.0",
    "version": "1.10.0",
    "tags.team": "growth",
    "labels.team": "growth",
    "tags.cost center": "ml",
    "labels.cost center": "ml",
    "status": "active",
    "framework": "scikit-learn",
    "metrics.f1": 0.95,
    "metrics.f1 macro": 0.85,
    "metrics.count": 100,
    "metrics.delta": -0.5,
    "params.max_depth": 5,
    "params.lr": "0.05",
    "params.solver": "lbfgs",
    "params.early_stopping": True,
    "params.layers": [64, 32],
}


def check(expr: str, record: dict[str, Any] = MODEL) -> bool:
    return parse(expr).matches(record)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # MLflow's documented examples
        ("name = 'churn'", True),
        ("name = 'fraud'", False),
        ("name LIKE 'ch%'", True),
        ("name LIKE 'fr%'", False),
        ("tags.team = 'growth' AND metrics.f1 > 0.9", True),
        ("tags.team = 'growth' AND metrics.f1 > 0.99", False),
        ("version != '1.0.0'", True),
        ("version != '1.10.0'", False),
        ('name = "churn"', True),
        # labels.* is the same as tags.*
        ("labels.team = 'growth'", True),
        ("labels.team != 'growth'", False),
        # keywords and fixed field names ignore case; keys do not
        ("name like 'ch%' and metrics.f1 > 0.9 or name = 'x'", True),
        ("NAME = 'churn'", True),
        ("Tags.team = 'growth'", True),
        ("tags.Team = 'growth'", False),
        # every operator on strings
        ("name < 'd'", True),
        ("name <= 'churn'", True),
        ("name > 'churn'", False),
        ("name >= 'churn'", True),
        ("name <> 'churn'", False),
        ("task = 'classification'", True),
        ("description = 'Predicts churn'", True),
        ("status = 'active'", True),
        ("framework = 'scikit-learn'", True),
        ("latest = '1.10.0'", True),
    ],
)
def test_comparisons(expr: str, expected: bool) -> None:
    assert check(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("name LIKE 'churn'", True),
        ("name LIKE 'ch_rn'", True),
        ("name LIKE 'ch_n'", False),
        ("name LIKE '%ur%'", True),
        ("name LIKE '%'", True),
        ("name LIKE 'CH%'", False),
        ("name ILIKE 'CH%'", True),
        ("name ILIKE 'C_URN'", True),
        ("name NOT LIKE 'ch%'", False),
        ("name NOT ILIKE 'X%'", True),
        ("name LIKE 'c.*'", False),  # regex characters are literal
        ("description LIKE 'predicts%'", False),
        ("description ILIKE 'predicts%'", True),
    ],
)
def test_like_and_ilike(expr: str, expected: bool) -> None:
    assert check(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        # AND binds tighter than OR: x OR (churn AND growth)
        ("name = 'x' OR name = 'churn' AND tags.team = 'growth'", True),
        # were OR tighter, this would be (churn OR x) AND nope: false
        ("name = 'churn' OR name = 'x' AND tags.team = 'nope'", True),
        ("(name = 'churn' OR name = 'x') AND tags.team = 'nope'", False),
        ("name = 'x' AND name = 'churn' OR tags.team = 'growth'", True),
        ("name = 'x' AND (name = 'churn' OR tags.team = 'growth')", False),
        ("((name = 'churn'))", True),
        ("(name = 'a' OR (name = 'b' OR (name = 'churn')))", True),
        ("name = 'a' OR name = 'b' OR name = 'c'", False),
        ("name = 'churn' AND status = 'active' AND metrics.f1 > 0.9", True),
        # NOT binds tighter than AND and OR
        ("NOT name = 'x'", True),
        ("NOT name = 'churn'", False),
        ("NOT name = 'x' AND name = 'churn'", True),
        ("NOT name = 'churn' OR name = 'churn'", True),
        ("NOT (name = 'churn' OR name = 'x')", False),
        ("NOT (name = 'churn' AND tags.team = 'nope')", True),
        ("NOT NOT name = 'churn'", True),
        ("not name = 'x'", True),
    ],
)
def test_boolean_structure(expr: str, expected: bool) -> None:
    assert check(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("name IN ('a', 'churn')", True),
        ("name IN ('a')", False),
        ("name IN ('churn',)", None),  # trailing comma: an error, see below
        ("name NOT IN ('a', 'b')", True),
        ("name NOT IN ('a', 'churn')", False),
        ("name not in ('churn')", False),
        ('name IN ("a", "churn")', True),
        ("metrics.f1 IN (0.9, 0.95)", True),
        ("metrics.count IN (1, 1e2)", True),
        ("metrics.count NOT IN (1, 2)", True),
        ("stage IN ('production', 'dev')", True),
        ("stage IN ('dev', 'archived')", False),
        ("stage NOT IN ('production')", False),
        ("stage NOT IN ('dev', 'archived')", True),
    ],
)
def test_in_lists(expr: str, expected: bool | None) -> None:
    if expected is None:
        with pytest.raises(QueryError):
            parse(expr)
    else:
        assert check(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("metrics.f1 > 0.9", True),
        ("metrics.f1 >= 0.95", True),
        ("metrics.f1 > 0.95", False),
        ("metrics.f1 < 1", True),
        ("metrics.f1 <= 9.5e-1", True),
        ("metrics.f1 = .95", True),
        ("metrics.f1 = 0.950", True),
        ("metrics.f1 != 0.95", False),
        ("metrics.f1 > '0.9'", True),  # a quoted number is still a number
        ("metrics.count = 100", True),
        ("metrics.count = 1e2", True),
        ("metrics.count = 1E+2", True),
        ("metrics.count > 99.5", True),
        ("metrics.count < 1000000", True),
        ("metrics.count > 5", True),  # numbers, not strings: '100' < '5'
        ("metrics.delta = -0.5", True),
        ("metrics.delta > -1", True),
        ("metrics.delta<-0.25", True),
        ("metrics.delta < +0", True),
        ("metrics.delta > -5e-1", False),
    ],
)
def test_numbers(expr: str, expected: bool) -> None:
    assert check(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("params.max_depth = 5", True),
        ("params.max_depth = '5'", True),
        ("params.max_depth = 5.0", True),
        ("params.max_depth > 4.5", True),
        ("params.max_depth > 10", False),
        ("params.lr < 0.1", True),  # a numeric string compares as a number
        ("params.lr = '0.05'", True),
        ("params.solver = 'lbfgs'", True),
        ("params.solver LIKE 'lb%'", True),
        ("params.solver = 5", False),
        ("params.early_stopping = 'true'", True),
        ("params.layers = 64", True),
        ("params.layers != 16", True),
        ("params.missing = 1", False),
    ],
)
def test_params(expr: str, expected: bool) -> None:
    assert check(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("metrics.`f1 macro` > 0.8", True),
        ("metrics.`f1 macro` > 0.9", False),
        ("tags.`cost center` = 'ml'", True),
        ("labels.`cost center` = 'ml'", True),
        ("`tags.cost center` = 'ml'", True),
        ("`name` = 'churn'", True),
        ("metrics.`f1` > 0.9", True),
        ("`metrics`.`f1` > 0.9", True),
    ],
)
def test_backquoted_identifiers(expr: str, expected: bool) -> None:
    assert check(expr) is expected


def test_backquoted_keyword_is_a_field_name() -> None:
    assert check("tags.`AND` = 'x'", {"tags.AND": "x"})
    assert check("tags.and = 'x'", {"tags.and": "x"})


TEXT = {
    "name": "o'brien",
    "description": 'say "hi" to 100% of a_b\\c',
}


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("name = 'o''brien'", True),
        ("name = 'o\\'brien'", True),
        ('name = "o\'brien"', True),
        ('name = "o\\\'brien"', True),
        ("description = 'say \"hi\" to 100% of a_b\\\\c'", True),
        ('description = "say ""hi"" to 100% of a_b\\\\c"', True),
        ('description = "say \\"hi\\" to 100% of a_b\\\\c"', True),
        ("description LIKE '%100\\%%'", True),  # \% is a literal percent sign
        ("description LIKE '%1000\\%%'", False),
        ("description LIKE '%a\\_b%'", True),  # \_ is a literal underscore
        ("description LIKE '%a\\_c%'", False),
        ("description LIKE '%b\\\\\\\\c'", True),  # a literal backslash in a pattern
        ("name = ''", False),
    ],
)
def test_string_escapes(expr: str, expected: bool) -> None:
    assert check(expr, TEXT) is expected


def test_empty_string_value() -> None:
    assert check("description = ''", {"description": ""})
    assert check('description = ""', {"description": ""})


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("metrics.auc > 0.5", False),
        ("metrics.auc != 0.5", False),
        ("metrics.auc NOT IN (0.5)", False),
        ("NOT metrics.auc > 0.5", True),
        ("tags.nope = 'x'", False),
        ("tags.nope != 'x'", False),
        ("tags.nope NOT LIKE 'x%'", False),
        ("NOT tags.nope = 'x'", True),
        ("metrics.auc > 0.5 OR name = 'churn'", True),
        ("params.nope < 1", False),
        ("task = 'classification'", False),  # task is None below
    ],
)
def test_missing_fields_are_false(expr: str, expected: bool) -> None:
    assert check(expr, {**MODEL, "task": None}) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("stage = 'production'", True),
        ("stages = 'staging'", True),
        ("stage = 'dev'", False),
        ("stage != 'dev'", True),
        ("stage != 'production'", False),  # != holds when no element equals
        ("stage LIKE 'prod%'", True),
        ("stage ILIKE 'PROD%'", True),
        ("stage NOT LIKE 'prod%'", False),
        ("owner = '@alice'", True),
        ("owners = '@bob'", False),
        ("owner LIKE '%ml-team'", True),
        ("owner != '@bob'", True),
    ],
)
def test_list_fields_match_any_element(expr: str, expected: bool) -> None:
    assert check(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [("stage = 'production'", False), ("stage != 'production'", True), ("stage IN ('a')", False)],
)
def test_empty_list_field(expr: str, expected: bool) -> None:
    assert check(expr, {"stages": []}) is expected


@pytest.mark.parametrize("bad", ["n/a", "0.95", True, None, {"x": 1}])
@pytest.mark.parametrize(
    "expr", ["metrics.f1 > 0.9", "metrics.f1 = 0.95", "metrics.f1 != 0.9", "metrics.f1 IN (0.95)"]
)
def test_non_numeric_metric_never_matches(expr: str, bad: Any) -> None:
    assert check(expr, {"metrics.f1": bad}) is False


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("version > '1.9.0'", True),  # SemVer, not string order ('1.10.0' < '1.9.0')
        ("version < '1.9.0'", False),
        ("version >= '1.10.0'", True),
        ("version > '1.10.0-rc.1'", True),
        ("latest < '2.0.0'", True),
        ("version > 'abc'", False),  # not SemVer: string order
        ("version = '1.10.0'", True),
        ("version LIKE '1.%'", True),
    ],
)
def test_versions_order_by_semver(expr: str, expected: bool) -> None:
    assert check(expr) is expected


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("name = 'churn'", False),
        ("tags.team = 'a' OR labels.x = 'b'", False),
        ("stage = 'production' AND latest > '1.0.0'", False),
        ("metrics.f1 > 0.9", True),
        ("name = 'a' OR NOT (params.depth = 3)", True),
        ("status = 'active'", True),
        ("framework = 'x'", True),
        ("author LIKE '%ada%'", True),
    ],
)
def test_needs_version_fields(expr: str, expected: bool) -> None:
    assert needs_version_fields(parse(expr)) is expected


@pytest.fixture
def manifest() -> VersionManifest:
    path = DATA / "version-full.yaml"
    return parse_manifest(VersionManifest, path.read_bytes(), str(path))


@pytest.fixture
def summary() -> ModelSummary:
    return ModelSummary(
        name="churn",
        description="Predicts churn",
        owners=["@alice"],
        task="classification",
        labels={"team": "growth", "cost center": "ml"},
        latest="1.0.0",
        versions=["0.9.0", "1.0.0"],
        stages={"staging": "1.0.0", "production": "0.9.0"},
    )


def test_model_record_without_a_version(summary: ModelSummary) -> None:
    assert model_record(summary, None) == {
        "name": "churn",
        "description": "Predicts churn",
        "task": "classification",
        "owners": ["@alice"],
        "stages": ["staging", "production"],
        "latest": "1.0.0",
        "tags.team": "growth",
        "tags.cost center": "ml",
        "labels.team": "growth",
        "labels.cost center": "ml",
    }


def test_model_record_with_its_latest_version(
    summary: ModelSummary, manifest: VersionManifest
) -> None:
    record = model_record(summary, manifest)
    assert record["description"] == "Predicts churn"  # the model's, not the version's
    assert record["status"] == "active"
    assert record["framework"] == "scikit-learn"
    assert record["metrics.f1"] == 0.91
    assert "metrics.by_slice" not in record
    assert record["params.C"] == 1.0
    assert record["params.preprocessing.scaler"] == "standard"
    assert record["params.preprocessing.buckets.tenure"] == [0, 12, 24, 48]
    expr = parse(
        "tags.team = 'growth' AND metrics.f1 > 0.9 AND params.preprocessing.scaler = 'standard'"
        " AND params.seed = 42 AND params.preprocessing.features = 'plan' AND stage = 'production'"
    )
    assert expr.matches(record)
    assert not parse("metrics.f1 > 0.9").matches(model_record(summary, None))


def test_version_record(manifest: VersionManifest) -> None:
    record = version_record(manifest, ["staging"])
    assert {k: record[k] for k in ("name", "version", "stages", "status", "framework")} == {
        "name": "churn",
        "version": "1.0.0",
        "stages": ["staging"],
        "status": "active",
        "framework": "scikit-learn",
    }
    assert record["description"].startswith("Gradient-boosted")
    assert record["author"] == "Ada Tester <ada@example.com>"
    assert parse("version != '1.0.0'").matches(record) is False
    assert parse("stage = 'staging' AND metrics.support >= 1200").matches(record)
    assert parse("params.early_stopping = 'true' AND author LIKE 'Ada%'").matches(record)
    assert not parse("stage = 'staging'").matches(version_record(manifest, []))


@pytest.mark.parametrize(
    ("expr", "column", "fragment"),
    [
        ("", 1, "empty expression"),
        ("   ", 1, "empty expression"),
        ("name = 'churn", 8, "unterminated string"),
        ('name = "churn', 8, "unterminated string"),
        ("name = 'it''s", 8, "unterminated string"),
        ("name = 'churn\\'", 8, "unterminated string"),
        ("metrics.`f1 > 1", 9, "unterminated `quoted` name"),
        ("name == 'x'", 6, "unknown operator '=='"),
        ("name =! 'x'", 6, "unknown operator '=!'"),
        ("name ~ 'x'", 6, "unknown operator '~'"),
        ("name CONTAINS 'x'", 6, "unknown operator 'CONTAINS'"),
        ("name 'x'", 6, "expected an operator after 'name', found 'x'"),
        ("name", 5, "expected an operator after 'name', found end of input"),
        ("name AND", 6, "expected an operator after 'name', found 'AND'"),
        ("metrics.f1 > ", 14, "expected a value after '>'"),
        ("metrics.f1 >", 13, "expected a value after '>'"),
        ("metrics.f1 > AND name = 'a'", 14, "expected a value after '>', found 'AND'"),
        ("name = churn", 8, "expected a value after '=', found 'churn'"),
        ("name = )", 8, "expected a value after '='"),
        ("name IN ()", 10, "expected a value after '('"),
        ("name IN ('a',)", 14, "expected a value after ','"),
        ("name IN 'a'", 9, "expected '(' after IN"),
        ("name IN ('a' 'b')", 14, "expected ',' or ')' in the IN list"),
        ("name IN ('a'", 13, "expected ',' or ')' in the IN list"),
        ("(name = 'a'", 12, "expected ')' to close the '(' at column 1"),
        ("((name = 'a')", 14, "expected ')' to close the '(' at column 1"),
        ("name = 'a' AND (stage = 'b'", 28, "expected ')' to close the '(' at column 16"),
        ("name = 'a')", 11, "unmatched ')'"),
        ("(name = 'a'))", 13, "unmatched ')'"),
        (")", 1, "expected a field, found ')'"),
        ("()", 2, "expected a field, found ')'"),
        ("NOT", 4, "expected a field, found end of input"),
        ("name = 'a' AND", 15, "expected a field, found end of input"),
        ("name = 'a' OR OR name = 'b'", 15, "expected a field, found 'OR'"),
        ("'churn' = name", 1, "expected a field, found 'churn'"),
        ("nmae = 'a'", 1, "unknown field 'nmae'"),
        ("name = 'a' AND metric.f1 > 1", 16, "unknown field 'metric.f1'"),
        ("tag.team = 'a'", 1, "unknown field 'tag.team'"),
        ("metrics. > 1", 1, "expected a name after metrics."),
        ("name = 'a' 'b'", 12, "expected AND, OR or the end, found 'b'"),
        ("name = 'a' garbage", 12, "expected AND, OR or the end, found 'garbage'"),
        ("name = 'a' name = 'b'", 12, "expected AND, OR or the end"),
        ("name = 'a' (", 12, "expected AND, OR or the end"),
        ("version = 1.0.0", 11, "'1.0.0' is not a number"),
        ("metrics.f1 > 0.9x", 14, "'0.9x' is not a number"),
        ("name $ 'a'", 6, "unexpected character '$'"),
        ("name = 'a' && name = 'b'", 12, "unexpected character '&'"),
        ("name = 'a'; drop", 11, "unexpected character ';'"),
        ("name NOT = 'a'", 10, "expected IN, LIKE or ILIKE after NOT"),
        ("name NOT 'a'", 10, "expected IN, LIKE or ILIKE after NOT"),
        ("name LIKE 5", 11, "LIKE takes a quoted pattern"),
        ("metrics.f1 > 'high'", 12, "metrics.f1 is a number: compare it with one, not 'high'"),
        ("metrics.f1 IN (1, 'x')", 12, "metrics.f1 is a number"),
        ("metrics.f1 LIKE '0.9%'", 12, "metrics.f1 is a number: LIKE does not apply"),
    ],
)
def test_errors_name_the_column(expr: str, column: int, fragment: str) -> None:
    with pytest.raises(QueryError) as info:
        parse(expr)
    err = info.value
    assert isinstance(err, UsageError)
    assert exit_code(err) == EXIT_USAGE == 2
    assert err.column == column
    first, shown, caret = err.message.split("\n")
    assert first.startswith("--filter: ")
    assert fragment in first
    assert first.endswith(f" at column {column}")
    assert shown == f"  {expr}"
    assert caret == "  " + " " * (column - 1) + "^"


def test_unknown_field_lists_the_valid_ones() -> None:
    with pytest.raises(QueryError) as info:
        parse("nmae = 'churn'")
    hint = info.value.hint or ""
    assert hint.startswith("did you mean 'name'?")
    for field in ("name", "version", "stage", "owner", "tags.<key>", "metrics.<name>"):
        assert field in hint
    assert "hint: did you mean" in str(info.value)


def test_misspelt_prefix_suggests_the_full_field() -> None:
    with pytest.raises(QueryError) as info:
        parse("metric.f1 > 0.9")
    assert (info.value.hint or "").startswith("did you mean 'metrics.f1'?")


def test_unquoted_value_hints_at_quoting() -> None:
    with pytest.raises(QueryError) as info:
        parse("name = churn")
    assert info.value.hint == "quote strings: 'churn'"


def test_caret_stays_aligned_with_tabs_and_newlines() -> None:
    with pytest.raises(QueryError) as info:
        parse("name = 'a'\n\tAND ?")
    _, shown, caret = info.value.message.split("\n")
    assert shown[caret.index("^")] == "?"


def test_deep_nesting_is_a_usage_error_not_a_crash() -> None:
    assert check("(" * 100 + "name = 'churn'" + ")" * 100)
    assert check("NOT " * 100 + "name = 'churn'")
    with pytest.raises(QueryError, match="more than 100 nested NOTs or '\\(' at column 101"):
        parse("(" * 101 + "name = 'churn'" + ")" * 101)


def test_long_flat_expressions_parse() -> None:
    assert check(" OR ".join([f"name = 'm{i}'" for i in range(2000)] + ["name = 'churn'"]))


def test_parse_is_not_eval() -> None:
    with pytest.raises(QueryError):
        parse("__import__('os').system('true')")
