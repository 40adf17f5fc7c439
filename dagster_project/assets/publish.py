"""The published warehouse: built only when every upstream asset and blocking check passed."""


from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from siyu.publish import publish
from ..resources import WarehouseResource
from .dbt import dbt_models


def _mart_keys() -> list[AssetKey]:
    return sorted((k for k in dbt_models.keys if k.path[0] == "marts"), key=lambda k: k.to_user_string())


@asset(
    key=AssetKey(["published_warehouse"]),
    group_name="publish",
    deps=_mart_keys(),
    description="Atomically publishes the checked working database to the file readers and BI tools open "
                "(SIYU_WAREHOUSE). Runs only when every mart and every blocking check upstream passed.",
    kinds={"duckdb"},
    owners=["team:data-engineering"],
)
def published_warehouse(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    path = publish(Path(warehouse.work_db), Path(warehouse.published_db))
    size = path.stat().st_size
    context.log.info(f"published {path} ({size / 1e6:.1f} MB)")
    return MaterializeResult(metadata={"path": MetadataValue.path(str(path)), "size_bytes": size})
