#!/usr/bin/env bash
# Makes a copy of this folder a git repository with the history a registry on GitHub would
# have: each version registered, promoted and deprecated in its own merged pull request
# (merge commits like GitHub's "Merge pull request #N"), and `gitreg release` run after each
# merge, so the copy carries the release tags and their trailers. No network: the DVC
# payload is in dvc-remote/ inside the folder, and .dvc/config points there.
#   bash example-registry/make-repo.sh DEST      (DEST must not exist; needs git and gitreg)
# Then: cd DEST && gitreg validate && gitreg pull iris@production -o model && gitreg site -o site
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
dest="${1:?usage: make-repo.sh DEST}"
gitreg="${GITREG:-gitreg}"
[ ! -e "$dest" ] || { echo "make-repo.sh: $dest exists" >&2; exit 2; }
cp -r "$here" "$dest"
final="$(mktemp -d "${TMPDIR:-/tmp}/gitreg-example-final-XXXXXX")"
trap 'rm -rf "$final"' EXIT
cd "$dest"
rm -f make-repo.sh
# the history adds these one change at a time; set the final files aside
for m in iris diabetes; do
  mkdir -p "$final/$m"
  mv "models/$m/versions" "models/$m/artifacts" "models/$m/stages.yaml" "$final/$m/"
done
mv dvc.yaml "$final/"
export GIT_AUTHOR_NAME="${GIT_AUTHOR_NAME:-Ada Lovelace}" GIT_AUTHOR_EMAIL="${GIT_AUTHOR_EMAIL:-ada@example.com}"
export GIT_COMMITTER_NAME="${GIT_COMMITTER_NAME:-$GIT_AUTHOR_NAME}" GIT_COMMITTER_EMAIL="${GIT_COMMITTER_EMAIL:-$GIT_AUTHOR_EMAIL}"
git init -q --initial-branch=main
git add -A
git commit -qm "A registry: settings, workflows, the iris and diabetes models, their held-out sets"
declare -A latest=()
pr=0
# merge BRANCH TITLE: the pull request's branch merged as GitHub does, then the release
merge() {
  pr=$((pr + 1))
  git add -A
  git commit -qm "$2"
  git checkout -q main
  git merge -q --no-ff -m "Merge pull request #$pr from acme/$1" -m "$2" "$1"
  "$gitreg" release >/dev/null
}
dvc_yaml() {  # dvc.yaml's artifacts section, as `gitreg register` writes it
  echo "artifacts:"
  for m in iris diabetes; do
    [ -n "${latest[$m]:-}" ] || continue
    printf '  %s:\n    path: models/%s/artifacts/%s/model.pkl\n    type: model\n' "$m" "$m" "${latest[$m]}"
    grep '^description:' "$final/$m/versions/${latest[$m]}.yaml" | sed 's/^description:/    desc:/'
  done
}
register() {  # MODEL VERSION
  git checkout -q -b "gitreg/register/$1/$2"
  mkdir -p "models/$1/versions" "models/$1/artifacts"
  sed 's/^status: deprecated$/status: active/' "$final/$1/versions/$2.yaml" > "models/$1/versions/$2.yaml"
  cp -r "$final/$1/artifacts/$2" "models/$1/artifacts/$2"
  latest[$1]="$2"
  dvc_yaml > dvc.yaml
  merge "gitreg/register/$1/$2" "Register $1 $2"
}
stages() {  # MODEL VERSION STAGE, then the stages after it: STAGE=VERSION...
  local model="$1" version="$2" stage="$3"
  shift 3
  git checkout -q -b "gitreg/promote/$model/$stage/$version"
  { echo "schema: gitreg/v1"; for kv in "$@"; do echo "${kv%%=*}: ${kv#*=}"; done; } > "models/$model/stages.yaml"
  merge "gitreg/promote/$model/$stage/$version" "Promote $model $version to $stage"
}
register iris 1.0.0
register diabetes 1.0.0
stages iris 1.0.0 staging staging=1.0.0
stages iris 1.0.0 production staging=1.0.0 production=1.0.0
stages diabetes 1.0.0 staging staging=1.0.0
stages diabetes 1.0.0 production staging=1.0.0 production=1.0.0
register iris 1.1.0
register diabetes 1.1.0
stages iris 1.1.0 staging staging=1.1.0 production=1.0.0
stages diabetes 1.1.0 staging staging=1.1.0 production=1.0.0
register iris 1.2.0
register diabetes 1.2.0
# the gate refused iris 1.2.0 for staging (F1 0.88 on the held-out set): deprecate it
git checkout -q -b gitreg/deprecate/iris/1.2.0
cp "$final/iris/versions/1.2.0.yaml" models/iris/versions/1.2.0.yaml
merge gitreg/deprecate/iris/1.2.0 "Deprecate iris 1.2.0"
git branch -q -D $(git branch --format='%(refname:short)' | grep -v '^main$')
for m in iris diabetes; do
  cmp -s "$final/$m/stages.yaml" "models/$m/stages.yaml" || { echo "make-repo.sh: $m's stages differ from the folder's" >&2; exit 1; }
done
cmp -s "$final/dvc.yaml" dvc.yaml || { echo "make-repo.sh: dvc.yaml differs from the folder's" >&2; exit 1; }
echo "registry: $dest ($pr merged pull requests, $(git tag | wc -l) release tags)"
