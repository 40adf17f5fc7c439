"""The published warehouse: written only when every upstream asset and blocking check passed."""


from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, AssetsDefinition, MaterializeResult, MetadataValue, asset

from siyu.publish import STORAGE_VERSION, publish_report

from ..resources import WarehouseResource


def published_warehouse(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    report = publish_report(Path(warehouse.work_db), Path(warehouse.published_db))
    context.log.info(f"published {report.path} ({report.size_bytes / 1e6:.1f} MB, {len(report.rows)} tables, "
                     f"storage {report.storage_version}) in {report.seconds:.1f} s")
    rows = "\n".join(f"| `{name}` | {count:,} |" for name, count in sorted(report.rows.items()))
    return MaterializeResult(metadata={
        "path": MetadataValue.path(str(report.path)),
        "size_bytes": report.size_bytes,
        "tables": len(report.rows),
        "storage_version": report.storage_version,
        "publish_seconds": MetadataValue.float(round(report.seconds, 3)),
        "rows": MetadataValue.md("| table | rows |\n|---|---:|\n" + rows),
    })


def build_published_warehouse(marts: list[AssetKey]) -> AssetsDefinition:
    """The publish asset, downstream of every mart."""
    return asset(
        key=AssetKey(["published_warehouse"]),
        group_name="publish",
        deps=marts,
        description="Writes the file readers and BI tools open (SIYU_WAREHOUSE) from the checked working database: "
                    "marts, reference and raw.quarantine without raw_text (no other raw table, no staging or "
                    "intermediate, no PII), with the dbt descriptions, in DuckDB storage version "
                    f"{STORAGE_VERSION} so that DuckDB 1.1+ readers open it; audited, then renamed into place "
                    "atomically. Runs only when every mart and every blocking check upstream passed.",
        kinds={"duckdb"},
        owners=["team:data-engineering"],
    )(published_warehouse)
