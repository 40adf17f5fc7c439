"""Funnel charts: members per step by channel, time to convert, spend against GMV."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..data import Context, fetch_rows, table_exists
from ..style import BUCKETS, SMALL_SAMPLE_MEMBERS, STAGES, STEPS, apply_layout, as_float, fmt_hours
from .base import Chart, spec


@spec("funnel_by_channel", "转化漏斗 · Funnel by channel",
      "Left: members reaching each step of the ordered funnel, stacked by first-touch channel, all exposure "
      "cohorts. Right: step conversion per channel — where the funnel leaks; a rate over fewer than "
      f"{SMALL_SAMPLE_MEMBERS} members shows its n (marts.funnel_daily).", height=500, wide=True)
def chart_funnel(ctx: Context, chart: Chart) -> Chart:
    rows = fetch_rows(ctx, """
        select channel, sum(exposure_members) as exposure, sum(interest_members) as interest,
               sum(lead_members) as lead, sum(deal_members) as deal, count(*) as n
        from marts.funnel_daily group by channel order by exposure desc, channel""", "funnel_daily")
    chart.rows = sum(r["n"] for r in rows)
    rows = [r for r in rows if r["exposure"]]
    if not rows:
        chart.rows = 0
        return chart
    totals = {s: sum(int(r[s] or 0) for r in rows) for s, _ in STAGES}
    stage_labels = [f"{label}<br><b>{totals[s]:,}</b>" + (f" ({totals[s] / totals['exposure']:.1%})" if i else "")
                    for i, (s, label) in enumerate(STAGES)]
    fig = make_subplots(rows=1, cols=2, column_widths=[0.55, 0.45], horizontal_spacing=0.17)
    for r in rows:
        fig.add_trace(go.Funnel(
            name=ctx.label(r["channel"]), y=stage_labels, x=[int(r[s] or 0) for s, _ in STAGES],
            marker=dict(color=ctx.color(r["channel"])), textinfo="none", legendgroup=r["channel"],
            connector=dict(line=dict(color="#d0d7e2", width=1)),
            hovertemplate="%{fullData.name}<br>%{y}: %{x:,} 人<extra></extra>"), row=1, col=1)
    # heatmap: channel × step conversion, with the overall row first
    step_cols = (("interest", "exposure", "曝光→兴趣"), ("lead", "interest", "兴趣→线索"),
                 ("deal", "lead", "线索→成交"), ("deal", "exposure", "曝光→成交"))
    heat_rows = [("全部 all", totals)] + [(ctx.label(r["channel"]), r) for r in rows]
    z, text = [], []
    for _, r in heat_rows:
        zr, tr = [], []
        for num, den, _ in step_cols:
            n = int(r[den] or 0)
            rate = int(r[num] or 0) / n if n else None
            zr.append(rate)
            # a rate over a handful of members says little: show how many it is over
            tr.append("–" if rate is None else f"{rate:.0%}" + (f"<br>n={n}" if n < SMALL_SAMPLE_MEMBERS else ""))
        z.append(zr)
        text.append(tr)
    fig.add_trace(go.Heatmap(
        z=z, x=[c[2] for c in step_cols], y=[name for name, _ in heat_rows], text=text, texttemplate="%{text}",
        colorscale=[[0, "#f3f6fb"], [0.35, "#9ecae1"], [1, "#2166ac"]], zmin=0, zmax=1, showscale=False,
        xgap=2, ygap=2, hovertemplate="%{y}<br>%{x}: %{text}<extra></extra>", textfont=dict(size=11)), row=1, col=2)
    fig.update_yaxes(autorange="reversed", row=1, col=2)
    fig.update_xaxes(side="top", row=1, col=2)
    apply_layout(fig, chart.height, funnelmode="stack", margin=dict(l=120, r=10, t=40, b=10),
                 legend=dict(orientation="h", y=-0.03, x=0, yanchor="top", font=dict(size=11), traceorder="normal"))
    chart.figure = fig
    return chart


@spec("time_to_convert", "转化时长分布 · Time to convert",
      "Share of the members who completed each step, by how long it took; legend: members and median "
      "(marts.funnel_time_to_convert, medians from marts.fct_member_funnel).")
def chart_time_to_convert(ctx: Context, chart: Chart) -> Chart:
    bucket_sums = ", ".join(f"sum({col}) as {col}" for col, _ in BUCKETS)
    rows = fetch_rows(ctx, f"""
        select step, sum(converted_members) as converted, {bucket_sums}, count(*) as n
        from marts.funnel_time_to_convert group by step""", "funnel_time_to_convert")
    chart.rows = sum(r["n"] for r in rows)
    by_step = {r["step"]: r for r in rows if r["converted"]}
    if not by_step:
        chart.rows = 0
        return chart
    medians: dict[str, float | None] = {}
    if table_exists(ctx.con, "marts", "fct_member_funnel"):
        exprs = ", ".join(f"quantile_cont({col}, 0.5) / 3600.0 as {step}" for step, _, col, _ in STEPS)
        medians = dict(fetch_rows(ctx, f"select {exprs} from marts.fct_member_funnel")[0])
    fig = go.Figure()
    for step, label, _, color in STEPS:
        r = by_step.get(step)
        if not r:
            continue
        counts = [int(r[col] or 0) for col, _ in BUCKETS]
        total = int(r["converted"])
        median = medians.get(step)
        name = f"{label} · {total:,} 人" + (f" · 中位 {fmt_hours(median)}" if median is not None else "")
        fig.add_trace(go.Bar(name=name, x=[b for _, b in BUCKETS], y=[c / total for c in counts], marker_color=color,
                             customdata=counts, hovertemplate=f"{label}<br>%{{x}}: %{{customdata:,}} 人 (%{{y:.0%}})<extra></extra>"))
    apply_layout(fig, chart.height, barmode="group", bargap=0.25, yaxis=dict(tickformat=".0%", title="占完成人数 share"),
                 legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, font=dict(size=11)), margin=dict(l=60, r=10, t=60, b=40))
    chart.figure = fig
    return chart


@spec("cac_roi", "投放 ROI · Spend, GMV and CAC by channel",
      "Campaign spend vs net GMV to date of the members it acquired, per first-touch channel; labels: CAC "
      "(获客成本 = spend ÷ new members) and ROI. Channels without spend are left out (marts.channel_performance).")
def chart_cac_roi(ctx: Context, chart: Chart) -> Chart:
    rows = fetch_rows(ctx, """
        select channel, sum(cost) as cost, sum(new_members) as new_members, sum(net_gmv) as net_gmv, count(*) as n
        from marts.channel_performance group by channel order by cost desc nulls last""", "channel_performance")
    chart.rows = sum(int(r["n"]) for r in rows)
    rows = [r for r in rows if as_float(r["cost"]) > 0]
    if not rows:
        chart.rows = 0
        chart.note = "暂无投放花费 · no campaign spend recorded (campaign_costs)."
        return chart
    rows.reverse()  # biggest spend on top
    names = [ctx.label(r["channel"]) for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Bar(name="净 GMV net GMV", y=names, x=[as_float(r["net_gmv"]) for r in rows], orientation="h",
                         marker_color="#54A24B", hovertemplate="%{y}<br>净 GMV ¥%{x:,.0f}<extra></extra>"))
    fig.add_trace(go.Bar(name="花费 spend", y=names, x=[as_float(r["cost"]) for r in rows], orientation="h",
                         marker_color="#BAB0AC", hovertemplate="%{y}<br>花费 ¥%{x:,.0f}<extra></extra>"))
    top = max(max(as_float(r["cost"]), as_float(r["net_gmv"])) for r in rows)
    for name, r in zip(names, rows):
        cost, members, gmv = as_float(r["cost"]), int(r["new_members"] or 0), as_float(r["net_gmv"])
        cac = f"CAC ¥{cost / members:,.0f}" if members else "CAC –"
        fig.add_annotation(x=max(cost, gmv), y=name, text=f"{cac} · ROI {(gmv - cost) / cost:+.0%}", showarrow=False,
                           xanchor="left", xshift=6, font=dict(size=11, color="#2b3440"))
    chart.height = max(300, 90 + 46 * len(rows))
    apply_layout(fig, chart.height, barmode="group", bargap=0.25, bargroupgap=0.05,
                 xaxis=dict(tickprefix="¥", range=[0, top * 1.55]),
                 legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, traceorder="reversed"),
                 margin=dict(l=150, r=20, t=40, b=40))
    chart.figure = fig
    return chart
