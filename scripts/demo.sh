#!/usr/bin/env bash
# First command of the README: set up, simulate the default dataset, build and publish the warehouse.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/.venv/bin:$PATH"
export SIYU_DEMO=1                                   # demo data: a fixed, non-secret PII salt
export SIYU_LANDING_DIR="${SIYU_LANDING_DIR:-$PWD/data/landing}"
export SIYU_WAREHOUSE="${SIYU_WAREHOUSE:-$PWD/data/warehouse/siyu.duckdb}"
export DAGSTER_HOME="${DAGSTER_HOME:-$PWD/data/warehouse/dagster_home}"
if [ ! -d "$SIYU_LANDING_DIR/tracking" ]; then
  siyu simulate --out "$SIYU_LANDING_DIR"
fi
siyu build
