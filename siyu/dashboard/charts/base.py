"""A chart card and the registry of chart builders: `@spec(...)` gives a builder its card
(id, title, subtitle, height, width); a builder fills `rows` and `figure` from the marts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import plotly.graph_objects as go

from ..data import Context


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


Builder = Callable[[Context, Chart], Chart]
SPECS: dict[Builder, dict] = {}


def spec(chart_id: str, title: str, subtitle: str, **options) -> Callable[[Builder], Builder]:
    """Register a chart builder with its card: id, title, subtitle, height, wide."""
    def register(build: Builder) -> Builder:
        SPECS[build] = dict(id=chart_id, title=title, subtitle=subtitle, **options)
        return build
    return register
