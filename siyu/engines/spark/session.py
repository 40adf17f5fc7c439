"""The in-process SparkSession a build runs dbt-spark in: Java, its settings, the PII pads, the catalog."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from ...landing.schema import RAW_TABLES
from ...pii import PII_HASH_SPARK_SQL, PII_PROBE, hmac_pads, hmac_sha256
from .layout import SparkLayout

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

JAVA_17_HOMES = "/usr/lib/jvm/java-17-openjdk-*"  # Debian/Ubuntu's openjdk-17 (amd64, arm64, …)
LAYER_DATABASES = ("staging", "intermediate", "marts", "reference")  # macros/generate_schema_name.sql, seeds' +schema


class SparkUnavailable(RuntimeError):
    """Java or pyspark is missing, or SIYU_SPARK_CONF is malformed: the Spark engine cannot start
    (nothing was changed)."""


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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


def check_spark_ready() -> None:
    """Everything a Spark build needs before it changes anything: its settings, Java and pyspark
    (SparkUnavailable, with what to do, otherwise)."""
    extra_conf()
    prepare_java()
    require_pyspark()


def require_pyspark() -> None:
    try:
        import dbt.adapters.spark  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError as error:
        raise SparkUnavailable(
            f"{error.name or 'pyspark'} is not installed: the Spark engine needs the spark extra "
            "(`pip install -r requirements.lock`, or `pip install 'siyu-warehouse[spark]'`).") from None


# --- settings ------------------------------------------------------------------------------------

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
        # SIYU_SPARK_JAVA_OPTIONS: extra options for the JVM, e.g. `-XX:TieredStopAtLevel=1` (no C2 JIT: about
        # a fifth less CPU for short builds on small data, slower on long ones; the test suite uses it)
        "spark.driver.extraJavaOptions": " ".join(
            ["-Duser.timezone=UTC", *os.environ.get("SIYU_SPARK_JAVA_OPTIONS", "").split()]),
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
        **extra_conf(),
    }


# Settings SIYU_SPARK_CONF may not change: the mart contract's types and times (runtime_conf, which
# dbt-spark re-applies before every statement anyway) and the session's catalog and SQL dialect
SIYU_OWNED_CONF = ("spark.sql.ansi.enabled", "spark.sql.catalogImplementation", "spark.sql.warehouse.dir",
                   "spark.sql.sources.default")


def extra_conf() -> dict[str, str]:
    """SIYU_SPARK_CONF: further session settings, `key=value` pairs separated by spaces, applied last
    (e.g. `spark.sql.codegen.wholeStage=false`: on a build's small data Spark then interprets plans
    instead of compiling Java for each one; the test suite uses it). A malformed pair, an empty value
    or a setting siyu owns is refused (SparkUnavailable) before anything runs."""
    pairs = os.environ.get("SIYU_SPARK_CONF", "").split()
    malformed = [pair for pair in pairs if "=" not in pair or not pair.split("=", 1)[0].startswith("spark.")
                 or not pair.split("=", 1)[1]]
    if malformed:
        raise SparkUnavailable(f"SIYU_SPARK_CONF: expected spark.KEY=VALUE pairs separated by spaces, "
                               f"got {' '.join(malformed)!r}")
    conf = dict(pair.split("=", 1) for pair in pairs)
    owned = sorted(key for key in conf if key in (*runtime_conf(), *SIYU_OWNED_CONF))
    if owned:
        raise SparkUnavailable(f"SIYU_SPARK_CONF: {', '.join(owned)} is set by siyu (UTC times and the marts' types "
                               "depend on it; shuffle partitions: SIYU_SPARK_SHUFFLE_PARTITIONS)")
    return conf


def start_session(build_dir: Path) -> SparkSession:
    from pyspark.sql import SparkSession

    builder = SparkSession.builder
    for key, value in session_conf(build_dir).items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel(os.environ.get("SIYU_SPARK_LOG_LEVEL", "ERROR"))
    return spark


def declare_pii_pads(spark: SparkSession, salt: str) -> None:
    """Session variables `siyu_pii_ipad` / `siyu_pii_opad` (BINARY) for the models' phone hash. Their
    values go in as bound parameters only: no SQL text dbt compiles, logs or keeps in target/ holds them."""
    ipad, opad = hmac_pads(salt)
    for name, pad in (("siyu_pii_ipad", ipad), ("siyu_pii_opad", opad)):
        spark.sql(f"declare or replace variable {name} binary")
        spark.sql(f"set var {name} = unhex(:pad)", args={"pad": pad.hex()})
    expected = hmac_sha256(PII_PROBE, salt)
    got = spark.sql(f"select {PII_HASH_SPARK_SQL.format(value=':probe')} as h", args={"probe": PII_PROBE}).first()[0]
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
                  f"{'partitioned by (`_dt`) ' if partitioned else ''}location {sql_string(str(layout.raw / table))}")
        if partitioned:
            spark.sql(f"alter table raw.`{table}` recover partitions")


def create_layer_databases(spark: SparkSession, build_dir: Path) -> None:
    """staging, intermediate, marts, reference: each table dbt creates lands in <build dir>/<layer>/<table>/."""
    for layer in LAYER_DATABASES:
        spark.sql(f"drop database if exists `{layer}` cascade")  # a second build in one process starts clean
        spark.sql(f"create database `{layer}` location {sql_string(str(build_dir / layer))}")


_SPARK_TYPES = {"VARCHAR": "string", "JSON": "string", "BIGINT": "bigint", "INTEGER": "int", "DATE": "date",
                "TIMESTAMP": "timestamp_ntz", "BOOLEAN": "boolean", "DOUBLE": "double"}


def spark_type(duckdb_type: str) -> str:
    """Spark SQL type of a raw DuckDB column as Spark reads it from DuckDB's Parquet: JSON is text,
    naive TIMESTAMP is TIMESTAMP_NTZ, decimals keep precision and scale."""
    if duckdb_type.startswith("DECIMAL"):
        return duckdb_type.lower()
    if duckdb_type not in _SPARK_TYPES:
        raise ValueError(f"raw column type {duckdb_type} has no Spark mapping (siyu/engines/spark/session.py _SPARK_TYPES)")
    return _SPARK_TYPES[duckdb_type]
