#!/usr/bin/env bash
# Second command of the README (and CI): set up if needed, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
exec .venv/bin/python -m pytest -n 2 "$@"
