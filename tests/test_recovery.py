"""Recovery without hand work (issue 12): a build started right after a killed one waits for the
orphaned child that still holds the working database's lock instead of failing."""

from __future__ import annotations

import subprocess
import sys
import time

import duckdb
import pytest

from siyu.build import connect_working_db

HOLD = ("import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); c.execute('create table t (x int)'); "
        "print('locked', flush=True); time.sleep(float(sys.argv[2]))")


def hold_lock(path, seconds: float) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(path), str(seconds)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "locked"
    return proc


def test_a_new_build_waits_for_a_lingering_lock_holder(tmp_path, capsys):
    db = tmp_path / "w.work.duckdb"
    holder = hold_lock(db, 2.5)
    started = time.monotonic()
    con = connect_working_db(db, wait_s=30)
    waited = time.monotonic() - started
    try:
        assert con.execute("select count(*) from t").fetchone() == (0,)
    finally:
        con.close()
        holder.wait()
    assert 1.0 < waited < 30
    assert "still locked by process" in capsys.readouterr().err


def test_it_gives_up_with_the_lock_error_after_its_wait(tmp_path):
    db = tmp_path / "w.work.duckdb"
    holder = hold_lock(db, 10)
    try:
        with pytest.raises(duckdb.IOException, match="lock"):
            connect_working_db(db, wait_s=1)
    finally:
        holder.kill()
        holder.wait()
