"""Identity-stitching benchmark (not a test; run it by hand).

    python scripts/benchmark.py identity --members 1000000

Writes a synthetic raw layer in which each of N people carries 5 identifiers spread over 4
sources (tracking, followers, contacts, orders, plus shared phones), then runs the dbt identity
models (`+int_identity_map`) and checks the member count.

The whole pipeline (simulate, full build, one new day, nothing new; per-stage time, memory and
rows per second) is `siyu bench --scale S|M|L` (siyu/bench.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def _env(work: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({"SIYU_DEMO": "1", "DAGSTER_HOME": str(work / "dagster_home"),
                "PATH": str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")})
    return env


def _peak_child_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


SYNTHETIC_RAW = """
-- N people; person i has distinct_id d<i>, unionid u<i>, mini-program openid o<i>,
-- WeCom external_userid wm<i> and phone 13<9 digits of i>. Each source links two or three of
-- them, so the graph needs several hops; every 1000th person also orders with one of 50 shared
-- store phones (non-identifying: more than 3 unionids each).
create or replace table raw.tracking as
select date '2026-01-01' as _dt, 'bench' as _file, i as _line, now()::timestamp as _loaded_at,
       'e' || i as event_id, 'product_view' as event, 1767225600000 + i as time, 'd' || i as distinct_id,
       json_object('openid', 'o' || i, 'appid', 'wxmini01') as identities,
       json_object('channel', 'mini_program') as properties
from range({n}) t(i);
insert into raw.tracking
select date '2026-01-01', 'bench', {n} + i, now()::timestamp, 'f' || i, 'content_impression', 1767225600000 + i,
       'd' || i, json_object('unionid', 'u' || i), json_object('channel', 'ads')
from range({n}) t(i);
create or replace table raw.oa_followers as
select date '2026-01-01' as _dt, 'bench' as _file, i as _line, now()::timestamp as _loaded_at,
       'x' || i as openid, 'wxsvc01' as appid, 'u' || i as unionid, 1 as subscribe, 1767225600 + i as subscribe_time,
       'ADD_SCENE_QR_CODE' as subscribe_scene, null::varchar as qr_scene_str, '[]'::json as tagid_list
from range(0, {n}, 2) t(i);
create or replace table raw.wecom_contacts as
select date '2026-01-01' as _dt, 'bench' as _file, i as _line, now()::timestamp as _loaded_at,
       'wm' || i as external_userid, json_object('external_userid', 'wm' || i, 'unionid', 'u' || i) as external_contact,
       json_array(json_object('userid', 'guide_1', 'createtime', 1767225600 + i,
                              'remark_mobiles', json_array('13' || lpad(i::varchar, 9, '0')))) as follow_user
from range(0, {n}, 3) t(i);
create or replace table raw.orders as
select date '2026-01-02' as _dt, 'bench' as _file, i as _line, now()::timestamp as _loaded_at,
       'O' || i as order_no, 'TRADE_SUCCESS' as status, timestamp '2026-01-02 10:00:00' as created_at,
       timestamp '2026-01-02 10:01:00' as paid_at, timestamp '2026-01-02 10:01:00' as updated_at,
       case when i % 1000 = 0 then '1380000' || lpad((i % 50)::varchar, 4, '0') else '13' || lpad(i::varchar, 9, '0') end as buyer_phone,
       'o' || i as buyer_openid, 'wxmini01' as buyer_appid,
       case when i % 1000 = 0 then 'u' || i end as buyer_unionid,
       'mini_program' as platform, null as store_id, null as guide_userid, null as group_id, null as campaign_id,
       10.00 as total_amount, 0.00 as discount_amount, 10.00 as paid_amount, 0.00 as refund_amount, '[]'::json as items
from range(0, {n}, 5) t(i);
"""


def identity(members: int, work: Path) -> dict:
    from siyu.landing.loader import ensure_raw_schema

    db = work / "identity.duckdb"
    con = duckdb.connect(str(db))
    ensure_raw_schema(con)
    started = time.perf_counter()
    con.execute(SYNTHETIC_RAW.format(n=members))
    records = sum(con.execute(f"select count(*) from raw.{t}").fetchone()[0]
                  for t in ("tracking", "oa_followers", "wecom_contacts", "orders"))
    con.close()
    generate_s = time.perf_counter() - started
    env = _env(work) | {"SIYU_WORK_DB": str(db), "DBT_PROFILES_DIR": str(REPO / "dbt_project")}
    started = time.perf_counter()
    subprocess.run(["dbt", "run", "--quiet", "--project-dir", str(REPO / "dbt_project"), "--target-path",
                    str(work / "target"), "--select", "+int_identity_map"], cwd=REPO / "dbt_project", env=env, check=True)
    stitch_s = time.perf_counter() - started
    con = duckdb.connect(str(db), read_only=True)
    found = con.execute("select count(distinct member_id) from intermediate.int_identity_map").fetchone()[0]
    identifiers = con.execute("select count(*) from intermediate.int_identity_map").fetchone()[0]
    edges = con.execute("select count(*) from intermediate.int_identity_edges").fetchone()[0]
    con.close()
    return {
        "scale": f"{members:,} people, {records:,} raw records",
        "generate_s": round(generate_s, 1),
        "stitch_s (dbt run +int_identity_map: staging + identity models)": round(stitch_s, 1),
        "identifiers": identifiers,
        "edges": edges,
        "members_found": found,
        "members_expected": members,
        "peak_rss_mb_dbt": round(_peak_child_mb()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["identity"])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--work-dir", help="keep the data here (default: a temporary folder, removed after)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="siyu-bench-") as tmp:
        work = Path(args.work_dir or tmp)
        work.mkdir(parents=True, exist_ok=True)
        result = identity(args.members, work)
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
