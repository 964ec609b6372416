#!/usr/bin/env bash
# The demo: sets up .venv, then walks the whole gitreg flow from example-registry/'s iris
# classifier (its model.yaml and training code) with a local bare git origin standing in
# for GitHub and a local DVC remote, and ends with the site's path. Nothing leaves this
# machine. Pull requests are simulated: each branch is checked
# the way CI checks it (validate + evaluate), then merged with --no-ff like GitHub does.
#   bash scripts/demo.sh [WORKDIR]      (default: a new folder under ${TMPDIR:-/tmp})
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$root/scripts/setup.sh" sklearn
unset GITHUB_TOKEN GH_TOKEN   # no GitHub here: --open-pr prints the compare URL instead
work="${1:-$(mktemp -d "${TMPDIR:-/tmp}/gitreg-demo-XXXXXX")}"
mkdir -p "$work"
start=$(date +%s)
bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
step() { bold "== $*"; }
run() { printf '\033[36m$ %s\033[0m\n' "$*"; "$@"; }
pr=0
# merge BRANCH TITLE: what pressing "Merge" on GitHub does, then the release workflow
merge() {
  pr=$((pr + 1))
  run git merge -q --no-ff -m "Merge pull request #$pr from acme/$1" -m "$2" "$1"
  run git push -q origin main
  run gitreg release --push
}
# release_version VERSION: train it, register it on its own branch, check the branch as CI
# would, merge it
release_version() {
  run python train/train.py --version "$1" --out "$work/out/$1" --data-dir data
  run gitreg register iris --version "$1" --artifact "$work/out/$1/model.pkl" \
    --metrics "$work/out/$1/metrics.json" --params "$work/out/$1/params.yaml" \
    --description "$(cat "$work/out/$1/description.txt")" --push
  ci "gitreg/register/iris/$1"
  merge "gitreg/register/iris/$1" "Register iris $1"
}
# ci BRANCH: what the validate and evaluate workflows run on the pull request
ci() {
  run gitreg validate --ref "$1" --base main
  if git diff --name-only main "$1" | grep -q 'stages.yaml$'; then
    run gitreg evaluate --changed --base main --ref "$1" \
      --report-md "$work/report-${1//\//-}.md" --report-json "$work/report-${1//\//-}.json"
  fi
}

step "1. A registry: gitreg init, a bare origin (GitHub's stand-in), the example's iris model"
run git init -q --bare --initial-branch=main "$work/origin.git"
run gitreg init "$work/registry" --github-repo acme/iris-registry
cd "$work/registry"
# the iris model as it starts: its card and policy (model.yaml) and its training code; the
# versions, stages and DVC payload example-registry/ also holds are what this demo makes
run mkdir -p models/iris
run cp "$root/example-registry/models/iris/model.yaml" models/iris/
run cp -r "$root/example-registry/train" .
run cp "$root/example-registry/README.md" README.md
run cp "$root/example-registry/.github/CODEOWNERS" .github/CODEOWNERS
git add -A && git commit -qm "Add the iris model: card, evaluation policy, training code"
run git remote add origin "file://$work/origin.git"
run git push -q origin main

step "2. Train 1.0.0 (logistic regression); track the held-out set with DVC"
run python train/train.py --version 1.0.0 --out "$work/out/1.0.0" --data-dir data
run dvc add -q data/iris-holdout.csv
git add data/iris-holdout.csv.dvc data/.gitignore && git commit -qm "Track the iris held-out set"
run dvc push -q data/iris-holdout.csv.dvc
run git push -q origin main

step "3. Register 1.0.0: artifact to the DVC remote, manifest on a branch, a pull request"
run gitreg register iris --version 1.0.0 --artifact "$work/out/1.0.0/model.pkl" \
  --metrics "$work/out/1.0.0/metrics.json" --params "$work/out/1.0.0/params.yaml" \
  --description "$(cat "$work/out/1.0.0/description.txt")" --open-pr
ci gitreg/register/iris/1.0.0
merge gitreg/register/iris/1.0.0 "Register iris 1.0.0"

step "4. Promote 1.0.0 to staging, then production: one-line PRs, each evaluated first"
for stage in staging production; do
  run gitreg promote iris 1.0.0 --to "$stage" --open-pr
  ci "gitreg/promote/iris/$stage/1.0.0"
  merge "gitreg/promote/iris/$stage/1.0.0" "Promote iris 1.0.0 to $stage"
done

step "5. A deploy tool asks what is in production, and gets exactly that"
run gitreg resolve iris@production --repo "file://$work/origin.git" --json
run gitreg pull iris@production --repo "file://$work/origin.git" -o "$work/deploy/iris"
run ls -l "$work/deploy/iris"

step "6. 1.1.0 (C=10): registered, then promoted to staging against 1.0.0: the gate passes"
release_version 1.1.0
run gitreg promote iris 1.1.0 --to staging --open-pr
ci gitreg/promote/iris/staging/1.1.0
merge gitreg/promote/iris/staging/1.1.0 "Promote iris 1.1.0 to staging"

step "7. 1.2.0, a depth-2 tree that declares F1 1.0: re-measured, it fails; the promotion is refused"
release_version 1.2.0
run gitreg promote iris 1.2.0 --to staging --open-pr
if ci gitreg/promote/iris/staging/1.2.0; then
  echo "demo: the worse candidate passed the gate; that is a bug" >&2
  exit 1
fi
bold "The evaluate check failed, so this pull request is not merged. The report CI posts on it:"
cat "$work/report-gitreg-promote-iris-staging-1.2.0.md"

step "8. Where things stand"
run gitreg list
run gitreg history iris
run gitreg doctor
run gitreg resolve iris@staging

step "9. The catalog: gitreg site writes static HTML from git objects (open it in a browser)"
run gitreg site -o "$work/site"
bold "Done in $(( $(date +%s) - start ))s. Registry: $work/registry  origin: $work/origin.git"
echo "Site: $work/site/index.html"
