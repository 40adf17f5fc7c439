"""dbt-duckdb plugin giving every dbt connection and cursor what our models' phone hash needs.

The macro `hash_phone` computes HMAC-SHA256 with the secret salt (contracts §4) in SQL
(`siyu.pii.PII_HASH_DUCKDB_SQL`) from the salt's HMAC pads, which this plugin sets as the variables
`siyu_pii_ipad` / `siyu_pii_opad`. DuckDB variables belong to one connection, and dbt-duckdb runs
each node on a cursor of its own: a new cursor gets them in `configure_cursor`.

It also spares dbt the work of events no log keeps (`skip_events_below_each_logs_level`,
`skip_events_no_log_keeps`) and builds each event's protobuf message by its constructor instead of
protobuf's pure-Python JSON parser (`build_event_messages_by_constructor`).
"""

from __future__ import annotations

import os

import duckdb
from dbt.adapters.duckdb.plugins import BasePlugin

from .dbt_partial_parse import record_profile
from .pii import check_pii_pads, resolve_salt, set_pii_pads


def _level_numbers(log_level_map: dict) -> dict[str, int]:
    """dbt-common's event levels by name, as the numbers its logs compare: "debug" → 10, …"""
    return {level.value: number for level, number in log_level_map.items()}


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
    numeric = _level_numbers(_log_level_map)
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


def skip_events_no_log_keeps() -> None:
    """Let dbt-common drop an event below every log's level before it builds the event's message.

    For each event, `EventManager.fire_event` first builds a second protobuf message (the event plus
    its time, thread and invocation) and only then hands it to each log's filter and to the callbacks.
    When no log takes the event's level and the only callback is dbt's own, which looks for behaviour
    change warnings alone, nothing would read that message: a build's ≈ 4,900 debug events (each SQL
    statement, connection and cache step). Warnings and errors (which dbt may judge for `--warn-error`
    even when every log is at error level, `--quiet`) and print events go as before, as does everything
    when a log runs at debug or someone else added a callback."""
    try:
        from dbt.tracking import track_behavior_change_warn
        from dbt_common.events.event_manager import EventManager
        from dbt_common.events.event_manager_client import get_event_manager
        from dbt_common.events.logger import PRINT_EVENT_NAMES, _log_level_map
    except ImportError:  # another dbt: its events stay as they are
        return
    manager = get_event_manager()
    if not isinstance(manager, EventManager) or getattr(manager, "siyu_skips_unlogged", False):
        return
    numeric = _level_numbers(_log_level_map)
    fire = manager.fire_event

    def nobody_keeps(e, level) -> bool:
        # a log of an unknown level counts as taking everything, an event of an unknown level as kept
        lowest = min((_log_level_map.get(log.level, 0) for log in manager.loggers), default=None)
        if lowest is None or type(e).__name__ in (*PRINT_EVENT_NAMES, "BehaviorChangeEvent"):
            return False
        if not all(callback is track_behavior_change_warn for callback in manager.callbacks):
            return False
        tag = level or e.level_tag()
        number = numeric.get(getattr(tag, "value", tag), lowest)
        # a warning goes on whatever the logs' levels: dbt judges it for --warn-error inside fire_event
        return number < min(lowest, numeric["warn"])

    def fire_unless_nobody_keeps_it(e, level=None, node=None, force_warn_or_error_handling=False):
        if force_warn_or_error_handling or not nobody_keeps(e, level):
            fire(e, level=level, node=node, force_warn_or_error_handling=force_warn_or_error_handling)

    manager.fire_event = fire_unless_nobody_keeps_it
    manager.siyu_skips_unlogged = True


def build_event_messages_by_constructor() -> None:
    """Build dbt events' protobuf messages with the message's constructor, not `ParseDict`.

    dbt-common turns each event's keyword arguments into its protobuf message with protobuf's JSON
    parser, written in Python (≈ 40 µs for an SQL statement's event against ≈ 3 µs for the C
    constructor, which takes the same dicts for nested messages, lists and maps). Arguments the
    constructor refuses (JSON-only spellings: camelCase names, numbers as text, times as text) go to
    `ParseDict` as before, so every event dbt sends gets the message it got before, or the same error.
    The one difference: a value `ParseDict` refuses but the constructor takes (a bool for a number, a
    `datetime` for a time) now fills the message instead of leaving it empty with a warning; dbt's
    own events send neither (a whole build compared both ways: 5,711 messages, none different)."""
    try:
        from dbt_common.events import base_types
        from google.protobuf.json_format import ParseDict
    except ImportError:
        return
    if getattr(base_types.ParseDict, "siyu_by_constructor", False):
        return

    def parse_dict(js_dict, message, *args, **kwargs):
        if not args and not kwargs and isinstance(js_dict, dict):
            try:
                return type(message)(**js_dict)
            except Exception:  # TypeError, ValueError, AttributeError (a time as text), …
                pass
        return ParseDict(js_dict, message, *args, **kwargs)

    parse_dict.siyu_by_constructor = True
    base_types.ParseDict = parse_dict


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict) -> None:
        skip_events_below_each_logs_level()
        skip_events_no_log_keeps()
        build_event_messages_by_constructor()
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
