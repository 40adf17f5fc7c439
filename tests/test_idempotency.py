"""Idempotency and order-independence of `siyu build` (issue 6 §3).

One small simulated landing (400 members × 20 days) whose tracking partitions of 08-05 and 08-06
hold two files each, delivered in two parts; between them three old partitions change, as
corrected exports do. Four builds:

* `full`: one fresh build of the whole final delivery — the reference;
* `incremental`, in a second warehouse: (1) the first ten days as first delivered: without the day
  folder 08-03 of every source and the second file of 08-05, and with the tracking partition 08-06
  and the group snapshots of 08-02 as they were before their correction; (2) the rest of the
  delivery: the other ten days together with the late pieces — an older day folder and a new file
  in an old partition, arriving after later days were built — and the corrections — 08-06
  re-delivered without one of its events and with an earlier copy of an event of 08-09, the group
  snapshots of 08-02 withdrawn; (3) `--full-refresh`, which loads every partition a second time.

(a) loading the same partitions twice gives identical marts (3 vs 2); (b) first half then the
rest equals one full build, and (c) so do late partitions and late files (2 vs full);
(d) `--full-refresh` equals the incremental result and the fresh build (3 vs 2 and full);
(f) so do corrected old partitions: the rows they changed are as (1) built them before (2) and
as the correction says after.

Build (1) is shared with tests/test_publish.py (its "old" warehouse): `first_half_build` runs it
once per test session (xdist workers share it under a file lock, as conftest's `simulated`), and
each module goes on in a copy of its folder — a build costs ≈ 1 min whatever the data size.

Marts are compared by a checksum of their sorted rows. Doubles are rounded to 9 decimals
(summation order may move the last bit); everything else — lists included, in their order — is
compared exactly. On a mismatch the test names the tables and shows rows that differ.
"""

from __future__ import annotations

import json
import shutil
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from siyu.simulator import simulate
from tests.harness import REPO, copy_build, run_siyu, siyu_env

START = date(2026, 8, 1)
DAYS = 20
HALF = START + timedelta(days=DAYS // 2)      # first day of the second half
LATE_DAY = "2026-08-03"                         # a whole day folder (every source) delivered late
LATE_FILE_DAY = "2026-08-05"                    # an old tracking partition that later gets one more file
LATE_FILE = "late-0001.jsonl"
CORRECTED_DAY = "2026-08-06"                    # an old tracking partition (of two files) re-delivered corrected
SECOND_FILE = "part-0001.jsonl"                 # its second file, which does not change
MOVED_FROM_DAY = "2026-08-09"                   # a later day one of whose events the correction copies into it
WITHDRAWN_DAY = str(START + timedelta(days=1))  # a day whose group snapshots are withdrawn
FLOAT_DIGITS = 9


# ----------------------------------------------------------------------------------------- helpers

def run_build(landing: Path, work_dir: Path, *extra: str) -> float:
    """`siyu build` as users run it; returns the seconds it took."""
    work_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    result = run_siyu(["build", "--landing", str(landing), "--warehouse", str(work_dir / "warehouse.duckdb"), *extra],
                      siyu_env(work_dir))
    if result.returncode != 0:
        raise AssertionError(f"siyu build {' '.join(extra)} failed ({result.returncode}):\n"
                             f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}")
    return time.perf_counter() - started


def _column_expression(name: str, data_type: str) -> str:
    quoted = '"' + name.replace('"', '""') + '"'
    if data_type in ("DOUBLE", "FLOAT", "REAL"):
        return f"round({quoted}, {FLOAT_DIGITS})::varchar"
    if data_type in ("DOUBLE[]", "FLOAT[]"):
        return f"list_transform({quoted}, x -> round(x, {FLOAT_DIGITS}))::varchar"
    return f"{quoted}::varchar"


def _row_expression(con: duckdb.DuckDBPyConnection, schema: str, table: str, ignore: tuple[str, ...] = ()) -> str:
    columns = [(n, t) for n, t in con.execute("""select column_name, data_type from duckdb_columns()
                                                where schema_name = ? and table_name = ? order by column_index""",
                                             [schema, table]).fetchall() if n not in ignore]
    parts = [f"coalesce({_column_expression(n, t)}, '<null>')" for n, t in columns]
    return "concat_ws(chr(31), " + ", ".join(parts) + ")"


def layer_checksums(db: Path, schema: str = "marts", ignore: tuple[str, ...] = ()) -> dict[str, tuple[int, str]]:
    """{table: (rows, md5 of its rows sorted)} for every table of a schema in a DuckDB file
    (columns named in `ignore` left out)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "select table_name from duckdb_tables() where schema_name = ? order by 1", [schema]).fetchall()]
        out: dict[str, tuple[int, str]] = {}
        for table in tables:
            row = _row_expression(con, schema, table, ignore)
            count, digest = con.execute(
                f"select count(*), md5(coalesce(string_agg(r, chr(30) order by r), '')) "
                f"from (select {row} as r from {schema}.\"{table}\")").fetchone()
            out[table] = (count, digest)
        return out
    finally:
        con.close()


def snapshot(work_dir: Path, name: str) -> Path:
    """Keep a copy of the working database (every layer; the published file holds only the marts),
    so later builds in the same folder can be compared to it."""
    target = work_dir.parent / f"{work_dir.name}-{name}.duckdb"
    shutil.copyfile(work_dir / "warehouse.work.duckdb", target)
    wal = work_dir / "warehouse.work.duckdb.wal"
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + ".wal"))
    return target


def _sample_differences(a: Path, b: Path, schema: str, table: str, limit: int = 5) -> str:
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        only_a = con.execute(f"select * from (select * from a.{schema}.\"{table}\" except all "
                             f"select * from b.{schema}.\"{table}\") limit {limit}").fetchall()
        only_b = con.execute(f"select * from (select * from b.{schema}.\"{table}\" except all "
                             f"select * from a.{schema}.\"{table}\") limit {limit}").fetchall()
        return f"    only in {a.name}: {only_a}\n    only in {b.name}: {only_b}"
    finally:
        con.close()


def assert_same_marts(a: Path, b: Path) -> None:
    sums_a, sums_b = layer_checksums(a), layer_checksums(b)
    assert sums_a.keys() == sums_b.keys(), f"mart sets differ: {sorted(sums_a.keys() ^ sums_b.keys())}"
    assert len(sums_a) >= 15, f"expected the marts, found {sorted(sums_a)}"
    different = [t for t in sums_a if sums_a[t] != sums_b[t]]
    if different:
        # Which upstream layers already differ helps find the cause.
        upstream = {s: [t for t, v in layer_checksums(a, s).items() if layer_checksums(b, s).get(t) != v]
                    for s in ("staging", "intermediate")}
        details = "\n".join(f"  marts.{t}: {sums_a[t]} vs {sums_b[t]}\n{_sample_differences(a, b, 'marts', t)}"
                            for t in different)
        raise AssertionError(f"marts differ between {a.name} and {b.name}:\n{details}\n"
                             f"upstream tables that differ too: {upstream}")


def assert_same_layers(a: Path, b: Path) -> None:
    """Staging and intermediate tables equal row for row (staging's `loaded_at` records when, not what)."""
    for schema in ("staging", "intermediate"):
        sums_a, sums_b = layer_checksums(a, schema, ("loaded_at",)), layer_checksums(b, schema, ("loaded_at",))
        assert sums_a.keys() == sums_b.keys() and sums_a, f"{schema}: table sets differ or empty"
        different = [t for t in sums_a if sums_a[t] != sums_b[t]]
        assert not different, f"{schema} differs between {a.name} and {b.name}: " + "\n".join(
            f"{t}: {sums_a[t]} vs {sums_b[t]}\n{_sample_differences(a, b, schema, t)}" for t in different)


def correct_old_partitions(landing: Path) -> dict[str, str]:
    """Re-deliver old partitions changed, as exports get corrected: in the tracking partition
    CORRECTED_DAY one event disappears and a copy of an event of the later day MOVED_FROM_DAY appears
    (so the earlier copy must win from now on); the group snapshots of WITHDRAWN_DAY are withdrawn
    (the partition empties)."""
    tracking = landing / "tracking" / f"dt={CORRECTED_DAY}" / "part-0000.jsonl"
    lines = tracking.read_text(encoding="utf-8").splitlines(keepends=True)
    later_day = landing / "tracking" / f"dt={MOVED_FROM_DAY}"
    later = sorted(later_day.glob("*.jsonl"))[0].read_text(encoding="utf-8").splitlines(keepends=True)[0]
    tracking.write_text("".join(lines[1:]) + later, encoding="utf-8")
    withdrawn = landing / "wecom_groups" / f"dt={WITHDRAWN_DAY}"
    shutil.rmtree(withdrawn)
    return {"dropped": json.loads(lines[0])["event_id"], "moved": json.loads(later)["event_id"],
            "moved_from": MOVED_FROM_DAY, "withdrawn": WITHDRAWN_DAY}


def copy_landing(full: Path, target: Path, keep) -> Path:
    """Copy the parts of a landing folder `keep(source, day, file_name)` accepts (modification times kept)."""
    for path in sorted(full.rglob("*")):
        if not path.is_file() or path.relative_to(full).parts[0].startswith("_"):
            continue
        source, folder, name = path.relative_to(full).parts
        if keep(source, folder.removeprefix("dt="), name):
            destination = target / source / folder / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
    return target


def is_late(source: str, day: str, name: str) -> bool:
    return day == LATE_DAY or (day == LATE_FILE_DAY and name == LATE_FILE)


def landing_files(root: Path) -> set[Path]:
    """The files of a landing folder the loader reads (relative paths; `_truth` and the like left out)."""
    return {p.relative_to(root) for p in root.rglob("*")
            if p.is_file() and not p.relative_to(root).parts[0].startswith("_")}


def sync_landing(source: Path, target: Path) -> None:
    """Make landing folder `target` hold what `source` holds, as a delivery does: new and changed
    files copied in (modification times kept), files and partition folders `source` no longer has
    removed, files that did not change left as they are."""
    wanted = landing_files(source)
    for relative in sorted(wanted):
        destination = target / relative
        if not destination.exists() or destination.read_bytes() != (source / relative).read_bytes():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source / relative, destination)
    for path in sorted(target.rglob("*"), reverse=True):  # a folder's entries before the folder
        relative = path.relative_to(target)
        if relative.parts[0].startswith("_"):
            continue
        if path.is_file() and relative not in wanted:
            path.unlink()
        elif path.is_dir() and not any(path.iterdir()):
            path.rmdir()
    assert landing_files(target) == wanted


def split_file(folder: Path, second: str, cut_at: float) -> None:
    """Split a partition's part-0000.jsonl in two files at the fraction `cut_at` of its lines."""
    lines = (folder / "part-0000.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) > 20
    cut = int(len(lines) * cut_at)
    (folder / "part-0000.jsonl").write_text("".join(lines[:cut]), encoding="utf-8")
    (folder / second).write_text("".join(lines[cut:]), encoding="utf-8")


@dataclass(frozen=True)
class FirstHalf:
    """The landing and the build (1) both modules start from (read them; build only in copies)."""
    landing: Path         # the whole delivery, late pieces and corrections included
    first_landing: Path   # what had landed when (1) was built
    work: Path            # the folder of build (1): working database, published file, sidecars, logs
    changes: dict         # what correct_old_partitions changed
    seconds: float | None  # how long build (1) took, when this call ran it


def first_half_build(tmp_path_factory, worker_id: str) -> FirstHalf:
    """The landing (400 members × 20 days; the tracking partitions of LATE_FILE_DAY and CORRECTED_DAY
    split in two files, the second of LATE_FILE_DAY the late file) and build (1) of its first ten
    days as first delivered, made once per test session: xdist workers share them through the
    session's base folder (the first caller builds, under a file lock; the others wait for it)."""
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent  # pytest-N/, the parent of every worker's popen-gwK/
    root = shared / "idempotency-first-half"
    seconds = None
    with FileLock(str(shared / "idempotency-first-half.lock")):
        if not (root / "ready").exists():
            shutil.rmtree(root, ignore_errors=True)
            as_delivered, landing = root / "landing_as_first_delivered", root / "landing"
            simulate(as_delivered, members=400, days=DAYS, start=START, seed=11, progress=False)
            split_file(as_delivered / "tracking" / f"dt={LATE_FILE_DAY}", LATE_FILE, 2 / 3)
            split_file(as_delivered / "tracking" / f"dt={CORRECTED_DAY}", SECOND_FILE, 1 / 2)
            shutil.copytree(as_delivered, landing)
            (root / "changes.json").write_text(json.dumps(correct_old_partitions(landing)))
            first = copy_landing(as_delivered, root / "landing_first_half",
                                 lambda s, day, n: date.fromisoformat(day) < HALF and not is_late(s, day, n))
            seconds = run_build(first, root / "first_half")
            (root / "ready").touch()
    return FirstHalf(root / "landing", root / "landing_first_half", root / "first_half",
                     json.loads((root / "changes.json").read_text()), seconds)


def continue_from(start: FirstHalf, landing: Path, work: Path) -> None:
    """A landing folder and a warehouse folder of one's own, as build (1) left them: copies of its
    landing (modification times kept) and of its whole build folder (tests.harness.copy_build)."""
    shutil.copytree(start.first_landing, landing)
    copy_build(start.work, work)


# ----------------------------------------------------------------------------------------- fixtures

TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("idempotency")
    return root


@pytest.fixture(scope="module")
def start(tmp_path_factory, worker_id) -> FirstHalf:
    shared = first_half_build(tmp_path_factory, worker_id)
    if shared.seconds is not None:
        TIMINGS["first half (shared with test_publish)"] = shared.seconds
    return shared


@pytest.fixture(scope="module")
def landing(start: FirstHalf) -> Path:
    """The whole delivery: 400 members × 20 days; two old tracking partitions are split in two
    files, the second of LATE_FILE_DAY 'late'; the corrections applied."""
    return start.landing


@pytest.fixture(scope="module")
def full(base: Path, landing: Path) -> Path:
    """One fresh build of everything."""
    work = base / "full"
    TIMINGS["fresh full build"] = run_build(landing, work)
    return snapshot(work, "first")


@pytest.fixture(scope="module")
def incremental(base: Path, start: FirstHalf) -> dict[str, Path]:
    """(1) the first half as first delivered — built once per session (`first_half_build`), here
    continued in a copy of its folder; (2) the rest with the late pieces and the corrections, into
    the same landing folder; (3) --full-refresh, which loads every partition a second time (the
    "same partitions twice" case)."""
    work, part = base / "incremental", base / "landing_incremental"
    continue_from(start, part, work)
    first_half = snapshot(work, "first_half")
    sync_landing(start.landing, part)
    TIMINGS["rest + late pieces + corrections"] = run_build(part, work)
    rest = snapshot(work, "rest")
    TIMINGS["--full-refresh"] = run_build(part, work, "--full-refresh")
    refreshed = snapshot(work, "refreshed")
    return {"work": work, "first_half": first_half, "rest": rest, "refreshed": refreshed}


@pytest.fixture(scope="module", autouse=True)
def _report_timings():
    yield
    if TIMINGS:
        print("\nsiyu build timings: " + ", ".join(f"{k} {v:.0f}s" for k, v in TIMINGS.items()))


# ----------------------------------------------------------------------------------------- tests

def test_landing_fixture_has_the_late_pieces(landing: Path):
    assert (landing / "tracking" / f"dt={LATE_FILE_DAY}" / LATE_FILE).stat().st_size > 0
    assert sum(1 for _ in landing.glob(f"*/dt={LATE_DAY}/*")) >= 3
    assert (landing / "tracking" / f"dt={CORRECTED_DAY}" / SECOND_FILE).stat().st_size > 0
    assert not (landing / "wecom_groups" / f"dt={WITHDRAWN_DAY}").exists()


def test_a_loading_the_same_partitions_twice_gives_identical_marts(incremental):
    # --full-refresh reloads every partition into the already-loaded warehouse
    assert_same_marts(incremental["rest"], incremental["refreshed"])


def test_b_first_half_then_rest_equals_one_full_build(full, incremental):
    assert_same_marts(full, incremental["rest"])


def test_c_late_day_folder_and_late_file_were_loaded_after_later_days(incremental):
    """The late pieces really arrived late (absent from the first build, present in the second),
    so test (b)'s equality also proves (c)."""
    late_day, late_file_day = date.fromisoformat(LATE_DAY), date.fromisoformat(LATE_FILE_DAY)
    counts = []
    for db in (incremental["first_half"], incremental["rest"]):
        con = duckdb.connect(str(db), read_only=True)
        try:
            counts.append((
                con.execute("select count(*) from raw._load_log where dt = ?", [late_day]).fetchone()[0],
                con.execute("select count(distinct _file) from raw.tracking where _dt = ?", [late_file_day]).fetchone()[0],
                con.execute("select count(*) from raw._load_log where dt > ?", [late_day]).fetchone()[0],
            ))
        finally:
            con.close()
    (day_before, files_before, later_before), (day_after, files_after, _) = counts
    assert day_before == 0 and files_before == 1 and later_before > 10
    assert day_after >= 3 and files_after == 2
    assert layer_checksums(incremental["first_half"]) != layer_checksums(incremental["rest"])


def test_d_full_refresh_equals_incremental(full, incremental):
    assert_same_marts(incremental["rest"], incremental["refreshed"])
    assert_same_marts(full, incremental["refreshed"])


def test_e_incremental_staging_and_intermediate_equal_a_full_build(full, incremental):
    """Staging models are incremental (macros/incremental_staging.sql): every layer, not only the
    marts, equals the fresh build, and the full refresh."""
    assert_same_layers(full, incremental["rest"])
    assert_same_layers(incremental["rest"], incremental["refreshed"])


def corrected_rows(db: Path, changes: dict) -> tuple[int, tuple | None, int]:
    """(copies of the dropped event, landed date of the moved one, group snapshots of the withdrawn day)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        dropped = con.execute("select count(*) from staging.stg_tracking__events where event_id = ?",
                              [changes["dropped"]]).fetchone()[0]
        moved = con.execute("select landed_date::varchar from staging.stg_tracking__events where event_id = ?",
                            [changes["moved"]]).fetchone()
        snapshots = con.execute("select count(*) from staging.stg_wecom__groups where snapshot_date = ?",
                                [changes["withdrawn"]]).fetchone()[0]
    finally:
        con.close()
    return dropped, moved, snapshots


def test_f_corrected_old_partitions_equal_a_fresh_build(full, incremental, start):
    """A re-delivered old partition that lost an event and gained an earlier copy of a later one,
    and a withdrawn day of group snapshots, after (1) built them: the incremental run equals a fresh
    build in every layer."""
    assert_same_layers(full, incremental["rest"])
    assert_same_marts(full, incremental["rest"])
    dropped, moved, snapshots = corrected_rows(incremental["first_half"], start.changes)
    assert dropped == 1 and moved == (MOVED_FROM_DAY,) and snapshots > 0, "(1) did not build the partitions as first delivered"
    dropped, moved, snapshots = corrected_rows(incremental["rest"], start.changes)
    assert dropped == 0 and moved == (CORRECTED_DAY,) and snapshots == 0


def test_raw_layer_is_identical_apart_from_load_times(full, incremental):
    """Re-loading replaces, never duplicates: raw tables match the full build row for row
    (ignoring `_loaded_at` / `loaded_at`, which record when a partition was loaded; the `_`-tables
    are bookkeeping: load log, file ledger, salt fingerprint)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{full}' as a (read_only)")
        con.execute(f"attach '{incremental['rest']}' as b (read_only)")
        tables = [t for (t,) in con.execute("select table_name from duckdb_tables() where database_name = 'a' "
                                            "and schema_name = 'raw' and not starts_with(table_name, '_') order by 1").fetchall()]
        assert "quarantine" in tables and "tracking" in tables
        for table in tables:
            for x, y in (("a", "b"), ("b", "a")):
                n = con.execute(f"select count(*) from (select * exclude (%s) from {x}.raw.\"{table}\" except all "
                                f"select * exclude (%s) from {y}.raw.\"{table}\")"
                                % ((("loaded_at",) if table == "quarantine" else ("_loaded_at",)) * 2)).fetchone()[0]
                assert n == 0, f"raw.{table}: {n} rows in {x} but not in {y}"
    finally:
        con.close()


def test_list_aggregates_in_models_have_a_defined_order():
    """`list(x)` / `string_agg(x)` / `array_agg(x)` without ORDER BY take rows in the order the
    threads happen to deliver them: identical at this test's size (one thread's worth of rows),
    different from run to run at production size. Each must be sorted or ordered."""
    import re

    unordered = []
    for path in sorted((REPO / "dbt_project" / "models").rglob("*.sql")):
        text = re.sub(r"--[^\n]*|\{#.*?#\}", "", path.read_text(), flags=re.S)
        for match in re.finditer(r"(?<![\w.])(list|string_agg|array_agg|group_concat|listagg)\s*\(", text, re.I):
            depth, end = 1, match.end()
            while depth and end < len(text):
                depth += {"(": 1, ")": -1}.get(text[end], 0)
                end += 1
            inside = text[match.end():end - 1]
            before = text[max(0, match.start() - 40):match.start()].lower()
            if "order by" in inside.lower() or re.search(r"(list_sort|array_sort|list_reverse_sort)\s*\((\w+\s*\()*\s*$", before):
                continue
            line = text.count("\n", 0, match.start()) + 1
            unordered.append(f"{path.relative_to(REPO)}:{line}: {text[match.start():end].strip()}")
    assert not unordered, "aggregates whose element order is not defined:\n  " + "\n  ".join(unordered)
