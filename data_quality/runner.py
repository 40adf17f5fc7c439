"""Validate :class:`~data_quality.suites.TableSuite` s against a DuckDB file with GE 1.x.

* Pushdown: a GE SQL datasource over ``duckdb:///<abs path>`` (duckdb-engine); GE compiles
  every expectation to SQL run by DuckDB -- no table is loaded into pandas.
* One ephemeral GE context per process, reused (first call ~1-2 s of GE setup, then cheap).
* No lingering connection: after every call all SQLAlchemy engines GE created for the file
  are disposed and the datasource's cached execution engine is dropped, so another process
  (``dbt``) can take the file's write lock right away.
* An expectation whose metric raised (``exception_info.raised_exception``) or that returned
  no verdict counts as FAILED, with the exception text as its reason.
* Data Docs (static HTML) are built into ``docs_dir`` (default ``$SIYU_QUALITY_DOCS_DIR`` or
  ``data/quality_docs``); each outcome carries ``file://`` URLs of the index and its page.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import time
import warnings
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Sequence

from . import duckdb_compat
from .offline_docs import make_offline
from .suites import TableSuite

log = logging.getLogger(__name__)

DEFAULT_DOCS_DIR = "data/quality_docs"
_SITE_NAME = "siyu_quality_docs"
_LOCK = threading.RLock()
_CONTEXT: Any = None
_SITE_DIR: Path | None = None


# --------------------------------------------------------------------------------------
# Outcome types
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FailedExpectation:
    expectation_type: str
    column: str | None
    reason: str
    severity: str = "critical"
    errored: bool = False  # the metric raised: the check could not be evaluated

    def __str__(self) -> str:
        where = f"[{self.column}] " if self.column else ""
        tag = "ERROR " if self.errored else ""
        return f"{tag}{self.expectation_type} {where}{self.reason}"


@dataclass
class CheckOutcome:
    suite_name: str
    table: str
    success: bool
    evaluated_expectations: int
    successful_expectations: int
    failed: list[FailedExpectation] = field(default_factory=list)
    warnings: list[FailedExpectation] = field(default_factory=list)  # non-critical failures (do not fail)
    duration_s: float = 0.0
    docs_url: str | None = None  # file:// index of the Data Docs site
    result_url: str | None = None  # file:// page of this validation result
    partition: str | None = None
    note: str | None = None  # e.g. "partition has no rows" (success with nothing evaluated)

    @property
    def unsuccessful_expectations(self) -> int:
        return self.evaluated_expectations - self.successful_expectations

    def summary(self) -> str:
        head = (
            f"{self.suite_name}{' @' + self.partition if self.partition else ''}: "
            f"{'PASS' if self.success else 'FAIL'} "
            f"{self.successful_expectations}/{self.evaluated_expectations} expectations "
            f"in {self.duration_s:.2f}s"
        )
        lines = [head]
        if self.note:
            lines.append(f"  note: {self.note}")
        lines += [f"  FAILED  {f}" for f in self.failed]
        lines += [f"  WARNING {w}" for w in self.warnings]
        if self.result_url or self.docs_url:
            lines.append(f"  docs: {self.result_url or self.docs_url}")
        return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Context and connections
# --------------------------------------------------------------------------------------


def default_docs_dir() -> Path:
    return Path(os.environ.get("SIYU_QUALITY_DOCS_DIR") or DEFAULT_DOCS_DIR)


def _get_context(docs_dir: Path | None):
    """The process-wide ephemeral GE context, with the Data Docs site pointed at docs_dir."""
    global _CONTEXT, _SITE_DIR
    duckdb_compat.install()
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    if _CONTEXT is None:
        gx_log = logging.getLogger("great_expectations")
        if gx_log.level == logging.NOTSET:
            # metric errors are reported in the outcomes; GE would also log each traceback
            gx_log.setLevel(logging.CRITICAL)
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        # the ephemeral context has a default local site in a temp dir: keep only ours
        for name in list(ctx.list_data_docs_sites()):
            ctx.delete_data_docs_site(name)
        _CONTEXT = ctx
    ctx = _CONTEXT
    if docs_dir is not None:
        docs_dir = Path(docs_dir).resolve()
        if docs_dir != _SITE_DIR:
            docs_dir.mkdir(parents=True, exist_ok=True)
            site = {
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            }
            if _SITE_NAME in ctx.list_data_docs_sites():
                ctx.update_data_docs_site(_SITE_NAME, site)
            else:
                ctx.add_data_docs_site(_SITE_NAME, site)
            _SITE_DIR = docs_dir
    return ctx


def _datasource_name(db_path: Path, read_only: bool) -> str:
    return f"duckdb_{hashlib.sha1(str(db_path).encode()).hexdigest()[:12]}{'_ro' if read_only else '_rw'}"


def _get_datasource(ctx, db_path: Path, read_only: bool):
    name = _datasource_name(db_path, read_only)
    try:
        return ctx.data_sources.get(name)
    except Exception:  # not registered yet
        pass
    return ctx.data_sources.add_sql(
        name=name,
        connection_string=f"duckdb:///{db_path}",
        kwargs={"connect_args": {"read_only": read_only}},
    )


def release_connections(ds=None) -> None:
    """Close every connection GE holds to DuckDB files (all our datasources, or one)."""
    ctx = _CONTEXT
    if ctx is None:
        return
    sources = [ds] if ds is not None else [d for d in ctx.data_sources.all().values() if d.name.startswith("duckdb_")]
    for d in sources:
        ee = getattr(d, "_execution_engine", None)
        if ee is not None:
            conn = getattr(ee, "_connection", None)
            if conn is not None:
                with contextlib.suppress(Exception):
                    conn.close()
                ee._connection = None
            with contextlib.suppress(Exception):
                ee.engine.dispose()
            ee._inspector = None
            d._execution_engine = None
            d._cached_execution_engine_kwargs = {}
        eng = getattr(d, "_engine", None)
        if eng is not None:
            with contextlib.suppress(Exception):
                eng.dispose()
            d._engine = None


# --------------------------------------------------------------------------------------
# Result interpretation
# --------------------------------------------------------------------------------------


def _exception_text(exception_info: Any) -> str | None:
    """Exception message from an expectation result's exception_info (flat or per-metric)."""
    if not exception_info:
        return None
    if isinstance(exception_info, dict) and "raised_exception" in exception_info:
        if exception_info.get("raised_exception"):
            return str(exception_info.get("exception_message") or "exception raised")
        return None
    if isinstance(exception_info, dict):
        msgs = []
        for v in exception_info.values():
            if isinstance(v, dict) and v.get("raised_exception"):
                msgs.append(str(v.get("exception_message") or "exception raised"))
        return "; ".join(dict.fromkeys(msgs)) or None
    return None


def _short(v: Any, n: int = 160) -> str:
    s = repr(v) if not isinstance(v, str) else v
    s = " ".join(s.split())
    return s if len(s) <= n else s[: n - 1] + "…"


_SQL_CHECK_TYPES = ("unexpected_rows_expectation", "expect_no_unexpected_rows")


def _reason(etype: str, kwargs: dict, result: dict, description: str | None = None) -> str:
    parts = []
    if description:
        parts.append(str(description))
    if "unexpected_count" in result and result.get("unexpected_count") is not None:
        cnt = result["unexpected_count"]
        total = result.get("element_count")
        pct = result.get("unexpected_percent")
        s = f"{cnt} unexpected" + (f" of {total}" if total is not None else "")
        if pct is not None:
            s += f" ({pct:.2f}%)"
        parts.append(s)
        sample = result.get("partial_unexpected_list")
        if sample:
            parts.append(f"e.g. {_short(sample[:5], 120)}")
    if "observed_value" in result:
        ov = result.get("observed_value")
        if etype in _SQL_CHECK_TYPES:
            parts.append(f"{ov} unexpected rows")
            rows = result.get("details", {}).get("unexpected_rows") if isinstance(result.get("details"), dict) else None
            if rows:
                parts.append(f"e.g. {_short(rows[:5], 400)}")
        else:
            parts.append(f"observed {_short(ov)}")
            details = result.get("details")
            if isinstance(details, dict) and details.get("mismatched"):
                parts.append(f"mismatched {_short(details['mismatched'])}")
    expected = {k: kwargs[k] for k in ("type_", "min_value", "max_value", "value_set") if k in kwargs and kwargs[k] is not None}
    if expected:
        parts.append("expected " + _short(expected, 120))
    return "; ".join(parts) or "failed"


def _interpret(suite: TableSuite, vr, duration: float, partition: str | None) -> CheckOutcome:
    failed: list[FailedExpectation] = []
    warnings: list[FailedExpectation] = []
    evaluated = 0
    ok = 0
    for r in vr.results:
        evaluated += 1
        cfg = r.expectation_config
        etype = cfg.type
        kwargs = dict(cfg.kwargs)
        column_list = kwargs.get("column_list") or kwargs.get("columns")  # "columns": labels of SQL checks
        column = kwargs.get("column") or (",".join(column_list) if column_list else None)
        severity = str(getattr(getattr(cfg, "severity", None), "value", getattr(cfg, "severity", "critical")) or "critical")
        exc = _exception_text(r.exception_info)
        result = dict(r.result or {})
        if exc is not None:
            failed.append(FailedExpectation(etype, column, f"metric error: {_short(exc, 400)}", severity, errored=True))
            continue
        if r.success is True:
            ok += 1
            continue
        if r.success is None:
            failed.append(FailedExpectation(etype, column, "no verdict (success=None)", severity, errored=True))
            continue
        description = getattr(cfg, "description", None) or kwargs.get("description")
        fe = FailedExpectation(etype, column, _reason(etype, kwargs, result, description), severity)
        (failed if severity == "critical" else warnings).append(fe)
    return CheckOutcome(
        suite_name=suite.name,
        table=suite.table,
        success=not failed,
        evaluated_expectations=evaluated,
        successful_expectations=ok,
        failed=failed,
        warnings=warnings,
        duration_s=duration,
        partition=partition,
    )



# Suites, validation definitions and checkpoints are registered once per process and
# reused while unchanged (GE's add_or_update compares expectations pairwise: ~0.3 s/suite).
_REGISTERED: dict[tuple, tuple[Any, Any]] = {}


def _fingerprint(obj: Any) -> str:
    return hashlib.sha1(repr(obj).encode()).hexdigest()


def _ensure_suite(ctx, suite: TableSuite):
    import great_expectations as gx

    fp = _fingerprint([(type(e).__name__, e.dict(exclude={"id"})) for e in suite.expectations])
    key = ("suite", suite.name)
    hit = _REGISTERED.get(key)
    if hit and hit[0] == fp:
        return hit[1]
    with contextlib.suppress(Exception):
        ctx.suites.delete(suite.name)
    gx_suite = ctx.suites.add(gx.ExpectationSuite(name=suite.name, expectations=suite.fresh_expectations()))
    _REGISTERED[key] = (fp, gx_suite)
    # definitions that referenced the old suite object must be rebuilt
    for k in [k for k in _REGISTERED if k[0] in ("vd", "cp")]:
        del _REGISTERED[k]
    return gx_suite


def _ensure_validation_definition(ctx, name: str, bd, gx_suite):
    import great_expectations as gx

    key = ("vd", name)
    hit = _REGISTERED.get(key)
    if hit and hit[0] == (id(bd), id(gx_suite)):
        return hit[1]
    with contextlib.suppress(Exception):
        ctx.validation_definitions.delete(name)
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=bd, suite=gx_suite))
    _REGISTERED[key] = ((id(bd), id(gx_suite)), vd)
    return vd


def _ensure_checkpoint(ctx, ds_name: str, vds: list, result_format: str):
    import great_expectations as gx

    names = tuple(v.name for v in vds)
    name = f"cp@{ds_name}@{_fingerprint((names, result_format))[:12]}"
    key = ("cp", name)
    ident = tuple(id(v) for v in vds)
    hit = _REGISTERED.get(key)
    if hit and hit[0] == ident:
        return hit[1]
    with contextlib.suppress(Exception):
        ctx.checkpoints.delete(name)
    cp = ctx.checkpoints.add(
        gx.Checkpoint(name=name, validation_definitions=vds, actions=[], result_format={"result_format": result_format})
    )
    _REGISTERED[key] = (ident, cp)
    return cp


_TEMPLATE_CACHE_INSTALLED = False


def _install_template_cache() -> None:
    """Share compiled Jinja templates between GE's Data Docs views (GE builds a new Jinja
    Environment per page, recompiling every template: ~0.1 s per page)."""
    global _TEMPLATE_CACHE_INSTALLED
    if _TEMPLATE_CACHE_INSTALLED:
        return
    from great_expectations.render.view import view as gx_view
    from jinja2 import BytecodeCache

    class _MemoryBytecodeCache(BytecodeCache):
        def __init__(self) -> None:
            self._store: dict[str, bytes] = {}

        def load_bytecode(self, bucket) -> None:
            code = self._store.get(bucket.key)
            if code is not None:
                bucket.bytecode_from_string(code)

        def dump_bytecode(self, bucket) -> None:
            self._store[bucket.key] = bucket.bytecode_to_string()

    cache = _MemoryBytecodeCache()
    original_init = gx_view.DefaultJinjaView.__init__

    def __init__(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        self.env.bytecode_cache = cache

    gx_view.DefaultJinjaView.__init__ = __init__
    _TEMPLATE_CACHE_INSTALLED = True

# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def _partition_params(partition: str | date | None) -> dict | None:
    if partition is None:
        return None
    d = partition if isinstance(partition, date) else date.fromisoformat(str(partition))
    return {"year": d.year, "month": d.month, "day": d.day}


def _error_outcome(suite: TableSuite, reason: str, t0: float, partition: str | None) -> CheckOutcome:
    return CheckOutcome(
        suite_name=suite.name,
        table=suite.table,
        success=False,
        evaluated_expectations=0,
        successful_expectations=0,
        failed=[FailedExpectation("suite_setup", None, reason, errored=True)],
        duration_s=time.perf_counter() - t0,
        partition=partition,
    )


def validate_many(
    db_path: str | Path,
    suites: Sequence[TableSuite],
    docs_dir: Path | str | None = None,
    *,
    partition: str | date | None = None,
    build_docs: bool = True,
    read_only: bool = True,
    result_format: str = "SUMMARY",
) -> list[CheckOutcome]:
    """Validate several suites against one DuckDB file (one GE checkpoint run for whole tables).

    Args:
        db_path: the DuckDB file. The calling process must not hold an *open* connection to
            it with a different configuration (closed ones are fine).
        suites: the suites; outcomes come back in the same order.
        docs_dir: Data Docs folder; ``None`` -> ``$SIYU_QUALITY_DOCS_DIR`` or ``data/quality_docs``.
        partition: validate only rows of this day (suites with a ``partition_column``;
            suites without one validate the whole table).
        build_docs: set False to skip the HTML (saves ~0.1-0.3 s per suite).
        read_only: open the file read-only (default): checks never write, and several
            readers may run concurrently.
        result_format: GE result format ("SUMMARY" gives counts and sample unexpected values).
    """
    db = Path(db_path).resolve()
    docs = Path(docs_dir) if docs_dir is not None else default_docs_dir()
    part_str = None if partition is None else str(partition)
    outcomes: dict[int, CheckOutcome] = {}
    with _LOCK:
        t_setup = time.perf_counter()
        ctx = _get_context(docs if build_docs else None)
        if not db.exists():
            return [_error_outcome(s, f"database file not found: {db}", t_setup, part_str) for s in suites]
        ds = None
        try:
            try:
                ds = _get_datasource(ctx, db, read_only)
                # preflight: one clear error instead of one per expectation when the file
                # cannot be opened (locked by another process, or open in this process
                # with another configuration)
                with ds.get_execution_engine().get_connection() as conn:
                    conn.exec_driver_sql("select 1").fetchall()
            except Exception as e:
                cause = e.__cause__ or e
                reason = f"cannot open {db}: {type(cause).__name__}: {_short(str(cause), 400)}"
                return [_error_outcome(s, reason, t_setup, part_str) for s in suites]
            vds = []
            index_of: dict[str, int] = {}
            for i, suite in enumerate(suites):
                t0 = time.perf_counter()
                try:
                    asset_name = suite.table
                    try:
                        asset = ds.get_asset(asset_name)
                    except LookupError:
                        with warnings.catch_warnings():
                            # GE deprecates schema_name in favour of a per-connection schema; one
                            # DuckDB datasource serves raw/staging/marts, so we keep schema_name.
                            warnings.simplefilter("ignore", DeprecationWarning)
                            asset = ds.add_table_asset(
                                name=asset_name, table_name=suite.table_name, schema_name=suite.schema
                            )
                    params = _partition_params(partition) if suite.partition_column else None
                    bd = None
                    if params:
                        bd_name = f"daily:{suite.partition_column}"
                        try:
                            bd = asset.get_batch_definition(bd_name)
                        except KeyError:
                            try:
                                bd = asset.add_batch_definition_daily(bd_name, column=suite.partition_column)
                            except Exception as e:
                                # GE samples one non-null value of the column to check its type:
                                # impossible on a table without such a row. Then the partition is
                                # empty and the whole table (empty, or only null partition values,
                                # which the not-null check reports) is the right batch.
                                if "is not a date or datetime type" not in str(e):
                                    raise
                                log.debug("no daily batch on %s (%s): validating the whole table", suite.table, e)
                                params = None
                    if bd is None:
                        bd_name = "whole_table"
                        try:
                            bd = asset.get_batch_definition(bd_name)
                        except KeyError:
                            bd = asset.add_batch_definition_whole_table(bd_name)
                    gx_suite = _ensure_suite(ctx, suite)
                    vd_name = f"{suite.name}@{ds.name}" + ("@daily" if params else "")
                    vd = _ensure_validation_definition(ctx, vd_name, bd, gx_suite)
                    vds.append((vd, params))
                    index_of[vd_name] = i
                except Exception as e:  # table missing, bad expectation ...
                    outcomes[i] = _error_outcome(suite, f"{type(e).__name__}: {_short(str(e), 400)}", t0, part_str)

            # one checkpoint per distinct batch-parameter set (whole-table vs partition)
            groups: dict[str, list] = {}
            for vd, params in vds:
                # partition runs go one suite per checkpoint: a partition missing from one
                # table (GE raises NoAvailableBatchesError) must not spoil the others
                key = repr(params) if params is None else f"{vd.name}|{params!r}"
                groups.setdefault(key, []).append((vd, params))
            for key, members in groups.items():
                t0 = time.perf_counter()
                params = members[0][1]
                cp = _ensure_checkpoint(ctx, ds.name, [m[0] for m in members], result_format)
                try:
                    res = cp.run(batch_parameters=params) if params else cp.run()
                except Exception as e:
                    if params and type(e).__name__ == "NoAvailableBatchesError":
                        # the table has rows, none in this partition: nothing to validate
                        for vd, _ in members:
                            i = index_of[vd.name]
                            outcomes[i] = CheckOutcome(
                                suite_name=suites[i].name, table=suites[i].table, success=True,
                                evaluated_expectations=0, successful_expectations=0,
                                duration_s=time.perf_counter() - t0, partition=part_str,
                                note=f"partition {part_str} has no rows in {suites[i].table}",
                            )
                        continue
                    for vd, _ in members:
                        i = index_of[vd.name]
                        outcomes[i] = _error_outcome(suites[i], f"{type(e).__name__}: {_short(str(e), 400)}", t0, part_str)
                    continue
                elapsed = time.perf_counter() - t0
                docs_index = None
                if build_docs:
                    t_docs = time.perf_counter()
                    try:
                        _install_template_cache()
                        written_from = time.time() - 1  # file times can lag the clock a little
                        ctx.build_data_docs(site_names=[_SITE_NAME], resource_identifiers=list(res.run_results))
                        if _SITE_DIR:
                            make_offline(_SITE_DIR, since=written_from)  # pages that render without the internet
                        docs_index = (_SITE_DIR / "index.html").as_uri() if _SITE_DIR else None
                    except Exception as e:  # docs are a convenience: never lose the verdicts over them
                        log.warning("building Data Docs failed: %s", e)
                    log.debug("data docs built in %.2fs", time.perf_counter() - t_docs)
                    elapsed = time.perf_counter() - t0
                per = elapsed / max(len(members), 1)
                for ident, vr in res.run_results.items():
                    # suite names are unique within a checkpoint
                    i = next(index_of[m[0].name] for m in members if m[0].suite.name == vr.suite_name)
                    oc = _interpret(suites[i], vr, per, part_str)
                    oc.docs_url = docs_index
                    if docs_index:
                        with contextlib.suppress(Exception):
                            urls = ctx.get_docs_sites_urls(resource_identifier=ident, site_name=_SITE_NAME)
                            if urls and urls[0].get("site_url"):
                                oc.result_url = urls[0]["site_url"]
                    outcomes[i] = oc
        finally:
            release_connections(ds)
    return [outcomes.get(i) or _error_outcome(s, "not validated", time.perf_counter(), part_str) for i, s in enumerate(suites)]


def validate_table(
    db_path: str | Path,
    suite: TableSuite,
    docs_dir: Path | str | None = None,
    **kwargs: Any,
) -> CheckOutcome:
    """Validate one suite; see :func:`validate_many` for the keyword arguments."""
    return validate_many(db_path, [suite], docs_dir, **kwargs)[0]

