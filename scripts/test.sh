#!/usr/bin/env bash
# Second command of the README (and CI): set up if needed, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# headless Chromium renders the operator dashboard in tests/test_dashboard.py (a CJK font for its screenshot)
command -v chromium >/dev/null || { { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
  chromium fonts-wqy-microhei; } >/dev/null 2>&1 || echo "test.sh: could not install chromium; the dashboard browser test will skip" >&2; }
# Java 17 runs Spark in tests/test_spark_engine.py (siyu build --engine spark); without it those tests skip
ls -d /usr/lib/jvm/java-17-openjdk-* >/dev/null 2>&1 || [ -n "${JAVA_HOME:-}" ] || { { apt-get update -qq && \
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless; } >/dev/null 2>&1 || \
  echo "test.sh: could not install Java 17; the Spark engine tests will skip" >&2; }
export PATH="$PWD/.venv/bin:$PATH"
.venv/bin/ruff check siyu dagster_project data_quality tests scripts   # lint (pyproject's [tool.ruff])
.venv/bin/sqlfluff lint dbt_project/models dbt_project/tests queries --processes 2 --disable-progress-bar   # SQL style (.sqlfluff)
# --dist loadfile: a module's tests share one worker, so its module-scoped builds happen once;
# --no-loadscope-reorder: modules go out slowest first, as tests/conftest.py orders them
# (loadgroup's xdist_group marks are ignored under pytest 9: pytest-xdist 3.8 renames node ids the old way)
exec .venv/bin/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=25 "$@"   # the slowest tests, listed at the end
