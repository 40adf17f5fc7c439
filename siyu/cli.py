"""`siyu` — the project's command line (contracts §7): simulate, build, sql, forget, bench."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from pathlib import Path


def _simulate(args: argparse.Namespace) -> int:
    from .simulator import simulate

    summary = simulate(Path(args.out), members=args.members, days=args.days,
                       start=date.fromisoformat(args.start), seed=args.seed, progress=not args.quiet)
    print(f"landing data written to {Path(args.out).resolve()}: {summary}")
    return 0


SPARK_WAREHOUSE_DEFAULT = "data/warehouse-spark"


def _build_spark(args: argparse.Namespace) -> int:
    from .engines.spark import run_spark_build

    landing = Path(args.landing or os.environ.get("SIYU_LANDING_DIR", "data/landing"))
    warehouse = Path(args.warehouse or os.environ.get("SIYU_SPARK_WAREHOUSE", SPARK_WAREHOUSE_DEFAULT))
    return run_spark_build(landing, warehouse, full_refresh=args.full_refresh, select=args.select)


def _build(args: argparse.Namespace) -> int:
    if args.engine == "spark":
        return _build_spark(args)
    if args.select:
        print("siyu build: --select is for --engine spark only (the DuckDB build runs every node)", file=sys.stderr)
        return 2
    if args.landing:
        os.environ["SIYU_LANDING_DIR"] = args.landing
    if args.warehouse:
        os.environ["SIYU_WAREHOUSE"] = args.warehouse
    from .build import run_build

    return run_build(full_refresh=args.full_refresh)


def _sql(args: argparse.Namespace) -> int:
    from .sql_shell import run_shell

    return run_shell(args.command, args.warehouse, fmt=args.format, max_rows=args.max_rows)


def _forget(args: argparse.Namespace) -> int:
    if args.engine == "spark":
        return _forget_spark(args)
    if args.warehouse:
        os.environ["SIYU_WAREHOUSE"] = args.warehouse
    if args.landing:
        os.environ["SIYU_LANDING_DIR"] = args.landing
    from .forget import list_requests, run_forget
    from .settings import Settings

    if args.list:
        return list_requests(Settings.from_env())
    return run_forget(*_forget_who(args))


def _forget_who(args: argparse.Namespace) -> tuple[str, str]:
    """(identifier kind, value) of a forget request: the one identifier option given."""
    from .forget import KINDS

    return next((kind, getattr(args, kind)) for kind in KINDS if getattr(args, kind) is not None)


def _forget_spark(args: argparse.Namespace) -> int:
    from .forget import run_forget_spark

    if args.list:
        print("siyu forget: --list reads the DuckDB warehouse; for a Spark warehouse the requests are in "
              "DIR/.work/siyu.work.duckdb (raw._forget_requests)", file=sys.stderr)
        return 2
    kind, value = _forget_who(args)
    warehouse = Path(args.warehouse or os.environ.get("SIYU_SPARK_WAREHOUSE", SPARK_WAREHOUSE_DEFAULT))
    landing = Path(args.landing or os.environ.get("SIYU_LANDING_DIR", "data/landing"))
    return run_forget_spark(kind, value, warehouse, landing)


def _docs(args: argparse.Namespace) -> int:
    if args.warehouse:
        os.environ["SIYU_WAREHOUSE"] = args.warehouse
    from .docs_server import serve
    from .settings import Settings

    return serve(Settings.from_env(), args.host, args.port)


def _bench(args: argparse.Namespace) -> int:
    from .bench import run_bench

    return run_bench(scale=args.scale, work_dir=Path(args.work_dir), json_out=args.json)


def main(argv: list[str] | None = None) -> int:
    # The multiprocessing resource tracker (started by a dependency) warns about a semaphore
    # at exit; the warning is noise for users and the tracker inherits this setting.
    os.environ.setdefault("PYTHONWARNINGS", "ignore::UserWarning:multiprocessing.resource_tracker")
    parser = argparse.ArgumentParser(prog="siyu", description="Private-domain (私域) metrics warehouse.")
    sub = parser.add_subparsers(dest="cmd", required=True)

    sim = sub.add_parser("simulate", help="write a realistic landing folder (and its ground truth under _truth/)")
    sim.add_argument("--out", required=True)
    sim.add_argument("--members", type=int, default=10_000)
    sim.add_argument("--days", type=int, default=90)
    sim.add_argument("--start", default="2026-08-01")
    sim.add_argument("--seed", type=int, default=42)
    sim.add_argument("--quiet", action="store_true")
    sim.set_defaults(func=_simulate)

    build = sub.add_parser("build", help="load new landing partitions, run dbt and the checks, publish")
    build.add_argument("--landing", help="landing folder (default $SIYU_LANDING_DIR or data/landing)")
    build.add_argument("--warehouse", help="published DuckDB file (default $SIYU_WAREHOUSE or data/warehouse/siyu.duckdb); "
                                           "with --engine spark the output folder: Parquet marts in DIR/marts/<mart>/ "
                                           f"(default $SIYU_SPARK_WAREHOUSE or {SPARK_WAREHOUSE_DEFAULT})")
    build.add_argument("--full-refresh", action="store_true", help="reload every landing partition and rebuild every dbt model whole")
    build.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                       help="duckdb (default): the Dagster pipeline and the published DuckDB file; spark: the same marts "
                            "by dbt-spark on an in-process Spark (needs Java 17) as Parquet, checked by dbt's tests, the Great "
                            "Expectations suites and the PII scan (README: Spark engine)")
    build.add_argument("--select", nargs="+", metavar="SPEC",
                       help="--engine spark only: build just these dbt nodes (dbt --select syntax); marts not built keep "
                            "their previous folders")
    build.set_defaults(func=_build)

    sql = sub.add_parser("sql", help="query the published warehouse (read-only)",
                         description="Query the published warehouse, read-only: it reads that file and nothing else. "
                                     "Interactive on a terminal; reads statements from stdin when piped.")
    sql.add_argument("-c", dest="command", metavar="SQL",
                     help="run these statements (separated by ';'), print the results and exit")
    sql.add_argument("--warehouse", help="published DuckDB file (default $SIYU_WAREHOUSE, else "
                                         "data/warehouse/siyu.duckdb here or in the project folder)")
    sql.add_argument("--format", choices=("table", "csv", "json"), default="table",
                     help="table (default; fits the terminal), or csv/json with every row, for piping")
    sql.add_argument("--max-rows", type=int, metavar="N",
                     help="table format: show at most N rows (default 40 on a terminal, all when piped; 0 = all)")
    sql.set_defaults(func=_sql)

    forget = sub.add_parser("forget", help="erase a person from every layer and keep them out of later loads (PIPL)",
                            description="Erase the member an identifier belongs to — every identifier, event, contact, "
                                        "group entry, message, order and quarantined line — from the working database "
                                        "and the published file, and keep them out of every later load. The request is "
                                        "kept only as salted hashes.")
    who = forget.add_mutually_exclusive_group(required=True)
    who.add_argument("--phone", metavar="P", help="a mainland mobile number, spelled any way (+86 137-0000-1111, 13700001111)")
    who.add_argument("--unionid", metavar="U", help="a WeChat unionid")
    who.add_argument("--external-userid", metavar="E", help="a WeCom external_userid")
    who.add_argument("--openid", metavar="APPID:OPENID", help="an openid with the appid of its official account or mini program")
    who.add_argument("--distinct-id", metavar="D", help="a tracking SDK distinct_id")
    who.add_argument("--list", action="store_true", help="show the forget requests (hashes and times)")
    forget.add_argument("--landing", help="landing folder (default $SIYU_LANDING_DIR or data/landing)")
    forget.add_argument("--warehouse", help="published DuckDB file (default $SIYU_WAREHOUSE or data/warehouse/siyu.duckdb); "
                                            "with --engine spark the Spark warehouse folder")
    forget.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                        help="spark: erase from a `siyu build --engine spark` folder (its working DuckDB, raw Parquet "
                             "and marts) and rebuild it")
    forget.set_defaults(func=_forget)

    docs = sub.add_parser("docs", help="serve the quality reports, dbt docs and dashboard (the Dagster UI links here)")
    docs.add_argument("--warehouse", help="the published file whose reports to serve (default $SIYU_WAREHOUSE)")
    docs.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    docs.add_argument("--port", type=int, default=8580, help="port (default 8580)")
    docs.set_defaults(func=_docs)

    bench = sub.add_parser("bench", help="benchmark: simulate (cached), full build, one new day, nothing new")
    bench.add_argument("--scale", choices=("S", "M", "L"), default="S", help="S 10k×90d (default), M 100k×90d, L 1M×30d")
    bench.add_argument("--work-dir", default="data/bench", help="where landing data (cached) and warehouses go: DIR/<scale>/ (default data/bench)")
    bench.add_argument("--json", help="also write the report as JSON to this file")
    bench.set_defaults(func=_bench)

    if not (sys.argv[1:] if argv is None else argv):  # bare `siyu`: what it can do, not argparse's complaint
        parser.print_help(sys.stderr)
        return 2
    args = parser.parse_args(argv)
    return args.func(args)


def entrypoint() -> None:
    try:
        code = main()
    except KeyboardInterrupt:
        # builds and forget publish atomically: an interruption leaves the old or the new file, never half of one
        print("\nsiyu: interrupted (Ctrl-C); the published warehouse is whole (unchanged unless publishing had "
              "finished).", file=sys.stderr)
        code = 130
    sys.stdout.flush()
    sys.stderr.flush()
    # DuckDB 2.0's bindings print "nanobind: leaked ..." noise at interpreter shutdown; the
    # work is done and every file is closed, so leave without the teardown.
    os._exit(code)


if __name__ == "__main__":
    entrypoint()
