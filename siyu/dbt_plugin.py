"""dbt-duckdb plugin giving every dbt connection and cursor what our models' phone hash needs.

The macro `hash_phone` computes HMAC-SHA256 with the secret salt (contracts §4) in SQL
(`siyu.pii.PII_HASH_DUCKDB_SQL`) from the salt's HMAC pads, which this plugin sets as the variables
`siyu_pii_ipad` / `siyu_pii_opad`. DuckDB variables belong to one connection, and dbt-duckdb runs
each node on a cursor of its own: a new cursor gets them in `configure_cursor`.

It also spares dbt's logs the events they drop (`skip_events_below_each_logs_level`).
"""

from __future__ import annotations

import os

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from .dbt_partial_parse import record_profile
from .pii import check_pii_pads, resolve_salt, set_pii_pads


def skip_events_below_each_logs_level() -> None:
    """Make each of dbt's logs drop an event below its level before formatting it, not after.

    dbt-common formats every event for every log — for the JSON log dagster-dbt reads, the event as a
    dict, JSON-encoded, scrubbed of secrets — and only then lets Python's logging drop it below the
    log's level (`_Logger.write_line`). A build's debug events (each SQL statement, connection and
    cache step) are ten times its info lines, whatever the data: the landing example's `dbt build`
    took a median 17.0 s of CPU with them formatted and 14.7 s without (5 alternated runs each), for
    lines nobody sees. Each log keeps its level and its own filter; print events pass as before (dbt
    sends them at error level so --quiet keeps them)."""
    try:
        from dbt_common.events.event_manager_client import get_event_manager
        from dbt_common.events.logger import _is_print_event, _log_level_map
    except ImportError:  # another dbt-common: its logs stay as they are
        return
    numeric = {level.value: number for level, number in _log_level_map.items()}  # "debug" → 10, …
    for log in get_event_manager().loggers:
        if getattr(log, "siyu_level_first", False):
            continue
        threshold, keeps = _log_level_map[log.level], log.filter

        def level_first(msg, threshold=threshold, keeps=keeps) -> bool:
            # an unknown level passes, to be judged by the log as before
            passes = numeric.get(msg.info.level, threshold) >= threshold or _is_print_event(msg)
            return passes and keeps(msg)

        log.filter = level_first
        log.siyu_level_first = True


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict) -> None:
        skip_events_below_each_logs_level()
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
