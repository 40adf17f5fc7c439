"""Data-quality layer: Great Expectations suites as code and a DuckDB-pushdown runner.

No Dagster import here: Dagster asset checks call :func:`validate_table` / :func:`validate_many`.
"""

from .runner import CheckOutcome, FailedExpectation, release_connections, validate_many, validate_table
from .suites import RAW_SUITES, SUITES, TableSuite, raw_suites, register

__all__ = [
    "CheckOutcome",
    "FailedExpectation",
    "RAW_SUITES",
    "SUITES",
    "TableSuite",
    "raw_suites",
    "register",
    "release_connections",
    "validate_many",
    "validate_table",
]
