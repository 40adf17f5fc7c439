"""Reach: push open rates by channel."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..data import Context, MissingMart, fetch_rows, table_exists
from ..style import apply_layout, fmt_int
from .base import Chart, spec


@spec("open_rates", "触达打开率 · Push open rate by channel",
      "Left: opens ÷ deliveries over the last 30 days. Right: weekly open rate (log scale — moments "
      "~85 %, service account ~10 %, subscription ~1 % are orders of magnitude apart) (marts.channel_reach).",
      wide=True, height=420)
def chart_open_rates(ctx: Context, chart: Chart) -> Chart:
    if not table_exists(ctx.con, "marts", "channel_reach"):
        raise MissingMart("marts.channel_reach is not in the warehouse")
    latest = ctx.con.execute("select max(business_date) from marts.channel_reach").fetchone()[0]
    if latest is None:
        return chart
    recent = fetch_rows(ctx, """
        select channel, sum(delivered) as delivered, sum(opened) as opened, count(*) as n
        from marts.channel_reach where business_date > ?::date - 30 group by channel order by channel""",
                   "channel_reach", params=[latest])
    weekly = fetch_rows(ctx, """
        select date_trunc('week', business_date)::date as week, channel, sum(delivered) as delivered, sum(opened) as opened
        from marts.channel_reach group by all order by week""", "channel_reach")
    chart.rows = ctx.con.execute("select count(*) from marts.channel_reach").fetchone()[0]
    recent = [r for r in recent if r["delivered"]]
    if not recent:
        chart.rows = 0
        return chart
    recent.sort(key=lambda r: int(r["opened"] or 0) / int(r["delivered"]))
    fig = make_subplots(rows=1, cols=2, column_widths=[0.42, 0.58], horizontal_spacing=0.2,
                        subplot_titles=(f"近 30 天 last 30 days (to {latest})", "每周趋势 weekly"))
    fig.add_trace(go.Bar(
        y=[ctx.label(r["channel"]) for r in recent], x=[int(r["opened"] or 0) / int(r["delivered"]) for r in recent],
        orientation="h", marker_color=[ctx.color(r["channel"]) for r in recent], showlegend=False,
        text=[f"{int(r['opened'] or 0) / int(r['delivered']):.1%}  ({fmt_int(r['opened'])}/{fmt_int(r['delivered'])})"
              for r in recent], textposition="outside", cliponaxis=False,
        hovertemplate="%{y}<br>打开率 %{x:.1%}<extra></extra>"), row=1, col=1)
    for channel in [r["channel"] for r in reversed(recent)]:
        wr = [r for r in weekly if r["channel"] == channel and r["delivered"]]
        fig.add_trace(go.Scatter(
            x=[r["week"] for r in wr], y=[(int(r["opened"] or 0) / int(r["delivered"])) or None for r in wr],
            mode="lines+markers", name=ctx.label(channel), line=dict(color=ctx.color(channel), width=2.5),
            hovertemplate=f"{ctx.label(channel)}<br>%{{x}} 周: %{{y:.1%}}<extra></extra>"), row=1, col=2)
    fig.update_xaxes(tickformat=".0%", range=[0, 1.35], row=1, col=1)
    fig.update_yaxes(type="log", tickformat=".1~%", tickvals=[0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1], row=1, col=2)
    apply_layout(fig, chart.height, margin=dict(l=150, r=20, t=40, b=40), legend=dict(font=dict(size=11)))
    fig.update_annotations(font_size=13)
    chart.figure = fig
    return chart
