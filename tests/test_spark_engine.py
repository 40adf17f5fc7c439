"""`siyu build --engine spark`: the runtime around dbt-spark (siyu/engines/spark/).

Quick tests (no JVM): the profile's Spark settings equal the session's, the raw type
mapping, the folder swap, the CLI's errors, the JVM options. The end-to-end test runs raw loader →
Parquet → in-process Spark → dbt on a copy of the dbt project whose models are two scratch marts and
whose one singular test fails (seconds, not minutes): file layout and modes, the SQL HMAC, an empty
source, no secret in any file, nothing published. The real project on Spark (its checks passing, the
marts published and their modes), mart by mart against the DuckDB build, and `siyu forget --engine
spark`: tests/test_engine_parity.py.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
import yaml

from siyu.engines import spark as engine
from siyu.landing import loader
from siyu.landing.schema import RAW_TABLES
from siyu.pii import PII_HASH_SPARK_SQL, hmac_pads, hmac_sha256
from siyu.publish import QUARANTINE_COLUMNS
from siyu.settings import DBT_PROJECT_DIR, REPO_ROOT
from tests.landing import event, write_jsonl

LANDING_EXAMPLE = REPO_ROOT.parent / "shared" / "landing-example"


def _java_available() -> bool:
    try:
        engine.prepare_java()
        return True
    except engine.SparkUnavailable:
        return False


def _why_no_spark() -> str | None:
    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        return "pyspark / dbt-spark are not installed (pip install -r requirements.lock)"
    if not _java_available():
        return "no Java 17 for Spark (JAVA_HOME, or /usr/lib/jvm/java-17-openjdk-*; scripts/test.sh installs it)"
    return None


needs_spark = pytest.mark.skipif(_why_no_spark() is not None, reason=_why_no_spark() or "")


# --- quick tests -------------------------------------------------------------------------------------

def _profile_parameters() -> dict[str, str]:
    """server_side_parameters of the spark output, with each env_var() at its default."""
    profile = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())
    params = profile["siyu"]["outputs"]["spark"]["server_side_parameters"]
    default = re.compile(r"""\{\{\s*env_var\('[^']+',\s*'([^']*)'\)\s*\}\}""")
    return {key: default.sub(r"\1", str(value)) for key, value in params.items()}


def test_the_profiles_spark_settings_are_the_sessions(monkeypatch):
    """dbt-spark re-applies server_side_parameters before every statement: they must not undo ours."""
    monkeypatch.delenv("SIYU_SPARK_SHUFFLE_PARTITIONS", raising=False)
    monkeypatch.delenv("SIYU_SPARK_DRIVER_MEMORY", raising=False)
    profile = _profile_parameters()
    session = engine.session_conf(Path("/tmp/build"))
    assert engine.runtime_conf().items() <= profile.items()
    assert {k: v for k, v in profile.items() if k in session} == {k: session[k] for k in profile}


def test_extra_java_options_reach_the_driver_after_the_time_zone(monkeypatch):
    monkeypatch.setenv("SIYU_SPARK_JAVA_OPTIONS", " -XX:TieredStopAtLevel=1  -Xss4m ")
    assert engine.session_conf(Path("/tmp/build"))["spark.driver.extraJavaOptions"] == \
        "-Duser.timezone=UTC -XX:TieredStopAtLevel=1 -Xss4m"
    monkeypatch.delenv("SIYU_SPARK_JAVA_OPTIONS")
    assert engine.session_conf(Path("/tmp/build"))["spark.driver.extraJavaOptions"] == "-Duser.timezone=UTC"


def test_siyu_spark_conf_adds_session_settings_and_refuses_malformed_ones(monkeypatch):
    monkeypatch.setenv("SIYU_SPARK_CONF", " spark.sql.codegen.wholeStage=false  spark.executor.extraJavaOptions=-Da=b=c ")
    session = engine.session_conf(Path("/tmp/build"))
    assert session["spark.sql.codegen.wholeStage"] == "false" and session["spark.executor.extraJavaOptions"] == "-Da=b=c"
    assert session["spark.sql.session.timeZone"] == "UTC"
    for bad in ("spark.sql.codegen.wholeStage", "codegen=false", "spark.sql.shuffle.partitions="):
        monkeypatch.setenv("SIYU_SPARK_CONF", bad)
        with pytest.raises(engine.SparkUnavailable, match="spark.KEY=VALUE"):
            engine.session_conf(Path("/tmp/build"))
    for owned in ("spark.sql.session.timeZone=Asia/Shanghai", "spark.sql.shuffle.partitions=8", "spark.sql.ansi.enabled=true"):
        monkeypatch.setenv("SIYU_SPARK_CONF", f"spark.sql.codegen.wholeStage=false {owned}")
        with pytest.raises(engine.SparkUnavailable, match=f"{owned.split('=')[0]} is set by siyu"):
            engine.session_conf(Path("/tmp/build"))
    monkeypatch.delenv("SIYU_SPARK_CONF")
    assert "spark.sql.codegen.wholeStage" not in engine.session_conf(Path("/tmp/build"))


def test_every_raw_column_has_a_spark_type():
    con = duckdb.connect()
    loader.ensure_raw_schema(con)
    for table in (*RAW_TABLES, "_load_log"):
        for name, kind, *_ in con.execute(f"describe raw.{table}").fetchall():
            assert engine.spark_type(str(kind)), (table, name)
    assert engine.spark_type("DECIMAL(18,2)") == "decimal(18,2)"
    assert engine.spark_type("TIMESTAMP") == "timestamp_ntz"


def test_replace_dir_swaps_a_folder_whole(tmp_path):
    dest, new = tmp_path / "m", tmp_path / ".m.new"
    dest.mkdir()
    (dest / "old.parquet").write_text("old")
    new.mkdir()
    (new / "new.parquet").write_text("new")
    engine.replace_dir(new, dest)
    assert [p.name for p in dest.iterdir()] == ["new.parquet"] and not new.exists()
    fresh = tmp_path / ".x"
    fresh.mkdir()
    engine.replace_dir(fresh, tmp_path / "x")  # nothing there yet
    assert (tmp_path / "x").is_dir()


def test_a_selected_build_runs_only_the_tests_whose_parents_it_builds():
    """`--select`: every Spark build declares a new catalog, so a test reaching a model left out (a
    `relationships` test, selected by dbt's default eager indirect selection) would fail on a missing
    table; `siyu build --engine spark --select +int_identity_map` failed so on the landing example."""
    from siyu.engines.spark.dbt_run import dbt_args

    args = dbt_args(DBT_PROJECT_DIR, Path("/tmp/build"), ["+int_identity_map"], None)
    assert args[args.index("--select"):] == ["--select", "+int_identity_map", "--indirect-selection", "cautious"]
    assert "--indirect-selection" not in dbt_args(DBT_PROJECT_DIR, Path("/tmp/build"), None, None)


def test_dbts_output_has_no_colour_codes_when_redirected(monkeypatch):
    import io

    from siyu.engines.spark.dbt_run import dbt_args

    monkeypatch.setattr("sys.stdout", io.StringIO())
    assert "--no-use-colors" in dbt_args(DBT_PROJECT_DIR, Path("/tmp/build"), None, None)


def test_a_failed_nodes_cause_is_its_telling_line():
    spark_error = ("Runtime Error in model stg_x (models/staging/stg_x.sql)\n  Runtime Error\n    \n"
                   "    [PARSE_SYNTAX_ERROR] Syntax error at or near 'qualify'.\n    == SQL ==\n    select 1")
    assert engine.failure_cause(spark_error) == "[PARSE_SYNTAX_ERROR] Syntax error at or near 'qualify'."
    assert engine.failure_cause("Got 3 results, configured to fail if != 0") == "Got 3 results, configured to fail if != 0"
    assert engine.failure_cause(None) == "(no message; see dbt's log)"


def test_no_java_is_a_clear_error_and_changes_nothing(tmp_path):
    env = dict(os.environ, JAVA_HOME=str(tmp_path / "no-jdk"), SIYU_DEMO="1")
    out = subprocess.run([sys.executable, "-m", "siyu.cli", "build", "--engine", "spark", "--warehouse",
                          str(tmp_path / "wh"), "--landing", str(tmp_path)], env=env, capture_output=True, text=True)
    assert out.returncode == 2
    assert "no Java found" in out.stderr and "Nothing was loaded or built" in out.stderr
    assert not (tmp_path / "wh").exists()


def test_a_malformed_siyu_spark_conf_is_a_one_line_error_before_anything_changes(tmp_path):
    from tests.harness import run_siyu, siyu_env

    env = siyu_env(tmp_path) | {"SIYU_SPARK_CONF": "spark.sql.codegen.wholeStage"}
    built = run_siyu(["build", "--engine", "spark", "--warehouse", str(tmp_path / "wh"), "--landing", str(tmp_path)], env)
    assert built.returncode == 2 and "Traceback" not in built.stderr
    assert "SIYU_SPARK_CONF: expected spark.KEY=VALUE pairs" in built.stderr and "Nothing was loaded or built" in built.stderr
    assert not (tmp_path / "wh").exists()
    forgot = run_siyu(["forget", "--engine", "spark", "--warehouse", str(tmp_path / "wh"), "--landing", str(tmp_path),
                       "--unionid", "oU_someone"], env)
    assert forgot.returncode == 2 and "Traceback" not in forgot.stderr
    assert "SIYU_SPARK_CONF" in forgot.stderr and "Nothing was erased" in forgot.stderr


def test_select_is_refused_on_the_duckdb_engine(tmp_path):
    out = subprocess.run([sys.executable, "-m", "siyu.cli", "build", "--select", "dim_member", "--landing", str(tmp_path)],
                         env=dict(os.environ, SIYU_DEMO="1"), capture_output=True, text=True)
    assert out.returncode == 2 and "--engine spark only" in out.stderr


@needs_spark
def test_the_real_project_parses_on_the_spark_target(tmp_path):
    """dbt parses every model even for a partial build (the scratch project's builds rely on it)."""
    from dbt.cli.main import dbtRunner

    result = dbtRunner().invoke(["parse", "--target", "spark", "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir",
                                 str(DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target"), "--quiet"])
    assert result.success, result.exception


# --- end to end ------------------------------------------------------------------------------------

SCRATCH_MART = """
select
    order_no,
    cast(paid_amount as decimal(18,2)) as paid_amount,
    created_at,
    cast(paid_at as timestamp) as paid_at,
    _dt as landed_date,
    {pii_hash} as buyer_phone_hash
from {{{{ source('orders', 'orders') }}}}
""".format(pii_hash=PII_HASH_SPARK_SQL.format(value="buyer_phone"))

SCRATCH_YAML = """
version: 2
models:
  - name: m_orders
    description: Scratch mart of the Spark runtime test.
    columns:
      - {name: order_no, data_type: string, data_tests: [not_null, unique]}
      - {name: paid_amount, data_type: "decimal(18,2)"}
      - {name: created_at, data_type: timestamp}
      - {name: paid_at, data_type: timestamp}
      - {name: landed_date, data_type: date}
      - {name: buyer_phone_hash, data_type: string}
  - name: m_cost_rows
    description: Rows of a raw source without landing data (an empty Parquet folder).
    columns:
      - {name: cost_rows, data_type: bigint}
"""


def scratch_project(root: Path) -> Path:
    """The dbt project (config, profiles, macros, generic tests, sources, seeds) with one scratch mart."""
    project = root / "dbt_project"
    project.mkdir(parents=True)
    for name in ("dbt_project.yml", "profiles.yml"):
        shutil.copy(DBT_PROJECT_DIR / name, project / name)
    shutil.copytree(DBT_PROJECT_DIR / "macros", project / "macros")
    shutil.copytree(DBT_PROJECT_DIR / "tests" / "generic", project / "tests" / "generic")
    shutil.copytree(REPO_ROOT / "seeds", root / "seeds")
    (project / "models" / "staging").mkdir(parents=True)
    shutil.copy(DBT_PROJECT_DIR / "models" / "staging" / "_sources.yml", project / "models" / "staging")
    (project / "models" / "marts").mkdir()
    (project / "models" / "marts" / "m_orders.sql").write_text(SCRATCH_MART)
    (project / "models" / "marts" / "m_cost_rows.sql").write_text(
        "select count(*) as cost_rows from {{ source('campaigns', 'campaign_costs') }}")
    (project / "models" / "marts" / "_m_orders.yml").write_text(SCRATCH_YAML)
    return project


def small_landing(root: Path) -> Path:
    """The shared landing example without its campaign costs, plus a day with a good and two broken
    tracking records."""
    landing = root / "landing"
    shutil.copytree(LANDING_EXAMPLE, landing, ignore=shutil.ignore_patterns("README.md", "campaign_costs"))
    write_jsonl(landing, "tracking", "2026-05-19", [
        event("e-good", "content_impression", "2026-05-19 10:00", "oa_subscription", distinct_id="d-1"),
        '{"event_id": "e-broken", "event": ',
        {"event_id": "e-no-time", "event": "content_impression"},
    ])
    return landing


def duckdb_loader_quarantine(landing: Path) -> list[tuple]:
    """What the DuckDB build's raw load quarantines from `landing` (the same loader, in memory)."""
    con = duckdb.connect()
    loader.load_landing(con, landing)
    return con.execute("select source, file, line, reason from raw.quarantine order by all").fetchall()


def spark_build(landing: Path, warehouse: Path, project: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    """run_spark_build with `project` as the dbt project, in a child process: its JVM, umask and the
    environment variables a build exports end with it."""
    code = ("import sys; from pathlib import Path; from siyu.engines.spark import run_spark_build; "
            "sys.exit(run_spark_build(Path(sys.argv[1]), Path(sys.argv[2]), project_dir=Path(sys.argv[3])))")
    return subprocess.run([sys.executable, "-c", code, str(landing), str(warehouse), str(project)],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=900)


def parquet(con: duckdb.DuckDBPyConnection, folder: Path) -> str:
    return f"read_parquet('{folder}/*.parquet')"


@pytest.mark.e2e
@needs_spark
def test_a_spark_build_writes_raw_parquet_and_the_ledger_and_a_failing_test_publishes_nothing(tmp_path):
    """One build whose dbt test fails: the raw layer and the ledger are written before dbt runs, the marts
    dbt built stay in the build folder kept for its logs (where their Parquet is checked), DIR/marts/ is
    never created. A passing build's published marts and their modes: tests/test_engine_parity.py."""
    salt = "spark-test-salt-" + "9f" * 16
    env = {k: v for k, v in os.environ.items() if not k.startswith("SIYU_") or k == "SIYU_SPARK_JAVA_OPTIONS"}
    env.update(SIYU_PII_SALT=salt, PYTHONPATH=str(REPO_ROOT))
    landing, warehouse, project = small_landing(tmp_path), tmp_path / "wh", scratch_project(tmp_path / "proj")
    (project / "tests" / "no_orders.sql").write_text("select * from {{ ref('m_orders') }}")  # fails: there are orders
    cwd = tmp_path / "cwd"  # nothing (metastore_db/, derby.log, spark-warehouse/) may appear here
    cwd.mkdir()

    result = spark_build(landing, warehouse, project, env, cwd)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-3000:]
    assert "FAILED" in result.stderr and "test.siyu.no_orders: fail" in result.stderr
    assert not (warehouse / "marts").exists(), "a failed build published marts"
    (kept,) = warehouse.glob(".build-*")  # the failed build's folder, kept for its logs until the next build

    con = duckdb.connect()
    mart = kept / "marts" / "m_orders"
    assert list(mart.glob("*.parquet")), "the mart's folder holds Parquet"
    types = dict(con.execute(f"select column_name, column_type from (describe select * from {parquet(con, mart)})").fetchall())
    assert types == {"order_no": "VARCHAR", "paid_amount": "DECIMAL(18,2)", "created_at": "TIMESTAMP",
                     "paid_at": "TIMESTAMP", "landed_date": "DATE", "buyer_phone_hash": "VARCHAR"}
    raw = duckdb.connect(str(warehouse / ".work" / "siyu.work.duckdb"), read_only=True)
    expected = raw.execute("select order_no, paid_amount, created_at, paid_at, _dt, buyer_phone from raw.orders "
                           "order by order_no").fetchall()
    raw.close()
    got = con.execute(f"select * from {parquet(con, mart)} order by order_no").fetchall()
    assert [row[:5] for row in got] == [row[:5] for row in expected]
    assert [row[5] for row in got] == [hmac_sha256(row[5], salt) for row in expected]  # SQL HMAC = Python HMAC

    ledger = warehouse / "raw" / "quarantine"
    columns = [r[0] for r in con.execute(f"describe select * from {parquet(con, ledger)}").fetchall()]
    assert tuple(columns) == QUARANTINE_COLUMNS  # the published file's allow-list: no raw_text
    quarantined = con.execute(f"select source, file, line, reason from {parquet(con, ledger)} order by all").fetchall()
    assert quarantined == duckdb_loader_quarantine(landing) and len(quarantined) == 2
    assert {p.name for p in (warehouse / "raw" / "tracking").iterdir()} == {"_dt=2026-05-18", "_dt=2026-05-19"}
    assert not list((warehouse / "raw" / "campaign_costs").iterdir())  # a source without data: an empty table
    assert con.execute(f"select cost_rows from {parquet(con, kept / 'marts' / 'm_cost_rows')}").fetchall() == [(0,)]

    # the ledger is readers', raw tables and the build folder the owner's; no stray Spark files
    assert ledger.stat().st_mode & 0o005 == 0o005
    assert (warehouse / "raw" / "tracking").stat().st_mode & 0o077 == 0 and kept.stat().st_mode & 0o077 == 0
    assert not list(cwd.iterdir())
    ipad, opad = hmac_pads(salt)
    for path in warehouse.rglob("*"):  # the kept build folder too: dbt's compiled SQL, logs, Parquet
        if path.is_file() and path.suffix != ".duckdb":
            text = path.read_bytes()
            assert salt.encode() not in text and ipad.hex().encode() not in text and opad.hex().encode() not in text, path
