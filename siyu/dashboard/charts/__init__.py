"""The dashboard's charts, section by section, in page order."""

from __future__ import annotations

from .base import SPECS, Builder, Chart, spec
from .funnel import chart_cac_roi, chart_funnel, chart_time_to_convert
from .groups import chart_group_health, chart_group_survival, chart_groups_attention
from .members import chart_cohort_ltv, chart_member_layers
from .reach import chart_open_rates

SECTIONS: tuple[tuple[str, tuple[Builder, ...]], ...] = (
    ("漏斗 Funnel", (chart_funnel, chart_time_to_convert, chart_cac_roi)),
    ("用户分层 Members", (chart_member_layers, chart_cohort_ltv)),
    ("社群 Groups", (chart_group_survival, chart_group_health, chart_groups_attention)),
    ("触达 Reach", (chart_open_rates,)),
)


# every chart card in page order: id, title, subtitle, options
CHARTS: list[dict] = [SPECS[build] for _, builders in SECTIONS for build in builders]


__all__ = ["CHARTS", "SECTIONS", "SPECS", "Builder", "Chart", "spec"]
