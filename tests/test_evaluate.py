"""`gitreg evaluate`: real scikit-learn models and data in real registries with a DVC remote.

Models are trained here on iris (shipped with scikit-learn), registered with
`gitreg register --here`; the held-out CSV is tracked by DVC in the registry. Commands are
tiny Python one-liners. GitHub is the local fake of tests/fakegithub.py.
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pytest
import skops.io
import yaml
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_iris
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler
from sklearn.tree import DecisionTreeClassifier

from conftest import FAKE_TOKEN as TOKEN
from conftest import Registry, copy_registry, isolate, run
from fakegithub import FakeGitHub
from gitreg.errors import ArtifactError, UnsafeModelError
from gitreg.evaluation import allowlist, builtin, loading, runner, sandbox
from gitreg.model import metrics as metric_names
from gitreg.model.gate import NO_BASELINE, decide
from gitreg.model.manifest import MetricPolicy
from gitreg.render.gate import MARKER
from gitreg.store import dvc as artifacts

PY = sys.executable
# A "model" for command tests: a text file holding its own F1.
SCORE_CMD = [
    PY,
    "-c",
    "import json, sys; json.dump({'f1': float(open(sys.argv[1]).read())}, open(sys.argv[2], 'w'))",
    "{model}",
    "{output}",
]


@pytest.fixture(autouse=True)
def _not_in_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    """The suite may itself run in GitHub Actions: never touch the real job's files."""
    for name in ("GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "GITHUB_EVENT_PATH", "GITHUB_REPOSITORY"):
        monkeypatch.delenv(name, raising=False)
    for name in ("http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")


# --- building registries ----------------------------------------------------------------------


def iris_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Iris with noise (so that models differ), every third row held out."""
    x, y = load_iris(return_X_y=True)
    x = x + np.random.default_rng(0).normal(0, 0.6, x.shape)
    held = np.arange(len(y)) % 3 == 0
    return x[~held], y[~held], x[held], y[held]


def write_holdout(path: Path) -> None:
    _, _, x, y = iris_split()
    lines = ["f0,f1,f2,f3,region,target"]
    for i, (row, label) in enumerate(zip(x, y)):
        lines.append(
            ",".join([*(f"{v:g}" for v in row), "north" if i % 2 else "south", str(label)])
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")


def save(model: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        pickle.dump(model, fh)
    return path


def logistic(c: float) -> LogisticRegression:
    """F1 on the held-out rows: 0.856 with C=1, 0.836 with C=5."""
    x, y, _, _ = iris_split()
    return LogisticRegression(C=c, max_iter=1000).fit(x, y)


def tree(depth: int) -> DecisionTreeClassifier:
    """F1 on the held-out rows: 0.82 at depth 2, 0.537 at depth 1."""
    x, y, _, _ = iris_split()
    return DecisionTreeClassifier(max_depth=depth, random_state=0).fit(x, y)


def register(
    reg: Registry, version: str, artifact: Path, declared: dict[str, float] | None = None
) -> None:
    args = ["register", "churn", "--version", version, "--artifact", str(artifact), "--here"]
    if declared is not None:
        metrics = artifact.parent / f"metrics-{version}.json"
        metrics.write_text(json.dumps(declared))
        args += ["--metrics", str(metrics)]
    if version == "1.0.0":
        args += ["--task", "classification"]
    res = reg.run(*args)
    assert res.code == 0, res.err


def set_policy(
    reg: Registry, evaluation: dict[str, Any], message: str = "Evaluation policy"
) -> None:
    path = reg.path / "models/churn/model.yaml"
    spec = yaml.safe_load(path.read_text())
    spec["evaluation"] = evaluation
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    reg.commit_all(message)


def set_stages(reg: Registry, stages: dict[str, str], message: str = "Stages") -> None:
    body = {"schema": "gitreg/v1", **stages}
    (reg.path / "models/churn/stages.yaml").write_text(yaml.safe_dump(body, sort_keys=False))
    reg.commit_all(message)


def track_holdout(reg: Registry) -> None:
    write_holdout(reg.path / "data/holdout.csv")
    artifacts.add_and_push(reg.path, ["data/holdout.csv"])
    reg.commit_all("Held-out data")


POLICY = {
    "dataset": "data/holdout.csv",
    "target": "target",
    "slices": ["region"],
    "timeout": 60,
    "metrics": {
        "f1": {"goal": "maximize", "min": 0.7, "max_regression": 0.01},
        "accuracy": {"min": 0.7},
    },
}


def build_iris(reg: Registry, tmp_path: Path) -> None:
    """churn@1.0.0 (logistic regression, C=5) in production, held-out iris CSV in DVC."""
    track_holdout(reg)
    register(reg, "1.0.0", save(logistic(5), tmp_path / "m100" / "model.pkl"), {"f1": 0.97})
    set_policy(reg, POLICY)
    set_stages(reg, {"production": "1.0.0"})


def report_of(out: str) -> dict[str, Any]:
    data = json.loads(out)
    assert len(data["reports"]) == 1
    report: dict[str, Any] = data["reports"][0]
    return report


def verdicts(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["metric"]: v for v in report["verdicts"]}


# --- the built-in evaluator, end to end ---------------------------------------------------------


def test_gate_passes_against_baseline_with_slices(iris: Registry, tmp_path: Path) -> None:
    register(iris, "1.1.0", save(logistic(1), tmp_path / "m110" / "model.pkl"), {"f1": 0.99})
    md = tmp_path / "report.md"
    res = iris.run(
        "evaluate", "churn", "1.1.0", "--baseline", "production", "--json", "--report-md", str(md)
    )
    assert res.code == 0, res.err + res.out
    report = report_of(res.out)
    assert (report["candidate"], report["baseline"], report["stage"]) == (
        "1.1.0",
        "1.0.0",
        "production",
    )
    assert report["passed"] is True
    rows = verdicts(report)
    assert rows["f1"]["verdict"] == rows["accuracy"]["verdict"] == "pass"
    assert rows["f1"]["candidate"] == pytest.approx(0.856, abs=1e-3)
    assert rows["f1"]["baseline"] == pytest.approx(0.836, abs=1e-3)
    assert rows["f1"]["delta"] == pytest.approx(rows["f1"]["candidate"] - rows["f1"]["baseline"])
    for extra in ("precision", "recall"):  # measured, without a policy: shown for information
        assert rows[extra]["verdict"] == "info"
    assert set(report["slices"]) == {"region=north", "region=south"}
    assert all(v["verdict"] == "pass" for vs in report["slices"].values() for v in vs)
    declared = {d["metric"]: d for d in report["declared"]}
    assert declared["f1"]["candidate_declared"] == 0.99  # shown, never used for the verdict
    assert declared["f1"]["candidate_measured"] == rows["f1"]["candidate"] != 0.99
    assert declared["f1"]["baseline_declared"] == 0.97
    assert [log["role"] for log in report["logs"]] == ["baseline", "candidate"]
    text = md.read_text()
    assert text.startswith(MARKER + "\n")
    assert "| metric | baseline | candidate | delta | threshold | verdict |" in text
    assert "#### Slices" in text and "region=north" in text
    assert "#### Declared in the manifests vs measured here" in text


def test_gate_fails_on_f1_regression(iris: Registry, tmp_path: Path) -> None:
    register(iris, "1.2.0", save(tree(2), tmp_path / "m120" / "model.pkl"))
    res = iris.run("evaluate", "churn", "1.2.0", "--baseline", "production", "--json")
    assert res.code == 1, res.err
    report = report_of(res.out)
    assert report["passed"] is False
    f1 = verdicts(report)["f1"]
    assert f1["verdict"] == "fail"
    assert f1["reason"].startswith("dropped by 0.01") and "(allowed 0.01)" in f1["reason"]
    assert f1["candidate"] >= 0.7  # above min: the regression alone fails it
    assert f1["threshold"] == ">= 0.7, drop <= 0.01"
    assert verdicts(report)["accuracy"]["verdict"] == "pass"


def test_no_baseline_only_absolute_thresholds(iris: Registry, tmp_path: Path) -> None:
    register(iris, "1.2.0", save(tree(1), tmp_path / "m120" / "model.pkl"))
    res = iris.run("evaluate", "churn", "1.2.0")
    assert res.code == 1, res.err
    assert "churn 1.2.0 (no baseline): FAILED" in res.out
    f1_row = next(line.split() for line in res.out.splitlines() if line.split()[:1] == ["f1"])
    assert f1_row[:4] == ["f1", "-", "0.5366", "-"]
    assert " ".join(f1_row[4:]) == ">= 0.7, drop <= 0.01 fail: below min 0.7"
    assert f"note: {NO_BASELINE}" in res.out


class Evil:
    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self) -> tuple[Any, ...]:
        return (os.system, (f"echo pwned > {self.target}",))


def test_malicious_pickle_refused_never_run(iris: Registry, tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    register(iris, "1.3.0", save(Evil(pwned), tmp_path / "m130" / "model.pkl"))
    res = iris.run("evaluate", "churn", "1.3.0", "--json")
    assert res.code == 1, res.err
    f1 = verdicts(report_of(res.out))["f1"]
    assert f1["verdict"] == "fail"
    assert "models/churn/artifacts/1.3.0/model.pkl: refused to load" in f1["reason"]
    assert "posix.system" in f1["reason"]
    assert not pwned.exists()


# --- a command as the evaluator ----------------------------------------------------------------


def score_file(tmp_path: Path, version: str, f1: float) -> Path:
    path = tmp_path / f"s{version}" / "score.txt"
    path.parent.mkdir(parents=True)
    path.write_text(str(f1))
    return path


SCORE_POLICY = {
    "dataset": "data/holdout.csv",
    "command": SCORE_CMD,
    "timeout": 30,
    "metrics": {"f1": {"min": 0.5, "max_regression": 0.02}},
}


def build_scored(reg: Registry, tmp_path: Path) -> None:
    """churn 1.0.0 (F1 0.90), 1.1.0 (0.95), 1.2.0 (0.80): "models" that know their score.

    main: staging and production hold 1.0.0; gitreg.yaml has an ungated `dev` stage.
    """
    track_holdout(reg)
    for version, f1 in (("1.0.0", 0.90), ("1.1.0", 0.95), ("1.2.0", 0.80)):
        register(reg, version, score_file(tmp_path, version, f1))
    set_policy(reg, SCORE_POLICY)
    config = reg.path / "gitreg.yaml"
    data = yaml.safe_load(config.read_text())
    data["stages"].insert(0, {"name": "dev", "gate": False})
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    set_stages(reg, {"staging": "1.0.0", "production": "1.0.0"})


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Registry]]:
    """The two registries, built once per module (as conftest's `registry` fixture builds one,
    under the same isolation) and copied for each test: building costs seconds, copying not."""
    with pytest.MonkeyPatch.context() as mp:
        isolate(mp, tmp_path_factory.mktemp("home"))
        built = {}
        for name, build in (("iris", build_iris), ("scored", build_scored)):
            where = tmp_path_factory.mktemp(name)
            assert run("init", str(where / "reg"), "--remote", str(where / "dvc-remote")).code == 0
            reg = Registry(where / "reg", where / "dvc-remote", where / "origin.git")
            build(reg, where)
            built[name] = reg
        yield built


@pytest.fixture
def iris(templates: dict[str, Registry], tmp_path: Path) -> Registry:
    return copy_registry(templates["iris"], tmp_path)


@pytest.fixture
def scored(templates: dict[str, Registry], tmp_path: Path) -> Registry:
    return copy_registry(templates["scored"], tmp_path)


def promote_on_branch(
    reg: Registry, branch: str, stages: dict[str, str], f1_limit: float | None = None
) -> None:
    """A pull request branch from main changing stages.yaml (and maybe the policy)."""
    reg.git("checkout", "-q", "-b", branch, "main")
    if f1_limit is not None:
        policy = json.loads(json.dumps(SCORE_POLICY))
        policy["metrics"]["f1"]["max_regression"] = f1_limit
        set_policy(reg, policy, "Loosen the gate")
    set_stages(reg, stages, f"Promote on {branch}")
    reg.git("checkout", "-q", "main")


@pytest.mark.parametrize(
    ("code", "timeout", "returncode", "reason"),
    [
        ("import time; time.sleep(5)", 1, None, "timed out after 1 s"),
        ("sys.stderr.write('boom\\n'); sys.exit(3)", 30, 3, "exited with code 3: boom"),
        ("pass", 30, 0, "the evaluation wrote no output (the JSON file at {output})"),
        ("open(OUT, 'w').write('{\"f1\": 0.9')", 30, 0, "the evaluation wrote invalid JSON ("),
        (
            "open(OUT, 'w').write('{\"f1\": \"high\"}')",
            30,
            0,
            "the evaluation metric 'f1' is \"high\", not a finite number",
        ),
        ("open(OUT, 'w').write('{\"f1\": NaN}')", 30, 0, "the evaluation metric 'f1' is NaN"),
        ("open(OUT, 'w').write('[0.9]')", 30, 0, "the evaluation wrote a JSON list, not an object"),
    ],
    ids=["timeout", "exit-3", "no-output", "bad-json", "non-numeric", "nan", "list"],
)
def test_command_failures_are_failed_verdicts(
    tmp_path: Path, code: str, timeout: int, returncode: int | None, reason: str
) -> None:
    box = sandbox.Sandbox(tmp_path, tmp_path / "candidate")
    output = box.writable / "metrics.json"
    argv = runner.fill(
        [PY, "-c", "import sys; OUT = sys.argv[1]; " + code, "{output}"],
        tmp_path / "m",
        tmp_path / "d",
        output,
    )
    start = time.monotonic()
    measured = runner.run(argv, "candidate", "1.1.0", output, timeout, tmp_path, box)
    assert time.monotonic() - start < 4
    assert measured.error is not None and measured.error.startswith(reason), measured.error
    assert measured.log is not None and measured.log.returncode == returncode
    policy = {"f1": MetricPolicy(min=0.5)}
    report = decide("churn", "production", "data/holdout.csv", policy, measured, None, {"f1": 0.9})
    (f1,) = report.verdicts
    assert (f1.verdict, f1.candidate, f1.reason) == (
        "fail",
        None,
        f"not measured: {measured.error}",
    )
    assert report.passed is False
    assert report.declared[0].candidate_declared == 0.9  # declared, never the verdict


def test_failing_command_end_to_end(scored: Registry) -> None:
    command = [PY, "-c", "import sys; sys.stderr.write('boom\\n'); sys.exit(3)"]
    set_policy(scored, {**SCORE_POLICY, "command": command})
    res = scored.run("evaluate", "churn", "1.1.0", "--baseline", "production", "--json")
    assert res.code == 1, res.err
    report = report_of(res.out)
    f1 = verdicts(report)["f1"]
    assert (f1["verdict"], f1["reason"]) == ("fail", "not measured: exited with code 3: boom")
    assert "baseline 1.0.0 could not be measured: exited with code 3: boom" in report["notes"]
    assert [(log["role"], log["returncode"], log["stderr"]) for log in report["logs"]] == [
        ("baseline", 3, "boom\n"),
        ("candidate", 3, "boom\n"),
    ]


FAKE_SECRETS = {
    "GITHUB_TOKEN": TOKEN,
    "GH_TOKEN": "ghp_y" + "2" * 36,
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AZURE_STORAGE_KEY": "c2VjcmV0LWF6dXJlLXN0b3JhZ2Uta2V5",
    "DVC_REMOTE_READ_SECRET": "dvc-remote-secret-5b1f",
    "WEBDAV_PASSWORD": "webdav-password-0c9a",
}


def test_command_contract(
    scored: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Placeholders filled in, no shell, by_slice read; the environment is an allow-list
    (the command dumps it into its metric names) and no secret reaches the report."""
    script = (
        "import json, os, sys; model, data, out = sys.argv[1:4]; "
        "print('args', sys.argv[4]); "
        "env = {f'env {k}={v}': 1 for k, v in os.environ.items()}; "
        "json.dump({'f1': float(open(model).read()), 'rows': len(open(data).readlines()), "
        "**env, 'by_slice': {'all': {'f1': 0.5}}}, open(out, 'w'))"
    )
    command = [PY, "-c", script, "{model}", "{dataset}", "{output}", "$HOME;{x}"]
    set_policy(scored, {**SCORE_POLICY, "command": command})
    for name, value in FAKE_SECRETS.items():
        monkeypatch.setenv(name, value)
    md, js = tmp_path / "report.md", tmp_path / "report.json"
    res = scored.run(
        "evaluate", "churn", "1.1.0", "--baseline", "production", "--json",
        "--report-md", str(md), "--report-json", str(js),
    )  # fmt: skip
    assert res.code == 0, res.err
    report = report_of(res.out)
    rows = verdicts(report)
    assert rows["f1"]["candidate"] == 0.95 and rows["f1"]["verdict"] == "pass"
    assert rows["rows"]["candidate"] == 51
    env = dict(m.removeprefix("env ").split("=", 1) for m in rows if m.startswith("env "))
    assert set(env) == {
        "PATH", "HOME", "TMPDIR", "LANG", "LC_ALL", "TZ", "PYTHONHASHSEED",
        "PYTHONDONTWRITEBYTECODE", "PYTHONNOUSERSITE", *sandbox.THREADS,
        *(k for k in sandbox.PASSTHROUGH if k in os.environ),
    }  # fmt: skip
    assert env["HOME"] == "$TMP/candidate/home"
    assert report["logs"][-1]["stdout"] == "args $HOME;{x}\n"
    assert "$TMP/project/models/churn/artifacts/1.1.0/score.txt" in report["logs"][-1]["argv"]
    assert report["slices"]["all"][0]["verdict"] == "pass"
    assert sandbox.note(SCORE_POLICY["timeout"]) in report["notes"]
    texts = [res.out, md.read_text(), js.read_text()]
    assert all(value not in text for value in FAKE_SECRETS.values() for text in texts)


LEAK = (
    "import json, sys; secret = open('leak.txt').read().strip(); "
    "print('read', secret); sys.stderr.write('also ' + secret + '\\n'); "
    "json.dump({'f1': 0.9, secret: 1.0}, open(sys.argv[1], 'w')); "
    "sys.exit('failed with ' + secret if 'fail' in sys.argv else 0)"
)


@pytest.mark.parametrize("fails", [False, True], ids=["reports", "fails"])
def test_secret_from_a_planted_file_is_redacted(
    scored: Registry, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fails: bool
) -> None:
    """A command prints a secret it read from a file in the registry's tree: every copy in
    the report (output tails, metric names, error) is `***`."""
    secret = FAKE_SECRETS["DVC_REMOTE_READ_SECRET"]
    monkeypatch.setenv("DVC_REMOTE_READ_SECRET", secret)
    (scored.path / "leak.txt").write_text(secret + "\n")
    command = [PY, "-c", LEAK, "{output}", *(["fail"] if fails else [])]
    set_policy(scored, {**SCORE_POLICY, "command": command})
    md, js = tmp_path / "report.md", tmp_path / "report.json"
    res = scored.run(
        "evaluate", "churn", "1.1.0", "--json", "--report-md", str(md), "--report-json", str(js)
    )
    assert res.code == (1 if fails else 0), res.err
    texts = [res.out, md.read_text(), js.read_text()]
    assert all(secret not in text for text in texts)
    report = report_of(res.out)
    assert report["logs"][-1]["stdout"] == "read ***\n"
    assert report["logs"][-1]["stderr"].startswith("also ***\n")
    if fails:
        assert (
            verdicts(report)["f1"]["reason"] == "not measured: exited with code 1: failed with ***"
        )
    else:
        assert verdicts(report)["***"]["verdict"] == "info"
    assert "***" in md.read_text()


# --- promotions in a pull request ---------------------------------------------------------------


def test_changed_finds_promotions(scored: Registry) -> None:
    promote_on_branch(
        scored, "promote", {"dev": "1.1.0", "staging": "1.0.0", "production": "1.1.0"}
    )
    res = scored.run("evaluate", "--changed", "--base", "main", "--ref", "promote", "--json")
    assert res.code == 0, res.err + res.out
    data = json.loads(res.out)
    assert data["passed"] is True
    assert [(r["model"], r["candidate"], r["stage"], r["baseline"]) for r in data["reports"]] == [
        ("churn", "1.1.0", "production", "1.0.0")
    ]
    assert data["skipped"] == ["churn 1.1.0 -> dev: gate: false in gitreg.yaml"]
    assert verdicts(data["reports"][0])["f1"]["delta"] == pytest.approx(0.05)


def test_changed_applies_the_base_policy(scored: Registry) -> None:
    """A pull request cannot loosen its own gate: the base's policy decides."""
    promote_on_branch(scored, "sneaky", {"staging": "1.2.0", "production": "1.0.0"}, f1_limit=0.5)
    res = scored.run("evaluate", "--changed", "--base", "main", "--ref", "sneaky", "--json")
    assert res.code == 1, res.err
    report = report_of(res.out)
    assert (report["stage"], report["baseline"]) == ("staging", "1.0.0")
    assert "dropped by 0.1" in verdicts(report)["f1"]["reason"]
    assert any("this change edits the evaluation policy" in n for n in report["notes"])
    res = scored.run("evaluate", "--changed", "--base", "main", "--ref", "main")
    assert (res.code, res.out.strip()) == (0, "No stage change to evaluate.")


def test_changed_gates_a_new_model_without_policy(scored: Registry, tmp_path: Path) -> None:
    scored.git("checkout", "-q", "-b", "fraud", "main")
    res = scored.run(
        "register",
        "fraud",
        "--version",
        "1.0.0",
        "--artifact",
        str(score_file(tmp_path, "f", 0.9)),
        "--here",
    )
    assert res.code == 0, res.err
    (scored.path / "models/fraud/stages.yaml").write_text("schema: gitreg/v1\nstaging: 1.0.0\n")
    scored.commit_all("Promote fraud")
    res = scored.run("evaluate", "--changed", "--base", "main", "--json")
    assert res.code == 1, res.err
    report = report_of(res.out)
    assert (report["model"], report["stage"], report["baseline"]) == ("fraud", "staging", None)
    assert verdicts(report)["evaluation"]["reason"] == (
        "models/fraud/model.yaml has no `evaluation` section; staging is gated"
    )
    assert report["notes"] == ["new model: its evaluation policy comes from this change"]


def test_usage_errors(scored: Registry) -> None:
    assert scored.run("evaluate", "churn").code == 2
    assert scored.run("evaluate", "--changed").code == 2
    assert scored.run("evaluate", "churn", "1.1.0", "--changed", "--base", "main").code == 2
    res = scored.run("evaluate", "churn", "1.1.0", "--baseline", "prod")
    assert res.code == 2 and "unknown stage" in res.err
    res = scored.run("evaluate", "churn", "9.9.9")
    assert res.code == 3 and "churn@9.9.9 not found" in res.err


# --- GitHub: the PR comment and the job summary -------------------------------------------------


def test_pr_comment_upserted_and_job_summary(
    scored: Registry, fake_github: FakeGitHub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = fake_github.add_pull("promote")
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": number}}))
    step_summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    monkeypatch.setenv("GITHUB_EVENT_PATH", str(event))
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo-org/models")
    promote_on_branch(scored, "bad", {"staging": "1.2.0", "production": "1.0.0"})
    promote_on_branch(scored, "good", {"staging": "1.1.0", "production": "1.0.0"})

    res = scored.run("evaluate", "--changed", "--base", "main", "--ref", "bad", "--comment")
    assert (res.code, res.err) == (1, "")
    (first,) = fake_github.comments.values()
    assert first["body"].startswith(MARKER) and "churn 1.2.0 → staging: failed" in first["body"]

    res = scored.run("evaluate", "--changed", "--base", "main", "--ref", "good", "--comment")
    assert (res.code, res.err) == (0, "")
    (comment,) = fake_github.comments.values()  # updated, not a second one
    assert comment["id"] == first["id"] and "churn 1.1.0 → staging: passed" in comment["body"]
    methods = [r.method for r in fake_github.requests if "comments" in r.path]
    assert methods == ["GET", "POST", "GET", "PATCH"]
    assert fake_github.violations == []
    summary = step_summary.read_text()
    assert summary.count(MARKER) == 2 and "1.2.0 → staging: failed" in summary

    fake_github.read_only = True  # a fork's read-only token: the verdict still stands
    res = scored.run("evaluate", "--changed", "--base", "main", "--ref", "bad", "--comment")
    assert res.code == 1
    assert res.err.startswith(f"warning: could not comment on pull request #{number}: ")


def test_comment_needs_a_pr_and_a_token(scored: Registry, monkeypatch: pytest.MonkeyPatch) -> None:
    res = scored.run("evaluate", "churn", "1.1.0", "--comment")
    assert res.code == 0
    assert res.err == "warning: not commenting: no pull request number (pass --pr N)\n"
    monkeypatch.setenv("GITHUB_REPOSITORY", "octo-org/models")
    res = scored.run("evaluate", "churn", "1.1.0", "--comment", "--pr", "7")
    assert res.err == "warning: not commenting: set GITHUB_TOKEN (or GH_TOKEN)\n"


# --- safe loading ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted() -> LogisticRegression:
    return logistic(1)


def test_loads_real_models_in_every_format(fitted: LogisticRegression, tmp_path: Path) -> None:
    _, _, x, _ = iris_split()
    expected = fitted.predict(x)
    joblib.dump(fitted, tmp_path / "model.joblib")
    joblib.dump(fitted, tmp_path / "packed.joblib", compress=3)
    skops.io.dump(tree(2), tmp_path / "tree.skops")  # its Tree type is untrusted by skops
    paths = [
        save(fitted, tmp_path / "model.pkl"),
        tmp_path / "model.joblib",
        tmp_path / "packed.joblib",
    ]
    for path in paths:
        assert (loading.load_model(path).predict(x) == expected).all(), path
    assert (loading.load_model(tmp_path / "tree.skops").predict(x) == tree(2).predict(x)).all()
    assert "sklearn.linear_model._logistic.LogisticRegression" in loading.check(paths[0])


def test_malicious_files_refused_before_any_code_runs(tmp_path: Path) -> None:
    pwned = tmp_path / "pwned"
    evil = save(Evil(pwned), tmp_path / "evil.pkl")
    with pytest.raises(UnsafeModelError) as err:
        loading.load_model(evil)
    assert err.value.path == evil and err.value.refused == [
        ("posix.system", "picklescan flags it as dangerous")
    ]
    assert str(err.value).startswith("evil.pkl: refused to load, it imports posix.system")
    # behind raw array bytes, where a static scan stops reading: the unpickler refuses it
    joblib.dump({"weights": np.zeros(100), "hook": Evil(pwned)}, tmp_path / "evil.joblib")
    joblib.dump(
        {"weights": np.zeros(100), "hook": Evil(pwned)}, tmp_path / "evil-z.joblib", compress=3
    )
    hidden = np.array([Evil(pwned)], dtype=object)  # the nested pickle of an object array
    joblib.dump({"weights": hidden}, tmp_path / "evil-o.joblib", compress=3)
    # the static scan reads on past the raw array bytes (gitreg's own opcode walk)
    with pytest.raises(UnsafeModelError, match=r"posix\.system \(not on the allow-list\)"):
        loading.check(tmp_path / "evil.joblib")
    for name in ("evil.joblib", "evil-z.joblib", "evil-o.joblib"):
        if name != "evil.joblib":  # compressed: no static scan can read it
            assert "posix.system" not in " ".join(loading.check(tmp_path / name))
        with pytest.raises(UnsafeModelError, match=r"posix\.system \(not on the allow-list\)"):
            loading.load_model(tmp_path / name)
    skops.io.dump(FunctionTransformer(os.getcwd), tmp_path / "evil.skops")
    with pytest.raises(UnsafeModelError, match=r"posix\.getcwd") as err:
        loading.load_model(tmp_path / "evil.skops")
    assert err.value.hint is not None and err.value.hint.startswith("skops does not trust")
    assert not pwned.exists()


def test_registry_can_allow_more_imports(tmp_path: Path) -> None:
    from collections import Counter

    path = save(Counter("aab"), tmp_path / "counts.pkl")
    with pytest.raises(UnsafeModelError, match=r"collections\.Counter \(not on the allow-list\)"):
        loading.load_model(path)
    with pytest.raises(UnsafeModelError):  # entries are exact names: a package allows nothing
        loading.load_model(path, ["collections"])
    assert loading.load_model(path, ["collections.Counter"]) == Counter("aab")
    policy = allowlist.ImportPolicy.with_extra(["mypkg.models.Net", "posix.system"])
    assert policy.problem("mypkg.models", "Net") is None
    assert policy.problem("mypkg.models", "Other") == "not on the allow-list"
    assert policy.problem("posix", "system", dangerous=True) is None  # exact: the user's call
    assert policy.problem("os", "system", dangerous=True) == "picklescan flags it as dangerous"
    assert policy.problem("numpy", "savetxt") == "not on the allow-list"
    assert (
        policy.problem("sklearn.base", "os.system")
        == "an attribute chain, which can reach anything"
    )
    assert policy.problem("numpy", "__builtins__") == "a dunder attribute"
    assert policy.problem("__builtin__", "set") is None  # protocol 2 names


# --- safe loading: real models, and the callables they need ------------------------------------


def categorical_iris() -> tuple[np.ndarray, np.ndarray]:
    """Iris plus a text column, as an object array (what a ColumnTransformer gets)."""
    x, y, _, _ = iris_split()
    colour = np.array([("red", "green", "blue")[i % 3] for i in range(len(y))], dtype=object)
    return np.column_stack([x.astype(object), colour]), y


@pytest.fixture(scope="module")
def real_models() -> dict[str, tuple[Any, np.ndarray]]:
    """Fitted models of the kinds the allow-list was built from, with data to predict."""
    x, y, _, _ = iris_split()
    xc, yc = categorical_iris()
    columns = ColumnTransformer(
        [
            ("numbers", StandardScaler(), [0, 1, 2, 3]),
            ("colour", OneHotEncoder(handle_unknown="ignore"), [4]),
        ]
    )
    pipeline = Pipeline([("columns", columns), ("model", LogisticRegression(max_iter=1000))])
    return {
        "logistic": (LogisticRegression(max_iter=1000).fit(x, y), x),
        "forest": (RandomForestClassifier(n_estimators=10, random_state=0).fit(x, y), x),
        "boosting": (GradientBoostingClassifier(n_estimators=10, random_state=0).fit(x, y), x),
        "boosting-binary": (
            GradientBoostingClassifier(n_estimators=10, random_state=0).fit(x[y < 2], y[y < 2]),
            x,
        ),
        "pipeline": (pipeline.fit(xc, yc), xc),
    }


def dump(obj: Any, path: Path) -> Path:
    """`obj` saved as `path` says: .pkl with pickle, .joblib with joblib, .z.joblib compressed."""
    if path.name.endswith(".z.joblib"):
        joblib.dump(obj, path, compress=3)
    elif path.suffix == ".joblib":
        joblib.dump(obj, path)
    else:
        save(obj, path)
    return path


@pytest.mark.parametrize("saved", ["model.pkl", "model.joblib", "model.z.joblib"])
@pytest.mark.parametrize("kind", ["logistic", "forest", "boosting", "boosting-binary", "pipeline"])
def test_real_models_load_and_predict(
    real_models: dict[str, tuple[Any, np.ndarray]], kind: str, saved: str, tmp_path: Path
) -> None:
    model, x = real_models[kind]
    loaded = loading.load_model(dump(model, tmp_path / saved))
    assert type(loaded) is type(model)
    assert (loaded.predict(x) == model.predict(x)).all()


def test_numpy_and_scipy_objects_load(tmp_path: Path) -> None:
    import scipy.sparse as sp

    eye = np.eye(3)
    objects = {
        "csr": sp.csr_matrix(eye),
        "csc": sp.csc_array(eye),
        "coo": sp.coo_matrix(eye),
        "lil": sp.lil_matrix(eye),
        "texts": np.array(["a", "bc"], dtype=object),
        "scalar": np.int64(7),
        "random": np.random.RandomState(3),
        "generator": np.random.default_rng(3),
    }
    for saved in ("objects.pkl", "objects.z.joblib"):
        loaded = loading.load_model(dump(objects, tmp_path / saved))
        for key in ("csr", "csc", "coo", "lil"):
            assert (loaded[key].toarray() == eye).all(), key
        assert list(loaded["texts"]) == ["a", "bc"] and loaded["scalar"] == 7
        assert loaded["random"].rand() == np.random.RandomState(3).rand()
        assert loaded["generator"].random() == np.random.default_rng(3).random()


def crafted(module: str, name: str, *args: str) -> bytes:
    """A pickle that calls `module.name(*args)` (protocol 0: GLOBAL, MARK, args, TUPLE, REDUCE)."""
    strings = b"".join(b"V" + a.encode("raw_unicode_escape") + b"\n" for a in args)
    return b"c" + module.encode() + b"\n" + name.encode() + b"\n(" + strings + b"tR."


# (module, name, why the pickle is refused, why the unpickler refuses it when the scan is blind)
NOT_LISTED = "not on the allow-list"
DANGEROUS = "picklescan flags it as dangerous"
REFUSED = {
    "numpy.test": ("numpy", "test", NOT_LISTED, NOT_LISTED),
    "numpy.rec.fromfile": ("numpy.rec", "fromfile", NOT_LISTED, NOT_LISTED),
    "numpy.load": ("numpy", "load", NOT_LISTED, NOT_LISTED),
    "numpy.testing": ("numpy.testing", "assert_equal", NOT_LISTED, NOT_LISTED),
    "os.system": ("os", "system", DANGEROUS, NOT_LISTED),
    "builtins.eval": ("builtins", "eval", DANGEROUS, NOT_LISTED),
    "builtins.exec": ("builtins", "exec", DANGEROUS, NOT_LISTED),
    "builtins.getattr": ("builtins", "getattr", DANGEROUS, NOT_LISTED),
    "builtins.__import__": ("builtins", "__import__", "a dunder attribute", "a dunder attribute"),
    "operator.attrgetter": ("operator", "attrgetter", DANGEROUS, NOT_LISTED),
    "functools.partial": ("functools", "partial", DANGEROUS, NOT_LISTED),
    "sklearn.utils._testing": (
        "sklearn.utils._testing",
        "MinimalClassifier",
        "a test, mocking or data-loading helper",
        "a test, mocking or data-loading helper",
    ),
    "sklearn function": (
        "sklearn.base",
        "clone",
        None,
        f"{NOT_LISTED}, and not a scikit-learn estimator class",
    ),
    "sklearn module": ("sklearn", "base", None, "a module"),
    "attribute chain": ("sklearn.base", "os.system", "an attribute chain", "an attribute chain"),
}


@pytest.mark.parametrize("case", list(REFUSED))
def test_crafted_pickles_are_refused(case: str, tmp_path: Path) -> None:
    """Each global the allow-list refuses, called by a crafted pickle: refused by the scan
    (picklescan first) and, where the scan is blind (a compressed joblib file), by the
    unpickler, before anything is called."""
    from joblib.numpy_pickle_utils import _write_fileobject

    module, name, scanned, loaded = REFUSED[case]
    planted = tmp_path / "planted.npy"
    np.save(planted, np.arange(3))
    body = crafted(module, name, str(planted))
    plain = tmp_path / "model.pkl"
    plain.write_bytes(body)
    if scanned is None:  # allowed by its name: the unpickler looks at what it resolves to
        assert loading.check(plain) == [f"{module}.{name}"]
    else:
        with pytest.raises(UnsafeModelError) as err:
            loading.check(plain)
        assert err.value.refused[0][1].startswith(scanned)
    packed = tmp_path / "model.joblib"
    with _write_fileobject(str(packed), compress=("zlib", 3)) as fh:
        fh.write(body)
    assert loading.check(packed) == []  # picklescan cannot read it
    for path in (plain, packed):
        with pytest.raises(UnsafeModelError) as err:
            loading.load_model(path)
        (refused,) = err.value.refused
        assert refused[0] == f"{module}.{name}"
        assert refused[1].startswith(scanned if path == plain and scanned else loaded), refused


def test_other_formats(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"\x08\x07")
    (tmp_path / "model.pt").write_bytes(b"")
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        with pytest.raises(ArtifactError, match="needs onnxruntime") as err:
            loading.load_model(tmp_path / "model.onnx")
        assert err.value.hint == "pip install 'gitreg[onnx]'"
    with pytest.raises(ArtifactError, match="cannot load pytorch files"):
        loading.load_model(tmp_path / "model.pt")


# --- the built-in evaluator, in-process ---------------------------------------------------------


def test_builtin_metrics_match_sklearn(fitted: LogisticRegression, tmp_path: Path) -> None:
    from sklearn.metrics import f1_score

    write_holdout(tmp_path / "holdout.csv")
    model = save(fitted, tmp_path / "model.pkl")
    out = tmp_path / "out.json"
    args = ["--model", str(model), "--dataset", str(tmp_path / "holdout.csv"), "--output", str(out)]
    assert builtin.main([*args, "--slice", "region"]) == 0
    result = json.loads(out.read_text())
    _, _, x, y = iris_split()
    assert result["f1"] == pytest.approx(f1_score(y, fitted.predict(x), average="macro"))
    listed = set(metric_names.builtin_names("classification") or ())
    assert set(result) == listed | {"by_slice", "environment"}
    assert set(result["by_slice"]) == {"region=north", "region=south"}
    assert builtin.main([*args, "--target", "label"]) == 2
    assert builtin.main(args) == 2  # region is not a feature the model knows


def builtin_error(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    """Run the built-in evaluator in-process; it must fail: its one line of stderr."""
    assert builtin.main(list(args)) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_label_is_never_a_feature(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A model trained with the label as a feature would score 1.0: it fails instead."""
    write_holdout(tmp_path / "holdout.csv")
    x, y, _, _ = iris_split()
    cheat = LogisticRegression(max_iter=1000).fit(np.column_stack([x, y]), y)
    cheat.feature_names_in_ = np.array(["f0", "f1", "f2", "f3", "target"], dtype=object)
    data = ["--dataset", str(tmp_path / "holdout.csv"), "--output", str(tmp_path / "out.json")]
    data += ["--slice", "region"]
    err = builtin_error(capsys, "--model", str(save(cheat, tmp_path / "cheat.pkl")), *data)
    assert "the model takes the label column 'target' as a feature" in err
    del cheat.feature_names_in_  # without names: it expects 5 columns, the label is not one
    err = builtin_error(capsys, "--model", str(save(cheat, tmp_path / "cheat2.pkl")), *data)
    assert "the model expects 5 features; the data set has 4 columns" in err
    assert not (tmp_path / "out.json").exists()


def test_errors_never_echo_the_data(
    fitted: LogisticRegression, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Messages name columns only if they look like names, a few at a time, and never
    show a value of the data set or a string from the model file."""
    holdout = tmp_path / "holdout.csv"
    write_holdout(holdout)
    rows = holdout.read_text().splitlines()
    rows[5] = "jane@example.com," + rows[5].split(",", 1)[1]  # a value that is not a number
    (tmp_path / "leaky.csv").write_text("\n".join(rows) + "\n")
    out = ["--output", str(tmp_path / "out.json"), "--slice", "region"]
    model = save(fitted, tmp_path / "model.pkl")
    err = builtin_error(
        capsys, "--model", str(model), "--dataset", str(tmp_path / "leaky.csv"), *out
    )
    assert err == "error: column 'f0' is not numeric (row 5); use evaluation.command\n"
    leaked = "root:x:0:0:root:/root:/bin/bash"  # as if the pickle had read /etc/passwd
    fitted_named = LogisticRegression(max_iter=1000).fit(*iris_split()[:2])
    names = [leaked, *(f"g{i}" for i in range(11))]
    fitted_named.feature_names_in_ = np.array(names, dtype=object)
    named = save(fitted_named, tmp_path / "named.pkl")
    err = builtin_error(capsys, "--model", str(named), "--dataset", str(holdout), *out)
    assert err == (
        "error: the data set lacks 12 of the model's feature columns: <a name not shown>, "
        "'g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6' and 4 more\n"
    )
    data = ["--dataset", str(holdout), *out, "--slice", leaked]  # a slice the data lacks
    err = builtin_error(capsys, "--model", str(model), *data)
    assert leaked not in err and "has no column <a name not shown>" in err


def test_refused_names_are_not_echoed(tmp_path: Path) -> None:
    """The names a pickle imports are its author's text: shown only if they look like names."""
    path = tmp_path / "model.pkl"
    path.write_bytes(crafted("x" * 200, "root:x:0:0:root:/root:/bin/bash"))
    with pytest.raises(UnsafeModelError) as err:
        loading.load_model(path)
    assert (
        err.value.message
        == "model.pkl: refused to load, it imports <a name not shown> (not on the allow-list)"
    )
