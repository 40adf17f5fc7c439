"""Dagster loggers. `siyu_progress` turns the run's events into `siyu build`'s terminal status
line (siyu/progress.py); it is switched on by siyu build's run config only, and writes nothing
when no status line is active (the UI, the daemon, CI)."""

from __future__ import annotations

import logging

from dagster import InitLoggerContext, colored_console_logger, logger

from siyu import progress

STEP_TITLES = {"dbt_models": "dbt  build (models and tests)", "mart_quality_checks": "checks  Great Expectations on the marts",
               "published_warehouse": "publish", "dashboard": "dashboard", "dbt_docs": "docs  dbt docs site"}


def _title(step_key: str) -> str:
    if step_key.startswith("raw__"):
        return f"raw  {step_key.removeprefix('raw__')}: loading"
    return STEP_TITLES.get(step_key, step_key)


class _ProgressHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.started: dict[str, float] = {}
        self.reported: set[str] = set()

    def emit(self, record: logging.LogRecord) -> None:
        status = progress.ACTIVE
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if status is None or event is None:
            return
        kind, step = event.event_type_value, event.step_key or ""
        if kind == "STEP_START":
            self.started[step] = record.created
            status.show(_title(step))
        elif kind == "ASSET_MATERIALIZATION" and step.startswith("raw__") and step not in self.reported:
            self.reported.add(step)  # every partition of a ranged run carries the run's totals: once is enough
            values = {k: getattr(v, "value", v) for k, v in event.event_specific_data.materialization.metadata.items()}
            if "run_rows_in" in values:
                seconds = max(record.created - self.started.get(step, record.created), 1e-6)
                rows = values["run_rows_loaded"]
                status.show(f"raw  {step.removeprefix('raw__')}: {rows:,} rows loaded, {values['run_rows_quarantined']:,} "
                            f"quarantined ({values['run_rows_in'] / seconds:,.0f} rows/s)")
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            seconds = record.created - self.started.get(step, record.created)
            verdict = "done" if kind == "STEP_SUCCESS" else "FAILED"
            status.note(f"{_title(step).split(':')[0]} {verdict} in {seconds:.1f} s")


@logger(description="siyu build's terminal status line (siyu/progress.py); silent without a terminal.")
def siyu_progress_logger(init_context: InitLoggerContext) -> logging.Logger:
    log = logging.getLogger("siyu_progress")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    if not any(isinstance(h, _ProgressHandler) for h in log.handlers):
        log.addHandler(_ProgressHandler())
    return log


LOGGERS = {"console": colored_console_logger, "siyu_progress": siyu_progress_logger}
