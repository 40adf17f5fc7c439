"""The short report `siyu build` ends with."""

from __future__ import annotations

import os
from dataclasses import dataclass

import duckdb

from .settings import Settings

SCHEMAS = ("raw", "staging", "intermediate", "marts")  # the working database, bottom up


@dataclass(frozen=True)
class WarehouseCounts:
    """What a build (and a forget request's before → after) reports about the working database."""

    rows: dict[str, tuple[int, int]]  # layer → (rows, tables); raw without its quarantine
    quarantined: int
    members: int
    funnel: tuple[int, int, int, int]  # exposure, interest, lead, deal members
    net_gmv: float

    @property
    def raw_rows(self) -> int:
        return self.rows["raw"][0]


def _table_rows(con: duckdb.DuckDBPyConnection) -> list[tuple[str, str, int]]:
    """(schema, table, rows) of every table of the layers, in one query (bookkeeping tables `_*` left out)."""
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() "
        "where schema_name in (select unnest(?)) and not starts_with(table_name, '_') order by all",
        [list(SCHEMAS)]).fetchall()
    if not tables:
        return []
    return con.execute(" union all ".join(
        f"select '{schema}', '{table}', count(*) from {schema}.\"{table}\"" for schema, table in tables)).fetchall()


def count_warehouse(con: duckdb.DuckDBPyConnection) -> WarehouseCounts:
    table_rows = _table_rows(con)
    rows = {schema: (sum(n for s, t, n in table_rows if s == schema and (s, t) != ("raw", "quarantine")),
                     sum(1 for s, _, _ in table_rows if s == schema))
            for schema in SCHEMAS}
    quarantined = next((n for s, t, n in table_rows if (s, t) == ("raw", "quarantine")), 0)
    marts = {t for s, t, _ in table_rows if s == "marts"}
    if not {"dim_member", "funnel_daily", "fct_orders"} <= marts:
        return WarehouseCounts(rows, quarantined, 0, (0, 0, 0, 0), 0.0)
    funnel = con.execute("""select coalesce(sum(exposure_members), 0), coalesce(sum(interest_members), 0),
                                   coalesce(sum(lead_members), 0), coalesce(sum(deal_members), 0)
                            from marts.funnel_daily""").fetchone()
    members = con.execute("select count(*) from marts.dim_member").fetchone()[0]
    gmv = con.execute("select coalesce(sum(net_gmv), 0) from marts.fct_orders").fetchone()[0]
    return WarehouseCounts(rows, quarantined, members, tuple(int(n) for n in funnel), float(gmv))


def print_summary(settings: Settings) -> None:
    # Row counts of every layer come from the working database (the published file holds marts only).
    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        counts = count_warehouse(con)
    finally:
        con.close()
    print(f"\nwarehouse published: {settings.warehouse} ({settings.warehouse.stat().st_size / 1e6:,.1f} MB)")
    print("rows per layer:")
    for schema, (total, tables) in counts.rows.items():
        print(f"  {schema:<13}{total:>12,} rows in {tables} tables")
    print(f"rows quarantined: {counts.quarantined:,} (see raw.quarantine)")
    exposure, interest, lead, deal = counts.funnel
    print(f"funnel: exposure {exposure:,} → interest {interest:,} → lead {lead:,} → deal {deal:,}")
    print(f"members: {counts.members:,}")
    print(f"\nquery it:   siyu sql --warehouse {settings.warehouse} -c \"select * from marts.funnel_daily limit 10\"")
    print(f"reports:    siyu docs --warehouse {settings.warehouse}   (quality, dbt docs, dashboard on http://127.0.0.1:8580)")
    demo = "SIYU_DEMO=1 " if os.environ.get("SIYU_DEMO") == "1" else ""
    home = os.environ.get("DAGSTER_HOME") or settings.warehouse.parent / "dagster_home"
    print(f"Dagster UI: {demo}SIYU_LANDING_DIR={settings.landing_dir} SIYU_WAREHOUSE={settings.warehouse} \\\n"
          f"            DAGSTER_HOME={home} \\\n"
          "            dagster dev -m dagster_project.definitions -h 127.0.0.1 -p 3000")
