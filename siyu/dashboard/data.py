"""What the dashboard reads: the marts it needs, a read-only connection's context (as-of date,
channel names and colours) and rows as dicts — a missing mart raises MissingMart, which the page
turns into a "no data" card."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import duckdb

from siyu.settings import REPO_ROOT

from .style import PALETTE

# The marts the page reads (and the channel seed for readable names); the Dagster asset depends on these.
MARTS = (
    "funnel_daily", "fct_member_funnel", "funnel_time_to_convert", "member_layers_daily", "group_survival",
    "group_daily", "dim_group", "channel_reach", "cohort_retention", "channel_performance",
)
CHANNEL_SEED = ("reference", "channels")

QUERIES_DIR = REPO_ROOT / "queries"  # the operator queries (queries/README.md); the page reuses some


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


def table_exists(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return bool(con.execute("select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
                            [schema, table]).fetchone()[0]
                or con.execute("select count(*) from duckdb_views() where schema_name = ? and view_name = ?",
                               [schema, table]).fetchone()[0])


def fetch_rows(ctx: Context, sql: str, *tables: str, params: list | None = None) -> list[dict]:
    """Rows as dicts; MissingMart when a mart the query needs is not in the file."""
    for table in tables:
        if not table_exists(ctx.con, "marts", table):
            raise MissingMart(f"marts.{table} is not in the warehouse")
    cursor = ctx.con.execute(sql, params or [])
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def as_of_date(con: duckdb.DuckDBPyConnection) -> date | None:
    candidates = []
    for table in ("member_layers_daily", "group_daily", "channel_reach"):
        if table_exists(con, "marts", table):
            value = con.execute(f"select max(business_date) from marts.{table}").fetchone()[0]
            if value is not None:
                candidates.append(value)
    return max(candidates) if candidates else None


def load_channel_names(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    schema, table = CHANNEL_SEED
    if not table_exists(con, schema, table):
        return {}
    return {c: zh for c, zh in con.execute(f"select channel, channel_name_zh from {schema}.{table}").fetchall() if zh}


def operator_query(name: str) -> str:
    """The SQL of an operator query (queries/<name>.sql) without its trailing semicolon, to select
    from as a subquery: the dashboard and `siyu sql` users then answer a question the same way."""
    return (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8").strip().rstrip(";")
