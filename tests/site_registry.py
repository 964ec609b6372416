"""A small registry for the site's tests, written file by file so every byte (and, with the
fixed git dates of conftest, every commit id) is the same on every run.

Two models: `iris` (three versions, one deprecated, staging and production released with
pull requests, stored evaluation results for 1.1.0 and 1.2.0) and `evil`, whose manifests
hold markup that must show as text.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from conftest import git, run

EVIL = '<script>alert("x")</script><img src=x onerror=alert(1)>'

GITREG_YAML = """schema: gitreg/v1
stages:
  - name: staging
  - name: production
    requires: staging
dvc_remote: default
github:
  repo: acme/models
"""

IRIS = """schema: gitreg/v1
name: iris
description: Classifies iris flowers.
owners: ["@acme/ml-team"]
task: classification
labels: {team: botany, tier: gold}
card:
  intended_use: Teaching the gitreg flow.
  limitations: 150 samples.
evaluation:
  dataset: data/holdout.csv
  target: species
  metrics:
    f1: {goal: maximize, min: 0.9, max_regression: 0.01}
    accuracy: {goal: maximize, max_regression_pct: 2, min_improvement: 0.005}
  significance: {samples: 500, confidence: 0.9, seed: 7}
"""

EVIL_MODEL = f"""schema: gitreg/v1
name: evil
description: '{EVIL}'
owners: ["@mallory"]
task: regression
labels: {{team: "</script>"}}
card:
  intended_use: '{EVIL}'
"""


def version_yaml(name: str, version: str, f1: float, acc: float, **extra: str) -> str:
    md5 = hashlib.md5(f"{name}@{version}".encode()).hexdigest()
    minor = int(version.split(".")[1])
    status = extra.get("status", "active")
    description = extra.get("description", f"{name} {version}")
    return f"""schema: gitreg/v1
name: {name}
version: {version}
created: '2026-01-{minor + 1:02d}T10:00:00Z'
author: Ada Tester <ada@example.com>
description: '{description}'
artifacts:
  - path: models/{name}/artifacts/{version}/model.pkl
    md5: {md5}
    size: {1000 + minor * 1536}
    format: pickle
framework: {{name: sklearn, version: 1.5.2}}
metrics: {{f1: {f1}, accuracy: {acc}}}
params: {{C: 1.0, solver: lbfgs, flag: true}}
lineage:
  code: {{repo: 'https://github.com/acme/train', commit: 0123456789abcdef0123456789abcdef01234567}}
  data:
    - {{name: holdout, path: data/holdout.csv, md5: 0123456789abcdef0123456789abcdef}}
status: {status}
"""


def pointer(name: str, version: str) -> str:
    """The .dvc pointer of the artifact `version_yaml` lists."""
    md5 = hashlib.md5(f"{name}@{version}".encode()).hexdigest()
    size = 1000 + int(version.split(".")[1]) * 1536
    return f"outs:\n- md5: {md5}\n  size: {size}\n  path: model.pkl\n"


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _commit(root: Path, files: dict[str, str], message: str) -> None:
    _write(root, files)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)


def build(root: Path) -> Path:
    """The registry at `root`, released (tags written by `gitreg release`)."""
    root.mkdir(parents=True)
    git(root, "init", "-q", "--initial-branch=main")
    base = {
        "gitreg.yaml": GITREG_YAML,
        ".dvc/config": "[core]\n    remote = default\n['remote \"default\"']\n    url = /tmp/x\n",
        "data/holdout.csv.dvc": "outs:\n- md5: 0123456789abcdef0123456789abcdef\n  size: 10\n"
        "  path: holdout.csv\n",
        "models/iris/model.yaml": IRIS,
        "models/evil/model.yaml": EVIL_MODEL,
    }
    _commit(root, base, "Start the registry")
    for pr, (version, f1, acc, extra) in enumerate(
        [
            ("1.0.0", 0.91, 0.93, {}),
            ("1.1.0", 0.95, 0.96, {}),
            ("1.2.0", 0.88, 0.90, {"description": "a worse tree"}),
        ],
        start=1,
    ):
        path = f"models/iris/versions/{version}.yaml"
        files = {path: version_yaml("iris", version, f1, acc, **extra)}
        files[f"models/iris/artifacts/{version}/model.pkl.dvc"] = pointer("iris", version)
        _commit(root, files, f"Merge pull request #{pr} from acme/register-iris-{version}")
        assert run("release", "-C", str(root)).code == 0
    evil_v = version_yaml("evil", "0.1.0", 0.5, 0.5, description=EVIL)
    evil_files = {
        "models/evil/versions/0.1.0.yaml": evil_v,
        "models/evil/artifacts/0.1.0/model.pkl.dvc": pointer("evil", "0.1.0"),
    }
    _commit(root, evil_files, "Merge pull request #9 from x/y")
    for mapping, n in [
        ({"staging": "1.0.0"}, 4),
        ({"staging": "1.1.0", "production": "1.0.0"}, 5),
        ({"staging": "1.1.0", "production": "1.1.0"}, 6),
    ]:
        text = "schema: gitreg/v1\n" + "".join(f"{k}: {v}\n" for k, v in mapping.items())
        _commit(root, {"models/iris/stages.yaml": text}, f"Merge pull request #{n} from acme/p{n}")
        assert run("release", "-C", str(root)).code == 0
    deprecated = version_yaml("iris", "1.2.0", 0.88, 0.90, status="deprecated")
    deprecated = deprecated.replace("description: 'iris 1.2.0'", "description: 'a worse tree'")
    _commit(root, {"models/iris/versions/1.2.0.yaml": deprecated}, "Merge pull request #7 from a/d")
    assert run("release", "-C", str(root)).code == 0
    store_results(root, {"1.1.0": (0.95, 0.96), "1.2.0": (0.885, 0.95)})
    return root


def store_results(root: Path, measured: dict[str, tuple[float, float]]) -> None:
    """Results of iris's versions (f1, accuracy) in the clone's result store, under the
    key `gitreg evaluate` would use at HEAD, stored at a fixed time (the goldens show it)."""
    from gitreg.evaluation import reuse
    from gitreg.model.measurement import Measurement, to_record
    from gitreg.registry.reader import Registry
    from gitreg.store import results

    with Registry.open(root, "HEAD") as reg:
        folder = results.cache_dir(reg.git)
        assert folder is not None
        folder.mkdir(parents=True, exist_ok=True)
        spec = reg.model("iris")
        shared = reuse.stored_facts(reg.git, spec, (reg.commit, "HEAD"), [])
        assert shared is not None
        for version, (f1, acc) in measured.items():
            entry = reuse.key(spec, reg.version("iris", version), shared)
            m = Measurement(version, {"f1": f1, "accuracy": acc})
            stamp = {"stored_at": "2026-01-09T12:00:00Z", "commit": reg.commit}
            assert results.save(folder, entry, {"model": "iris", **to_record(m), **stamp})
