"""`siyu build`: the whole pipeline in-process — raw load, dbt build, checks, publish — through the
same Dagster job the UI, schedule and sensor run."""

from __future__ import annotations

import contextlib
import fcntl
import gc
import hashlib
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

import duckdb

from . import progress
from .fingerprint import built_by_this_project, code_fingerprint, stamp_with_this_project
from .landing import loader
from .landing.discovery import Landing, scan
from .landing.schema import SOURCES
from .pii import MissingSaltError, ensure_salt, hmac_sha256, resolve_salt
from .run_profile import write_run_profile
from .settings import Settings


def changed_partitions(settings: Settings, landing: Landing, full_refresh: bool) -> list[date]:
    """Landing days whose files' contents are new or changed since the last load (all days on a full refresh)."""
    if full_refresh or not settings.work_db.exists():
        return landing.days()
    con = connect_working_db(settings.work_db, read_only=True)
    try:
        return loader.changed_days(con, landing)
    finally:
        con.close()


def _why_not_a_source(entry: Path) -> str:
    if entry.is_symlink():
        return "symbolic link, not followed"
    if entry.is_dir():
        return f"not a landing source folder (the sources: {', '.join(SOURCES)})"
    return "a file beside the source folders (only <source>/dt=YYYY-MM-DD/ folders are loaded)"


def report_skipped(landing: Landing) -> None:
    """Everything in the landing folder that will not be loaded, by name (contracts §3 intake rules)."""
    root_entries = [e for e in sorted(landing.root.iterdir()) if not e.name.startswith(("_", "."))
                    and e.name not in SOURCES] if landing.root.is_dir() else []
    skipped = [(e.name, _why_not_a_source(e)) for e in root_entries] + landing.skipped
    for name, why in skipped:
        print(f"siyu build: not loaded: {name} — {why}", file=sys.stderr)
    missing = [source for source in SOURCES if not landing.partitions.get(source)]
    if missing:
        print(f"siyu build: warning: no landing data for {len(missing)} of {len(SOURCES)} sources: "
              f"{', '.join(missing)} (expected {landing.root}/<source>/dt=YYYY-MM-DD/<file>); "
              "marts built from them will be empty", file=sys.stderr)


def widen_partitions(first: date, last: date) -> None:
    """Let the daily partitions cover the landing folder, however old or future-dated it is (they
    start at its first day, as `dagster dev` on the same folder computes them)."""
    configured = os.environ.get("SIYU_PARTITIONS_START")
    start = min(date.fromisoformat(configured), first) if configured else first
    os.environ["SIYU_PARTITIONS_START"] = start.isoformat()
    ahead = (last - date.today()).days + 1
    if ahead > int(os.environ.get("SIYU_PARTITIONS_END_OFFSET", "1")):
        os.environ["SIYU_PARTITIONS_END_OFFSET"] = str(ahead)


def _instance(settings: Settings):
    """The Dagster instance this run is recorded in: $DAGSTER_HOME, or `dagster_home/` beside the
    published file (where the README's `dagster dev` looks). SIYU_EPHEMERAL_RUNS=1 keeps the run
    in memory only (tests that do not look at run history)."""
    from dagster import DagsterInstance

    from dagster_project.instance import ensure_instance_yaml

    if not os.environ.get("DAGSTER_HOME"):
        if os.environ.get("SIYU_EPHEMERAL_RUNS") == "1":
            return DagsterInstance.ephemeral()
        os.environ["DAGSTER_HOME"] = str(settings.warehouse.parent / "dagster_home")
    ensure_instance_yaml(Path(os.environ["DAGSTER_HOME"]))
    return DagsterInstance.get()


@contextlib.contextmanager
def _quiet_abandoned_generators():
    """A Ctrl-C that lands inside dagster-dbt's stream of dbt's output leaves its generator to the
    garbage collector, which prints "Exception ignored in: <generator …> RuntimeError: generator
    ignored GeneratorExit" with a traceback — noise after the one line the interruption gets.
    Those go to the dbt log; any other unraisable exception is reported as usual."""
    default = sys.unraisablehook

    def hook(unraisable) -> None:
        if isinstance(unraisable.exc_value, RuntimeError) and "ignored GeneratorExit" in str(unraisable.exc_value):
            print(f"(ignored after an interruption: {unraisable.exc_value} in {unraisable.object!r})", flush=True)
            return
        default(unraisable)

    sys.unraisablehook = hook
    try:
        yield
    finally:
        gc.collect()  # abandoned generators are finalised here, under the hook
        sys.unraisablehook = default


def _interrupted(step_failure) -> bool:
    """A step stopped by Ctrl-C: Dagster's interrupt error or a KeyboardInterrupt anywhere in its cause chain."""
    error = step_failure.step_failure_data.error
    while error is not None:
        if any(name in (error.cls_name or "") + error.message for name in ("Interrupted", "KeyboardInterrupt")):
            return True
        error = error.cause or error.context
    return False


def report_quarantine(events) -> None:
    """One line per raw source that quarantined records in this run (the details: raw.quarantine)."""
    seen: set[str] = set()
    for event in events:
        if event.event_type_value != "ASSET_MATERIALIZATION" or event.asset_key is None:
            continue
        path = event.asset_key.path
        if len(path) != 2 or path[0] != "raw" or path[1] in seen:
            continue
        seen.add(path[1])  # every partition of a ranged run carries the run's totals (run_*)
        metadata = event.step_materialization_data.materialization.metadata
        quarantined, rows_in = (getattr(metadata.get(k), "value", 0) for k in ("run_rows_quarantined", "run_rows_in"))
        if quarantined:
            print(f"siyu build: {path[1]}: {quarantined:,} of {rows_in:,} records quarantined "
                  "(reasons: raw.quarantine, or the asset's metadata in the Dagster UI)", file=sys.stderr)


def _describe_failed_check(evaluation) -> str:
    name = f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}"
    failures = evaluation.metadata.get("failures")
    detail = getattr(failures, "value", None) or evaluation.description or ""
    return name + ("\n      " + str(detail).replace("\n", "\n      ") if detail else "")


def _execute(job, settings: Settings, first: date, last: date, dbt_full_refresh: bool = False):
    """One run over the partition range [first, last]: raw assets load it in a single step."""
    # Dagster records a "materialization planned" event per asset *and partition* before a ranged
    # run starts (7 sources × 90 days = 630 rows in its event log at the demo scale, seconds of
    # SQLite writes at M); one event per asset carrying the partition range says the same. The
    # price: a run that fails marks its partitions missing, not failed (siyu build prints why).
    os.environ.setdefault("DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS", "true")
    return job.execute_in_process(
        instance=_instance(settings),
        raise_on_error=False,
        # Dagster's console logger prints every failure with its stack trace; siyu build reports
        # failures, quarantines and interruptions itself, in a line each (SIYU_LOG_LEVEL=INFO for all)
        run_config={"loggers": {"console": {"config": {"log_level": os.environ.get("SIYU_LOG_LEVEL", "CRITICAL")}},
                                **({"siyu_progress": {}} if progress.ACTIVE is not None else {})},
                    "ops": {"dbt_models": {"config": {"full_refresh": dbt_full_refresh}}}},
        tags={"dagster/asset_partition_range_start": first.isoformat(),
              "dagster/asset_partition_range_end": last.isoformat()},
    )


@contextlib.contextmanager
def _exclusive_run(work_db: Path):
    """One `siyu build` per working database at a time. The lock is the kernel's (flock): it ends with
    the process however it ends, so a run killed with SIGKILL never leaves a stale lock behind."""
    work_db.parent.mkdir(parents=True, exist_ok=True)
    lock_path = work_db.with_name(work_db.name + ".lock")
    with open(lock_path, "a+") as lock:
        try:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            holder = lock.read().strip() or "another process"
            yield holder
            return
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}\n")
        lock.flush()
        try:
            yield None
        finally:
            lock.seek(0)
            lock.truncate()
            fcntl.flock(lock.fileno(), fcntl.LOCK_UN)


def run_build(full_refresh: bool = False) -> int:
    """`siyu build` (after `siyu forget`, whole models: `require_models_rebuild`)."""
    # Everything a build writes (working database and its WAL, logs, salt) is for the pipeline alone;
    # publish makes the readers' file world-readable on purpose.
    os.umask(0o077)
    settings = Settings.from_env()
    settings.export()
    landing = scan(settings.landing_dir)
    report_skipped(landing)
    available = landing.days()
    if not available:
        print(f"siyu build: no landing partitions found under {settings.landing_dir} "
              "(expected <source>/dt=YYYY-MM-DD/<file>)", file=sys.stderr)
        return 2
    try:
        ensure_salt()  # before anything is written: a missing secret must change nothing
    except MissingSaltError as error:
        print(f"siyu build: {error}\nNothing was loaded, built or published.", file=sys.stderr)
        return 2
    try:
        with working_db_alone(settings, full_refresh):
            return _run_build(settings, landing, full_refresh)
    except RunRefused as refused:
        print(f"siyu build: {refused}", file=sys.stderr)
        return refused.code


class RunRefused(RuntimeError):
    """The working database cannot be written now; `code` is the command's exit status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@contextlib.contextmanager
def working_db_alone(settings: Settings, full_refresh: bool):
    """Hold the working database alone (exit 3 when another build has it) and check that it was built
    with the current PII salt (exit 2 when not): what every command that writes it does first."""
    with _exclusive_run(settings.work_db) as holder:
        if holder is not None:
            raise RunRefused(3, f"another build ({holder}) is running on {settings.work_db}; "
                                "nothing was changed. Run again when it has finished.")
        try:
            guard_salt(settings, full_refresh)
        except SaltChangedError as error:
            raise RunRefused(2, str(error)) from None
        except duckdb.IOException as error:
            raise RunRefused(3, f"cannot open the working database {settings.work_db}: {error}\n"
                                "Another process holds it; nothing was changed. Run again when it has finished.") from None
        yield


def _models_code_path(settings: Settings) -> Path:
    return settings.work_db.with_name(settings.work_db.name + ".models-code")


def _models_changed(settings: Settings) -> bool:
    """The dbt project changed since its models were last built (or no build recorded which one it
    was: a first build, or a working database from a version without incremental models): incremental
    tables built by other SQL must be rebuilt whole (dbt --full-refresh), or old and new logic would mix."""
    return not built_by_this_project(_models_code_path(settings))


def require_models_rebuild(settings: Settings, why: str) -> None:
    """Every build rebuilds the incremental dbt models whole and republishes, landing unchanged or not,
    until one succeeds (which stamps the project and records its state again, `_record_state`):
    `siyu forget` removed raw rows that those tables still hold, and a rebuild that fails or never
    runs must not leave them for an ordinary later build to publish."""
    _models_code_path(settings).write_text(f"rebuild whole: {why}\n")
    _state_path(settings).unlink(missing_ok=True)


def _state_path(settings: Settings) -> Path:
    return settings.work_db.with_name(settings.work_db.name + ".published-state.json")


def _current_state(settings: Settings) -> dict[str, str] | None:
    """The loaded landing content, the code and the published file's identity, after a successful build."""
    if not settings.work_db.exists() or not settings.warehouse.exists():
        return None
    con = duckdb.connect(str(settings.work_db), read_only=True)
    try:
        rows = con.execute("select source, dt, fingerprint from raw._load_log order by all").fetchall()
    except duckdb.Error:
        return None
    finally:
        con.close()
    stat = settings.warehouse.stat()
    return {"landing": hashlib.sha256(repr(rows).encode()).hexdigest(), "code": code_fingerprint(),
            "published": f"{stat.st_ino}:{stat.st_size}:{stat.st_mtime_ns}"}


def _nothing_to_do(settings: Settings, changed: list[date], full_refresh: bool) -> bool:
    """No landing change since the last successful build, same code, and its published file untouched."""
    if full_refresh or changed or not _state_path(settings).exists():
        return False
    try:
        recorded = json.loads(_state_path(settings).read_text())
    except (OSError, ValueError):
        return False
    return recorded == _current_state(settings)


def _record_state(settings: Settings) -> None:
    stamp_with_this_project(_models_code_path(settings))
    state = _current_state(settings)
    if state is not None:
        _state_path(settings).write_text(json.dumps(state) + "\n")


LOCK_WAIT_SECONDS = float(os.environ.get("SIYU_LOCK_WAIT_SECONDS", "60"))


def connect_working_db(path: Path, read_only: bool = False, wait_s: float = LOCK_WAIT_SECONDS) -> duckdb.DuckDBPyConnection:
    """Open the working database, waiting while another process still holds its lock.

    Right after a build is killed (kill -9), its dbt child lives on for a few seconds and keeps the
    file locked; a new build waits for it instead of failing, and says what it waits for."""
    deadline = time.monotonic() + wait_s
    announced = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() >= deadline:
                raise
            if not announced:
                holder = str(error).split("(PID", 1)[-1].split(")", 1)[0].strip() if "(PID" in str(error) else "?"
                print(f"siyu build: {path.name} is still locked by process {holder} (an earlier run's dbt child?); "
                      f"waiting up to {wait_s:.0f} s for it to finish …", file=sys.stderr, flush=True)
                announced = True
            time.sleep(0.5)


class SaltChangedError(RuntimeError):
    pass


def guard_salt(settings: Settings, full_refresh: bool) -> None:
    """The working database remembers a fingerprint of the PII salt it was built with. Another salt
    would silently re-hash phones and rename members: refused, unless a --full-refresh re-hashes all."""
    fingerprint = hmac_sha256("siyu salt fingerprint v1", resolve_salt())
    settings.work_db.parent.mkdir(parents=True, exist_ok=True)
    con = connect_working_db(settings.work_db)
    try:
        con.execute("create schema if not exists raw")
        con.execute("create table if not exists raw._salt (fingerprint varchar not null, recorded_at timestamp)")
        recorded = con.execute("select fingerprint from raw._salt").fetchone()
        if recorded and recorded[0] != fingerprint and not full_refresh:
            raise SaltChangedError(
                f"the PII salt differs from the one {settings.work_db} was built with. Phone hashes and "
                "phone-based member ids would change. Restore the previous SIYU_PII_SALT (or salt file), or run "
                "`siyu build --full-refresh` to re-hash everything with the new salt. Nothing was changed.")
        if full_refresh and recorded and recorded[0] != fingerprint and _forget_requests_under_other_salt(con, fingerprint):
            raise SaltChangedError(
                "`siyu forget` requests were recorded as hashes salted with the previous PII salt: with a new salt "
                "they would no longer recognise the people they erased, and a full refresh would bring them back. "
                "Keep the previous salt. Nothing was changed.")
        if not recorded or recorded[0] != fingerprint:
            con.execute("delete from raw._salt")
            con.execute("insert into raw._salt values (?, now()::timestamp)", [fingerprint])
    finally:
        con.close()


def _forget_requests_under_other_salt(con: duckdb.DuckDBPyConnection, fingerprint: str) -> bool:
    exists = con.execute("select count(*) from duckdb_tables() where schema_name = 'raw' "
                         "and table_name = '_forget_requests'").fetchone()[0]
    return bool(exists) and con.execute("select count(*) from raw._forget_requests where salt_fingerprint <> ?",
                                        [fingerprint]).fetchone()[0] > 0


def _run_build(settings: Settings, landing: Landing, full_refresh: bool) -> int:
    available = landing.days()
    changed = changed_partitions(settings, landing, full_refresh)
    if _nothing_to_do(settings, changed, full_refresh):
        print(f"siyu build: nothing new in {settings.landing_dir} since the last build; "
              f"{settings.warehouse} is current.", flush=True)
        return 0
    _state_path(settings).unlink(missing_ok=True)
    days = changed or [available[-1]]
    widen_partitions(min(available[0], days[0]), max(available[-1], days[-1]))
    from dagster_project.definitions import build_definitions  # Dagster only when there is work to do

    defs = build_definitions(settings, reload_unchanged=full_refresh)
    job = defs.resolve_job_def("siyu_build")
    print(f"siyu build: landing {settings.landing_dir} — processing days {days[0]} … {days[-1]}", flush=True)
    log_path = settings.work_db.parent / "logs" / "siyu-build.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"siyu build: dbt's log goes to {log_path}", flush=True)
    rebuild_models = full_refresh or _models_changed(settings)
    if rebuild_models and not full_refresh and _models_code_path(settings).exists():
        print("siyu build: rebuilding the incremental dbt models whole (the dbt project changed, or raw rows were "
              "removed)", flush=True)
    if progress.wanted():
        progress.activate()  # a status line on a terminal; CI logs and redirected output stay quiet
    try:
        with (open(log_path, "w") as log, contextlib.redirect_stdout(progress.DbtLogTee(log)),  # dagster-dbt echoes dbt's log
              _quiet_abandoned_generators()):
            result = _execute(job, settings, days[0], days[-1], dbt_full_refresh=rebuild_models)
    finally:
        progress.deactivate()
    write_run_profile(result, settings.work_db.parent / "logs" / "last-build-profile.json")
    # Dagster is imported here, not at the top: the Spark engine reuses this module without it
    from dagster import AssetCheckSeverity

    evaluations = [e.asset_check_evaluation_data for e in result.all_events
                   if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.asset_check_evaluation_data.passed]
    # dbt `warn` tests and GE warnings are reported, but only ERROR-severity failures fail the build
    failed_checks = [_describe_failed_check(c) for c in evaluations if c.severity == AssetCheckSeverity.ERROR]
    for check in evaluations:
        if check.severity != AssetCheckSeverity.ERROR:
            print(f"  warning: check {_describe_failed_check(check)}", file=sys.stderr)
    failed_steps = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    report_quarantine(result.all_events)
    if any(_interrupted(e) for e in result.all_events if e.event_type_value == "STEP_FAILURE"):
        print("siyu build: interrupted (Ctrl-C). The published warehouse was not changed; the next build "
              "picks up where this one stopped.", file=sys.stderr)
        return 130
    if not result.success or failed_checks:
        published = any(e.event_type_value == "ASSET_MATERIALIZATION" and e.asset_key is not None
                        and e.asset_key.path == ["published_warehouse"] for e in result.all_events)
        print("siyu build FAILED; " + ("the warehouse was published, a later step failed."
                                       if published else "the published warehouse was not changed."), file=sys.stderr)
        for name in failed_checks:
            print(f"  failed check: {name}", file=sys.stderr)
        for step in failed_steps:
            failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE" and e.step_key == step)
            print(f"  failed step: {step}: {failure.step_failure_data.error.message.strip()[:1500] if failure.step_failure_data.error else ''}",
                  file=sys.stderr)
        return 1
    _record_state(settings)
    from .summary import print_summary

    print_summary(settings)
    return 0
