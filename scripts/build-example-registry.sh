#!/usr/bin/env bash
# Regenerates example-registry/'s versions from its training code, for maintainers: trains
# every version of both models, registers them with gitreg into a scratch registry (DVC
# pushes the payload into a local remote), then copies back into example-registry/ the
# version manifests, the .dvc pointers, dvc.yaml, the held-out sets' pointers and the DVC
# remote (dvc-remote/, a few hundred KB). model.yaml, stages.yaml, train/ and README stay
# as they are. Deterministic training: a rerun changes only `created` and `author`.
#   bash scripts/build-example-registry.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$root/scripts/setup.sh" sklearn
example="$root/example-registry"
work="$(mktemp -d "${TMPDIR:-/tmp}/gitreg-example-XXXXXX")"
trap 'rm -rf "$work"' EXIT
gitreg init "$work/reg" --github-repo acme/iris-registry --remote "$work/reg/dvc-remote" >/dev/null
cd "$work/reg"
git config user.name "Ada Lovelace" && git config user.email ada@example.com
mkdir -p models/iris models/diabetes
cp "$example/models/iris/model.yaml" models/iris/
cp "$example/models/diabetes/model.yaml" models/diabetes/
cp -r "$example/train" .
git add -A && git commit -qm "models and training code"
register() {  # MODEL SCRIPT VERSION
  python "train/$2" --version "$3" --out "$work/out/$1/$3" --data-dir data >/dev/null
  if [ ! -f "data/$1-holdout.csv.dvc" ]; then
    dvc add -q "data/$1-holdout.csv"
    git add "data/$1-holdout.csv.dvc" data/.gitignore && git commit -qm "track data/$1-holdout.csv"
    dvc push -q "data/$1-holdout.csv.dvc"
  fi
  gitreg register "$1" --version "$3" --artifact "$work/out/$1/$3/model.pkl" \
    --metrics "$work/out/$1/$3/metrics.json" --params "$work/out/$1/$3/params.yaml" \
    --description "$(cat "$work/out/$1/$3/description.txt")" \
    --code-repo https://github.com/acme/iris-registry --dataset "data/$1-holdout.csv" \
    --here >/dev/null
}
for v in 1.0.0 1.1.0 1.2.0; do
  register iris train.py "$v"
  register diabetes train_diabetes.py "$v"
done
for m in iris diabetes; do
  rm -rf "$example/models/$m/versions" "$example/models/$m/artifacts"
  cp -r "models/$m/versions" "models/$m/artifacts" "$example/models/$m/"
done
mkdir -p "$example/data"
cp data/*.dvc data/.gitignore "$example/data/"
cp dvc.yaml "$example/dvc.yaml"
rm -rf "$example/dvc-remote" && cp -r dvc-remote "$example/dvc-remote"
mkdir -p "$example/.dvc"
cp .dvc/.gitignore .dvcignore "$example/.dvc/" && mv "$example/.dvc/.dvcignore" "$example/.dvcignore"
# the remote, relative to .dvc/ as DVC reads it: the folder's own dvc-remote/, in any copy
sed 's|^\( *url = \).*$|\1../dvc-remote|' .dvc/config > "$example/.dvc/config"
echo "example-registry: $(du -sh "$example/dvc-remote" | cut -f1) of DVC payload" >&2
