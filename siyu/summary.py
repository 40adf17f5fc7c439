"""The short report `siyu build` ends with."""

from __future__ import annotations

import os

import duckdb

from .settings import Settings


def print_summary(settings: Settings) -> None:
    # Row counts of every layer come from the working database (the published file holds marts only).
    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        print(f"\nwarehouse published: {settings.warehouse} ({settings.warehouse.stat().st_size / 1e6:,.1f} MB)")
        print("rows per layer:")
        for schema in ("raw", "staging", "intermediate", "marts"):
            tables = [t for (t,) in con.execute(
                "select table_name from duckdb_tables() where schema_name = ? and not starts_with(table_name, '_') order by 1",
                [schema]).fetchall()]
            total = sum(con.execute(f'select count(*) from {schema}."{t}"').fetchone()[0] for t in tables if t != "quarantine")
            print(f"  {schema:<13}{total:>12,} rows in {len(tables)} tables")
        quarantined = con.execute("select count(*) from raw.quarantine").fetchone()[0]
        print(f"rows quarantined: {quarantined:,} (see raw.quarantine)")
        exposure, interest, lead, deal = con.execute("""
            select sum(exposure_members), sum(interest_members), sum(lead_members), sum(deal_members)
            from marts.funnel_daily""").fetchone()
        print(f"funnel: exposure {exposure or 0:,} → interest {interest or 0:,} → lead {lead or 0:,} → deal {deal or 0:,}")
        members = con.execute("select count(*) from marts.dim_member").fetchone()[0]
        print(f"members: {members:,}")
    finally:
        con.close()
    print(f"\nquery it:   siyu sql --warehouse {settings.warehouse} -c \"select * from marts.funnel_daily limit 10\"")
    demo = "SIYU_DEMO=1 " if os.environ.get("SIYU_DEMO") == "1" else ""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        # an in-memory Dagster instance is faster (no event log on disk) but keeps nothing
        home = settings.warehouse.parent / "dagster_home"
        print(f"(this run was not recorded for the Dagster UI: set DAGSTER_HOME={home} to keep run history)")
    print(f"Dagster UI: {demo}SIYU_LANDING_DIR={settings.landing_dir} SIYU_WAREHOUSE={settings.warehouse} \\\n"
          f"            DAGSTER_HOME={home} \\\n"
          "            dagster dev -m dagster_project.definitions -h 127.0.0.1 -p 3000")
