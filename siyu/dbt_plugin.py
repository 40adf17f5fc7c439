"""dbt-duckdb plugin giving every dbt connection and cursor what our models' phone hash needs.

The macro `hash_phone` computes HMAC-SHA256 with the secret salt (contracts §4) in SQL
(`siyu.pii.PII_HASH_DUCKDB_SQL`) from the salt's HMAC pads, which this plugin sets as the variables
`siyu_pii_ipad` / `siyu_pii_opad`. DuckDB variables belong to one connection, and dbt-duckdb runs
each node on a cursor of its own: a new cursor gets them in `configure_cursor`.
"""

from __future__ import annotations

import os

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from .dbt_partial_parse import record_profile
from .pii import check_pii_pads, resolve_salt, set_pii_pads


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict) -> None:
        # dagster-dbt gives each run its target folder in DBT_TARGET_PATH; the next build of another
        # warehouse can then reuse this run's parse (siyu.dbt_partial_parse)
        if self.creds is not None:
            record_profile(self.creds.connection_info(), os.environ.get("DBT_TARGET_PATH"))
        self._salt: str | None = None

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        # the salt is resolved when dbt first connects, not when it loads the plugin: resolving may create
        # the warehouse's salt file, or refuse a missing salt (SIYU_REQUIRE_PII_SALT=1)
        self._salt = resolve_salt()
        set_pii_pads(conn, self._salt)
        check_pii_pads(conn, self._salt)

    def configure_cursor(self, cursor: duckdb.DuckDBPyConnection) -> None:
        # dbt-duckdb opens the connection (configure_connection) before it hands out a cursor of it
        assert self._salt is not None
        set_pii_pads(cursor, self._salt)
