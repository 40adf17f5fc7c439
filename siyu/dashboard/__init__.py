"""The operator dashboard (运营看板): one static, self-contained HTML page over the published marts.

`render_dashboard(db_path, out_html)` opens the DuckDB file read-only, turns the marts the
`operator_dashboard` exposure lists (dbt_project/models/exposures.yml) into Plotly charts and
writes one HTML file with plotly.js inlined once — it opens offline, from disk, in any browser.
Every chart copes with missing or empty data: it shows a "no data" note instead of a plot.
It returns the number of mart rows behind each chart (0 = the chart shows the note).
"""

from .charts import CHARTS, SECTIONS
from .charts.groups import pooled_survival
from .data import CHANNEL_SEED, MARTS
from .page import render_dashboard

__all__ = ["CHANNEL_SEED", "CHARTS", "MARTS", "SECTIONS", "pooled_survival", "render_dashboard"]
