"""The project's own generic dbt tests (dbt_project/tests/generic/), rendered as dbt renders them
and run on small DuckDB tables: they pass on good rows and count the bad ones."""

from __future__ import annotations

import re

import duckdb
import jinja2
import pytest

from tests.harness import REPO

GENERIC = REPO / "dbt_project" / "tests" / "generic"


def render(test: str, **arguments) -> tuple[str, str]:
    """(the test's SQL, its fail_calc): the body of `{% test %}` rendered like dbt does."""
    text = (GENERIC / f"{test}.sql").read_text(encoding="utf-8")
    body = re.search(r"{%\s*test\s+\w+\(.*?\)\s*%}(.*){%\s*endtest\s*%}", text, re.S).group(1)
    config = re.search(r"{{\s*config\((.*?)\)\s*}}", body, re.S)
    fail_calc = re.search(r"fail_calc\s*=\s*'([^']*)'", config.group(1)).group(1) if config else "count(*)"
    body = body.replace(config.group(0), "") if config else body
    return jinja2.Template(body).render(**arguments), fail_calc


def failures(con: duckdb.DuckDBPyConnection, sql: str, fail_calc: str) -> int:
    """What dbt reports: fail_calc over the test's rows (0 = pass)."""
    return con.execute(f"select {fail_calc} from ({sql}) as dbt_internal_test").fetchone()[0]


@pytest.fixture()
def con():
    con = duckdb.connect()
    con.execute("""create table t as select * from (values
        (1, 'a', date '2026-06-01'), (2, null, date '2026-06-02'), (3, null, null), (4, 'd', null), (5, 'e', date '2026-06-05'))
        as v(id, name, day)""")
    yield con
    con.close()


def test_not_null_columns_counts_the_rows_with_a_null_and_names_the_columns(con):
    sql, fail_calc = render("not_null_columns", model="t", columns=["id", "name", "day"])
    assert failures(con, sql, fail_calc) == 3  # rows 2, 3 and 4
    assert sorted(con.execute(sql).fetchall()) == [("day", 1), ("name", 1), ("name, day", 1)]
    sql, fail_calc = render("not_null_columns", model="t", columns=["id"])
    assert failures(con, sql, fail_calc) == 0
    assert con.execute(sql).fetchall() == []


def test_unique_combination_reports_each_repeated_combination(con):
    sql, fail_calc = render("unique_combination", model="t", columns=["name"])
    assert failures(con, sql, fail_calc) == 1  # name null twice (nulls compare equal)
    sql, fail_calc = render("unique_combination", model="t", columns=["id", "name"])
    assert failures(con, sql, fail_calc) == 0
