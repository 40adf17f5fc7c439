"""The operator dashboard (运营看板): one static, self-contained HTML page over the published marts.

`render_dashboard(db_path, out_html)` opens the DuckDB file read-only, turns the marts the
`operator_dashboard` exposure lists (dbt_project/models/exposures.yml) into Plotly charts and
writes one HTML file with plotly.js inlined once — it opens offline, from disk, in any browser.
Every chart copes with missing or empty data: it shows a "no data" note instead of a plot.
It returns the number of mart rows behind each chart (0 = the chart shows the note).
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Callable

import duckdb
import plotly.graph_objects as go
import plotly.io as pio
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

# The marts the page reads (and the channel seed for readable names); the Dagster asset depends on these.
MARTS = (
    "funnel_daily", "fct_member_funnel", "funnel_time_to_convert", "member_layers_daily", "group_survival",
    "group_daily", "dim_group", "channel_reach", "cohort_retention", "channel_performance",
)
CHANNEL_SEED = ("reference", "channels")
SMALL_SAMPLE_GROUPS = 5  # a survival share over fewer groups is drawn faint
SMALL_SAMPLE_MEMBERS = 30  # a conversion rate over fewer members is shown with its n

FONT = ('"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", '
        '"WenQuanYi Micro Hei", -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif')
PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#EECA3B", "#9D755D",
           "#FF9DA6", "#BAB0AC", "#2F4B7C", "#A05195", "#3CA0E0", "#7F7F00", "#D45087", "#665191")
STAGES = (("exposure", "曝光 exposure"), ("interest", "兴趣 interest"), ("lead", "线索 lead"), ("deal", "成交 deal"))
LAYERS = (  # bottom of the pyramid first
    ("ordinary", "普通 ordinary", "#C9D6E8"), ("active", "活跃 active", "#6FA8DC"),
    ("contributor", "贡献 contributor", "#3D6FB0"), ("core", "核心 core", "#F0A030"),
)
LIFECYCLE = (
    ("launch", "新建 launch", "#9CC3E6"), ("active", "活跃 active", "#54A24B"), ("declining", "衰退 declining", "#F2B441"),
    ("silent", "沉默 silent", "#E8833A"), ("dead", "死群 dead", "#B8B8B8"),
)
STEPS = (
    ("exposure_to_interest", "曝光→兴趣", "seconds_to_interest", "#72B7B2"),
    ("interest_to_lead", "兴趣→线索", "seconds_to_lead", "#4C78A8"),
    ("lead_to_deal", "线索→成交", "seconds_to_deal", "#F58518"),
    ("exposure_to_deal", "曝光→成交 (全程)", "seconds_exposure_to_deal", "#E45756"),
)
BUCKETS = (("members_under_1h", "< 1 小时"), ("members_1h_to_1d", "1 小时–1 天"), ("members_1d_to_3d", "1–3 天"),
           ("members_3d_to_7d", "3–7 天"), ("members_7d_to_14d", "7–14 天"), ("members_14d_plus", "≥ 14 天"))
PLOT_CONFIG = {"displaylogo": False, "responsive": True,
               "modeBarButtonsToRemove": ["lasso2d", "select2d", "autoScale2d", "toggleSpikelines"]}


@dataclass
class Chart:
    id: str
    title: str
    subtitle: str
    rows: int = 0
    figure: go.Figure | None = None
    height: int = 400
    wide: bool = False
    note: str = ""  # why there is no plot
    modebar: bool = True  # Plotly's zoom / download toolbar


@dataclass
class Context:
    con: duckdb.DuckDBPyConnection
    as_of: date | None
    channel_names: dict[str, str] = field(default_factory=dict)
    channel_colors: dict[str, str] = field(default_factory=dict)

    def label(self, channel: str | None) -> str:
        if channel is None:
            return "(无渠道 none)"
        zh = self.channel_names.get(channel)
        return f"{zh} {channel}" if zh else channel

    def color(self, channel: str | None) -> str:
        key = channel or "(none)"
        if key not in self.channel_colors:
            self.channel_colors[key] = PALETTE[len(self.channel_colors) % len(PALETTE)]
        return self.channel_colors[key]


class MissingMart(Exception):
    pass


Builder = Callable[[Context, Chart], Chart]
SPECS: dict[Builder, dict] = {}


def _spec(chart_id: str, title: str, subtitle: str, **options) -> Callable[[Builder], Builder]:
    """Register a chart builder with its card: id, title, subtitle, height, wide."""
    def register(build: Builder) -> Builder:
        SPECS[build] = dict(id=chart_id, title=title, subtitle=subtitle, **options)
        return build
    return register


def _exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                            [schema, table]).fetchone()[0]
                or con.execute("select count(*) from duckdb_views() where schema_name = ? and view_name = ?",
                               [schema, table]).fetchone()[0])


def _rows(ctx: Context, sql: str, *tables: str, params: list | None = None) -> list[dict]:
    """Rows as dicts; MissingMart when a mart the query needs is not in the file."""
    for table in tables:
        if not _exists(ctx.con, "marts", table):
            raise MissingMart(f"marts.{table} is not in the warehouse")
    cursor = ctx.con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _num(value) -> float:
    return float(value) if value is not None else 0.0


def _fmt_int(value) -> str:
    return f"{int(value or 0):,}"


def _fmt_hours(hours: float | None) -> str:
    if hours is None:
        return "–"
    if hours < 1:
        return f"{hours * 60:.0f} 分钟"
    if hours < 48:
        return f"{hours:.1f} 小时"
    return f"{hours / 24:.1f} 天"


def _layout(fig: go.Figure, height: int, **kwargs) -> go.Figure:
    fig.update_layout(
        template="plotly_white", height=height, margin=dict(l=60, r=20, t=16, b=50),
        font=dict(family=FONT, size=13, color="#2b3440"), hoverlabel=dict(font_family=FONT),
        legend=dict(font=dict(size=12)), paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
    )
    fig.update_layout(**kwargs)
    return fig


# ---------------------------------------------------------------------------------------- charts

@_spec("funnel_by_channel", "转化漏斗 · Funnel by channel",
                  "Left: members reaching each step of the ordered funnel, stacked by first-touch channel, all exposure "
                  "cohorts. Right: step conversion per channel — where the funnel leaks; a rate over fewer than "
                  f"{SMALL_SAMPLE_MEMBERS} members shows its n (marts.funnel_daily).", height=500, wide=True)
def chart_funnel(ctx: Context, chart: Chart) -> Chart:
    rows = _rows(ctx, """
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
    _layout(fig, chart.height, funnelmode="stack", margin=dict(l=120, r=10, t=40, b=10),
            legend=dict(orientation="h", y=-0.03, x=0, yanchor="top", font=dict(size=11), traceorder="normal"))
    chart.figure = fig
    return chart


@_spec("time_to_convert", "转化时长分布 · Time to convert",
                  "Share of the members who completed each step, by how long it took; legend: members and median "
                  "(marts.funnel_time_to_convert, medians from marts.fct_member_funnel).")
def chart_time_to_convert(ctx: Context, chart: Chart) -> Chart:
    bucket_sums = ", ".join(f"sum({col}) as {col}" for col, _ in BUCKETS)
    rows = _rows(ctx, f"""
        select step, sum(converted_members) as converted, {bucket_sums}, count(*) as n
        from marts.funnel_time_to_convert group by step""", "funnel_time_to_convert")
    chart.rows = sum(r["n"] for r in rows)
    by_step = {r["step"]: r for r in rows if r["converted"]}
    if not by_step:
        chart.rows = 0
        return chart
    medians: dict[str, float | None] = {}
    if _exists(ctx.con, "marts", "fct_member_funnel"):
        exprs = ", ".join(f"quantile_cont({col}, 0.5) / 3600.0 as {step}" for step, _, col, _ in STEPS)
        medians = dict(_rows(ctx, f"select {exprs} from marts.fct_member_funnel")[0])
    fig = go.Figure()
    for step, label, _, color in STEPS:
        r = by_step.get(step)
        if not r:
            continue
        counts = [int(r[col] or 0) for col, _ in BUCKETS]
        total = int(r["converted"])
        median = medians.get(step)
        name = f"{label} · {total:,} 人" + (f" · 中位 {_fmt_hours(median)}" if median is not None else "")
        fig.add_trace(go.Bar(name=name, x=[b for _, b in BUCKETS], y=[c / total for c in counts], marker_color=color,
                             customdata=counts, hovertemplate=f"{label}<br>%{{x}}: %{{customdata:,}} 人 (%{{y:.0%}})<extra></extra>"))
    _layout(fig, chart.height, barmode="group", bargap=0.25, yaxis=dict(tickformat=".0%", title="占完成人数 share"),
            legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, font=dict(size=11)), margin=dict(l=60, r=10, t=60, b=40))
    chart.figure = fig
    return chart


@_spec("member_layers", "用户分层 · Member layers over time",
                  "Members per layer each business date, ordinary at the bottom of the pyramid, core on top; "
                  "right: the pyramid on the latest date (marts.member_layers_daily).")
def chart_member_layers(ctx: Context, chart: Chart) -> Chart:
    rows = _rows(ctx, "select business_date, member_layer, members from marts.member_layers_daily order by 1",
                 "member_layers_daily")
    chart.rows = len(rows)
    if not rows:
        return chart
    dates = sorted({r["business_date"] for r in rows})
    value = {(r["business_date"], r["member_layer"]): int(r["members"] or 0) for r in rows}
    fig = make_subplots(rows=1, cols=2, column_widths=[0.66, 0.34], horizontal_spacing=0.2)
    known = [layer for layer, _, _ in LAYERS]
    extra = sorted({r["member_layer"] for r in rows} - set(known))
    layers = list(LAYERS) + [(x, x, PALETTE[i % len(PALETTE)]) for i, x in enumerate(extra)]
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
    _layout(fig, chart.height, legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
            margin=dict(l=60, r=20, t=56, b=40), yaxis=dict(title="会员 members"))
    fig.update_annotations(font_size=12)
    chart.figure = fig
    return chart


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


@_spec("group_survival", "社群存活曲线 · Group survival",
                  "Share of groups still alive (a member message on or after day k) by creation week (faint: fewer "
                  f"than {SMALL_SAMPLE_GROUPS} groups); bold: the weeks old enough to be observed on every day k shown, "
                  "pooled — the same groups at every k; dotted: the industry rule of thumb (~90 % dead within 7 days) "
                  "(marts.group_survival).")
def chart_group_survival(ctx: Context, chart: Chart) -> Chart:
    rows = _rows(ctx, """select created_week, day_k, groups, alive_groups, alive_share
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
            x=[r["day_k"] for r in wr], y=[_num(r["alive_share"]) for r in wr], mode="lines+markers",
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
    _layout(fig, chart.height, xaxis=dict(title="建群后第 k 天 day k", tickvals=[1, 7, 14, 30, 60], range=[0, 62]),
            yaxis=dict(title="存活比例 alive share", tickformat=".0%", range=[0, 1.08]),
            legend=dict(font=dict(size=11)))
    chart.figure = fig
    return chart


@_spec("group_health", "社群健康 · Groups by lifecycle and effective activity",
                  "Top: groups per lifecycle stage each day. Bottom: chat volume vs effective activity — members "
                  "clicking links / mini-program cards posted in groups, and orders from groups (marts.group_daily).",
                  height=460)
def chart_group_health(ctx: Context, chart: Chart) -> Chart:
    rows = _rows(ctx, """
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
    _layout(fig, chart.height, barmode="stack", bargap=0.15,
            legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, font=dict(size=11)), margin=dict(l=60, r=20, t=50, b=30))
    fig.update_yaxes(title_text="群数 groups", row=1, col=1)
    fig.update_yaxes(title_text="每日 per day", row=2, col=1)
    chart.figure = fig
    return chart


@_spec("groups_attention", "需关注社群 · Groups needing attention",
                  "Open groups that are declining (衰退), silent (沉默) or dead but not dissolved (死群, dissolve and "
                  "rebuild) as of the latest date, biggest first (marts.dim_group, marts.group_daily).", wide=True,
       modebar=False)
def chart_groups_attention(ctx: Context, chart: Chart) -> Chart:
    rows = _rows(ctx, """
        with last_msg as (
            select group_id, max(business_date) filter (where member_messages > 0) as last_message_date,
                   arg_max(member_messages_7d, business_date) as messages_7d,
                   arg_max(member_messages_prior_7d, business_date) as messages_prior_7d,
                   sum(link_clickers) filter (where business_date > (select max(business_date) from marts.group_daily) - 30)
                       as clickers_30d
            from marts.group_daily group by group_id)
        select g.group_id, g.owner_userid, g.lifecycle_stage, g.members_now, g.age_days, l.last_message_date,
               l.messages_7d, l.messages_prior_7d, l.clickers_30d, g.total_orders
        from marts.dim_group g left join last_msg l using (group_id)
        where not coalesce(g.is_dissolved, false) and g.lifecycle_stage in ('declining', 'silent', 'dead')
        order by case g.lifecycle_stage when 'declining' then 0 when 'silent' then 1 else 2 end,
                 g.members_now desc nulls last, g.group_id""", "dim_group", "group_daily")
    chart.rows = len(rows)
    if not rows:
        chart.note = "没有需要关注的社群 · no declining, silent or undissolved dead groups right now."
        return chart
    labels = {stage: label for stage, label, _ in LIFECYCLE}
    colors = {stage: color for stage, _, color in LIFECYCLE}
    as_of = ctx.as_of

    def since(d) -> str:
        if d is None:
            return "从未 never"
        return f"{d} ({(as_of - d).days} 天前)" if as_of else str(d)

    columns = [
        ("群 group", [html.escape(str(r["group_id"])) for r in rows]),
        ("群主 owner", [html.escape(str(r["owner_userid"] or "–")) for r in rows]),
        ("状态 stage", [labels.get(r["lifecycle_stage"], r["lifecycle_stage"]) for r in rows]),
        ("成员 members", [_fmt_int(r["members_now"]) for r in rows]),
        ("群龄 age (天)", [_fmt_int(r["age_days"]) for r in rows]),
        ("最后成员发言 last member message", [since(r["last_message_date"]) for r in rows]),
        ("近7天 / 前7天消息 msgs 7d / prior", [f"{_fmt_int(r['messages_7d'])} / {_fmt_int(r['messages_prior_7d'])}" for r in rows]),
        ("30天点击成员 clickers 30d", [_fmt_int(r["clickers_30d"]) for r in rows]),
        ("订单 orders", [_fmt_int(r["total_orders"]) for r in rows]),
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
    _layout(fig, chart.height, margin=dict(l=10, r=10, t=10, b=10))
    chart.figure = fig
    return chart


@_spec("open_rates", "触达打开率 · Push open rate by channel",
                  "Left: opens ÷ deliveries over the last 30 days. Right: weekly open rate (log scale — moments "
                  "~85 %, service account ~10 %, subscription ~1 % are orders of magnitude apart) (marts.channel_reach).",
                  wide=True, height=420)
def chart_open_rates(ctx: Context, chart: Chart) -> Chart:
    if not _exists(ctx.con, "marts", "channel_reach"):
        raise MissingMart("marts.channel_reach is not in the warehouse")
    latest = ctx.con.execute("select max(business_date) from marts.channel_reach").fetchone()[0]
    if latest is None:
        return chart
    recent = _rows(ctx, """
        select channel, sum(delivered) as delivered, sum(opened) as opened, count(*) as n
        from marts.channel_reach where business_date > ?::date - 30 group by channel order by channel""",
                   "channel_reach", params=[latest])
    weekly = _rows(ctx, """
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
        text=[f"{int(r['opened'] or 0) / int(r['delivered']):.1%}  ({_fmt_int(r['opened'])}/{_fmt_int(r['delivered'])})"
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
    _layout(fig, chart.height, margin=dict(l=150, r=20, t=40, b=40), legend=dict(font=dict(size=11)))
    fig.update_annotations(font_size=13)
    chart.figure = fig
    return chart


@_spec("cohort_ltv", "同期群 LTV · Cohort LTV curves",
                  "Cumulative net GMV per member (yuan) by months since acquisition, one line per acquisition month; "
                  "hover for retention and repeat-buyer rate (marts.cohort_retention).")
def chart_cohort_ltv(ctx: Context, chart: Chart) -> Chart:
    rows = _rows(ctx, """select cohort_month, months_since, cohort_members, retention_rate, repeat_buyer_rate,
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
            x=[r["months_since"] for r in cr], y=[_num(r["cumulative_net_gmv_per_member"]) for r in cr],
            mode="lines+markers", name=f"{cohort:%Y-%m} ({_fmt_int(cr[0]['cohort_members'])} 人)",
            line=dict(width=2.5, color=PALETTE[i % len(PALETTE)]), marker=dict(size=7),
            customdata=[[_num(r["retention_rate"]), _num(r["repeat_buyer_rate"])] for r in cr],
            hovertemplate=(f"{cohort:%Y-%m} 同期群<br>第 %{{x}} 月: ¥%{{y:,.2f}} / 人<br>"
                           "留存 %{customdata[0]:.0%} · 复购 %{customdata[1]:.1%}<extra></extra>")))
    max_m = max(int(r["months_since"]) for r in rows)
    _layout(fig, chart.height, xaxis=dict(title="获客后月数 months since acquisition", dtick=1, range=[-0.2, max(max_m, 1) + 0.2]),
            yaxis=dict(title="累计人均净 GMV (¥)", tickprefix="¥", rangemode="tozero"), legend=dict(font=dict(size=11)))
    chart.figure = fig
    return chart


@_spec("cac_roi", "投放 ROI · Spend, GMV and CAC by channel",
                  "Campaign spend vs net GMV to date of the members it acquired, per first-touch channel; labels: CAC "
                  "(获客成本 = spend ÷ new members) and ROI. Channels without spend are left out (marts.channel_performance).")
def chart_cac_roi(ctx: Context, chart: Chart) -> Chart:
    rows = _rows(ctx, """
        select channel, sum(cost) as cost, sum(new_members) as new_members, sum(net_gmv) as net_gmv, count(*) as n
        from marts.channel_performance group by channel order by cost desc nulls last""", "channel_performance")
    chart.rows = sum(int(r["n"]) for r in rows)
    rows = [r for r in rows if _num(r["cost"]) > 0]
    if not rows:
        chart.rows = 0
        chart.note = "暂无投放花费 · no campaign spend recorded (campaign_costs)."
        return chart
    rows.reverse()  # biggest spend on top
    names = [ctx.label(r["channel"]) for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Bar(name="净 GMV net GMV", y=names, x=[_num(r["net_gmv"]) for r in rows], orientation="h",
                         marker_color="#54A24B", hovertemplate="%{y}<br>净 GMV ¥%{x:,.0f}<extra></extra>"))
    fig.add_trace(go.Bar(name="花费 spend", y=names, x=[_num(r["cost"]) for r in rows], orientation="h",
                         marker_color="#BAB0AC", hovertemplate="%{y}<br>花费 ¥%{x:,.0f}<extra></extra>"))
    top = max(max(_num(r["cost"]), _num(r["net_gmv"])) for r in rows)
    for name, r in zip(names, rows):
        cost, members, gmv = _num(r["cost"]), int(r["new_members"] or 0), _num(r["net_gmv"])
        cac = f"CAC ¥{cost / members:,.0f}" if members else "CAC –"
        fig.add_annotation(x=max(cost, gmv), y=name, text=f"{cac} · ROI {(gmv - cost) / cost:+.0%}", showarrow=False,
                           xanchor="left", xshift=6, font=dict(size=11, color="#2b3440"))
    chart.height = max(300, 90 + 46 * len(rows))
    _layout(fig, chart.height, barmode="group", bargap=0.25, bargroupgap=0.05,
            xaxis=dict(tickprefix="¥", range=[0, top * 1.55]),
            legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0, traceorder="reversed"),
            margin=dict(l=150, r=20, t=40, b=40))
    chart.figure = fig
    return chart


SECTIONS: tuple[tuple[str, tuple[Builder, ...]], ...] = (
    ("漏斗 Funnel", (chart_funnel, chart_time_to_convert, chart_cac_roi)),
    ("用户分层 Members", (chart_member_layers, chart_cohort_ltv)),
    ("社群 Groups", (chart_group_survival, chart_group_health, chart_groups_attention)),
    ("触达 Reach", (chart_open_rates,)),
)


# every chart card in page order: id, title, subtitle, options
CHARTS: list[dict] = [SPECS[build] for _, builders in SECTIONS for build in builders]


# ---------------------------------------------------------------------------------------- page

def _kpis(ctx: Context) -> list[tuple[str, str, str]]:
    """(label, value, note) tiles; a missing mart gives '–'."""
    con = ctx.con

    def one(sql: str, table: str, params: list | None = None):
        if not _exists(con, "marts", table):
            return None
        return con.execute(sql, params or []).fetchone()

    tiles: list[tuple[str, str, str]] = []
    layers = one("select sum(members) filter (where business_date = (select max(business_date) from marts.member_layers_daily)),"
                 " sum(members) filter (where member_layer = 'core' and business_date = (select max(business_date) from marts.member_layers_daily))"
                 " from marts.member_layers_daily", "member_layers_daily")
    tiles.append(("会员 members", _fmt_int(layers[0]) if layers and layers[0] is not None else "–",
                  f"核心 core {_fmt_int(layers[1])}" if layers and layers[0] is not None else ""))
    funnel = one("select sum(exposure_members), sum(lead_members), sum(deal_members) from marts.funnel_daily", "funnel_daily")
    if funnel and funnel[0]:
        tiles.append(("曝光 → 成交 exposure → deal", f"{funnel[2] / funnel[0]:.1%}",
                      f"{_fmt_int(funnel[0])} 曝光 · {_fmt_int(funnel[1])} 线索 · {_fmt_int(funnel[2])} 成交"))
    else:
        tiles.append(("曝光 → 成交 exposure → deal", "–", ""))
    gmv = one("select sum(net_gmv), sum(cost) from marts.channel_performance", "channel_performance")
    tiles.append(("净 GMV net GMV", f"¥{_num(gmv[0]):,.0f}" if gmv and gmv[0] is not None else "–",
                  f"花费 spend ¥{_num(gmv[1]):,.0f}" if gmv and gmv[1] is not None else ""))
    groups = one("select count(*) filter (where not coalesce(is_dissolved, false) and lifecycle_stage <> 'dead'),"
                 " count(*) filter (where not coalesce(is_dissolved, false) and lifecycle_stage in ('declining', 'silent', 'dead'))"
                 " from marts.dim_group", "dim_group")
    tiles.append(("存活社群 live groups", _fmt_int(groups[0]) if groups else "–",
                  f"需关注 {_fmt_int(groups[1])} 群" if groups else ""))
    reach = one("select sum(opened), sum(delivered) from marts.channel_reach"
                " where business_date > (select max(business_date) from marts.channel_reach) - 30", "channel_reach")
    tiles.append(("近30天打开率 open rate", f"{_num(reach[0]) / _num(reach[1]):.1%}" if reach and reach[1] else "–",
                  f"{_fmt_int(reach[1])} 次送达 deliveries" if reach and reach[1] else ""))
    return tiles


def _as_of(con: duckdb.DuckDBPyConnection) -> date | None:
    candidates = []
    for table in ("member_layers_daily", "group_daily", "channel_reach"):
        if _exists(con, "marts", table):
            value = con.execute(f"select max(business_date) from marts.{table}").fetchone()[0]
            if value is not None:
                candidates.append(value)
    return max(candidates) if candidates else None


def _channel_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    schema, table = CHANNEL_SEED
    if not _exists(con, schema, table):
        return {}
    return {c: zh for c, zh in con.execute(f"select channel, channel_name_zh from {schema}.{table}").fetchall() if zh}


CSS = """
:root { --ink:#2b3440; --muted:#6b7785; --card:#fff; --bg:#f3f5f9; --accent:#2F4B7C; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink); font-family:FONT; }
header { background:linear-gradient(120deg,#1f3557,#2F4B7C 55%,#3d6fb0); color:#fff; padding:28px 40px 84px; }
header h1 { margin:0; font-size:28px; font-weight:600; letter-spacing:.5px; }
header p { margin:6px 0 0; opacity:.82; font-size:14px; }
main { max-width:1480px; margin:-64px auto 40px; padding:0 28px; }
.kpis { display:grid; grid-template-columns:repeat(auto-fit,minmax(200px,1fr)); gap:16px; margin-bottom:8px; }
.kpi { background:var(--card); border-radius:12px; padding:16px 20px; box-shadow:0 2px 10px rgba(31,53,87,.08); }
.kpi .label { font-size:13px; color:var(--muted); }
.kpi .value { font-size:30px; font-weight:650; margin-top:4px; color:var(--accent); }
.kpi .note { font-size:12px; color:var(--muted); margin-top:2px; }
h2 { font-size:19px; margin:30px 4px 12px; font-weight:600; display:flex; align-items:center; gap:10px; }
h2::before { content:""; width:5px; height:20px; background:#F58518; border-radius:3px; display:inline-block; }
.grid { display:grid; grid-template-columns:repeat(2,minmax(0,1fr)); gap:18px; }
.card { background:var(--card); border-radius:12px; padding:16px 18px 8px; box-shadow:0 2px 10px rgba(31,53,87,.08); min-width:0; }
.card.wide { grid-column:1 / -1; }
.card h3 { margin:0; font-size:16px; font-weight:600; }
.card .sub { margin:4px 0 6px; font-size:12.5px; color:var(--muted); line-height:1.45; }
.no-data { display:flex; align-items:center; justify-content:center; min-height:180px; margin:8px 0 12px;
           border:1.5px dashed #cdd5e0; border-radius:10px; color:var(--muted); font-size:14px; background:#fafbfd; text-align:center; padding:16px; }
footer { max-width:1480px; margin:0 auto 40px; padding:0 32px; color:var(--muted); font-size:12px; }
@media (max-width: 1000px) { .grid { grid-template-columns:1fr; } header { padding:24px 20px 80px; } main { padding:0 12px; } }
""".replace("FONT", FONT)


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
        ctx = Context(con=con, as_of=_as_of(con), channel_names=_channel_names(con))
        # stable colours: channels in order of exposure, then the rest alphabetically
        if _exists(con, "marts", "funnel_daily"):
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
