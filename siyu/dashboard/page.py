"""The page: KPI tiles, one card per chart, written atomically as one self-contained HTML file."""

from __future__ import annotations

import html
import os
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import plotly.io as pio
from plotly.offline import get_plotlyjs

from .charts import SECTIONS, SPECS, Chart
from .data import Context, MissingMart, as_of_date, load_channel_names, table_exists
from .style import CSS, PLOT_CONFIG, as_float, fmt_int


def _kpis(ctx: Context) -> list[tuple[str, str, str]]:
    """(label, value, note) tiles; a missing mart gives '–'."""
    con = ctx.con

    def one(sql: str, table: str, params: list | None = None):
        if not table_exists(con, "marts", table):
            return None
        return con.execute(sql, params or []).fetchone()

    tiles: list[tuple[str, str, str]] = []
    layers = one("select sum(members) filter (where business_date = (select max(business_date) from marts.member_layers_daily)),"
                 " sum(members) filter (where member_layer = 'core' and business_date = (select max(business_date) from marts.member_layers_daily))"
                 " from marts.member_layers_daily", "member_layers_daily")
    tiles.append(("会员 members", fmt_int(layers[0]) if layers and layers[0] is not None else "–",
                  f"核心 core {fmt_int(layers[1])}" if layers and layers[0] is not None else ""))
    funnel = one("select sum(exposure_members), sum(lead_members), sum(deal_members) from marts.funnel_daily", "funnel_daily")
    if funnel and funnel[0]:
        tiles.append(("曝光 → 成交 exposure → deal", f"{funnel[2] / funnel[0]:.1%}",
                      f"{fmt_int(funnel[0])} 曝光 · {fmt_int(funnel[1])} 线索 · {fmt_int(funnel[2])} 成交"))
    else:
        tiles.append(("曝光 → 成交 exposure → deal", "–", ""))
    gmv = one("select sum(net_gmv), sum(cost) from marts.channel_performance", "channel_performance")
    tiles.append(("净 GMV net GMV", f"¥{as_float(gmv[0]):,.0f}" if gmv and gmv[0] is not None else "–",
                  f"花费 spend ¥{as_float(gmv[1]):,.0f}" if gmv and gmv[1] is not None else ""))
    groups = one("select count(*) filter (where not coalesce(is_dissolved, false) and lifecycle_stage <> 'dead'),"
                 " count(*) filter (where not coalesce(is_dissolved, false) and lifecycle_stage in ('declining', 'silent', 'dead'))"
                 " from marts.dim_group", "dim_group")
    tiles.append(("存活社群 live groups", fmt_int(groups[0]) if groups else "–",
                  f"需关注 {fmt_int(groups[1])} 群" if groups else ""))
    reach = one("select sum(opened), sum(delivered) from marts.channel_reach"
                " where business_date > (select max(business_date) from marts.channel_reach) - 30", "channel_reach")
    tiles.append(("近30天打开率 open rate", f"{as_float(reach[0]) / as_float(reach[1]):.1%}" if reach and reach[1] else "–",
                  f"{fmt_int(reach[1])} 次送达 deliveries" if reach and reach[1] else ""))
    return tiles


def _card(chart: Chart) -> str:
    classes = "card wide" if chart.wide else "card"
    head = (f'<section class="{classes}" id="chart-{chart.id}" data-chart="{chart.id}" data-rows="{chart.rows}">'
            f"<h3>{html.escape(chart.title)}</h3><p class=\"sub\">{html.escape(chart.subtitle)}</p>")
    if chart.figure is None:
        note = chart.note or "暂无数据 · no data yet"
        return head + f'<div class="no-data" data-no-data="1">{html.escape(note)}</div></section>'
    plot = pio.to_html(chart.figure, include_plotlyjs=False, full_html=False, div_id=f"plot-{chart.id}",
                       config=PLOT_CONFIG | {"displayModeBar": "hover" if chart.modebar else False},
                       default_height=f"{chart.height}px", default_width="100%")
    return head + f'<div class="plot" data-plot="{chart.id}">{plot}</div></section>'


def render_dashboard(db_path: Path, out_html: Path) -> dict[str, int]:
    """Render the dashboard of the warehouse at `db_path` into `out_html`; returns mart rows per chart."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        ctx = Context(con=con, as_of=as_of_date(con), channel_names=load_channel_names(con))
        # stable colours: channels in order of exposure, then the rest alphabetically
        if table_exists(con, "marts", "funnel_daily"):
            for (channel,) in con.execute("select channel from marts.funnel_daily group by 1 "
                                          "order by sum(exposure_members) desc, 1").fetchall():
                ctx.color(channel)
        for channel in sorted(ctx.channel_names):
            ctx.color(channel)
        tiles = _kpis(ctx)
        sections: list[tuple[str, list[Chart]]] = []
        for name, builders in SECTIONS:
            charts = []
            for build in builders:
                chart = Chart(**SPECS[build])
                try:
                    build(ctx, chart)
                except MissingMart as missing:
                    chart.rows, chart.note = 0, f"暂无数据 · no data: {missing}"
                if chart.rows == 0:
                    chart.figure = None
                charts.append(chart)
            sections.append((name, charts))
    finally:
        con.close()

    generated = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    as_of = ctx.as_of.isoformat() if ctx.as_of else "–"
    parts = [
        "<!doctype html>", '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>私域运营看板 · siyu operator dashboard</title>",
        f"<style>{CSS}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        "<header><h1>私域运营看板 · Operator dashboard</h1>",
        f"<p>数据截至 data as of <b>{as_of}</b> (业务日期 business date) · 生成于 generated {generated} · "
        f"{html.escape(Path(db_path).name)}</p></header><main>",
        '<div class="kpis">',
        *(f'<div class="kpi"><div class="label">{html.escape(label)}</div><div class="value">{html.escape(value)}</div>'
          f'<div class="note">{html.escape(note)}</div></div>' for label, value, note in tiles),
        "</div>",
    ]
    for name, charts in sections:
        parts.append(f"<h2>{html.escape(name)}</h2><div class=\"grid\">")
        parts.extend(_card(chart) for chart in charts)
        parts.append("</div>")
    parts.append("</main><footer>Built by the Dagster asset <code>dashboard</code> from the published, checked warehouse "
                 "(marts.*). Hover any chart for exact numbers; definitions: contracts §5 and the dbt docs.</footer>"
                 "</body></html>")

    out_html = Path(out_html)
    out_html.parent.mkdir(parents=True, exist_ok=True)
    partial = out_html.with_name(f".{out_html.name}.partial")
    partial.write_text("\n".join(parts), encoding="utf-8")
    os.replace(partial, out_html)  # a browser reading the old page never sees half a file
    return {chart.id: chart.rows for _, charts in sections for chart in charts}
