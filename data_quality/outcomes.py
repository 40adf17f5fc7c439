"""What a validation says: a check's outcome and its failed expectations, read from GE's
validation results (an expectation whose metric raised, or that gave no verdict, is FAILED)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .suites import TableSuite


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


def short(v: Any, n: int = 160) -> str:
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
            parts.append(f"e.g. {short(sample[:5], 120)}")
    if "observed_value" in result:
        ov = result.get("observed_value")
        if etype in _SQL_CHECK_TYPES:
            parts.append(f"{ov} unexpected rows")
            rows = result.get("details", {}).get("unexpected_rows") if isinstance(result.get("details"), dict) else None
            if rows:
                parts.append(f"e.g. {short(rows[:5], 400)}")
        else:
            parts.append(f"observed {short(ov)}")
            details = result.get("details")
            if isinstance(details, dict) and details.get("mismatched"):
                parts.append(f"mismatched {short(details['mismatched'])}")
    expected = {k: kwargs[k] for k in ("type_", "min_value", "max_value", "value_set") if k in kwargs and kwargs[k] is not None}
    if expected:
        parts.append("expected " + short(expected, 120))
    return "; ".join(parts) or "failed"


def interpret(suite: TableSuite, vr, duration: float, partition: str | None) -> CheckOutcome:
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
            failed.append(FailedExpectation(etype, column, f"metric error: {short(exc, 400)}", severity, errored=True))
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



def error_outcome(suite: TableSuite, reason: str, t0: float, partition: str | None) -> CheckOutcome:
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


def combined(suite: TableSuite, outcomes: list[CheckOutcome], note: str) -> CheckOutcome:
    """One outcome for a suite validated partition by partition: it passes when every partition passed;
    each failure names its partition. With no partition validated it passes, saying why in `note`."""
    failed = [FailedExpectation(f.expectation_type, f.column, f"@{o.partition}: {f.reason}", f.severity, f.errored)
              for o in outcomes for f in o.failed]
    warnings = [FailedExpectation(w.expectation_type, w.column, f"@{o.partition}: {w.reason}", w.severity, w.errored)
                for o in outcomes for w in o.warnings]
    failing = next((o for o in outcomes if not o.success), None)
    shown = failing or (outcomes[-1] if outcomes else None)
    return CheckOutcome(
        suite_name=suite.name,
        table=suite.table,
        success=not failed,
        evaluated_expectations=sum(o.evaluated_expectations for o in outcomes),
        successful_expectations=sum(o.successful_expectations for o in outcomes),
        failed=failed,
        warnings=warnings,
        duration_s=sum(o.duration_s for o in outcomes),
        docs_url=shown.docs_url if shown else None,
        result_url=shown.result_url if shown else None,
        partition=", ".join(o.partition for o in outcomes if o.partition) or None,
        note=note,
    )
