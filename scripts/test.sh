#!/usr/bin/env bash
# Sets up .venv with the dev tools and runs the whole test suite: the README's test command.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/setup.sh
source "$root/scripts/setup.sh" dev
cd "$root"
echo "== ruff" >&2
ruff check src tests
ruff format --check src tests
echo "== mypy (strict, src/)" >&2
mypy
echo "== pytest" >&2
python -m pytest -q "$@"
