"""Group (社群) charts: survival by creation week, lifecycle and activity, groups needing attention."""

from __future__ import annotations

import html

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ..data import Context, fetch_rows, operator_query
from ..style import FONT, LIFECYCLE, SMALL_SAMPLE_GROUPS, apply_layout, as_float, fmt_int
from .base import Chart, spec


def pooled_survival(rows: list[dict]) -> tuple[list[int], dict[int, list[int]], int | None]:
    """Pool creation weeks into one curve without mixing cohorts of different ages: a young week is
    only observed at small k, so pooling every week would let old, lively groups alone make up the
    later points (the curve would rise). Only weeks observed at every k up to k_max are pooled,
    k_max as large as at least one week allows. Returns (ks, {k: [alive, groups]}, k_max)."""
    by_week: dict[object, dict[int, dict]] = {}
    for r in rows:
        by_week.setdefault(r["created_week"], {})[int(r["day_k"])] = r
    all_ks = sorted({int(r["day_k"]) for r in rows})
    for k_max in reversed(all_ks):
        ks = [k for k in all_ks if k <= k_max]
        weeks = [w for w, seen in by_week.items() if all(k in seen for k in ks)]
        if weeks:
            pooled = {k: [sum(int(by_week[w][k]["alive_groups"] or 0) for w in weeks),
                          sum(int(by_week[w][k]["groups"] or 0) for w in weeks)] for k in ks}
            return ks, pooled, k_max
    return [], {}, None


@spec("group_survival", "社群存活曲线 · Group survival",
      "Share of groups still alive (a member message on or after day k) by creation week (faint: fewer "
      f"than {SMALL_SAMPLE_GROUPS} groups); bold: the weeks old enough to be observed on every day k shown, "
      "pooled — the same groups at every k; dotted: the industry rule of thumb (~90 % dead within 7 days) "
      "(marts.group_survival).")
def chart_group_survival(ctx: Context, chart: Chart) -> Chart:
    rows = fetch_rows(ctx, """select created_week, day_k, groups, alive_groups, alive_share
                         from marts.group_survival order by created_week, day_k""", "group_survival")
    chart.rows = len(rows)
    if not rows:
        return chart
    fig = go.Figure()
    weeks = sorted({r["created_week"] for r in rows})
    for i, week in enumerate(weeks):
        wr = [r for r in rows if r["created_week"] == week]
        shade = 0.35 + 0.45 * (i / max(len(weeks) - 1, 1))
        if max(int(r["groups"] or 0) for r in wr) < SMALL_SAMPLE_GROUPS:
            shade = 0.15  # a rate over a handful of groups says little
        fig.add_trace(go.Scatter(
            x=[r["day_k"] for r in wr], y=[as_float(r["alive_share"]) for r in wr], mode="lines+markers",
            name=f"{week} 周 (n={max(int(r['groups'] or 0) for r in wr)})", line=dict(width=1.3, color=f"rgba(76,120,168,{shade:.2f})"), marker=dict(size=5),
            customdata=[[r["alive_groups"], r["groups"]] for r in wr],
            hovertemplate=f"{week} 周建群<br>第 %{{x}} 天: %{{y:.0%}} (%{{customdata[0]}}/%{{customdata[1]}} 群)<extra></extra>"))
    ks, pooled, k_max = pooled_survival(rows)
    if ks:
        fig.add_trace(go.Scatter(
            x=ks, y=[pooled[k][0] / pooled[k][1] for k in ks], mode="lines+markers+text",
            name=f"全部 weeks old enough for day {k_max} (n={pooled[ks[0]][1]} 群)",
            line=dict(width=4, color="#E45756"), marker=dict(size=9),
            text=[f"{pooled[k][0] / pooled[k][1]:.0%}" for k in ks], textposition="top right",
            customdata=[pooled[k] for k in ks],
            hovertemplate="全部<br>第 %{x} 天: %{y:.0%} (%{customdata[0]}/%{customdata[1]} 群)<extra></extra>"))
    fig.add_trace(go.Scatter(x=[0, 7, 60], y=[1, 0.1, 0.03], mode="lines", name="行业经验 rule of thumb",
                             line=dict(dash="dot", color="#999", width=1.5), hoverinfo="skip"))
    apply_layout(fig, chart.height, xaxis=dict(title="建群后第 k 天 day k", tickvals=[1, 7, 14, 30, 60], range=[0, 62]),
                 yaxis=dict(title="存活比例 alive share", tickformat=".0%", range=[0, 1.08]),
                 legend=dict(font=dict(size=11)))
    chart.figure = fig
    return chart


@spec("group_health", "社群健康 · Groups by lifecycle and effective activity",
      "Top: groups per lifecycle stage each day. Bottom: chat volume vs effective activity — members "
      "clicking links / mini-program cards posted in groups, and orders from groups (marts.group_daily).",
      height=460)
def chart_group_health(ctx: Context, chart: Chart) -> Chart:
    rows = fetch_rows(ctx, """
        select business_date, lifecycle_stage, count(*) as groups_n, sum(member_messages) as messages,
               sum(link_clickers) as clickers, sum(orders) as orders, sum(members_end) as members
        from marts.group_daily group by 1, 2 order by 1""", "group_daily")
    chart.rows = sum(int(r["groups_n"]) for r in rows)
    if not rows:
        return chart
    dates = sorted({r["business_date"] for r in rows})
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.55, 0.45], vertical_spacing=0.08)
    for stage, label, color in LIFECYCLE:
        counts = {r["business_date"]: int(r["groups_n"]) for r in rows if r["lifecycle_stage"] == stage}
        if not counts:
            continue
        fig.add_trace(go.Bar(x=dates, y=[counts.get(d, 0) for d in dates], name=label, marker_color=color,
                             legendgroup="stage", hovertemplate=f"{label}<br>%{{x}}: %{{y}} 群<extra></extra>"), row=1, col=1)

    def daily(key: str) -> list[int]:
        return [sum(int(r[key] or 0) for r in rows if r["business_date"] == d) for d in dates]

    fig.add_trace(go.Bar(x=dates, y=daily("messages"), name="成员消息 messages", marker_color="#D5DCE6",
                         hovertemplate="成员消息 %{x}: %{y:,}<extra></extra>"), row=2, col=1)
    fig.add_trace(go.Scatter(x=dates, y=daily("clickers"), name="有效活跃 link clickers", mode="lines+markers",
                             line=dict(color="#4C78A8", width=2.5), marker=dict(size=4),
                             hovertemplate="点击成员 %{x}: %{y:,}<extra></extra>"), row=2, col=1)
    fig.add_trace(go.Scatter(x=dates, y=daily("orders"), name="社群订单 orders", mode="lines+markers",
                             line=dict(color="#F58518", width=2.5), marker=dict(size=4),
                             hovertemplate="社群订单 %{x}: %{y:,}<extra></extra>"), row=2, col=1)
    apply_layout(fig, chart.height, barmode="stack", bargap=0.15,
                 legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, font=dict(size=11)), margin=dict(l=60, r=20, t=50, b=30))
    fig.update_yaxes(title_text="群数 groups", row=1, col=1)
    fig.update_yaxes(title_text="每日 per day", row=2, col=1)
    chart.figure = fig
    return chart


@spec("groups_attention", "需关注社群 · Groups needing attention",
      "Open groups that are dead but not dissolved (死群, dissolve and rebuild), silent (沉默) or declining (衰退) "
      "as of the latest date, in that order, biggest first — the operator query queries/groups_to_rebuild.sql, "
      "with link clickers over the last 30 days (marts.dim_group, marts.group_daily).", wide=True, modebar=False)
def chart_groups_attention(ctx: Context, chart: Chart) -> Chart:
    # one definition of "needs attention" for the page and for `siyu sql` users: the operator query
    rows = fetch_rows(ctx, f"select * from ({operator_query('groups_to_rebuild')})", "dim_group", "group_daily")
    clickers = dict(ctx.con.execute("""
        select group_id, sum(link_clickers) from marts.group_daily
        where business_date > (select max(business_date) from marts.group_daily) - 30
        group by group_id""").fetchall())
    chart.rows = len(rows)
    if not rows:
        chart.note = "没有需要关注的社群 · no declining, silent or undissolved dead groups right now."
        return chart
    labels = {stage: label for stage, label, _ in LIFECYCLE}
    colors = {stage: color for stage, _, color in LIFECYCLE}

    def since(days) -> str:
        return "从未 never" if days is None else f"{days} 天前 days ago"

    columns = [
        ("群 group", [html.escape(str(r["group_id"])) for r in rows]),
        ("群主 owner", [html.escape(str(r["owner_userid"] or "–")) for r in rows]),
        ("状态 stage", [labels.get(r["lifecycle_stage"], r["lifecycle_stage"]) for r in rows]),
        ("成员 members", [fmt_int(r["members_now"]) for r in rows]),
        ("群龄 age (天)", [fmt_int(r["age_days"]) for r in rows]),
        ("最后成员发言 last member message", [since(r["days_since_last_member_message"]) for r in rows]),
        ("近7天 / 前7天消息 msgs 7d / prior", [f"{fmt_int(r['member_messages_7d'])} / {fmt_int(r['member_messages_prior_7d'])}" for r in rows]),
        ("30天点击成员 clickers 30d", [fmt_int(clickers.get(r["group_id"])) for r in rows]),
        ("订单 orders", [fmt_int(r["total_orders"]) for r in rows]),
    ]
    stage_fill = [colors.get(r["lifecycle_stage"], "#eee") for r in rows]
    fill = [["#ffffff" if i % 2 == 0 else "#f6f8fb" for i in range(len(rows))] for _ in columns]
    fill[2] = stage_fill
    fig = go.Figure(go.Table(
        columnwidth=[1.6, 1.1, 1.1, 0.8, 0.8, 1.7, 1.4, 1.1, 0.7],
        header=dict(values=[f"<b>{name}</b>" for name, _ in columns], fill_color="#2F4B7C",
                    font=dict(color="white", size=12, family=FONT), align="left", height=32),
        cells=dict(values=[values for _, values in columns], fill_color=fill, align="left", height=28,
                   font=dict(size=12, family=FONT, color=["#2b3440"] * 2 + ["#1f1f1f"] + ["#2b3440"] * 6)),
    ))
    chart.height = min(72 + 30 * len(rows), 560)
    apply_layout(fig, chart.height, margin=dict(l=10, r=10, t=10, b=10))
    chart.figure = fig
    return chart
