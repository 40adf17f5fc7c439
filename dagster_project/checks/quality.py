"""Great Expectations suites (data_quality/) surfaced as blocking Dagster asset checks.

A failing blocking check stops everything downstream in the run, so a bad raw table never
reaches the marts and a bad mart is never published.
"""

from __future__ import annotations

from pathlib import Path

from dagster import AssetCheckResult, AssetCheckSeverity, AssetCheckSpec, AssetKey, MetadataValue

from data_quality.runner import CheckOutcome, validate_table
from data_quality.suites import RAW_SUITES

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


def outcome_to_check_result(outcome: CheckOutcome, asset_key: AssetKey | None = None,
                            check_name: str = RAW_CHECK_NAME) -> AssetCheckResult:
    metadata = {
        "suite": outcome.suite_name,
        "expectations_evaluated": outcome.evaluated_expectations,
        "expectations_failed": outcome.unsuccessful_expectations,
        "duration_s": round(outcome.duration_s, 3),
        "failures": MetadataValue.md("\n".join(f"- {f}" for f in outcome.failed) or "none"),
    }
    link = outcome.result_url or outcome.docs_url
    if link:
        metadata["data_docs"] = MetadataValue.url(link)
    return AssetCheckResult(
        asset_key=asset_key,
        check_name=check_name,
        passed=outcome.success,
        severity=AssetCheckSeverity.ERROR,
        metadata=metadata,
        description=outcome.summary()[:2000],
    )


def run_raw_suite(source: str, warehouse: WarehouseResource) -> AssetCheckResult:
    outcome = validate_table(Path(warehouse.work_db), RAW_SUITES[source], docs_dir=Path(warehouse.quality_docs_dir))
    return outcome_to_check_result(outcome, AssetKey(["raw", source]))
