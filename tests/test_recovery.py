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


def _siyu_with_its_own_ctrl_c(args: list[str], env: dict[str, str], cwd: str, stdout: str, stderr: str) -> None:
    """The forked child of the Ctrl-C test: `siyu ARGS` (tests.harness) as the leader of a session of its
    own, like a command started from a terminal, so a Ctrl-C to its process group reaches it and its dbt
    child but not pytest; SIGINT raises KeyboardInterrupt, as in an interpreter started with it at its
    default (CI runs tests as background jobs, which inherit SIGINT ignored)."""
    import os
    import signal

    from tests.harness import _siyu_in_this_process

    os.setsid()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    _siyu_in_this_process(args, env, cwd, stdout, stderr)


@pytest.mark.e2e
def test_ctrl_c_during_dbt_ends_cleanly_and_the_next_build_completes(tmp_path):
    """Ctrl-C while dbt runs: exit 130, one line saying so (no stack traces), nothing published;
    the next build publishes everything."""
    import os
    import re
    import signal

    from tests.harness import REPO, _context, run_siyu, siyu_env, with_installed_dbt
    from tests.test_forget import write_landing

    landing = write_landing(tmp_path / "landing", with_p=True)
    work = tmp_path / "w"
    args = ["build", "--landing", str(landing), "--warehouse", str(work / "warehouse.duckdb")]
    # a process of its own, forked from the harness's server that has the pipeline imported (as
    # tests.harness.run_siyu runs `siyu`), not waited for: this run gets Ctrl-C
    out, err_file = tmp_path / "build.stdout", tmp_path / "build.stderr"
    build = _context().Process(target=_siyu_with_its_own_ctrl_c,
                               args=(args, with_installed_dbt(siyu_env(work)), str(REPO), str(out), str(err_file)))
    build.start()
    dbt_log = work / "logs" / "siyu-build.log"
    # dbt is running its nodes once the first one has finished ("1 of 218 OK created …")
    dbt_running = re.compile(r"\b\d+ of \d+ OK\b")
    deadline = time.time() + 180
    while time.time() < deadline and build.is_alive() and not (
            dbt_log.exists() and dbt_running.search(dbt_log.read_text(errors="replace"))):
        time.sleep(0.2)
    assert build.is_alive(), "the build ended before dbt started"
    os.killpg(build.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the whole process group
    build.join(180)
    if build.is_alive():
        os.killpg(build.pid, signal.SIGKILL)
        build.join()
        pytest.fail("the build did not end within 180 s of Ctrl-C")
    err = err_file.read_text(errors="replace")
    assert build.exitcode == 130, err
    assert "interrupted (Ctrl-C)" in err and "Traceback" not in err and "Stack Trace" not in err, err
    assert len(err.strip().splitlines()) <= 4, err
    assert not (work / "warehouse.duckdb").exists()
    done = run_siyu(args, siyu_env(work))
    assert done.returncode == 0, done.stderr
    assert duckdb.connect(str(work / "warehouse.duckdb"), read_only=True).execute(
        "select count(*) from marts.dim_member").fetchone() == (7,)
