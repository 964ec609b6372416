#!/usr/bin/env bash
# The demo: sets up .venv, then runs the registry flow end to end in a scratch folder with a
# local bare git origin and a local DVC remote (nothing leaves this machine).
#   bash scripts/demo.sh [WORKDIR]      (default: a new folder under ${TMPDIR:-/tmp})
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$root/scripts/setup.sh" ""
work="${1:-$(mktemp -d "${TMPDIR:-/tmp}/gitreg-demo-XXXXXX")}"
mkdir -p "$work"
cd "$work"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "1. A bare git origin (stands in for GitHub) and a new registry with a local DVC remote"
show git init -q --bare origin.git
show gitreg init registry
cd registry
show git remote add origin "file://$work/origin.git"
show git push -q origin main

step "2. Train a model (a tiny pure-Python classifier) and write its metrics"
mkdir -p "$work/train"
python - "$work/train" <<'PY'
import json, pickle, random, sys
out = sys.argv[1]
random.seed(0)
rows = [(random.gauss(m, 1.0), label) for label, m in ((0, -1.0), (1, 1.0)) for _ in range(200)]
threshold = sum(x for x, _ in rows) / len(rows)
acc = sum((x > threshold) == bool(y) for x, y in rows) / len(rows)
pickle.dump({"kind": "threshold", "threshold": threshold}, open(f"{out}/model.pkl", "wb"))
json.dump({"accuracy": round(acc, 4), "f1": round(acc - 0.01, 4)}, open(f"{out}/metrics.json", "w"))
open(f"{out}/params.yaml", "w").write("feature: x\nrule: mean-threshold\n")
PY
show cat "$work/train/metrics.json"; echo

step "3. Register churn 1.0.0 (artifact to DVC, manifest committed on main) and push"
show gitreg register churn --version 1.0.0 --artifact "$work/train/model.pkl" \
  --metrics "$work/train/metrics.json" --params "$work/train/params.yaml" \
  --description "first model" --task classification --here
show git push -q origin main

step "4. What CI runs on every pull request, and the read commands"
show gitreg validate
show gitreg list
show gitreg show churn@1.0.0

step "5. A second version on its own branch, validated against main as a PR would be"
python - "$work/train" <<'PY'
import json, sys
json.dump({"accuracy": 0.95, "f1": 0.94}, open(f"{sys.argv[1]}/metrics.json", "w"))
PY
show gitreg register churn --version 1.1.0 --artifact "$work/train/model.pkl" \
  --metrics "$work/train/metrics.json" --params "$work/train/params.yaml" \
  --description "better threshold" --push
show gitreg validate --ref gitreg/register/churn/1.1.0 --base main
show git merge -q --no-ff -m "Merge: register churn 1.1.0" gitreg/register/churn/1.1.0
show gitreg diff churn 1.0.0 1.1.0

step "6. Stage changes edit models/churn/stages.yaml; production requires staging first"
git checkout -q -b promote-too-early
printf 'schema: gitreg/v1\nproduction: 1.1.0\n' > models/churn/stages.yaml
git commit -qam "churn 1.1.0 straight to production"
printf '$ gitreg validate --base main   # expected to fail\n'
if gitreg validate --base main; then echo "demo: expected a refusal" >&2; exit 1; fi
git checkout -q main
printf 'schema: gitreg/v1\nstaging: 1.1.0\n' > models/churn/stages.yaml
git commit -qam "churn 1.1.0 to staging"
show gitreg validate --base HEAD~1
show gitreg history churn
show gitreg list --json

step "Done. The registry is at $work/registry, its origin at $work/origin.git"
