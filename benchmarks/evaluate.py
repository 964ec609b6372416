"""Time `gitreg evaluate --changed` on a registry whose held-out set has 100k rows.

    python benchmarks/evaluate.py [--rows 100000] [--runs 3] [--samples 1000] [--keep DIR]

Builds a registry in a temporary folder (gitreg init, a local DVC remote, a CSV of ROWS
rows tracked by DVC, two versions of a linear "model", a policy with `significance`), a
pull request branch that promotes the new version, and times the gate two ways:

- cold: no cached results; both versions are downloaded, run and resampled;
- cached baseline: the baseline's result is in the cache (as the evaluate workflow's runs
  on main leave it), only the candidate is downloaded and run.

The evaluator is a command (`scripts/score.py` in the registry: csv module, no numpy)
that reports accuracy and its per-row scores, so gitreg draws the paired bootstrap
itself. Needs only gitreg's dev install (git, DVC, numpy). Prints a table of the median
(and every run's) wall time; exits 1 if a run does not give the expected verdict.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
SCRIPT = """
import csv, json, sys
model, data, out = sys.argv[1:4]
w = json.load(open(model))["weights"]
scores = []
with open(data, newline="") as fh:
    for row in csv.DictReader(fh):
        x = [float(row[f"f{i}"]) for i in range(len(w))]
        guess = 1 if sum(a * b for a, b in zip(w, x)) > 0 else 0
        scores.append(1.0 if guess == int(row["target"]) else 0.0)
json.dump({"accuracy": sum(scores) / len(scores), "per_row": {"accuracy": scores}}, open(out, "w"))
"""


def sh(cmd: list[str], cwd: Path, env: dict[str, str]) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and cmd[0] != str(BIN / "gitreg")):
        raise SystemExit(f"FAILED ({proc.returncode}): {' '.join(cmd)}\n{proc.stdout}{proc.stderr}")
    return proc.stdout


def environment(home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Bench\n\temail = bench@example.com\n[init]\n\tdefaultBranch = main\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    env |= {"HOME": str(home), "GIT_CONFIG_GLOBAL": str(home / ".gitconfig")}
    env |= {"DVC_NO_ANALYTICS": "1", "PATH": f"{BIN}{os.pathsep}{env.get('PATH', '')}"}
    return env


def build(where: Path, rows: int, samples: int, env: dict[str, str]) -> Path:
    reg = where / "reg"
    gitreg = str(BIN / "gitreg")
    sh([gitreg, "init", str(reg), "--remote", str(where / "dvc-remote")], where, env)
    rng = random.Random(0)
    lines = ["f0,f1,f2,target"]
    for _ in range(rows):
        x = [rng.gauss(0, 1) for _ in range(3)]
        y = 1 if x[0] + 0.5 * x[1] + rng.gauss(0, 0.5) > 0 else 0
        lines.append(",".join([*(f"{v:.4f}" for v in x), str(y)]))
    (reg / "data").mkdir(exist_ok=True)
    (reg / "data/holdout.csv").write_text("\n".join(lines) + "\n")
    sh([str(BIN / "dvc"), "add", "data/holdout.csv"], reg, env)
    sh([str(BIN / "dvc"), "push", "data/holdout.csv.dvc"], reg, env)
    (reg / "scripts").mkdir()
    (reg / "scripts/score.py").write_text(SCRIPT)
    sh(["git", "add", "-A"], reg, env)
    sh(["git", "commit", "-qm", "Held-out data and evaluator"], reg, env)
    for version, weights in (("1.0.0", [1.0, 0.5, 0.0]), ("1.1.0", [1.0, 0.45, 0.05])):
        model = where / f"m{version}" / "model.json"
        model.parent.mkdir()
        model.write_text(json.dumps({"weights": weights}))
        args = [gitreg, "register", "churn", "--version", version, "--artifact", str(model)]
        sh([*args, "--here", *(["--task", "classification"] if version == "1.0.0" else [])], reg, env)
    spec_path = reg / "models/churn/model.yaml"
    spec = spec_path.read_text()
    policy = {
        "dataset": "data/holdout.csv",
        "command": [sys.executable, "scripts/score.py", "{model}", "{dataset}", "{output}"],
        "timeout": 600,
        "metrics": {"accuracy": {"min": 0.5, "max_regression": 0.002}},
        "significance": {"samples": samples, "confidence": 0.95, "seed": 0},
    }
    spec_path.write_text(spec + "evaluation: " + json.dumps(policy) + "\n")
    (reg / "models/churn/stages.yaml").write_text("schema: gitreg/v1\nstaging: 1.0.0\n")
    sh(["git", "add", "-A"], reg, env)
    sh(["git", "commit", "-qm", "Policy; staging holds 1.0.0"], reg, env)
    sh(["git", "checkout", "-qb", "promote"], reg, env)
    (reg / "models/churn/stages.yaml").write_text("schema: gitreg/v1\nstaging: 1.1.0\n")
    sh(["git", "commit", "-qam", "Promote churn 1.1.0 to staging"], reg, env)
    sh(["git", "checkout", "-q", "main"], reg, env)
    return reg


def timed(reg: Path, env: dict[str, str], warm: bool) -> tuple[float, dict]:
    shutil.rmtree(reg / ".git/gitreg", ignore_errors=True)
    gitreg = str(BIN / "gitreg")
    if warm:  # what main's evaluate run leaves: the stage holder's result
        sh([gitreg, "evaluate", "churn", "1.0.0"], reg, env)
    cmd = [gitreg, "evaluate", "--changed", "--base", "main", "--ref", "promote", "--json"]
    start = time.perf_counter()
    out = sh(cmd, reg, env)
    seconds = time.perf_counter() - start
    report = json.loads(out)["reports"][0]
    if report["cached"] != (["baseline"] if warm else []):
        raise SystemExit(f"unexpected cache use: {report['cached']} (warm={warm})")
    return seconds, report


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--samples", type=int, default=1000)
    ap.add_argument("--keep", type=Path, help="build the registry here and keep it")
    args = ap.parse_args()
    where = args.keep or Path(tempfile.mkdtemp(prefix="gitreg-bench-evaluate-"))
    where.mkdir(parents=True, exist_ok=True)
    try:
        env = environment(where / "home")
        t0 = time.perf_counter()
        reg = build(where, args.rows, args.samples, env)
        print(f"registry with {args.rows} held-out rows built in {time.perf_counter() - t0:.1f} s")
        rows = []
        for label, warm in (("cold (nothing cached)", False), ("cached baseline", True)):
            times, report = [], {}
            for _ in range(args.runs):
                seconds, report = timed(reg, env, warm)
                times.append(seconds)
            acc = next(v for v in report["verdicts"] if v["metric"] == "accuracy")
            rows.append((label, statistics.median(times), times, acc))
        print(f"\ngitreg evaluate --changed, {args.rows} rows, {args.samples} bootstrap samples")
        print(f"{'case':<24} {'median s':>9}  runs")
        for label, median, times, _ in rows:
            print(f"{label:<24} {median:>9.2f}  {', '.join(f'{t:.2f}' for t in times)}")
        acc = rows[-1][3]
        print(f"\nverdict: accuracy {acc['baseline']:.4f} -> {acc['candidate']:.4f}, delta "
              f"{acc['delta']:+.4f}, interval {acc['interval']}, {acc['verdict']} "
              f"({acc['significance']})")  # fmt: skip
        return 0
    finally:
        if args.keep is None:
            shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
