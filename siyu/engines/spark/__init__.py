"""`siyu build --engine spark --warehouse DIR`: the same marts, built by dbt-spark on an in-process Spark.

One intake: the landing folder is loaded by the DuckDB raw loader (`siyu.landing.loader`: contract
rules, quarantine, ledger, `siyu forget` suppression) into a private working DuckDB under DIR, exactly
as the DuckDB pipeline loads it. Then:

1. every raw table is exported as Parquet partitioned by its landing day (`DIR/raw/<table>/_dt=…/`),
   the loader's partition log to `DIR/raw/_load_log/`, and the quarantine ledger to
   `DIR/raw/quarantine/` with the columns the published DuckDB file gives readers (no `raw_text`);
2. a SparkSession starts in this process (local[2], UTC, TIMESTAMP_NTZ, in-memory catalog); the HMAC
   pads of the PII salt become session variables, set through bound parameters only;
3. `raw.<table>` is declared over the Parquet, and the layer databases (staging, intermediate, marts,
   reference) get locations in a fresh build folder `DIR/.build-<ts>/` (with the in-memory catalog a
   table cannot be created over an existing folder, and a fresh folder keeps a failed run away from
   what readers see);
4. dbt runs in-process (`dbtRunner`, `build --target spark`); dbt-spark's session method finds the
   session above through `SparkSession.builder.getOrCreate()`. dbt's tests are the first blocking checks;
5. the marts' Great Expectations suites and PII scan (the DuckDB engine's, unchanged) run on the built
   Parquet marts through DuckDB views (`data_quality.parquet_marts`): the second blocking check;
6. only when both passed is each mart's folder swapped into `DIR/marts/<mart>/` (one atomic
   `renameat2(RENAME_EXCHANGE)` per mart) and the build folder removed. A failure leaves `DIR/marts`
   as it was, names the failed nodes or suites and exits non-zero.

Dagster, the published DuckDB file, dbt docs and the dashboard stay with the DuckDB engine.

Layout of DIR (`SparkLayout`): `marts/` and `raw/quarantine/` are for readers (world-readable, no
personal data); `raw/<table>/` (personal data, as in the working database) and `.work/` (the working
DuckDB, its lock, the salt file unless SIYU_PII_SALT is set, logs) are the pipeline's, owner-only.

Modules: `build` (the command, steps 1–6 in order), `session` (Java, the SparkSession, the PII pads,
the catalog), `raw_export` (step 1: load and Parquet export), `dbt_run` (step 4), `layout` (DIR's
folders and the atomic swaps of step 6).
"""

from .build import run_spark_build
from .dbt_run import failure_cause
from .layout import SparkLayout, replace_dir
from .session import SparkUnavailable, check_spark_ready, prepare_java, require_pyspark, runtime_conf, session_conf, spark_type

__all__ = ["SparkLayout", "SparkUnavailable", "check_spark_ready", "failure_cause", "prepare_java", "replace_dir", "require_pyspark",
           "run_spark_build", "runtime_conf", "session_conf", "spark_type"]
