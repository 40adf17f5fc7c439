"""dbt's logs drop the events below their level before formatting them (siyu.dbt_plugin): what each
log writes is unchanged, and the JSON log dagster-dbt reads no longer encodes the debug events it drops;
an event no log keeps is never made into a message, and events get the messages protobuf's JSON parser
gave them."""

from __future__ import annotations

import io
import json

import pytest
from dbt_common.events import logger as dbt_logger
from dbt_common.events.base_types import EventLevel
from dbt_common.events.event_manager import EventManager
from dbt_common.events.event_manager_client import ctx_set_event_manager, get_event_manager
from dbt_common.events.functions import fire_event
from dbt_common.events.logger import LineFormat, LoggerConfig
from dbt_common.events.types import Note, PrintEvent

from siyu.dbt_plugin import skip_events_below_each_logs_level


@pytest.fixture
def logs(monkeypatch):
    """A JSON log at info (as dagster-dbt reads dbt's stdout) and a text log at debug, each counting
    the events it formats."""
    formatted: dict[str, list[str]] = {"json": [], "text": []}
    for kind, cls in (("json", dbt_logger._JsonLogger), ("text", dbt_logger._TextLogger)):
        def counting(self, msg, kind=kind, create=cls.create_line):
            formatted[kind].append(msg.info.msg)
            return create(self, msg)
        monkeypatch.setattr(cls, "create_line", counting)
    streams = {"json": io.StringIO(), "text": io.StringIO()}
    previous = get_event_manager()
    manager = EventManager()
    manager.add_logger(LoggerConfig(name="siyu_test_json", level=EventLevel.INFO, line_format=LineFormat.Json,
                                    output_stream=streams["json"]))
    manager.add_logger(LoggerConfig(name="siyu_test_text", level=EventLevel.DEBUG, line_format=LineFormat.DebugText,
                                    output_stream=streams["text"]))
    ctx_set_event_manager(manager)
    yield formatted, streams
    ctx_set_event_manager(previous)


def _fire_one_of_each() -> None:
    fire_event(Note(msg="a debug statement"), level=EventLevel.DEBUG)
    fire_event(Note(msg="an info line"))
    fire_event(Note(msg="a warning"), level=EventLevel.WARN)
    fire_event(PrintEvent(msg="a print"))


def _written(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_each_log_writes_what_it_wrote_before_and_formats_nothing_it_drops(logs):
    formatted, streams = logs
    _fire_one_of_each()
    before = {kind: _written(stream) for kind, stream in streams.items()}
    assert "a debug statement" in formatted["json"]  # dbt-common's own way: formatted, then dropped
    for stream in streams.values():
        stream.seek(0)
        stream.truncate()
    formatted["json"].clear()
    formatted["text"].clear()

    skip_events_below_each_logs_level()
    skip_events_below_each_logs_level()  # a second plugin start wraps nothing twice
    _fire_one_of_each()

    assert formatted["json"] == ["an info line", "a warning", "a print"]
    assert formatted["text"] == ["a debug statement", "an info line", "a warning", "a print"]
    after = {kind: _written(stream) for kind, stream in streams.items()}
    assert [json.loads(line)["info"]["msg"] for line in after["json"]] == \
        [json.loads(line)["info"]["msg"] for line in before["json"]] == ["an info line", "a warning", "a print"]
    assert [line.split("]: ", 1)[-1] for line in after["text"]] == [line.split("]: ", 1)[-1] for line in before["text"]]
    assert len(after["text"]) == 4 and "a debug statement" in after["text"][0]


def test_an_event_no_log_keeps_is_never_made_into_a_message(logs, monkeypatch):
    """With every log at info and only dbt's own callback, a debug event stops before dbt-common builds
    its message; what the logs write is unchanged, and a log at debug or another callback sees it all."""
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.events import event_manager

    from siyu.dbt_plugin import skip_events_no_log_keeps

    _, streams = logs
    manager = get_event_manager()
    text_log = manager.loggers.pop()  # the debug text log: the JSON log at info is left
    manager.callbacks.append(track_behavior_change_warn)
    made: list[str] = []
    builds = event_manager.msg_from_base_event
    monkeypatch.setattr(event_manager, "msg_from_base_event",
                        lambda e, level=None: made.append(e.message()) or builds(e, level=level))
    _fire_one_of_each()
    before, made_before = _written(streams["json"]), list(made)
    assert made_before == ["a debug statement", "an info line", "a warning", "a print"]
    streams["json"].seek(0)
    streams["json"].truncate()
    made.clear()

    skip_events_no_log_keeps()
    skip_events_no_log_keeps()  # a second plugin start wraps nothing twice
    _fire_one_of_each()
    assert made == ["an info line", "a warning", "a print"]
    assert [json.loads(line)["info"]["msg"] for line in _written(streams["json"])] == \
        [json.loads(line)["info"]["msg"] for line in before] == ["an info line", "a warning", "a print"]

    made.clear()  # an event dbt must judge for --warn-error goes through whatever its level
    fire_event(Note(msg="judged"), level=EventLevel.DEBUG, force_warn_or_error_handling=True)
    assert made == ["judged"]

    heard: list[str] = []
    manager.callbacks.append(lambda msg: heard.append(msg.info.msg))
    made.clear()
    fire_event(Note(msg="for a callback"), level=EventLevel.DEBUG)
    assert made == heard == ["for a callback"]
    manager.callbacks.pop()

    manager.loggers.append(text_log)
    made.clear()
    fire_event(Note(msg="for the debug log"), level=EventLevel.DEBUG)
    assert made == ["for the debug log"] and "for the debug log" in streams["text"].getvalue()


def test_a_warning_is_judged_for_warn_error_when_every_log_is_at_error(logs):
    """`--quiet` puts every log at error level, yet dbt (with require_all_warnings_handled_by_warn_error)
    judges each warning for `--warn-error` inside fire_event: a warning is never skipped, a debug event is."""
    from dbt_common.exceptions.events import EventCompilationError

    from siyu.dbt_plugin import skip_events_no_log_keeps

    manager = get_event_manager()
    for log in manager.loggers:
        log.level = EventLevel.ERROR
    manager.require_warn_or_error_handling = True
    manager.warn_error = True
    skip_events_no_log_keeps()
    fire_event(Note(msg="a debug statement"), level=EventLevel.DEBUG)  # nobody keeps it, nobody judges it
    with pytest.raises(EventCompilationError, match="a warning"):
        fire_event(Note(msg="a warning"), level=EventLevel.WARN)


NODE_INFO = {
    "node_path": "marts/core/dim_member.sql", "node_name": "dim_member", "unique_id": "model.siyu.dim_member",
    "resource_type": "model", "materialized": "table", "node_status": "success",
    "node_started_at": "2026-12-04T12:00:00.000001", "node_finished_at": "2026-12-04T12:00:01.5",
    "meta": {"owner": "analytics", "tier": 1, "tags": ["a", "b"], "nested": {"x": None}},
    "node_relation": {"database": "warehouse", "schema": "marts", "alias": "dim_member",
                      "relation_name": '"warehouse"."marts"."dim_member"'},
    "node_checksum": "abc123",
}


@pytest.mark.parametrize("event", [
    ("dbt_common.events.types", "Note", {"msg": "a note"}),
    ("dbt.adapters.events.types", "SQLQuery", {"conn_name": "model.siyu.dim_member", "sql": "select 1",
                                               "node_info": NODE_INFO}),
    ("dbt.adapters.events.types", "SQLQueryStatus", {"status": "OK", "elapsed": 0.25, "node_info": NODE_INFO}),
    ("dbt.events.types", "LogModelResult", {"description": "sql table model marts.dim_member", "status": "OK",
                                            "index": 3, "total": 220, "execution_time": 1, "node_info": NODE_INFO}),
    ("dbt.adapters.events.types", "CacheAction", {"action": "add_link", "ref_key": {"database": "w", "schema": "s",
                                                  "identifier": "t"}, "ref_list": [{"database": "w", "schema": "s",
                                                  "identifier": "u"}]}),
    ("dbt.events.types", "MainReportVersion", {"version": "1.11.16", "log_version": 3}),
    ("dbt.events.types", "MainReportVersion", {"version": "1.11.16", "log_version": 3.0}),  # a float for an int
    ("dbt.events.types", "MainReportVersion", {"version": "1.11.16", "log_version": "3"}),  # text for an int
    ("dbt.events.types", "MainReportVersion", {"version": 1.11, "log_version": 3}),  # refused by both
    ("dbt_common.events.types", "Note", {"msg": "a note", "not_a_field": 1}),  # refused by both
], ids=lambda event: f"{event[1]}:{sorted(event[2])}")
def test_events_get_the_message_protobufs_json_parser_gave_them(event, monkeypatch):
    import importlib

    from dbt_common.events import base_types
    from google.protobuf.json_format import ParseDict

    from siyu.dbt_plugin import build_event_messages_by_constructor

    module, name, kwargs = event
    monkeypatch.delenv("PYTEST_CURRENT_TEST")  # dbt-common raises on an unparsable event under pytest
    cls = getattr(importlib.import_module(module), name)
    notes: list[str] = []
    monkeypatch.setattr("dbt_common.events.functions.fire_event", lambda e, level=None: notes.append(e.message()))
    monkeypatch.setattr(base_types, "ParseDict", ParseDict)
    parsed, parsed_notes = cls(**kwargs).pb_msg, list(notes)
    parsed_msg = base_types.msg_from_base_event(cls(**kwargs))
    notes.clear()
    build_event_messages_by_constructor()
    assert base_types.ParseDict is not ParseDict
    constructed = cls(**kwargs).pb_msg
    assert constructed == parsed and constructed.SerializeToString(deterministic=True) == \
        parsed.SerializeToString(deterministic=True)
    assert notes == parsed_notes  # an event both refuse is the same warning, its message left empty
    constructed_msg = base_types.msg_from_base_event(cls(**kwargs))
    assert constructed_msg.data == parsed_msg.data and constructed_msg.info.name == parsed_msg.info.name
