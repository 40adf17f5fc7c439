"""The process-wide Great Expectations context: the Data Docs site, one SQL datasource per DuckDB
file (pushdown through duckdb-engine), suites / validation definitions / checkpoints registered
once and reused while unchanged, and connections released after every run so another process
(dbt) can take the file's write lock right away."""

from __future__ import annotations

import contextlib
import hashlib
import logging
from pathlib import Path
from typing import Any

from . import duckdb_compat
from .suites import TableSuite

SITE_NAME = "siyu_quality_docs"
_CONTEXT: Any = None
_SITE_DIR: Path | None = None


def get_context(docs_dir: Path | None):
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
            if SITE_NAME in ctx.list_data_docs_sites():
                ctx.update_data_docs_site(SITE_NAME, site)
            else:
                ctx.add_data_docs_site(SITE_NAME, site)
            _SITE_DIR = docs_dir
    return ctx


def _datasource_name(db_path: Path, read_only: bool) -> str:
    return f"duckdb_{hashlib.sha1(str(db_path).encode()).hexdigest()[:12]}{'_ro' if read_only else '_rw'}"


def get_datasource(ctx, db_path: Path, read_only: bool):
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



def site_dir() -> Path | None:
    """The Data Docs folder the context writes to (None before the first run that builds docs)."""
    return _SITE_DIR




# Suites, validation definitions and checkpoints are registered once per process and
# reused while unchanged (GE's add_or_update compares expectations pairwise: ~0.3 s/suite).
_REGISTERED: dict[tuple, tuple[Any, Any]] = {}


def _fingerprint(obj: Any) -> str:
    return hashlib.sha1(repr(obj).encode()).hexdigest()


def ensure_suite(ctx, suite: TableSuite):
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


def ensure_validation_definition(ctx, name: str, bd, gx_suite):
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


def ensure_checkpoint(ctx, ds_name: str, vds: list, result_format: str):
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


def install_template_cache() -> None:
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
