"""Make Great Expectations' SQL datasource work on DuckDB (duckdb-engine).

Two independent problems, both fixed by :func:`install` (idempotent, called by the runner):

1. **Results read from a returned connection** (STACK-NOTES pitfall 1, GE issues 10738 /
   11579). ``SqlAlchemyExecutionEngine.get_connection()`` (GE 1.24.1,
   ``execution_engine/sqlalchemy_execution_engine.py`` ~l.1514) does
   ``with self.engine.connect() as connection: yield connection`` for every dialect that is
   not in ``_PERSISTED_CONNECTION_DIALECTS``; ``execute_query`` returns the cursor result
   *after* that ``with`` exits, i.e. after the pool's reset-on-return rolled back. duckdb-engine
   shares one cursor per connection, so the rollback empties the pending result and GE gets
   ``list index out of range`` -> every metric errors -> ``success=False, observed_value=None``.
   Fix: register DuckDB as a dialect that keeps a persisted connection. Two places read the
   tuple ``_PERSISTED_CONNECTION_DIALECTS`` (l.181):

   * ``get_connection()``: ``if self.dialect_name in _PERSISTED_CONNECTION_DIALECTS`` -- a
     plain string comparison against ``engine.dialect.name`` (``"duckdb"``);
   * ``_dialect_requires_persisted_connection()`` (l.199): ``str_to_check.startswith(
     dialect_name.value)`` -- needs a ``.value`` attribute, and when true ``_setup_engine``
     (l.~515) creates the engine with ``poolclass=sqlalchemy.StaticPool`` (one connection).

   So we append a ``str`` subclass equal to ``"duckdb"`` whose ``.value`` is ``"duckdb"``.

2. **Column reflection is broken** with duckdb-engine 0.17 + SQLAlchemy 2.1: duckdb-engine's
   ``Dialect.get_multi_columns`` reuses PostgreSQL's ``_columns_query``, which in SQLAlchemy
   2.1 joins ``pg_catalog.pg_collation`` -- a table DuckDB does not have (``Binder Error:
   Referenced table "pg_catalog.pg_collation" not found``). GE's ``table.column_types`` metric
   (``expectations/metrics/util.py::get_sqlalchemy_column_metadata``) then falls back to
   ``column_reflection_fallback`` which drops the schema (``SELECT * FROM tracking``) and
   returns names without types, so every column expectation errors and type checks are
   impossible. Fix: replace ``get_multi_columns`` on duckdb-engine's dialect with one that
   reads DuckDB's own catalog (``duckdb_columns()``) and maps DuckDB type names to SQLAlchemy
   types (``VARCHAR`` -> ``sa.VARCHAR``, ``BIGINT`` -> ``sa.BIGINT``, ``DECIMAL(18,2)`` ->
   ``sa.DECIMAL(18, 2)``, ``JSON`` -> ``sa.JSON``, ``TIMESTAMP WITH TIME ZONE`` ->
   ``sa.TIMESTAMP(timezone=True)`` ...). This affects only SQLAlchemy reflection through
   duckdb-engine in this process (dbt-duckdb and Dagster do not use SQLAlchemy).

Type names for ``ExpectColumnValuesToBeOfType`` on DuckDB: GE has no DuckDB dialect module, so
it resolves ``type_`` with ``getattr(sqlalchemy, type_)`` and compares with ``isinstance``
(``expectations/type_comparison.py::_get_dialect_type_module`` returns top-level ``sa`` when
``dialect_module is None``). Use the names in :data:`DUCKDB_TO_SA_TYPE_NAME`.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa

# DuckDB catalog type (upper-case, without parameters) -> SQLAlchemy class name to use as
# ``type_`` in ExpectColumnValuesToBeOfType.
DUCKDB_TO_SA_TYPE_NAME: dict[str, str] = {
    "VARCHAR": "VARCHAR",
    "BIGINT": "BIGINT",
    "INTEGER": "INTEGER",
    "SMALLINT": "SMALLINT",
    "BOOLEAN": "BOOLEAN",
    "DOUBLE": "DOUBLE",
    "FLOAT": "REAL",
    "DATE": "DATE",
    "TIME": "TIME",
    "TIMESTAMP": "TIMESTAMP",
    "TIMESTAMP WITH TIME ZONE": "TIMESTAMP",
    "DECIMAL": "DECIMAL",
    "JSON": "JSON",
    "UUID": "UUID",
    "BLOB": "LargeBinary",
    "INTERVAL": "Interval",
}

_SIMPLE_TYPES: dict[str, Any] = {
    "VARCHAR": sa.VARCHAR,
    "BIGINT": sa.BIGINT,
    "INTEGER": sa.INTEGER,
    "SMALLINT": sa.SMALLINT,
    "BOOLEAN": sa.BOOLEAN,
    "DOUBLE": sa.DOUBLE,
    "FLOAT": sa.REAL,
    "DATE": sa.DATE,
    "TIME": sa.TIME,
    "TIMESTAMP": sa.TIMESTAMP,
    "JSON": sa.JSON,
    "UUID": sa.UUID,
    "BLOB": sa.LargeBinary,
    "INTERVAL": sa.Interval,
}
_DECIMAL_RE = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")


class _DuckDBDialectName(str):
    """``"duckdb"`` with the ``.value`` that GE's ``_dialect_requires_persisted_connection`` reads."""

    @property
    def value(self) -> str:
        return str(self)


def duckdb_type_to_sa(type_name: str, dialect: Any = None) -> sa.types.TypeEngine:
    """Map a DuckDB catalog type name (as in ``duckdb_columns().data_type``) to a SA type."""
    t = type_name.strip().upper()
    m = _DECIMAL_RE.match(t)
    if m:
        return sa.DECIMAL(int(m.group(1)), int(m.group(2)))
    if t in ("TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ"):
        return sa.TIMESTAMP(timezone=True)
    if t in ("TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS"):
        return sa.TIMESTAMP()
    if t in ("TIME WITH TIME ZONE", "TIMETZ"):
        return sa.TIME(timezone=True)
    if t in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[t]()
    if t.endswith("[]"):
        return sa.ARRAY(duckdb_type_to_sa(t[:-2], dialect))
    if dialect is not None:  # duckdb-engine's own names (HUGEINT, UTINYINT, ...)
        cls = dialect.ischema_names.get(t.lower())
        if cls is not None:
            try:
                return cls()
            except TypeError:  # pragma: no cover - types that need arguments
                pass
    return sa.types.NullType()


def _get_multi_columns(self, connection, schema=None, filter_names=None, scope=None, kind=None, **kw):
    """Column reflection from DuckDB's catalog (replaces duckdb-engine's pg_catalog query)."""
    database = None
    schema_name = schema
    if schema is not None and "." in schema:
        database, schema_name = self.identifier_preparer._separate(schema)
    sql = (
        "select table_name, column_name, data_type, is_nullable, column_default, comment "
        "from duckdb_columns() "
        "where schema_name = coalesce(:schema_name, current_schema()) "
        "and database_name = coalesce(:database, current_database()) "
    )
    params: dict[str, Any] = {"schema_name": schema_name, "database": database}
    if filter_names:
        sql += "and list_contains(:names, table_name) "
        params["names"] = list(filter_names)
    sql += "order by table_name, column_index"
    rows = connection.execute(sa.text(sql), params).fetchall()
    result: dict[tuple, list] = {}
    for table_name, column_name, data_type, is_nullable, default, comment in rows:
        result.setdefault((schema, table_name), []).append(
            {
                "name": column_name,
                "type": duckdb_type_to_sa(data_type, self),
                "nullable": bool(is_nullable),
                "default": default,
                "autoincrement": False,
                "comment": comment,
            }
        )
    return list(result.items())


_installed = False


def install() -> None:
    """Apply both fixes (idempotent). Must run before GE builds an execution engine."""
    global _installed
    if _installed:
        return
    from great_expectations.execution_engine import sqlalchemy_execution_engine as see

    if not any(str(d) == "duckdb" or getattr(d, "value", None) == "duckdb" for d in see._PERSISTED_CONNECTION_DIALECTS):
        see._PERSISTED_CONNECTION_DIALECTS = (*see._PERSISTED_CONNECTION_DIALECTS, _DuckDBDialectName("duckdb"))

    import duckdb_engine

    duckdb_engine.Dialect.get_multi_columns = _get_multi_columns
    _installed = True


def is_installed() -> bool:
    return _installed
