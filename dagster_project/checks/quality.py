"""Great Expectations suites (data_quality/) surfaced as blocking Dagster asset checks.

A failing blocking check stops everything downstream in the run, so a bad raw table never
reaches the marts and a bad mart is never published.
"""

from pathlib import Path
from typing import Iterator
from urllib.parse import unquote, urlsplit

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from data_quality import checked_partitions
from data_quality.mart_suites import MART_SUITES, mart_text_columns, pii_scan_suite
from data_quality.outcomes import combined
from data_quality.runner import CheckOutcome, validate_many, validate_table
from data_quality.suites import RAW_SUITES
from siyu.docs_server import served_folders, url_for

from ..resources import WarehouseResource

RAW_CHECK_NAME = "great_expectations_suite"


def raw_check_spec(source: str) -> AssetCheckSpec:
    suite = RAW_SUITES[source]
    return AssetCheckSpec(
        name=RAW_CHECK_NAME,
        asset=AssetKey(["raw", source]),
        blocking=True,
        description=f"Great Expectations suite `{suite.name}`: columns and types, required ids, enumerations, "
                    "uniqueness within a partition and sane timestamps, validated inside DuckDB.",
    )


def report_links(file_url: str | None, warehouse: WarehouseResource | None) -> dict[str, MetadataValue]:
    """A Data Docs page as a link that opens from the UI (served by `siyu docs`) and as a path on disk."""
    if not file_url:
        return {}
    path = Path(unquote(urlsplit(file_url).path))
    links: dict[str, MetadataValue] = {"data_docs_file": MetadataValue.path(str(path))}
    if warehouse is not None:
        url = url_for(path, served_folders(Path(warehouse.published_db), Path(warehouse.quality_docs_dir)))
        if url:
            links["data_docs"] = MetadataValue.url(url)
    return links


def outcome_to_check_result(outcome: CheckOutcome, asset_key: AssetKey | None = None,
                            check_name: str = RAW_CHECK_NAME, warehouse: WarehouseResource | None = None,
                            extra_metadata: dict | None = None) -> AssetCheckResult:
    metadata = {
        "suite": outcome.suite_name,
        "expectations_evaluated": outcome.evaluated_expectations,
        "expectations_failed": outcome.unsuccessful_expectations,
        "duration_s": round(outcome.duration_s, 3),
        "failures": MetadataValue.md("\n".join(f"- {f}" for f in outcome.failed) or "none"),
    }
    metadata.update(report_links(outcome.result_url or outcome.docs_url, warehouse))
    metadata.update(extra_metadata or {})
    return AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=outcome.success,
        severity=AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=outcome.summary()[:2000],
    )


def run_raw_suite(source: str, warehouse: WarehouseResource) -> AssetCheckResult:
    """The raw table's suite over what changed since its last passing validation (data_quality.checked_partitions:
    a partition's verdict depends on that partition alone): nothing, a few partitions one by one, or the whole table."""
    suite = RAW_SUITES[source]
    fingerprint = checked_partitions.suite_fingerprint(suite)
    with warehouse.connect() as con:
        todo = checked_partitions.plan(con, source, fingerprint)
    db, docs = Path(warehouse.work_db), Path(warehouse.quality_docs_dir)
    if todo.whole_table:
        outcome = validate_table(db, suite, docs_dir=docs)
        outcome.note = todo.describe()
    else:
        outcome = combined(suite, [validate_table(db, suite, docs_dir=docs, partition=day) for day in todo.days],
                           note=todo.describe())
    if outcome.success:
        with warehouse.connect() as con:
            checked_partitions.record_passed(con, todo, fingerprint)
    return outcome_to_check_result(outcome, AssetKey(["raw", source]), warehouse=warehouse, extra_metadata={
        "validated": todo.describe(), "partitions_validated": todo.loaded if todo.whole_table else len(todo.days)})


MART_CHECK_SPECS = [
    AssetCheckSpec(name=RAW_CHECK_NAME, asset=AssetKey(["marts", table]), blocking=True,
                   description=f"Great Expectations suite `{suite.name}`: {suite.description}")
    for table, suite in MART_SUITES.items()
] + [
    AssetCheckSpec(name="pii_scan", asset=AssetKey(["marts", "dim_member"]), blocking=True,
                   description="Fails if any text value of any mart is or contains a phone number, or is a WeCom display "
                               "name or message text (one pass over every text column, inside DuckDB)."),
]


@multi_asset_check(specs=MART_CHECK_SPECS, description="Great Expectations suites of the marts, run before publishing.")
def mart_quality_checks(context: AssetCheckExecutionContext, warehouse: WarehouseResource) -> Iterator[AssetCheckResult]:
    suites = list(MART_SUITES.values()) + [pii_scan_suite(mart_text_columns(warehouse.work_db))]
    outcomes = validate_many(Path(warehouse.work_db), suites, docs_dir=Path(warehouse.quality_docs_dir))
    for spec, outcome in zip(MART_CHECK_SPECS, outcomes):
        yield outcome_to_check_result(outcome, spec.asset_key, spec.name, warehouse=warehouse)
