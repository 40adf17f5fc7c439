"""`siyu build --engine spark`: the steps of the package's docstring, in order."""

from __future__ import annotations

import logging
import os
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from ...build import RunRefused, report_skipped, working_db_alone
from ...landing.discovery import scan
from ...landing.schema import RAW_TABLES
from ...pii import MissingSaltError, ensure_salt, resolve_salt
from ...settings import DBT_PROJECT_DIR, Settings
from .dbt_run import DbtOutcome, keep_partial_parse, reuse_partial_parse, run_dbt
from .layout import SparkLayout, keep_identity_graph, make_readable, publish_marts
from .raw_export import export_raw, load_raw, quarantine_counts, raw_columns
from .session import (
    SparkUnavailable,
    check_spark_ready,
    create_layer_databases,
    declare_pii_pads,
    register_raw_tables,
    start_session,
)

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


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
        check_spark_ready()
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
