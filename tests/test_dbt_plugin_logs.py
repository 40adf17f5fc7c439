"""dbt's logs drop the events below their level before formatting them (siyu.dbt_plugin): what each
log writes is unchanged, and the JSON log dagster-dbt reads no longer encodes the debug events it drops."""

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
