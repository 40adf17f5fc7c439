"""dbt-duckdb plugin registering the SQL functions our models need on every dbt connection.

`pii_hash(varchar) -> varchar`: HMAC-SHA256 with the secret salt (contracts §4). DuckDB has no
HMAC built in; a vectorised Arrow UDF keeps it fast (about a million values a second).
"""

from __future__ import annotations

import os

import duckdb
import pyarrow as pa
from dbt.adapters.duckdb.plugins import BasePlugin

from .dbt_partial_parse import record_profile
from .pii import hmac_sha256, resolve_salt


def register_functions(conn: duckdb.DuckDBPyConnection, salt: str | None = None) -> None:
    salt = salt or resolve_salt()

    def pii_hash(values: pa.Array) -> pa.Array:
        return pa.array([hmac_sha256(v, salt) for v in values.to_pylist()], pa.string())

    try:
        conn.remove_function("pii_hash")
    except Exception:  # not registered yet on this connection
        pass
    conn.create_function("pii_hash", pii_hash, [duckdb.sqltype("VARCHAR")], duckdb.sqltype("VARCHAR"),
                         type="arrow", null_handling="special", side_effects=False)


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict) -> None:
        # dagster-dbt gives each run its target folder in DBT_TARGET_PATH; the next build of another
        # warehouse can then reuse this run's parse (siyu.dbt_partial_parse)
        if self.creds is not None:
            record_profile(self.creds.connection_info(), os.environ.get("DBT_TARGET_PATH"))

    def configure_connection(self, conn: duckdb.DuckDBPyConnection) -> None:
        register_functions(conn)
