"""Which raw partitions have passed their Great Expectations suite, so a build validates only the rest.

Every expectation of a raw suite (``data_quality.suites``) looks at one row at a time, or at one
partition at a time (uniqueness is per ``_dt``): a partition's verdict depends on that partition
alone. A partition that passed therefore stays valid until it is loaded again (its ``loaded_at`` in
``raw._load_log`` changes: a re-delivery, a full refresh) or the suite changes (its fingerprint:
the expectations and the code that runs and reads them). ``siyu forget`` removes rows and blanks the
erased person's values inside JSON columns, keeping them valid: neither can make a passing partition
fail. So a build checks

* nothing, when no partition of the table changed since its last passing validation;
* the changed partitions one by one, when they are few (a new day, a late one);
* the whole table otherwise (a first build, a full refresh, a changed suite, an empty table) — one
  pass, as before.

A failed validation records nothing: its partitions are validated again by the next build, and keep
failing it until their data or the suite is fixed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from importlib.metadata import version

import duckdb

from siyu.fingerprint import quality_code_fingerprint

from .suites import TableSuite

LEDGER = "raw._checked_partitions"
LEDGER_DDL = """
    source varchar not null,
    dt date not null,
    loaded_at timestamp not null,
    suite_fingerprint varchar not null,
    checked_at timestamp not null
"""
# Up to this many changed partitions are validated one by one; beyond it, one pass over the table
# (each partition is a Great Expectations checkpoint run of its own: ≈ 0.1–0.3 s of fixed cost)
MAX_PARTITIONS_ONE_BY_ONE = 3


def suite_fingerprint(suite: TableSuite) -> str:
    """The suite's expectations, Great Expectations' version and the code of this package (the runner
    and how it reads results): a change to any of them validates every partition again."""
    digest = hashlib.sha256(f"great_expectations {version('great_expectations')}\n".encode())
    for expectation in suite.expectations:
        digest.update(json.dumps(expectation.configuration.to_json_dict(), sort_keys=True, default=str).encode())
    digest.update(quality_code_fingerprint().encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Plan:
    """What to validate of one raw table: `days` (each on its own), or the whole table, or nothing."""
    source: str
    whole_table: bool
    days: tuple[date, ...]  # the partitions validated one by one (empty when whole_table)
    loaded: int  # partitions in the load log
    unchecked: int  # of them, not validated since they were loaded
    # every partition's load as it was when planned: a pass records only these (a partition reloaded
    # meanwhile, by a concurrent run, is validated again by the next build)
    load_times: tuple[tuple[date, datetime], ...] = ()

    def describe(self) -> str:
        if self.whole_table:
            return f"whole table ({self.unchecked} of {self.loaded} partitions changed since their last validation)"
        if not self.days:
            return f"nothing new: all {self.loaded} partitions passed this suite since they were loaded"
        return (f"{len(self.days)} changed partition(s) ({', '.join(d.isoformat() for d in self.days)}); the other "
                f"{self.loaded - len(self.days)} passed this suite since they were loaded")


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create schema if not exists raw")
    con.execute(f"create table if not exists {LEDGER} ({LEDGER_DDL})")


def plan(con: duckdb.DuckDBPyConnection, source: str, fingerprint: str) -> Plan:
    """The partitions of `source` that have no passing validation by this suite since they were loaded."""
    ensure_ledger(con)
    rows = con.execute(f"""
        select l.dt, c.dt is null as unchecked, l.loaded_at
        from raw._load_log l
        left join {LEDGER} c
          on c.source = l.source and c.dt = l.dt and c.loaded_at = l.loaded_at and c.suite_fingerprint = ?
        where l.source = ?
        order by l.dt""", [fingerprint, source]).fetchall()
    unchecked = tuple(dt for dt, is_unchecked, _ in rows if is_unchecked)
    # an empty table is validated whole too: cheap, and its columns and types are still checked
    whole = not rows or len(unchecked) > MAX_PARTITIONS_ONE_BY_ONE or len(unchecked) == len(rows)
    return Plan(source, whole, () if whole else unchecked, len(rows), len(unchecked),
                tuple((dt, loaded_at) for dt, _, loaded_at in rows))


def record_passed(con: duckdb.DuckDBPyConnection, checked: Plan, fingerprint: str) -> None:
    """After a passing validation: its partitions (every loaded one, for a whole-table pass) are current,
    as they were loaded when planned."""
    ensure_ledger(con)
    days = set(checked.days)
    validated = [(dt, loaded_at) for dt, loaded_at in checked.load_times if checked.whole_table or dt in days]
    if not validated:
        return
    con.execute("begin")
    try:
        con.execute(f"delete from {LEDGER} where source = ? and dt = any(?::date[])",
                    [checked.source, [dt for dt, _ in validated]])
        con.execute(f"insert into {LEDGER} select ?, unnest(?::date[]), unnest(?::timestamp[]), ?, now()::timestamp",
                    [checked.source, [dt for dt, _ in validated], [loaded_at for _, loaded_at in validated], fingerprint])
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
