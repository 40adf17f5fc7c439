"""Which statements may run: parse first, let only reads through."""

from __future__ import annotations

import re
from typing import Any

import duckdb

from .connection import ShellError

_ST = duckdb.StatementType
_LEADING_NOISE = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S)

#: PRAGMAs that only read (import_database, enable_*, copy_database, add_parquet_key… do not).
READ_PRAGMAS = frozenset({
    "table_info", "show", "show_tables", "show_tables_expanded", "show_databases", "database_list",
    "database_size", "storage_info", "metadata_info", "version", "platform", "functions",
    "collations", "user_agent",
})
#: CALL targets that only read: the duckdb_* catalog functions and the read PRAGMAs' functions.
READ_CALLS = frozenset({"pragma_" + p for p in READ_PRAGMAS} | {"summary"})
#: Table functions that change state or run SQL text past these checks. Under a read-only,
#: locked connection they are no-ops or errors already; they are refused all the same.
DENIED_FUNCTIONS = frozenset({
    "checkpoint", "force_checkpoint", "truncate_duckdb_logs", "enable_logging", "disable_logging",
    "enable_profiling", "disable_profiling", "register_external_resource",
    "register_external_resource_type", "create_external_resource", "destroy_external_resource",
    "deregister_external_resource", "json_execute_serialized_sql", "query",
})

ALLOWED_SUMMARY = ("SELECT (WITH, FROM, VALUES), DESCRIBE, SHOW, SUMMARIZE, PIVOT, EXPLAIN, "
                   "USE, read-only PRAGMA and CALL")


def _strip_leading(sql: str) -> str:
    return sql[_LEADING_NOISE.match(sql).end():]


def _first_word(sql: str) -> str:
    m = re.match(r"[A-Za-z_]+", _strip_leading(sql))
    return m.group(0).upper() if m else "this"


def _named(sql: str, kind: Any) -> str:
    """What a refused statement is called: its first word, unless that is WITH (a CTE before an
    INSERT, UPDATE or DELETE): then its kind."""
    word = _first_word(sql)
    return kind.name.replace("_", " ") if word == "WITH" else word


def _denied_function(sql: str) -> str | None:
    try:
        tokens = duckdb.tokenize(sql)
    except Exception:  # noqa: BLE001 - what cannot be tokenised cannot be checked
        return "?"
    texts = [sql[pos:(tokens[i + 1][0] if i + 1 < len(tokens) else len(sql))].strip()
             for i, (pos, _kind) in enumerate(tokens)]
    for i, (_pos, kind) in enumerate(tokens):
        if kind in (duckdb.token_type.identifier, duckdb.token_type.keyword):
            name = texts[i].strip('"').lower()
            if name in DENIED_FUNCTIONS and i + 1 < len(texts) and texts[i + 1].startswith("("):
                return name
    return None


def refusal(statement: Any) -> str | None:
    """Why `statement` may not run in siyu sql, or None if it only reads."""
    sql = statement.query
    try:
        kind = statement.type
    except ValueError:  # a statement type this DuckDB's Python API cannot even name
        return f"{_first_word(sql)} is not allowed: siyu sql is read-only (allowed: {ALLOWED_SUMMARY})"
    text = _strip_leading(sql)
    if kind == _ST.SELECT:
        reason = None
    elif kind == _ST.MULTI and re.match(r"(?:un)?pivot\b", text, re.I):
        reason = None
    elif kind == _ST.EXPLAIN:
        m = re.match(r"explain\s+(?:analy[sz]e\s+)?(?:\((?:[^()]|\([^()]*\))*\)\s*)?", text, re.I)
        inner = text[m.end():] if m else ""
        try:
            inner_statements = duckdb.extract_statements(inner) if inner.strip() else []
        except Exception:  # noqa: BLE001
            inner_statements = []
        if len(inner_statements) != 1:
            return "EXPLAIN is allowed only of a query this shell may run"
        reason = refusal(inner_statements[0])
        return f"EXPLAIN of a refused statement: {reason}" if reason else None
    elif kind == _ST.PRAGMA:
        m = re.match(r"pragma\s+([A-Za-z_]+)\b", text, re.I)
        if not m or m.group(1).lower() not in READ_PRAGMAS:
            what = f"PRAGMA {m.group(1)}" if m else f"{_first_word(sql)}"
            return (f"{what} is not allowed: siyu sql is read-only "
                    f"(read-only PRAGMAs: {', '.join(sorted(READ_PRAGMAS))})")
        reason = None
    elif kind == _ST.CALL:
        m = re.match(r"call\s+([A-Za-z_][A-Za-z0-9_]*)\s*\(", text, re.I)
        name = m.group(1).lower() if m else ""
        if not (name in READ_CALLS or name.startswith("duckdb_")):
            what = f"CALL {name}" if name else _first_word(sql)
            return f"{what} is not allowed: siyu sql is read-only (use SELECT … FROM a function instead)"
        reason = None
    elif kind == _ST.SET:
        pragma = re.match(r"pragma\s+([A-Za-z_]+)", text, re.I)
        if pragma:  # `PRAGMA name = value` parses as a SET
            return (f"PRAGMA {pragma.group(1)} is not allowed: siyu sql is read-only "
                    f"(read-only PRAGMAs: {', '.join(sorted(READ_PRAGMAS))})")
        if re.match(r"use\s+\S", text, re.I) or re.match(
                r"(?:set\s+(?:session\s+|local\s+)?|reset\s+(?:session\s+|local\s+)?)(?:search_path|schema)\b",
                text, re.I):
            return None
        return ("SET/RESET is not allowed: the shell's settings are locked "
                "(USE <schema> and SET search_path = '…' are allowed)")
    elif kind == _ST.COPY or kind == _ST.EXPORT or kind == _ST.COPY_DATABASE:
        return (f"{_first_word(sql)} is not allowed: siyu sql only reads the warehouse. To save a "
                "result, print it with --format csv or --format json and redirect: "
                "siyu sql -c \"select …\" --format csv > result.csv")
    elif kind in (_ST.ATTACH, _ST.DETACH):
        return f"{_first_word(sql)} is not allowed: siyu sql reads the published warehouse and nothing else"
    elif kind in (_ST.LOAD, _ST.EXTENSION):
        return f"{_first_word(sql)} is not allowed: extensions cannot be installed or loaded in siyu sql"
    else:
        return f"{_named(sql, kind)} is not allowed: siyu sql is read-only (allowed: {ALLOWED_SUMMARY})"
    denied = _denied_function(sql)
    if denied == "?":
        return "this statement could not be checked, so it is not run"
    if denied:
        return f"{denied}() is not allowed: siyu sql is read-only"
    return None


def parse(sql: str) -> list[Any]:
    """The statements of `sql`; raises duckdb.Error for bad SQL, ShellError for what cannot run."""
    try:
        statements = duckdb.extract_statements(sql)
    except ValueError:  # a statement type this DuckDB's Python API cannot even name
        raise ShellError(f"{_first_word(sql)} is not allowed: siyu sql is read-only "
                         f"(allowed: {ALLOWED_SUMMARY})") from None
    reasons = [r for r in (refusal(s) for s in statements) if r]
    if reasons:
        note = "" if len(statements) == 1 else "\n(nothing was run)"
        raise ShellError("\nerror: ".join(reasons) + note)
    return statements


def statement_complete(sql: str) -> bool:
    """True when `sql` ends with a ';' outside strings and comments."""
    if not sql.strip():
        return False
    try:
        tokens = duckdb.tokenize(sql)
    except Exception:  # noqa: BLE001
        return sql.rstrip().endswith(";")
    for pos, kind in reversed(tokens):
        if kind == duckdb.token_type.comment:
            continue
        return kind == duckdb.token_type.operator and sql[pos] == ";"
    return False
