"""How the dashboard looks: fonts, colours, the labels of stages and layers, number formats,
the Plotly layout every chart shares and the page's CSS."""

from __future__ import annotations

import plotly.graph_objects as go

SMALL_SAMPLE_GROUPS = 5  # a survival share over fewer groups is drawn faint
SMALL_SAMPLE_MEMBERS = 30  # a conversion rate over fewer members is shown with its n

FONT = ('"PingFang SC", "Hiragino Sans GB", "Microsoft YaHei", "Noto Sans CJK SC", "Source Han Sans SC", '
        '"WenQuanYi Micro Hei", -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif')
PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#72B7B2", "#B279A2", "#EECA3B", "#9D755D",
           "#FF9DA6", "#BAB0AC", "#2F4B7C", "#A05195", "#3CA0E0", "#7F7F00", "#D45087", "#665191")
STAGES = (("exposure", "曝光 exposure"), ("interest", "兴趣 interest"), ("lead", "线索 lead"), ("deal", "成交 deal"))
MEMBER_LAYERS = (  # bottom of the pyramid first
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


def as_float(value) -> float:
    return float(value) if value is not None else 0.0


def fmt_int(value) -> str:
    return f"{int(value or 0):,}"


def fmt_hours(hours: float | None) -> str:
    if hours is None:
        return "–"
    if hours < 1:
        return f"{hours * 60:.0f} 分钟"
    if hours < 48:
        return f"{hours:.1f} 小时"
    return f"{hours / 24:.1f} 天"


def apply_layout(fig: go.Figure, height: int, **kwargs) -> go.Figure:
    fig.update_layout(
        template="plotly_white", height=height, margin=dict(l=60, r=20, t=16, b=50),
        font=dict(family=FONT, size=13, color="#2b3440"), hoverlabel=dict(font_family=FONT),
        legend=dict(font=dict(size=12)), paper_bgcolor="rgba(0,0,0,0)", plot_bgcolor="rgba(0,0,0,0)",
    )
    fig.update_layout(**kwargs)
    return fig


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
