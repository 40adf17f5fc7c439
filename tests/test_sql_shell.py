"""`siyu sql` (contracts §7): reads the published warehouse and nothing else, and works like a shell.

A tiny DuckDB file in tmp_path stands in for the published warehouse (`marts`, `reference`,
`raw.quarantine`), with a working database beside it and a host file holding a "phone number".
Every attack is tried twice: through the shell (the statement allow-list refuses it) and, where
it applies, straight on the locked connection (the engine refuses it on its own).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import duckdb
import pytest

from siyu import sql_shell
from siyu.cli import main as cli_main

REPO = Path(__file__).resolve().parents[1]
PHONE = "13800138000"


@pytest.fixture
def wh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.delenv("SIYU_WAREHOUSE", raising=False)
    monkeypatch.delenv("SIYU_WORK_DB", raising=False)
    published = tmp_path / "warehouse" / "siyu.duckdb"
    published.parent.mkdir()
    con = duckdb.connect(str(published))
    con.execute("""
        create schema marts; create schema reference; create schema raw;
        create table marts.funnel_daily as
            select date '2026-05-01' + i::int as cohort_date, 'oa_service' as channel,
                   (100 - i)::bigint as exposure, (i % 7)::bigint as deal
            from range(100) t(i);
        create table marts.dim_member as
            select 'm_' || i as member_id,
                   case when i % 2 = 0 then '企业微信群' else 'oa_service' end as first_channel,
                   (i * 12.5)::decimal(18, 2) as net_gmv
            from range(5) t(i);
        create table reference.channels as select 'oa_service' as channel, '服务号' as label;
        create table raw.quarantine as
            select 'orders/dt=2026-05-01/a.csv' as file, 3 as line, 'bad phone' as reason;
        comment on table marts.funnel_daily is 'cohort funnel';
    """)
    con.close()
    work = published.with_name("siyu.work.duckdb")
    con = duckdb.connect(str(work))
    con.execute("create schema raw; create table raw.orders as select 1 as id, 'paid' as status")
    con.close()
    secret = tmp_path / "secret.csv"
    secret.write_text(f"phone\n{PHONE}\n", encoding="utf-8")
    return {"published": published, "work": work, "secret": secret, "tmp": tmp_path}


def siyu_sql(wh: dict, capsys: pytest.CaptureFixture, *args: str) -> tuple[int, str, str]:
    code = cli_main(["sql", "--warehouse", str(wh["published"]), *args])
    out, err = capsys.readouterr()
    return code, out, err


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------------------------
# Attacks through the shell


def test_copy_to_the_published_file_is_refused_and_the_file_is_untouched(wh, capsys):
    before = digest(wh["published"])
    code, out, err = siyu_sql(wh, capsys, "-c", f"copy (select 'garbage') to '{wh['published']}' (format csv)")
    assert code == 1 and "COPY is not allowed" in err and "--format csv" in err
    assert digest(wh["published"]) == before
    code, out, _ = siyu_sql(wh, capsys, "-c", "select count(*) as n from marts.funnel_daily")
    assert code == 0 and "100" in out


def test_attach_of_the_working_database_and_update_are_refused(wh, capsys):
    before = digest(wh["work"])
    code, out, err = siyu_sql(wh, capsys, "-c",
                              f"attach '{wh['work']}' as w (read_only false); update w.raw.orders set status = 'x'")
    assert code == 1 and "ATTACH is not allowed" in err and "UPDATE is not allowed" in err
    assert "nothing was run" in err
    assert digest(wh["work"]) == before
    con = duckdb.connect(str(wh["work"]), read_only=True)
    assert con.execute("select status from raw.orders").fetchall() == [("paid",)]
    con.close()


HOST_FILE_READS = [
    "select * from read_text('{secret}')",
    "select * from read_text('/etc/shadow')",
    "select * from read_text('/etc/passwd')",
    "select * from read_blob('{secret}')",
    "select * from read_csv('{secret}')",
    "select * from read_csv_auto('/etc/passwd')",
    "select * from '{secret}'",
    "select * from sniff_csv('{secret}')",
    "select * from read_json('{tmp}/x.json')",
    "select * from read_parquet('{tmp}/*.parquet')",
    "select * from glob('/root/*')",
    "select * from glob('{tmp}/*')",
    "select * from read_duckdb('{work}')",
]


@pytest.mark.parametrize("template", HOST_FILE_READS)
def test_host_files_cannot_be_read(wh, capsys, template):
    sql = template.format(secret=wh["secret"], tmp=wh["tmp"], work=wh["work"])
    code, out, err = siyu_sql(wh, capsys, "-c", sql)
    assert code == 1, out
    assert PHONE not in out + err and "secret.csv" not in out and "root" not in out
    assert "disabled by configuration" in err and "nothing else" in err  # DuckDB's refusal, and our hint


REFUSED = [
    # extensions
    ("install httpfs", "INSTALL is not allowed"),
    ("force install httpfs", "FORCE is not allowed"),
    ("load httpfs", "LOAD is not allowed"),
    ("load json", "LOAD is not allowed"),
    ("load '/tmp/evil.duckdb_extension'", "LOAD is not allowed"),
    ("update extensions", "UPDATE is not allowed"),
    # undoing the configuration
    ("set enable_external_access = true", "SET/RESET is not allowed"),
    ("reset enable_external_access", "SET/RESET is not allowed"),
    ("set lock_configuration = false", "SET/RESET is not allowed"),
    ("set allowed_directories = ['/']", "SET/RESET is not allowed"),
    ("set temp_directory = '/tmp'", "SET/RESET is not allowed"),
    ("set variable x = 1", "SET/RESET is not allowed"),
    ("pragma enable_profiling", "PRAGMA enable_profiling is not allowed"),
    ("select * from enable_logging()", "enable_logging() is not allowed"),
    # writes anywhere
    ("create table marts.x as select 1", "CREATE is not allowed"),
    ("create temp table x as select 1", "CREATE is not allowed"),
    ("create macro m() as 1", "CREATE is not allowed"),
    ("create secret s (type s3, key_id 'a', secret 'b')", "CREATE is not allowed"),
    ("insert into marts.funnel_daily select * from marts.funnel_daily", "INSERT is not allowed"),
    ("update marts.dim_member set net_gmv = 0", "UPDATE is not allowed"),
    ("delete from marts.dim_member", "DELETE is not allowed"),
    ("drop table marts.dim_member", "DROP is not allowed"),
    ("alter table marts.dim_member add column x int", "ALTER is not allowed"),
    ("comment on table marts.dim_member is 'x'", "COMMENT is not allowed"),
    ("copy marts.dim_member to '{tmp}/out.csv'", "COPY is not allowed"),
    ("copy marts.dim_member from '{secret}'", "COPY is not allowed"),
    ("export database '{tmp}/export'", "EXPORT is not allowed"),
    ("import database '{tmp}/export'", "IMPORT is not allowed"),
    ("pragma import_database('{tmp}/export')", "PRAGMA import_database is not allowed"),
    ("pragma copy_database('a', 'b')", "PRAGMA copy_database is not allowed"),
    ("attach ':memory:' as m", "ATTACH is not allowed"),
    ("attach '{published}' as again", "ATTACH is not allowed"),
    ("detach siyu", "DETACH is not allowed"),
    ("checkpoint", "CHECKPOINT is not allowed"),
    ("force checkpoint", "FORCE is not allowed"),
    ("call checkpoint()", "CALL checkpoint is not allowed"),
    ("select * from checkpoint()", "checkpoint() is not allowed"),
    ("select * from \"force_checkpoint\"()", "force_checkpoint() is not allowed"),
    ("select * from query('select 1')", "query() is not allowed"),
    ("vacuum", "VACUUM is not allowed"),
    ("analyze", "ANALYZE is not allowed"),
    ("begin transaction", "BEGIN is not allowed"),
    ("prepare p as select 1", "PREPARE is not allowed"),
    ("execute p", "EXECUTE is not allowed"),
    ("explain analyze copy (select 1) to '{tmp}/x.csv'", "EXPLAIN of a refused statement: COPY"),
    ("explain create table marts.y (i int)", "EXPLAIN of a refused statement: CREATE"),
    ("/* hidden */ -- really\n copy (select 1) to '{tmp}/x.csv'", "COPY is not allowed"),
]


@pytest.mark.parametrize("template,message", REFUSED, ids=[s for s, _ in REFUSED])
def test_everything_but_reads_is_refused(wh, capsys, template, message):
    before = digest(wh["published"])
    sql = template.format(tmp=wh["tmp"], secret=wh["secret"], published=wh["published"])
    code, out, err = siyu_sql(wh, capsys, "-c", sql)
    assert code == 1 and out == ""
    assert message in err, err
    assert digest(wh["published"]) == before
    assert sorted(p.name for p in wh["tmp"].iterdir()) == ["secret.csv", "warehouse"]
    assert sorted(p.name for p in wh["published"].parent.iterdir()) == ["siyu.duckdb", "siyu.work.duckdb"]


def test_one_refused_statement_stops_the_whole_command(wh, capsys):
    code, out, err = siyu_sql(wh, capsys, "-c", "select 'ran' as first; install httpfs; select 'ran too' as second")
    assert code == 1 and out == "" and "INSTALL is not allowed" in err and "nothing was run" in err


def test_a_python_variable_is_not_a_table(wh, capsys):
    import pandas as pd

    con = sql_shell.connect_read_only(wh["published"])
    leak_df = pd.DataFrame({"phone": [PHONE]})  # noqa: F841 - what a replacement scan would find
    with pytest.raises(duckdb.CatalogException):
        con.execute("select * from leak_df").fetchall()
    con.close()


# --------------------------------------------------------------------------------------------
# The engine on its own: the locked connection refuses the attacks even without the allow-list

ENGINE_ATTACKS = [
    "copy (select 'garbage') to '{published}' (format csv)",
    "copy (select 1) to '{tmp}/out.csv'",
    "attach '{work}' as w (read_only false)",
    "attach '{work}' as w",
    "select * from read_text('{secret}')",
    "select * from read_text('/etc/shadow')",
    "select * from glob('/root/*')",
    "select * from read_csv('{secret}')",
    "install httpfs",
    "load httpfs",
    "set enable_external_access = true",
    "reset enable_external_access",
    "set lock_configuration = false",
    "set allowed_directories = ['/']",
    "set allowed_paths = ['{secret}']",
    "set autoinstall_known_extensions = true",
    "set temp_directory = '{tmp}'",
    "set python_enable_replacements = true",
    "pragma enable_profiling",
    "create table marts.x as select 1",
    "export database '{tmp}/export'",
]


def test_the_locked_connection_refuses_on_its_own(wh):
    con = sql_shell.connect_read_only(wh["published"])
    before = digest(wh["published"]), digest(wh["work"])
    for template in ENGINE_ATTACKS:
        sql = template.format(published=wh["published"], work=wh["work"], secret=wh["secret"], tmp=wh["tmp"])
        with pytest.raises(duckdb.Error):
            con.execute(sql).fetchall()
    settings = dict(con.execute("""select name, value from duckdb_settings() where name in
        ('enable_external_access', 'lock_configuration', 'access_mode', 'autoinstall_known_extensions',
         'autoload_known_extensions', 'temp_directory', 'allowed_directories')""").fetchall())
    assert settings == {"enable_external_access": "false", "lock_configuration": "true", "access_mode": "read_only",
                        "autoinstall_known_extensions": "false", "autoload_known_extensions": "false",
                        "temp_directory": "", "allowed_directories": "[]"}
    assert (digest(wh["published"]), digest(wh["work"])) == before
    assert sorted(p.name for p in wh["tmp"].iterdir()) == ["secret.csv", "warehouse"]
    assert con.execute("select count(*) from funnel_daily").fetchone() == (100,)
    con.close()


def test_the_working_database_is_not_opened(wh, capsys):
    code = cli_main(["sql", "--warehouse", str(wh["work"]), "-c", "select 1"])
    out, err = capsys.readouterr()
    assert code == 2 and "working database" in err and out == ""


# --------------------------------------------------------------------------------------------
# Reads work

READS = [
    ("select * from funnel_daily order by cohort_date limit 3", "2026-05-01"),
    ("select count(*) from marts.funnel_daily", "count_star()"),
    ("select * from quarantine", "bad phone"),
    ("select * from raw.quarantine", "orders/dt=2026-05-01/a.csv"),
    ("select * from channels", "服务号"),
    ("from dim_member where first_channel = '企业微信群'", "m_4"),
    ("with t as (select channel, sum(exposure) as e from funnel_daily group by 1) select * from t", "5050"),
    ("values (1, 'a'), (2, 'b')", "col1"),
    ("describe funnel_daily", "cohort_date"),
    ("describe select 1 as x", "x"),
    ("show tables", "dim_member"),
    ("show all tables", "quarantine"),
    ("summarize dim_member", "net_gmv"),
    ("pivot dim_member on first_channel using count(*)", "企业微信群"),
    ("pragma table_info('funnel_daily')", "exposure"),
    ("pragma show_tables", "funnel_daily"),
    ("pragma version", "library_version"),
    ("call pragma_table_info('dim_member')", "net_gmv"),
    ("call duckdb_tables()", "funnel_daily"),
    ("select table_name, comment from duckdb_tables() where comment is not null", "cohort funnel"),
    ("explain select * from funnel_daily", "funnel_daily"),
    ("explain analyze select count(*) from funnel_daily", "Total Time"),
    ("use marts; select count(*) as n from dim_member", "5"),
    ("set search_path = 'reference'; select label from channels", "服务号"),
    ("-- a comment first\nselect 1 as one; /* and one between */ select 2 as two;", "two"),
    ("select 'a;b' as \"semi;colon\"", "a;b"),
    ("select current_setting('access_mode') as mode", "read_only"),
]


@pytest.mark.parametrize("sql,expected", READS, ids=[s for s, _ in READS])
def test_reads_work(wh, capsys, sql, expected):
    code, out, err = siyu_sql(wh, capsys, "-c", sql)
    assert code == 0, err
    assert expected in out and err == ""


def test_several_statements_print_several_tables(wh, capsys):
    code, out, _ = siyu_sql(wh, capsys, "-c", "select 1 as first; select 2 as second")
    assert code == 0 and out.count("┌") == 2 and out.index("first") < out.index("second")


def test_sql_errors_are_one_message_without_a_traceback(wh, capsys):
    code, out, err = siyu_sql(wh, capsys, "-c", "select * from no_such_table")
    assert code == 1 and err.startswith("error: Catalog Error") and "Traceback" not in err
    code, out, err = siyu_sql(wh, capsys, "-c", "selec 1")
    assert code == 1 and "syntax error" in err


# --------------------------------------------------------------------------------------------
# Output


def test_max_rows_cuts_with_a_note(wh, capsys):
    code, out, _ = siyu_sql(wh, capsys, "--max-rows", "5", "-c", "select * from funnel_daily order by cohort_date")
    assert code == 0
    data = [line for line in out.splitlines() if line.startswith("│ 2026")]
    assert len(data) == 5 and "5 of 100 rows shown" in out and "--max-rows" in out


def test_piped_tables_hold_every_row_unless_told(wh, capsys):
    code, out, _ = siyu_sql(wh, capsys, "-c", "select * from funnel_daily")
    assert code == 0 and "100 rows" in out and len([ln for ln in out.splitlines() if ln.startswith("│ 2026")]) == 100
    code, out, _ = siyu_sql(wh, capsys, "--max-rows", "0", "-c", "select * from funnel_daily")
    assert "100 rows" in out


def test_csv_prints_every_row(wh, capsys):
    code, out, _ = siyu_sql(wh, capsys, "--format", "csv", "--max-rows", "3",
                            "-c", "select * from funnel_daily order by cohort_date; ")
    rows = list(csv.reader(io.StringIO(out)))
    assert code == 0 and rows[0] == ["cohort_date", "channel", "exposure", "deal"] and len(rows) == 101
    assert rows[1] == ["2026-05-01", "oa_service", "100", "0"]
    code, out, _ = siyu_sql(wh, capsys, "--format", "csv", "-c", "select * from dim_member order by member_id")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1] == ["m_0", "企业微信群", "0.00"]


def test_json_prints_every_row(wh, capsys):
    code, out, _ = siyu_sql(wh, capsys, "--format", "json",
                            "-c", "select * from funnel_daily order by cohort_date")
    data = json.loads(out)
    assert code == 0 and len(data) == 100
    assert data[0] == {"cohort_date": "2026-05-01", "channel": "oa_service", "exposure": 100, "deal": 0}
    code, out, _ = siyu_sql(wh, capsys, "--format", "json", "-c",
                            "select member_id, first_channel, net_gmv, null as nothing, [1, 2] as l "
                            "from dim_member where member_id = 'm_1'")
    assert json.loads(out) == [{"member_id": "m_1", "first_channel": "oa_service", "net_gmv": 12.5,
                                "nothing": None, "l": [1, 2]}]
    code, out, _ = siyu_sql(wh, capsys, "--format", "json", "-c", "select 1 as x where false")
    assert json.loads(out) == []


def test_tables_fit_the_terminal(wh, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    wide = ("select member_id, first_channel, repeat(first_channel, 12) as long_text, net_gmv "
            "from dim_member order by member_id")
    code, out, _ = siyu_sql(wh, capsys, "-c", wide)
    assert code == 0
    lines = out.splitlines()
    box = [ln for ln in lines if ln[:1] in "┌│├└"]
    assert {sql_shell.display_width(ln) for ln in box} == {60}  # aligned, and as wide as the terminal
    assert "…" in out and "企业微信群" in out
    # too many columns to shrink: the first ones are shown and the rest named
    many = "select " + ", ".join(f"'value {i}' as column_{i:02d}" for i in range(30))
    code, out, _ = siyu_sql(wh, capsys, "-c", many)
    box = [ln for ln in out.splitlines() if ln[:1] in "┌│├└"]
    assert max(sql_shell.display_width(ln) for ln in box) <= 60
    assert "column_00" in box[1] and "column_29" not in box[1]
    assert "columns not shown to fit the terminal" in out and "column_05" in out and "more" in out


def test_wide_characters_keep_the_box_aligned():
    lines, hidden = sql_shell.render_table(["渠道", "n"], ["VARCHAR", "BIGINT"],
                                           [("企业微信群", 1), ("oa", 22), (None, None)], None)
    assert not hidden and len({sql_shell.display_width(ln) for ln in lines}) == 1
    assert "NULL" in lines[-2] and lines[4].endswith(" 1 │")  # numbers right-aligned


# --------------------------------------------------------------------------------------------
# Finding the warehouse


def test_without_a_warehouse_it_says_where_it_looked(wh, tmp_path, monkeypatch, capsys):
    elsewhere, project = tmp_path / "elsewhere", tmp_path / "project"
    elsewhere.mkdir(), project.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(sql_shell._settings, "REPO_ROOT", project)
    code = cli_main(["sql", "-c", "select 1"])
    _, err = capsys.readouterr()
    assert code == 2
    assert str(elsewhere / "data" / "warehouse" / "siyu.duckdb") in err
    assert str(project / "data" / "warehouse" / "siyu.duckdb") in err
    assert "export SIYU_WAREHOUSE=" in err and "--warehouse" in err


def test_outside_the_project_it_finds_the_projects_warehouse(wh, tmp_path, monkeypatch, capsys):
    elsewhere, project = tmp_path / "elsewhere", tmp_path / "project"
    elsewhere.mkdir()
    (project / "data" / "warehouse").mkdir(parents=True)
    shutil.copy(wh["published"], project / "data" / "warehouse" / "siyu.duckdb")
    monkeypatch.chdir(elsewhere)
    monkeypatch.setattr(sql_shell._settings, "REPO_ROOT", project)
    assert cli_main(["sql", "-c", "select count(*) as members from dim_member"]) == 0
    assert "members" in capsys.readouterr().out


def test_siyu_warehouse_and_a_missing_file(wh, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SIYU_WAREHOUSE", str(wh["published"]))
    assert cli_main(["sql", "-c", "select 7 as seven"]) == 0 and "seven" in capsys.readouterr().out
    monkeypatch.setenv("SIYU_WAREHOUSE", str(tmp_path / "missing.duckdb"))
    assert cli_main(["sql", "-c", "select 1"]) == 2
    err = capsys.readouterr().err
    assert "missing.duckdb" in err and "$SIYU_WAREHOUSE" in err
    assert cli_main(["sql", "--warehouse", str(tmp_path / "nope.duckdb"), "-c", "select 1"]) == 2
    assert "nope.duckdb (from --warehouse)" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# The interactive loop, with scripted input


def script(*items):
    """A stand-in for input(): returns lines; raises KeyboardInterrupt / EOFError items."""
    queue, prompts = list(items), []

    def read_line(prompt: str) -> str:
        prompts.append(prompt)
        if not queue:
            raise EOFError
        item = queue.pop(0)
        if isinstance(item, type) and issubclass(item, BaseException):
            raise item()
        return item

    return read_line, prompts, queue


@pytest.fixture
def session(wh):
    con = sql_shell.connect_read_only(wh["published"])
    out, err = io.StringIO(), io.StringIO()
    yield sql_shell.Session(con, max_rows=40, out=out, err=err, interactive=True)
    con.close()


def test_repl_runs_multi_line_statements(session):
    read_line, prompts, _ = script("select 40 + 2", "  as answer;", "select ';' as", "semi;")
    assert sql_shell.repl(session, read_line) == 0
    out = session.out.getvalue()
    assert "answer" in out and "42" in out and "semi" in out
    assert prompts[:2] == [sql_shell.PROMPT, sql_shell.CONTINUATION]


@pytest.mark.parametrize("word", ["\\q", ".quit", ".exit", "quit", "exit", "QUIT;", "exit;"])
def test_repl_quit_words(session, word):
    read_line, _, left = script(word, "select 'after' as x;")
    assert sql_shell.repl(session, read_line) == 0
    assert left == ["select 'after' as x;"] and "after" not in session.out.getvalue()


def test_repl_ctrl_c_drops_the_input_and_ctrl_d_quits(session):
    read_line, _, left = script("select 'dropped' as", KeyboardInterrupt, "select 'kept' as k;", EOFError, "x")
    assert sql_shell.repl(session, read_line) == 0
    out = session.out.getvalue()
    assert "kept" in out and "dropped" not in out and left == ["x"]


def test_repl_meta_commands_and_refusals(session):
    read_line, _, _ = script("\\dt", "\\d funnel_daily", ".maxrows 3", "select * from funnel_daily;",
                             "copy dim_member to 'x.csv';", ".mode csv", "select 1 as a, 2 as b;",
                             ".nonsense", "\\?")
    assert sql_shell.repl(session, read_line) == 0
    out, err = session.out.getvalue(), session.err.getvalue()
    assert "dim_member" in out and "cohort funnel" in out            # \dt
    assert "column_name" in out and "exposure" in out                # \d funnel_daily
    assert "3 of 100 rows shown" in out and ".maxrows N" in out      # .maxrows
    assert "COPY is not allowed" in err                              # refused, and the loop went on
    assert "a,b\n1,2\n" in out                                       # .mode csv
    assert "unknown command .nonsense" in err and "\\q" in out       # help


def test_ctrl_c_cancels_a_running_query(session):
    # A process started in the background of a non-interactive shell (CI) inherits SIGINT as
    # ignored; a terminal user's shell never does. Restore Python's handler for this test, and keep
    # the query finite so a failure can never hang the suite.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    timer = threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGINT))
    started = time.time()
    timer.start()
    try:
        code = session.run("select sum(hash(i)) from range(4000000000) t(i)")
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert code == 130 and "cancelled" in session.err.getvalue()
    assert time.time() - started < 30
    assert session.run("select 'still works' as s") == 0 and "still works" in session.out.getvalue()


def test_history_file_location(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    assert sql_shell.history_path() == tmp_path / "state" / "siyu" / "sql_history"
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert sql_shell.history_path() == tmp_path / ".siyu_sql_history"


def test_statements_from_a_pipe(wh):
    result = subprocess.run([sys.executable, "-m", "siyu.cli", "sql", "--warehouse", str(wh["published"])],
                            input="select 5 as five;\nselect 'x' as y;\n", cwd=REPO, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "five" in result.stdout and "y" in result.stdout and "siyu>" not in result.stdout


# --------------------------------------------------------------------------------------------
# The real thing on a terminal (a pseudo-terminal): readline, Ctrl-C, Ctrl-D, history


class Terminal:
    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes `siyu sql` on the terminal
            # as a terminal user's shell would start it: SIGINT not ignored (CI's background jobs inherit it ignored)
            signal.signal(signal.SIGINT, signal.SIG_DFL)
            os.chdir(REPO)
            os.execve(sys.executable, [sys.executable, *argv], env)
        self.seen = ""

    def expect(self, text: str, timeout: float = 30) -> str:
        deadline = time.time() + timeout
        while text not in self.seen:
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"did not see {text!r} in:\n{self.seen}")
            ready, _, _ = select.select([self.fd], [], [], left)
            if ready:
                try:
                    chunk = os.read(self.fd, 4096).decode("utf-8", "replace")
                except OSError:
                    chunk = ""
                if not chunk:
                    raise AssertionError(f"terminal closed before {text!r}:\n{self.seen}")
                self.seen += chunk
        at = self.seen.index(text) + len(text)
        before, self.seen = self.seen[:at], self.seen[at:]
        return before

    def send(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def wait(self, timeout: float = 30) -> int:
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:  # drain, so the child never blocks on a full terminal
                if select.select([self.fd], [], [], 0.1)[0]:
                    self.seen += os.read(self.fd, 4096).decode("utf-8", "replace")
            except OSError:
                pass
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                return os.waitstatus_to_exitcode(status)
        os.kill(self.pid, signal.SIGKILL)
        raise AssertionError(f"siyu sql did not exit:\n{self.seen}")


def test_on_a_terminal(wh, tmp_path):
    state = tmp_path / "state"
    env = {**os.environ, "TERM": "dumb", "XDG_STATE_HOME": str(state), "COLUMNS": "70", "LINES": "40"}
    env.pop("SIYU_WAREHOUSE", None)
    term = Terminal(["-m", "siyu.cli", "sql", "--warehouse", str(wh["published"])], env)
    try:
        banner = term.expect("siyu> ")
        assert "read-only" in banner and "marts,reference,raw" in banner
        term.send("select 40 + 2 as answer;\r")
        assert "42" in term.expect("siyu> ")
        term.send("select * from funnel_daily order by cohort_date;\r")  # a terminal gets 40 rows
        assert "40 of 100 rows shown" in term.expect("siyu> ")
        term.send("select 'half typed' as")
        time.sleep(0.3)
        term.send("\x03")  # Ctrl-C: the line is dropped, no traceback
        dropped = term.expect("siyu> ")
        assert "Traceback" not in dropped
        term.send("select 'next' as n;\r")
        after = term.expect("siyu> ")
        assert "next" in after and "Traceback" not in after and "half typed" not in after.split("next")[-1]
        term.send("select sum(hash(i)) from range(10000000000000) t(i);\r")
        time.sleep(1.5)
        term.send("\x03")  # Ctrl-C during a query cancels it
        assert "cancelled" in term.expect("siyu> ")
        term.send("\x04")  # Ctrl-D quits
        assert term.wait() == 0
        assert "Traceback" not in term.seen
    finally:
        try:
            os.kill(term.pid, signal.SIGKILL)
            os.waitpid(term.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass
        os.close(term.fd)
    history = state / "siyu" / "sql_history"
    assert history.is_file() and "select 40 + 2 as answer;" in history.read_text()
    assert history.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("sql,named", [
    ("with x as (select 1) insert into marts.dim_member select * from x", "INSERT is not allowed"),
    ("with x as (select 1) delete from marts.dim_member", "DELETE is not allowed"),
    ("pragma enable_profiling='json'", "PRAGMA enable_profiling is not allowed"),
    ("set threads = 1", "SET/RESET is not allowed"),
])
def test_a_refusal_names_what_the_statement_does(sql, named):
    """A write behind a CTE is named by what it writes, not by WITH (which reads are allowed to start with)."""
    from siyu.sql_shell.statements import refusal

    (statement,) = duckdb.extract_statements(sql)
    assert refusal(statement).startswith(named)


def test_a_piped_script_with_a_shell_command_is_named_and_runs_nothing(capsys):
    from siyu.sql_shell.entry import _run_script
    from siyu.sql_shell.session import Session

    con = duckdb.connect()
    try:
        assert _run_script(Session(con), "select 41 as first;\n.tables\n") == 2
        out, err = capsys.readouterr()
        assert "first" not in out
        assert ".tables is a command of the interactive shell; a piped script is SQL only" in err
        assert _run_script(Session(con), "select 42 as answer;") == 0 and "42" in capsys.readouterr().out
    finally:
        con.close()
