"""A SQL expectation that costs ONE query: :class:`ExpectNoUnexpectedRows`.

GE's ``UnexpectedRowsExpectation`` (1.24) depends on two metrics, ``unexpected_rows_query.row_count``
(``SELECT COUNT(*) FROM (<query>)``) and ``unexpected_rows_query.table`` (``<query>`` fetched up to
200 rows), so every custom SQL check runs its query twice -- and on data that passes, both are
full evaluations (measured at 100k members: the touchpoint -> member check 0.7 s + 0.6 s, the
old PII scan 4.1 s + 3.9 s). With result format SUMMARY the second one is even thrown away.

:class:`ExpectNoUnexpectedRows` depends on one metric, ``unexpected_rows_query.counted_sample``,
which runs ``SELECT count(*) OVER () AS <n>, * FROM (<query>) LIMIT <sample>``: DuckDB evaluates the
query once and returns the total number of unexpected rows together with a few of them (shown in
the reason and Data Docs: the query should select ids, never PII values).

Everything else is inherited (``{batch}`` substitution, brace escaping, renderers): it is a
``UnexpectedRowsExpectation`` for GE, with the expectation type ``expect_no_unexpected_rows``.
"""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Optional, Tuple, Union

import sqlalchemy as sa
from great_expectations.compatibility.typing_extensions import override
from great_expectations.core.metric_domain_types import MetricDomainTypes
from great_expectations.core.result_format import ResultFormat
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.core.unexpected_rows_expectation import UnexpectedRowsExpectation
from great_expectations.expectations.metrics.metric_provider import metric_value
from great_expectations.expectations.metrics.query_metric_provider import QueryMetricProvider

METRIC_NAME = "unexpected_rows_query.counted_sample"
COUNT_COLUMN = "__unexpected_row_count"
SAMPLE_ROWS = 20


class UnexpectedRowsCountedSample(QueryMetricProvider):
    """``{"count": <rows the query returns>, "sample": [<first SAMPLE_ROWS rows as dicts>]}`` in one query."""

    metric_name = METRIC_NAME
    value_keys = ("unexpected_rows_query",)
    query_param_name: ClassVar[str] = "unexpected_rows_query"

    @metric_value(engine=SqlAlchemyExecutionEngine)
    def _sqlalchemy(
        cls,
        execution_engine: SqlAlchemyExecutionEngine,
        metric_domain_kwargs: dict,
        metric_value_kwargs: dict,
        metrics: Dict[str, Any],
        runtime_configuration: dict,
    ) -> dict:
        batch_selectable, _, _ = execution_engine.get_compute_domain(
            metric_domain_kwargs, domain_type=MetricDomainTypes.TABLE
        )
        query = cls._get_query_from_metric_value_kwargs(metric_value_kwargs)
        substituted = cls._get_substituted_batch_subquery_from_query_and_batch_selectable(
            query=query, batch_selectable=batch_selectable, execution_engine=execution_engine
        )
        sql = (
            f'SELECT count(*) OVER () AS "{COUNT_COLUMN}", * '
            f"FROM ({substituted}) AS unexpected_rows LIMIT {SAMPLE_ROWS}"
        )
        rows = execution_engine.execute_query(sa.text(sql)).fetchall()
        sample = []
        for row in rows:
            d = dict(row._asdict())
            d.pop(COUNT_COLUMN, None)
            sample.append({k: _jsonable(v) for k, v in d.items()})
        return {"count": int(rows[0][0]) if rows else 0, "sample": sample}


def escape_braces(text: str) -> str:
    """Text to paste into an ``unexpected_rows_query``: GE fills in ``{batch}`` with ``str.format``,
    so every other brace must be doubled."""
    return text.replace("{", "{{").replace("}", "}}")


def sql_string(text: str) -> str:
    """A SQL string literal of `text` for an ``unexpected_rows_query`` (quotes and braces escaped)."""
    return "'" + escape_braces(text.replace("'", "''")) + "'"


def _jsonable(v: Any) -> Any:
    """Validation results are stored as JSON: keep basic types, render the rest as text."""
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


class ExpectNoUnexpectedRows(UnexpectedRowsExpectation):
    """Passes when ``unexpected_rows_query`` returns no row; evaluated with a single query.

    ``columns`` only labels the check in reports (e.g. the key of a uniqueness check).
    """

    columns: Optional[List[str]] = None

    metric_dependencies: ClassVar[Tuple[str, ...]] = (METRIC_NAME,)

    @override
    def _validate(
        self,
        metrics: dict,
        runtime_configuration: dict | None = None,
        execution_engine=None,
    ) -> Union[Any, dict]:
        result_format_config = self._get_result_format(runtime_configuration=runtime_configuration)
        if isinstance(result_format_config, dict):
            result_format = result_format_config.get("result_format", ResultFormat.SUMMARY)
        else:
            result_format = result_format_config
        value = metrics[METRIC_NAME]
        count = value["count"]
        success = count == 0
        if result_format == ResultFormat.BOOLEAN_ONLY:
            return {"success": success}
        return {
            "success": success,
            "result": {"observed_value": count, "details": {"unexpected_rows": value["sample"]}},
        }
