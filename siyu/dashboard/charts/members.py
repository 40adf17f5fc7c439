"""Member charts: layers over time, cohort LTV curves."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..data import Context, fetch_rows
from ..style import MEMBER_LAYERS, PALETTE, apply_layout, as_float, fmt_int
from .base import Chart, spec


@spec("member_layers", "用户分层 · Member layers over time",
      "Members per layer each business date, ordinary at the bottom of the pyramid, core on top; "
      "right: the pyramid on the latest date (marts.member_layers_daily).")
def chart_member_layers(ctx: Context, chart: Chart) -> Chart:
    rows = fetch_rows(ctx, "select business_date, member_layer, members from marts.member_layers_daily order by 1",
                 "member_layers_daily")
    chart.rows = len(rows)
    if not rows:
        return chart
    dates = sorted({r["business_date"] for r in rows})
    value = {(r["business_date"], r["member_layer"]): int(r["members"] or 0) for r in rows}
    fig = make_subplots(rows=1, cols=2, column_widths=[0.66, 0.34], horizontal_spacing=0.2)
    known = [layer for layer, _, _ in MEMBER_LAYERS]
    extra = sorted({r["member_layer"] for r in rows} - set(known))
    layers = list(MEMBER_LAYERS) + [(x, x, PALETTE[i % len(PALETTE)]) for i, x in enumerate(extra)]
    for layer, label, color in layers:
        fig.add_trace(go.Scatter(
            x=dates, y=[value.get((d, layer), 0) for d in dates], name=label, stackgroup="layers", mode="lines",
            line=dict(width=0.5, color=color), fillcolor=color, legendgroup=layer,
            hovertemplate=f"{label}<br>%{{x}}: %{{y:,}} 人<extra></extra>"), row=1, col=1)
    latest = [(label, value.get((dates[-1], layer), 0), color) for layer, label, color in reversed(layers)]
    total = sum(v for _, v, _ in latest) or 1
    fig.add_trace(go.Funnel(
        y=[f"{label.split()[0]}<br>{v:,} · {v / total:.0%}" for label, v, _ in latest], x=[v for _, v, _ in latest],
        marker=dict(color=[c for _, _, c in latest]), textinfo="none", connector=dict(visible=False), showlegend=False,
        hovertemplate="%{y}: %{x:,} 人<extra></extra>"), row=1, col=2)
    fig.update_xaxes(showticklabels=False, row=1, col=2)
    apply_layout(fig, chart.height, legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                 margin=dict(l=60, r=20, t=56, b=40), yaxis=dict(title="会员 members"))
    fig.update_annotations(font_size=12)
    chart.figure = fig
    return chart


@spec("cohort_ltv", "同期群 LTV · Cohort LTV curves",
      "Cumulative net GMV per member (yuan) by months since acquisition, one line per acquisition month; "
      "hover for retention and repeat-buyer rate (marts.cohort_retention).")
def chart_cohort_ltv(ctx: Context, chart: Chart) -> Chart:
    rows = fetch_rows(ctx, """select cohort_month, months_since, cohort_members, retention_rate, repeat_buyer_rate,
                                cumulative_net_gmv_per_member
                         from marts.cohort_retention order by cohort_month, months_since""", "cohort_retention")
    chart.rows = len(rows)
    if not rows:
        return chart
    fig = go.Figure()
    cohorts = sorted({r["cohort_month"] for r in rows})
    for i, cohort in enumerate(cohorts):
        cr = [r for r in rows if r["cohort_month"] == cohort]
        fig.add_trace(go.Scatter(
            x=[r["months_since"] for r in cr], y=[as_float(r["cumulative_net_gmv_per_member"]) for r in cr],
            mode="lines+markers", name=f"{cohort:%Y-%m} ({fmt_int(cr[0]['cohort_members'])} 人)",
            line=dict(width=2.5, color=PALETTE[i % len(PALETTE)]), marker=dict(size=7),
            customdata=[[as_float(r["retention_rate"]), as_float(r["repeat_buyer_rate"])] for r in cr],
            hovertemplate=(f"{cohort:%Y-%m} 同期群<br>第 %{{x}} 月: ¥%{{y:,.2f}} / 人<br>"
                           "留存 %{customdata[0]:.0%} · 复购 %{customdata[1]:.1%}<extra></extra>")))
    max_m = max(int(r["months_since"]) for r in rows)
    apply_layout(fig, chart.height, xaxis=dict(title="获客后月数 months since acquisition", dtick=1, range=[-0.2, max(max_m, 1) + 0.2]),
                 yaxis=dict(title="累计人均净 GMV (¥)", tickprefix="¥", rangemode="tozero"), legend=dict(font=dict(size=11)))
    chart.figure = fig
    return chart
