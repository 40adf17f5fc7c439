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
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator, Sequence

import duckdb

from ..build import RunRefused, connect_working_db, report_skipped, working_db_alone
from ..landing import loader
from ..landing.discovery import scan
from ..landing.schema import RAW_TABLES
from ..pii import MissingSaltError, ensure_salt, hmac_sha256, resolve_salt
from ..publish import QUARANTINE_COLUMNS
from ..settings import DBT_PROJECT_DIR, Settings

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

JAVA_17_HOMES = "/usr/lib/jvm/java-17-openjdk-*"  # Debian/Ubuntu's openjdk-17 (amd64, arm64, …)
LAYER_DATABASES = ("staging", "intermediate", "marts", "reference")  # macros/generate_schema_name.sql, seeds' +schema
PUBLISHED_MODE_DIR, PUBLISHED_MODE_FILE = 0o755, 0o644  # marts and the quarantine ledger: readers' product, no PII
PII_PROBE = "13800138000"  # a well-known test number, hashed by Python and by Spark to check the pads
HMAC_BLOCK_BYTES = 64  # SHA-256's block size: the HMAC key is padded (or first hashed) to it


class SparkUnavailable(RuntimeError):
    """Java or pyspark is missing: the Spark engine cannot start (nothing was changed)."""


# --- where things go ----------------------------------------------------------------------------

@dataclass(frozen=True)
class SparkLayout:
    root: Path

    @property
    def marts(self) -> Path:
        return self.root / "marts"

    @property
    def raw(self) -> Path:
        return self.root / "raw"

    @property
    def quarantine(self) -> Path:
        return self.raw / "quarantine"

    @property
    def work(self) -> Path:
        return self.root / ".work"

    @property
    def work_db(self) -> Path:
        return self.work / "siyu.work.duckdb"

    @property
    def identity(self) -> Path:
        """The last build's identity graph (`intermediate/<table>/` Parquet), kept for `siyu forget`."""
        return self.work / "identity"

    def settings(self, landing_dir: Path) -> Settings:
        """The DuckDB pipeline's settings, pointed inside DIR: the loader, its lock and the salt guard
        are reused as they are. No DuckDB file is published by this engine."""
        return Settings(landing_dir=landing_dir.resolve(), warehouse=self.root, work_db=self.work_db,
                        quality_docs_dir=self.work / "quality_docs")

    def new_build_dir(self) -> Path:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        path = self.root / f".build-{stamp}-{os.getpid()}"
        path.mkdir(parents=True)
        return path

    def stale_build_dirs(self) -> list[Path]:
        return sorted(self.root.glob(".build-*"))


# --- Java and pyspark ---------------------------------------------------------------------------

def prepare_java() -> Path:
    """JAVA_HOME for the JVM pyspark starts: the environment's, else Java 17 at its Debian path.
    Spark 4.0 supports Java 17 and 21; a newer default `java` on PATH (25 here) is not used."""
    installed = sorted(Path("/").glob(JAVA_17_HOMES.lstrip("/")))
    if not os.environ.get("JAVA_HOME") and installed:
        os.environ["JAVA_HOME"] = str(installed[0])
    home = os.environ.get("JAVA_HOME")
    java = Path(home) / "bin" / "java" if home else shutil.which("java")
    if not java or not Path(java).exists():
        raise SparkUnavailable(
            "no Java found: the Spark engine needs Java 17 (or 21). Install it (e.g. `apt-get install "
            "openjdk-17-jre-headless`) or set JAVA_HOME to its folder.")
    # Spark otherwise warns that the hostname resolves to a loopback address and guesses an interface
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return Path(java)


def require_pyspark() -> None:
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as error:
        raise SparkUnavailable(
            f"{error.name or 'pyspark'} is not installed: the Spark engine needs the spark extra "
            "(`pip install -r requirements.lock`, or `pip install 'siyu-warehouse[spark]'`).") from None


# --- raw load and Parquet export ----------------------------------------------------------------

def load_raw(settings: Settings, full_refresh: bool) -> list[loader.PartitionStats]:
    """The raw load of the DuckDB pipeline (what its raw assets run per source), without Dagster:
    new or changed landing partitions (all on a full refresh) into the working DuckDB."""
    con = connect_working_db(settings.work_db)
    try:
        return loader.load_landing(con, settings.landing_dir, only_changed=not full_refresh)
    finally:
        con.close()


def quarantine_counts(settings: Settings) -> dict[str, int]:
    con = connect_working_db(settings.work_db, read_only=True)
    try:
        return dict(con.execute("select source, count(*) from raw.quarantine group by source order by source").fetchall())
    finally:
        con.close()


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _export_table(con: duckdb.DuckDBPyConnection, query: str, out_dir: Path, partition_by: str | None) -> None:
    """COPY a query to Parquet in a fresh folder; an empty result still gets its folder."""
    if partition_by:
        con.execute(f"copy ({query}) to {_sql_string(str(out_dir))} (format parquet, partition_by ({partition_by}))")
    else:
        out_dir.mkdir(parents=True)
        con.execute(f"copy ({query}) to {_sql_string(str(out_dir / 'data_0.parquet'))} (format parquet)")
    out_dir.mkdir(parents=True, exist_ok=True)


def export_raw(settings: Settings, layout: SparkLayout) -> dict[str, int]:
    """Every raw table as Parquet partitioned by `_dt`, the load log, and the readers' quarantine ledger.
    Each folder is written beside its final place and swapped in whole. Returns rows per table."""
    layout.raw.mkdir(parents=True, exist_ok=True)
    queries: dict[str, tuple[str, str | None]] = {
        table: (f"select * from raw.{table}", "_dt") for table in RAW_TABLES}
    queries["_load_log"] = ("select * from raw._load_log order by source, dt", None)
    # publish.QUARANTINE_COLUMNS is the allow-list the published DuckDB file gives readers: never raw_text
    queries["quarantine"] = (f"select {', '.join(QUARANTINE_COLUMNS)} from raw.quarantine "
                             "order by source, _dt, file, line", None)
    rows: dict[str, int] = {}
    con = connect_working_db(settings.work_db, read_only=True)
    try:
        for table, (query, partition_by) in queries.items():
            fresh = layout.raw / f".{table}.new-{os.getpid()}"
            shutil.rmtree(fresh, ignore_errors=True)
            _export_table(con, query, fresh, partition_by)
            replace_dir(fresh, layout.raw / table)
            rows[table] = con.execute(f"select count(*) from ({query})").fetchone()[0]
    finally:
        con.close()
    make_readable(layout.raw, recursive=False)  # readers may list raw/ and open raw/quarantine/, not the rest
    make_readable(layout.quarantine)
    return rows


def raw_columns(settings: Settings) -> dict[str, list[tuple[str, str]]]:
    """(column, DuckDB type) of each raw table and the load log, for Spark's table declarations."""
    con = connect_working_db(settings.work_db, read_only=True)
    try:
        return {table: [(name, str(kind)) for name, kind, *_ in con.execute(f"describe raw.{table}").fetchall()]
                for table in (*RAW_TABLES, "_load_log")}
    finally:
        con.close()


_SPARK_TYPES = {"VARCHAR": "string", "JSON": "string", "BIGINT": "bigint", "INTEGER": "int", "DATE": "date",
                "TIMESTAMP": "timestamp_ntz", "BOOLEAN": "boolean", "DOUBLE": "double"}


def spark_type(duckdb_type: str) -> str:
    """Spark SQL type of a raw DuckDB column as Spark reads it from DuckDB's Parquet: JSON is text,
    naive TIMESTAMP is TIMESTAMP_NTZ, decimals keep precision and scale."""
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.lower()
    if duckdb_type not in _SPARK_TYPES:
        raise ValueError(f"raw column type {duckdb_type} has no Spark mapping (siyu/engines/spark.py _SPARK_TYPES)")
    return _SPARK_TYPES[duckdb_type]


# --- the Spark session --------------------------------------------------------------------------

def runtime_conf() -> dict[str, str]:
    """Session settings dbt-spark re-applies before every statement (profiles.yml server_side_parameters
    must say the same; tests/test_spark_engine.py compares them)."""
    return {
        "spark.sql.session.timeZone": "UTC",
        # `timestamp` means naive UTC as in DuckDB, and Parquet gets INT64 microseconds that DuckDB reads
        # as plain TIMESTAMP (Spark's defaults: LTZ, and INT96 in Parquet)
        "spark.sql.timestampType": "TIMESTAMP_NTZ",
        "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
        # small data on 2 cores: 200 shuffle partitions would be 200 tiny tasks per join
        "spark.sql.shuffle.partitions": os.environ.get("SIYU_SPARK_SHUFFLE_PARTITIONS", "4"),
    }


def session_conf(build_dir: Path) -> dict[str, str]:
    return {
        "spark.master": "local[2]",
        "spark.app.name": "siyu-build",
        "spark.driver.memory": os.environ.get("SIYU_SPARK_DRIVER_MEMORY", "2g"),
        "spark.driver.extraJavaOptions": "-Duser.timezone=UTC",
        # no Hive/Derby metastore (it would write metastore_db/ into the working directory); the
        # catalog lives as long as the session and is declared again by every build
        "spark.sql.catalogImplementation": "in-memory",
        "spark.sql.warehouse.dir": str(build_dir / "spark-warehouse"),
        "spark.sql.sources.default": "parquet",  # seeds (no file_format config) are Parquet tables too
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",  # its [Stage n:>  ] bars would interleave with dbt's node lines
        # dbt-spark sets it false before each of its statements; ours (catalog setup) run the same way
        "spark.sql.ansi.enabled": "false",
        **runtime_conf(),
    }


def start_session(build_dir: Path) -> SparkSession:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in session_conf(build_dir).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("SIYU_SPARK_LOG_LEVEL", "ERROR"))
    return spark


def hmac_pads(salt: str) -> tuple[bytes, bytes]:
    """HMAC-SHA256's inner and outer pads of the salt (RFC 2104): with them SQL can compute
    sha2(opad || sha2(ipad || message)) = HMAC(salt, message) without the salt itself."""
    key = salt.encode()
    if len(key) > HMAC_BLOCK_BYTES:
        key = hashlib.sha256(key).digest()
    key = key.ljust(HMAC_BLOCK_BYTES, b"\0")
    return bytes(b ^ 0x36 for b in key), bytes(b ^ 0x5C for b in key)


PII_HASH_SQL = ("lower(sha2(concat(siyu_pii_opad, unhex(sha2(concat(siyu_pii_ipad, encode({value}, 'UTF-8')), 256))), 256))")


def declare_pii_pads(spark: SparkSession, salt: str) -> None:
    """Session variables `siyu_pii_ipad` / `siyu_pii_opad` (BINARY) for the models' phone hash. Their
    values go in as bound parameters only: no SQL text dbt compiles, logs or keeps in target/ holds them."""
    ipad, opad = hmac_pads(salt)
    for name, pad in (("siyu_pii_ipad", ipad), ("siyu_pii_opad", opad)):
        spark.sql(f"declare or replace variable {name} binary")
        spark.sql(f"set var {name} = unhex(:pad)", args={"pad": pad.hex()})
    expected = hmac_sha256(PII_PROBE, salt)
    got = spark.sql(f"select {PII_HASH_SQL.format(value=':probe')} as h", args={"probe": PII_PROBE}).first()[0]
    if got != expected:
        raise RuntimeError("the Spark session's PII pads do not reproduce siyu.pii.hmac_sha256; nothing was built")


def register_raw_tables(spark: SparkSession, layout: SparkLayout, columns: dict[str, list[tuple[str, str]]]) -> None:
    """`raw.<table>` over the exported Parquet, the names dbt's source() gives (models/staging/_sources.yml).
    Declared with the working database's column types, so an empty table still has its schema. A
    partitioned external table shows no rows until its partitions are recovered from the folders."""
    spark.sql("create database if not exists raw")
    for table, cols in columns.items():
        partitioned = table in RAW_TABLES
        data_cols = [(n, t) for n, t in cols if not (partitioned and n == "_dt")]
        ddl = ", ".join(f"`{n}` {spark_type(t)}" for n, t in data_cols + ([("_dt", "DATE")] if partitioned else []))
        spark.sql(f"drop table if exists raw.`{table}`")
        spark.sql(f"create table raw.`{table}` ({ddl}) using parquet "
                  f"{'partitioned by (`_dt`) ' if partitioned else ''}location {_sql_string(str(layout.raw / table))}")
        if partitioned:
            spark.sql(f"alter table raw.`{table}` recover partitions")


def create_layer_databases(spark: SparkSession, build_dir: Path) -> None:
    """staging, intermediate, marts, reference: each table dbt creates lands in <build dir>/<layer>/<table>/."""
    for layer in LAYER_DATABASES:
        spark.sql(f"drop database if exists `{layer}` cascade")  # a second build in one process starts clean
        spark.sql(f"create database `{layer}` location {_sql_string(str(build_dir / layer))}")


# --- dbt --------------------------------------------------------------------------------------------

@dataclass
class DbtOutcome:
    success: bool
    seconds: float
    failed: list[str] = field(default_factory=list)  # "<unique_id>: <status>: <message>"
    marts: list[str] = field(default_factory=list)  # mart tables dbt built in this run
    counts: dict[str, int] = field(default_factory=dict)  # status -> nodes


PARTIAL_PARSE = "partial_parse.msgpack"


def reuse_partial_parse(layout: SparkLayout, build_dir: Path) -> None:
    """dbt's parse of the last Spark build, for this one (≈ 5 s less). Safe to reuse: the spark profile
    names no path under DIR, and dbt itself re-parses whatever changed or discards a stale file."""
    kept = layout.work / PARTIAL_PARSE
    if kept.exists():
        (build_dir / "dbt-target").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(kept, build_dir / "dbt-target" / PARTIAL_PARSE)


def keep_partial_parse(layout: SparkLayout, build_dir: Path) -> None:
    parsed = build_dir / "dbt-target" / PARTIAL_PARSE
    if parsed.exists():
        layout.work.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(parsed, layout.work / PARTIAL_PARSE)


def dbt_args(project_dir: Path, build_dir: Path, select: Sequence[str] | None, dbt_vars: str | None) -> list[str]:
    args = ["build", "--target", "spark", "--project-dir", str(project_dir), "--profiles-dir", str(project_dir),
            "--target-path", str(build_dir / "dbt-target"), "--log-path", str(build_dir / "dbt-logs"),
            "--log-level-file", os.environ.get("DBT_LOG_LEVEL_FILE", "info"),
            "--exclude-resource-type", "unit_test"]  # dbt's unit tests run in the test suite (tests/test_dbt_unit_tests.py)
    if select:
        args += ["--select", *select]
    if dbt_vars:
        args += ["--vars", dbt_vars]
    return args


def _results(result: Any) -> Iterator[Any]:
    yield from getattr(result, "results", None) or []


def _cause(message: str | None) -> str:
    """The telling line of a dbt node's message: dbt's first line only says "Runtime Error in model …"."""
    lines = [line.strip() for line in (message or "").splitlines() if line.strip()]
    # dbt-spark's runtime errors start "Runtime Error in model … (path)" then "Runtime Error"
    while len(lines) > 1 and (lines[0].endswith(" Error") or (" Error in " in lines[0] and lines[0].endswith(")"))):
        lines = lines[1:]
    return lines[0][:300] if lines else "(no message; see dbt's log)"


def run_dbt(project_dir: Path, build_dir: Path, select: Sequence[str] | None = None,
            dbt_vars: str | None = None) -> DbtOutcome:
    """`dbt build --target spark` in this process: dbt-spark's session method reuses our SparkSession."""
    from dbt.cli.main import dbtRunner

    started = time.monotonic()
    invocation = dbtRunner().invoke(dbt_args(project_dir, build_dir, select, dbt_vars))
    outcome = DbtOutcome(success=bool(invocation.success), seconds=time.monotonic() - started)
    for result in _results(invocation.result):
        status = str(getattr(result.status, "value", result.status))
        outcome.counts[status] = outcome.counts.get(status, 0) + 1
        node = result.node
        if status in ("error", "fail", "runtime error"):
            outcome.failed.append(f"{node.unique_id}: {status}: {_cause(result.message)}")
        elif node.resource_type == "model" and node.schema == "marts" and status == "success":
            outcome.marts.append(node.alias)
    if not outcome.success and not outcome.failed:
        outcome.failed.append(f"dbt: {invocation.exception or 'failed before running any node (see the log)'}")
    return outcome


# --- the marts' quality gate -------------------------------------------------------------------------

def check_marts(settings: Settings, build_dir: Path, marts: Sequence[str]) -> list[str]:
    """The DuckDB engine's mart suites and PII scan, run on this build's Parquet marts (through views in
    the working DuckDB, which holds the raw names and texts the scan compares with) before any is
    published. Only the marts this run built are checked (a `--select` build builds a few).
    Returns the summaries of failed suites; empty when all passed."""
    from data_quality.parquet_marts import validate_parquet_marts

    if not marts:
        return []
    # After dbt's in-process run the root logger has a handler, and this GE module pins its own logger at
    # INFO: every check would print "Created temporary directory … for ephemeral docs site"
    logging.getLogger("great_expectations.data_context.types.base").setLevel(logging.WARNING)
    outcomes = validate_parquet_marts(settings.work_db, build_dir, settings.quality_docs_dir, marts=marts)
    return [outcome.summary() for outcome in outcomes if not outcome.success]


# --- publishing the marts ---------------------------------------------------------------------------

def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False where the call is missing."""
    renameat2 = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL):  # old kernel or a file system without exchange
        return False
    raise OSError(err, os.strerror(err), str(b))


def replace_dir(new: Path, dest: Path) -> None:
    """Put folder `new` at `dest`, replacing what is there: readers of `dest` see the old or the new
    folder, never a mix (one exchange); without renameat2, two renames leave a moment with no folder."""
    if not dest.exists():
        os.rename(new, dest)
    elif _exchange(new, dest):
        shutil.rmtree(new)  # `new` now holds the old folder
    else:
        old = dest.with_name(f".{dest.name}.old-{os.getpid()}")
        os.rename(dest, old)
        os.rename(new, dest)
        shutil.rmtree(old)


def make_readable(path: Path, recursive: bool = True) -> None:
    """Readers' parts of DIR get group/other read access (the build runs with umask 077)."""
    path.chmod(PUBLISHED_MODE_DIR if path.is_dir() else PUBLISHED_MODE_FILE)
    if recursive and path.is_dir():
        for child in path.rglob("*"):
            child.chmod(PUBLISHED_MODE_DIR if child.is_dir() else PUBLISHED_MODE_FILE)


def publish_marts(build_dir: Path, marts_dir: Path, marts: Sequence[str]) -> list[Path]:
    """Swap each built mart's Parquet folder into DIR/marts/<mart>/ (marts not built this run stay)."""
    marts_dir.mkdir(parents=True, exist_ok=True)
    make_readable(marts_dir, recursive=False)
    built = [build_dir / "marts" / name for name in marts]
    missing = [str(p) for p in built if not p.is_dir()]
    if missing:
        raise RuntimeError(f"dbt reported marts whose folders are missing: {', '.join(missing)}")
    for folder in built:
        make_readable(folder)
        replace_dir(folder, marts_dir / folder.name)
    return [marts_dir / p.name for p in built]


IDENTITY_TABLES = ("int_identity_map", "int_identity_shared_identifiers")  # what siyu.forget looks a person up in


def keep_identity_graph(build_dir: Path, layout: SparkLayout) -> None:
    """The identity tables outlive the build folder (private, in DIR/.work/identity/intermediate/):
    `siyu forget --engine spark` finds a person's member and identifiers there, as it does in the
    DuckDB working database."""
    for table in IDENTITY_TABLES:
        built = build_dir / "intermediate" / table
        if built.is_dir():
            (layout.identity / "intermediate").mkdir(parents=True, exist_ok=True)
            replace_dir(built, layout.identity / "intermediate" / table)


# --- the command ------------------------------------------------------------------------------------

@dataclass
class Timings:
    marks: dict[str, float] = field(default_factory=dict)

    def record(self, step: str, started: float) -> None:
        self.marks[step] = time.monotonic() - started

    def line(self) -> str:
        return ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.marks.items())


def _say(message: str) -> None:
    print(f"siyu build (spark): {message}", flush=True)


def _fail(message: str, code: int) -> int:
    print(f"siyu build (spark): {message}", file=sys.stderr, flush=True)
    return code


def run_spark_build(landing_dir: Path, warehouse_dir: Path, full_refresh: bool = False,
                    select: Sequence[str] | None = None, project_dir: Path = DBT_PROJECT_DIR,
                    dbt_vars: str | None = None) -> int:
    """`siyu build --engine spark`: exit 0 when every selected dbt node passed and the marts were swapped in."""
    os.umask(0o077)  # raw Parquet and the working database hold personal data; readers' parts are opened up explicitly
    try:
        prepare_java()
        require_pyspark()
    except SparkUnavailable as error:
        return _fail(f"{error}\nNothing was loaded or built.", 2)
    layout = SparkLayout(warehouse_dir.resolve())
    layout.root.mkdir(parents=True, exist_ok=True)
    make_readable(layout.root, recursive=False)  # readers reach marts/ and raw/quarantine/; .work/ and raw/<table>/ stay private
    settings = layout.settings(landing_dir)
    settings.export()
    landing = scan(settings.landing_dir)
    report_skipped(landing)
    if not landing.days():
        return _fail(f"no landing partitions found under {settings.landing_dir} "
                     "(expected <source>/dt=YYYY-MM-DD/<file>)", 2)
    try:
        ensure_salt()
    except MissingSaltError as error:
        return _fail(f"{error}\nNothing was loaded or built.", 2)
    try:
        with working_db_alone(settings, full_refresh):
            return _build(layout, settings, full_refresh, select, project_dir, dbt_vars)
    except RunRefused as refused:
        return _fail(str(refused), refused.code)


def _build(layout: SparkLayout, settings: Settings, full_refresh: bool, select: Sequence[str] | None,
           project_dir: Path, dbt_vars: str | None) -> int:
    timings = Timings()
    exported = _load_and_export(layout, settings, full_refresh, timings)
    for stale in layout.stale_build_dirs():  # a failed earlier build's folder (kept for its logs until now)
        shutil.rmtree(stale, ignore_errors=True)
    build_dir = layout.new_build_dir()
    _say(f"raw: {sum(v for k, v in exported.items() if k in RAW_TABLES):,} rows as Parquet under {layout.raw}; "
         f"building in {build_dir}")
    outcome = _build_in_spark(layout, settings, build_dir, select, project_dir, dbt_vars, timings)
    _copy_dbt_log(build_dir, layout)
    if outcome is None:
        return 1
    if not outcome.success:
        print(f"siyu build (spark) FAILED; {layout.marts} was not changed. dbt's files: {build_dir}", file=sys.stderr)
        for failed in outcome.failed:
            print(f"  failed: {failed}", file=sys.stderr)
        return 1
    started = time.monotonic()
    failed_suites = check_marts(settings, build_dir, outcome.marts)
    timings.record("Great Expectations", started)
    if failed_suites:
        print(f"siyu build (spark) FAILED its Great Expectations suites; {layout.marts} was not changed. "
              f"Reports: {settings.quality_docs_dir}", file=sys.stderr)
        for summary in failed_suites:
            print(f"  {summary}", file=sys.stderr)
        return 1
    published = publish_marts(build_dir, layout.marts, outcome.marts)
    keep_identity_graph(build_dir, layout)
    shutil.rmtree(build_dir, ignore_errors=True)
    _say(f"{len(published)} marts written under {layout.marts} "
         f"({', '.join(f'{k} {v}' for k, v in sorted(outcome.counts.items()))}); "
         f"quarantine ledger: {layout.quarantine} ({exported['quarantine']:,} rows)")
    _say("blocking checks passed: dbt's tests on Spark, then the marts' Great Expectations suites and PII scan "
         f"on the Parquet marts (reports: {settings.quality_docs_dir}); Dagster and the published DuckDB file "
         "are the DuckDB engine's (siyu build without --engine spark)")
    _say(f"times: {timings.line()}")
    return 0


def _load_and_export(layout: SparkLayout, settings: Settings, full_refresh: bool, timings: Timings) -> dict[str, int]:
    started = time.monotonic()
    load_raw(settings, full_refresh)
    exported = export_raw(settings, layout)
    timings.record("raw load + Parquet export", started)
    for source, n in quarantine_counts(settings).items():
        print(f"siyu build (spark): {source}: {n:,} records quarantined (ledger: {layout.quarantine})", file=sys.stderr)
    return exported


def _build_in_spark(layout: SparkLayout, settings: Settings, build_dir: Path, select: Sequence[str] | None,
                    project_dir: Path, dbt_vars: str | None, timings: Timings) -> DbtOutcome | None:
    """Start the session, prepare its catalog, run dbt; None when the session could not be prepared."""
    started = time.monotonic()
    spark = start_session(build_dir)
    timings.record("Spark start", started)
    try:
        try:
            _prepare_catalog(spark, layout, settings, build_dir, timings)
        except Exception as error:  # a Spark error (Py4J, AnalysisException): one line, not a JVM stack trace
            first_line = (str(error).strip().splitlines() or [""])[0][:500]
            print(f"siyu build (spark) FAILED preparing the Spark session; {layout.marts} was not changed: "
                  f"{type(error).__name__}: {first_line}", file=sys.stderr)
            return None
        reuse_partial_parse(layout, build_dir)
        outcome = run_dbt(project_dir, build_dir, select, dbt_vars)
        keep_partial_parse(layout, build_dir)
        timings.marks["dbt build"] = outcome.seconds
        return outcome
    finally:
        spark.stop()


def _prepare_catalog(spark: SparkSession, layout: SparkLayout, settings: Settings, build_dir: Path,
                     timings: Timings) -> None:
    """What dbt needs in the session before it starts: the PII pads, raw.*, the layer databases."""
    started = time.monotonic()
    declare_pii_pads(spark, resolve_salt())
    timings.record("PII pads", started)
    started = time.monotonic()
    register_raw_tables(spark, layout, raw_columns(settings))
    timings.record("raw tables", started)
    started = time.monotonic()
    create_layer_databases(spark, build_dir)
    timings.record("layer databases", started)


def _copy_dbt_log(build_dir: Path, layout: SparkLayout) -> None:
    """dbt's log outlives the build folder: DIR/.work/logs/dbt-spark.log (the last run's)."""
    log = build_dir / "dbt-logs" / "dbt.log"
    if log.exists():
        (layout.work / "logs").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(log, layout.work / "logs" / "dbt-spark.log")
