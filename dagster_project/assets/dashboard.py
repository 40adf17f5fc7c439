"""The operator dashboard (运营看板): a static HTML page rendered from the published warehouse.

It runs after `published_warehouse`, so it shows what readers and BI tools see — the checked file,
opened read-only — and is written beside it, to `<warehouse dir>/dashboard/index.html`.
"""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from siyu.dashboard import CHANNEL_SEED, CHARTS, MARTS, render_dashboard
from siyu.docs_server import served_folders, url_for

from ..resources import WarehouseResource


@asset(
    key=AssetKey(["dashboard"]),
    group_name="dashboard",
    deps=[*(AssetKey(["marts", name]) for name in MARTS), AssetKey(list(CHANNEL_SEED)), AssetKey(["published_warehouse"])],
    description="Operator dashboard (运营看板): funnel by channel, time to convert, CAC / ROI, member layers, cohort LTV, "
                "group survival, lifecycle and groups needing attention, push open rates — one self-contained HTML "
                "file (Plotly, works offline) rendered from the published warehouse to `<warehouse dir>/dashboard/index.html`.",
    kinds={"plotly", "html"},
    owners=["team:analytics-engineering"],
)
def dashboard(context: AssetExecutionContext, warehouse: WarehouseResource) -> MaterializeResult:
    out = Path(warehouse.published_db).parent / "dashboard" / "index.html"
    rows = render_dashboard(Path(warehouse.published_db), out)
    titles = {spec["id"]: spec["title"] for spec in CHARTS}
    empty = [chart for chart, n in rows.items() if n == 0]
    lines = ["| chart | mart rows |", "|---|---:|"]
    lines += [f"| {titles.get(chart, chart)} | {n:,}{' (no data)' if n == 0 else ''} |" for chart, n in rows.items()]
    context.log.info(f"dashboard written to {out} ({len(rows)} charts, {len(empty)} without data)")
    return MaterializeResult(metadata={
        "path": MetadataValue.path(str(out)),
        "url": MetadataValue.url(url_for(out, served_folders(Path(warehouse.published_db), Path(warehouse.quality_docs_dir))) or ""),
        "charts": len(rows),
        "charts_without_data": len(empty),
        "size_bytes": out.stat().st_size,
        "summary": MetadataValue.md(f"Rendered from `{warehouse.published_db}`.\n\n" + "\n".join(lines)),
    })
