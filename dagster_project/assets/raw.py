"""Raw assets: one per landing source, daily partitioned, a partition range in one run."""


from collections import Counter
from dataclasses import asdict
from datetime import date
from pathlib import Path

from dagster import (
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    PartitionsDefinition,
    asset,
)

from siyu.landing import loader
from siyu.landing.discovery import scan
from siyu.landing.schema import SOURCES

from ..checks.quality import raw_check_spec, run_raw_suite
from ..resources import WarehouseResource

DESCRIPTIONS = {
    "tracking": "Tracking-SDK events (埋点) from `tracking/dt=*/*.jsonl`.",
    "wecom_contacts": "WeCom external contacts (客户) from `wecom_contacts/dt=*/*.jsonl` (`externalcontact/get`).",
    "wecom_groups": "WeCom customer-group (社群) daily snapshots from `wecom_groups/dt=*/*.jsonl` (`groupchat/get`).",
    "wecom_messages": "WeCom session-archive (会话存档) messages from `wecom_messages/dt=*/*.jsonl`.",
    "oa_followers": "Official-account (公众号) follow / unfollow records from `oa_followers/dt=*/*.jsonl`.",
    "orders": "Orders from `orders/dt=*/*.csv` (UTF-8, UTF-8 with BOM or GBK).",
    "campaign_costs": "Campaign spend from `campaign_costs/dt=*/*.csv`.",
}


def _partition_dates(context: AssetExecutionContext) -> list[date]:
    return [date.fromisoformat(key) for key in context.partition_keys]


def _reason_table(reasons: Counter[str]) -> str:
    if not reasons:
        return "No record quarantined."
    rows = "\n".join(f"| {reason.replace('|', '/')[:120]} | {n} |" for reason, n in reasons.most_common(20))
    return "| reason | records |\n|---|---|\n" + rows


def _skipped_table(skipped: list[tuple[str, str]]) -> str:
    if not skipped:
        return "Every entry of the landing folder was loaded or ignored by rule (`_`/`.` names)."
    rows = "\n".join(f"| `{name}` | {why} |" for name, why in skipped[:200])
    return "| entry | why it was not loaded |\n|---|---|\n" + rows


def _add_partition_metadata(context: AssetExecutionContext, loaded: list[loader.PartitionStats], days: set[date]) -> None:
    """Each partition's own numbers: what this run loaded from its files, or that it was unchanged."""
    by_day = {part.dt: part for part in loaded}
    for day in sorted(days):
        part = by_day.get(day)
        if part is None:
            context.add_asset_metadata({"loaded_in_this_run": False}, partition_key=day.isoformat())
            continue
        context.add_asset_metadata({
            "loaded_in_this_run": True,
            "rows_in": part.rows_in,
            "rows_loaded": part.loaded,
            "rows_quarantined": part.quarantined,
            "rows_suppressed": part.suppressed,
            "files": MetadataValue.json([asdict(f) for f in part.files]),
        }, partition_key=day.isoformat())


def build_raw_asset(source: str, partitions: PartitionsDefinition) -> AssetsDefinition:
    @asset(
        key=AssetKey(["raw", source]),
        group_name="raw",
        description=DESCRIPTIONS[source] + " Records that break the landing contract go to `raw.quarantine` with the reason.",
        partitions_def=partitions,
        backfill_policy=BackfillPolicy.single_run(),
        check_specs=[raw_check_spec(source)],
        kinds={"duckdb", "python"},
        owners=["team:data-engineering"],
    )
    def raw_source(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
        landing = scan(Path(warehouse.landing_dir), (source,))
        for name, why in landing.skipped:
            context.log.warning(f"{source}: not loaded: {name}: {why}")
        days = set(_partition_dates(context))
        with warehouse.connect() as con:
            loader.ensure_raw_schema(con)
            pending = loader.pending_partitions(con, landing, source, days, reload_unchanged=warehouse.reload_unchanged)
            loaded = loader.load_partitions(con, source, pending)
            reasons = Counter(dict(con.execute(
                "select reason, count(*) from raw.quarantine where source = ? group by reason", [source]).fetchall()))
            table_rows = con.execute(f"select count(*) from raw.{source}").fetchone()[0]
        skipped = len([d for d in landing.partitions[source] if d in days]) - len([p for p in pending if p.files])
        stats = loader.stats_metadata(loaded)
        affected = [part for part in loaded if part.quarantined]
        if affected:
            context.log.warning(f"{source}: {stats['rows_quarantined']} of {stats['rows_in']} records quarantined "
                                f"in {len(affected)} of {len(loaded)} partitions (see raw.quarantine)")
        _add_partition_metadata(context, loaded, days)
        check = run_raw_suite(source, warehouse)
        # Run totals (a ranged run materializes every partition in it; each also gets its own numbers)
        return MaterializeResult(
            metadata={
                "run_partitions_loaded": stats["partitions_loaded"],
                "run_partitions_unchanged": skipped,
                "run_rows_in": stats["rows_in"],
                "run_rows_loaded": stats["rows_loaded"],
                "run_rows_quarantined": stats["rows_quarantined"],
                "run_rows_suppressed": stats["rows_suppressed"],
                "dagster/row_count": table_rows,
                "quarantine_reasons": MetadataValue.md(_reason_table(reasons)),
                "not_loaded": MetadataValue.md(_skipped_table(landing.skipped)),
            },
            check_results=[check],
        )

    return raw_source


def build_raw_assets(partitions: PartitionsDefinition) -> list[AssetsDefinition]:
    return [build_raw_asset(source, partitions) for source in SOURCES]
