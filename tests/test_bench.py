"""`siyu bench` and the run profile behind it (siyu/bench/, siyu/run_profile.py).

The profile is checked on a real (tiny) Dagster run whose steps carry the build's names — raw__x,
dbt_models, mart_quality_checks, published_warehouse, dashboard — with a fake dbt run_results.json;
the bench's memory sampler on a real process tree; the landing cache on a tiny simulation. The full
bench at a tiny scale takes minutes and runs only with SIYU_BENCH_E2E=1.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from dagster_project.assets.dbt import run_target_path
from dagster_project.instance import ensure_instance_yaml
from siyu import bench
from siyu.run_profile import build_profile, read_run_results, stages, write_run_profile

RAW_S, GE_S, DBT_S = 0.30, 0.10, 0.40


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _fake_run_results(folder: Path, invocation_id: str) -> None:
    """3 s of models + 1 s of seeds vs 2 s of tests: models get 2/3 of the dbt step."""
    now = time.time()
    def node(uid: str, seconds: float, offset: float) -> dict:
        return {"unique_id": uid, "status": "success", "execution_time": seconds,
                "timing": [{"name": "compile", "started_at": _iso(now - 0.2 + offset), "completed_at": _iso(now - 0.19 + offset)},
                           {"name": "execute", "started_at": _iso(now - 0.19 + offset), "completed_at": _iso(now - 0.15 + offset)}]}
    folder.mkdir(parents=True)
    (folder / "run_results.json").write_text(json.dumps({
        "metadata": {"invocation_id": invocation_id}, "elapsed_time": 0.2,
        "results": [node("model.siyu.a", 3.0, 0.0), node("seed.siyu.s", 1.0, 0.0), node("test.siyu.t1", 1.5, 0.05),
                    node("test.siyu.t2", 0.5, 0.1), node("exposure.siyu.e", 0.1, 0.1)]}))


def _pipeline(target: Path):
    """Assets and checks named like the build's steps."""
    from dagster import (
        AssetCheckResult,
        AssetCheckSpec,
        AssetKey,
        AssetSpec,
        MaterializeResult,
        asset,
        multi_asset,
        multi_asset_check,
    )

    @asset(key=["raw", "tracking"], check_specs=[AssetCheckSpec("great_expectations_suite", asset=["raw", "tracking"])])
    def raw_tracking():
        time.sleep(RAW_S)
        return MaterializeResult(metadata={"run_rows_in": 1000, "run_rows_loaded": 990, "run_partitions_loaded": 2},
                                 check_results=[AssetCheckResult(passed=True, metadata={"duration_s": GE_S})])

    @multi_asset(specs=[AssetSpec(["marts", "m"], deps=[AssetKey(["raw", "tracking"])])], name="dbt_models")
    def dbt_models(context):
        _fake_run_results(run_target_path(target, context.run.run_id), "inv-1")  # where the dbt asset puts them
        time.sleep(DBT_S)
        yield MaterializeResult(asset_key=["marts", "m"], metadata={"invocation_id": "inv-1"})

    @multi_asset_check(specs=[AssetCheckSpec("great_expectations_suite", asset=["marts", "m"])], name="mart_quality_checks")
    def mart_quality_checks():
        time.sleep(0.1)
        yield AssetCheckResult(asset_key=["marts", "m"], check_name="great_expectations_suite", passed=True,
                               metadata={"duration_s": 0.08})

    @asset(key=["published_warehouse"], deps=[AssetKey(["marts", "m"])])
    def published_warehouse():
        time.sleep(0.05)

    @asset(key=["dashboard"], deps=[AssetKey(["published_warehouse"])])
    def dashboard():
        pass

    return [raw_tracking, dbt_models, mart_quality_checks, published_warehouse, dashboard]


@pytest.fixture(scope="module")
def profiled_run(tmp_path_factory):
    """One run in a persistent instance (timestamps) and its profile."""
    from dagster import DagsterInstance, materialize

    tmp = tmp_path_factory.mktemp("profile")
    home, target = tmp / "dagster_home", tmp / "target"
    ensure_instance_yaml(home)
    saved = {k: os.environ.get(k) for k in ("DAGSTER_HOME", "DBT_TARGET_PATH")}
    os.environ.update({"DAGSTER_HOME": str(home), "DBT_TARGET_PATH": str(target)})
    try:
        instance = DagsterInstance.get()
        result = materialize(_pipeline(target), instance=instance)
        assert result.success
        profile = write_run_profile(result, tmp / "logs" / "last-build-profile.json")
        instance.dispose()
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return result, profile, tmp / "logs" / "last-build-profile.json"


def test_profile_times_every_step_and_splits_the_stages(profiled_run):
    result, profile, path = profiled_run
    assert json.loads(path.read_text())["run_id"] == result.run_id
    assert profile["timestamps"] and profile["success"]
    steps = profile["steps"]
    assert set(steps) == {"raw__tracking", "dbt_models", "mart_quality_checks", "published_warehouse", "dashboard"}
    for step in steps.values():
        assert step["status"] == "success"
        assert profile["started_at"] <= step["start"] <= step["end"] <= profile["finished_at"]
    assert steps["raw__tracking"]["seconds"] >= RAW_S
    assert profile["rows_in"] == 1000
    assert profile["raw"]["tracking"]["ge_seconds"] == GE_S

    st = profile["stages"]
    assert st["raw_load"]["seconds"] == pytest.approx(steps["raw__tracking"]["seconds"] - GE_S, abs=0.002)
    assert st["great_expectations"]["seconds"] == pytest.approx(GE_S + steps["mart_quality_checks"]["seconds"], abs=0.002)
    # the dbt step is split 2:1 by summed execution time (models + seeds 4 s, tests 2 s; exposures ignored)
    dbt_step = steps["dbt_models"]["seconds"]
    assert st["dbt_models"]["seconds"] == pytest.approx(dbt_step * 2 / 3, abs=0.002)
    assert st["dbt_tests"]["seconds"] == pytest.approx(dbt_step / 3, abs=0.002)
    assert st["publish"]["seconds"] == steps["published_warehouse"]["seconds"]
    assert st["docs_dashboard"]["seconds"] == steps["dashboard"]["seconds"]
    assert all(s["status"] == "ran" for s in st.values())
    # intervals: the raw GE window is the end of the raw step; dbt nodes come from run_results
    raw_end = steps["raw__tracking"]["end"]
    assert st["great_expectations"]["intervals"][0] == pytest.approx([raw_end - GE_S, raw_end])
    assert st["raw_load"]["intervals"] == [[steps["raw__tracking"]["start"], pytest.approx(raw_end - GE_S)]]
    assert len(st["dbt_tests"]["intervals"]) == 1  # two overlapping test nodes merged
    assert profile["dbt"]["invocation_id"] == "inv-1"
    assert profile["dbt"]["nodes"] == {"model": 1, "seed": 1, "test": 2, "exposure": 1}
    assert set(profile["dbt"]["phases"]) == {"before_nodes_s", "nodes_s", "after_nodes_s"}
    assert profile["events"]["planned"] >= 5 and profile["events"]["before_run"] >= profile["events"]["planned"]


def test_profile_without_a_persistent_instance_uses_step_durations(tmp_path, monkeypatch):
    from dagster import DagsterInstance, materialize

    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    monkeypatch.setenv("DBT_TARGET_PATH", str(tmp_path / "target"))
    assets = _pipeline(tmp_path / "target")
    result = materialize([assets[0]], instance=DagsterInstance.ephemeral())  # only the raw step: a no-op build's shape
    profile = write_run_profile(result, tmp_path / "p.json")
    assert not profile["timestamps"] and profile["started_at"] is None
    assert profile["steps"]["raw__tracking"]["seconds"] >= RAW_S
    st = profile["stages"]
    assert st["raw_load"]["status"] == "ran" and st["raw_load"]["intervals"] == []
    for name in ("dbt_models", "dbt_tests", "publish", "docs_dashboard"):
        assert st[name] == {"seconds": 0.0, "status": "skipped", "intervals": []}


def test_dbt_without_run_results_is_not_split():
    steps = {"dbt_models": {"status": "success", "start": 10.0, "end": 20.0, "seconds": 10.0}}
    st = stages(steps, {}, None)
    assert st["dbt_models"] == {"seconds": 10.0, "status": "ran", "intervals": [[10.0, 20.0]]}
    assert st["dbt_tests"]["status"] == "in models"


def test_a_broken_profile_never_breaks_the_build(tmp_path, capsys):
    class Broken:
        run_id = "x"
        success = True

        @property
        def all_events(self):
            raise RuntimeError("boom")

    assert write_run_profile(Broken(), tmp_path / "p.json") is None
    assert "could not write the run profile" in capsys.readouterr().err
    assert not (tmp_path / "p.json").exists()


def test_failed_and_unstarted_steps():
    class Event:
        def __init__(self, kind, key=None):
            self.event_type_value, self.step_key, self.event_specific_data = kind, key, None

    profile = build_profile([(1.0, Event("PIPELINE_START")), (1.0, Event("STEP_START", "raw__orders")),
                             (3.5, Event("STEP_FAILURE", "raw__orders")),
                             (3.5, Event("ASSET_MATERIALIZATION_PLANNED", "dbt_models")),
                             (3.6, Event("PIPELINE_FAILURE"))], run_id=None, success=False)
    assert profile["steps"]["raw__orders"] == {"status": "failure", "start": 1.0, "end": 3.5, "seconds": 2.5}
    assert profile["steps"]["dbt_models"]["status"] == "not run"
    assert profile["run_seconds"] == pytest.approx(2.6)
    assert profile["events"] == {"total": 5, "planned": 1, "before_run": 0, "first_at": 1.0, "before_run_s": 0.0}
    assert profile["stages"]["raw_load"]["seconds"] == 2.5
    assert profile["stages"]["dbt_models"]["status"] == "skipped"


def test_read_run_results_accepts_timestamps_without_zone(tmp_path):
    path = tmp_path / "run_results.json"
    path.write_text(json.dumps({"results": [{"unique_id": "model.p.m", "execution_time": 2,
                                             "timing": [{"started_at": "2026-08-01T00:00:00", "completed_at": "2026-08-01T00:00:02Z"}]}]}))
    result = read_run_results(path)
    assert result["intervals"]["model"] == [[1785542400.0, 1785542402.0]]
    assert read_run_results(tmp_path / "missing.json") is None


def test_sampler_sums_the_whole_process_tree(tmp_path):
    child = "import time; b = bytearray(120 * 2**20); b[::4096] = b'x' * len(b[::4096]); time.sleep(1.5)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}]); print('done')"
    run = bench.run_measured([sys.executable, "-c", parent], dict(os.environ), tmp_path / "log.txt")
    assert run["returncode"] == 0
    assert run["peak_rss_bytes"] > 120 * 2**20  # the grandchild's buffer plus two interpreters
    assert len(run["samples"]) >= 5
    assert [text for _, text in run["lines"]] == ["done"]
    assert (tmp_path / "log.txt").read_text().rstrip().endswith("s] done")
    assert bench.peak_within(run["samples"], [[run["started"], run["ended"]]]) == run["peak_rss_bytes"]
    assert bench.peak_within(run["samples"], []) is None


def test_peak_within_a_short_interval_takes_the_last_sample_before_it():
    samples = [(0.0, 10), (1.0, 50), (2.0, 20)]
    assert bench.peak_within(samples, [[1.2, 1.3]]) == 50
    assert bench.peak_within(samples, [[0.5, 2.5]]) == 50
    assert bench.peak_within(samples, [[1.5, 2.0], [-1.0, 0.1]]) == 20


def _fake_build(rows: int, seconds: float, profile_stages: dict) -> dict:
    return {"returncode": 0, "seconds": seconds, "peak_rss_bytes": 900 * 2**20, "samples": [(0.5, 800 * 2**20)],
            "profile": {"rows_in": rows, "stages": profile_stages}}


def test_stage_rows_and_report():
    ran = {name: {"seconds": 1.0, "status": "ran", "intervals": [[0.0, 1.0]]} for name in bench.STAGES}
    noop = {**ran, "dbt_models": {"seconds": 0.0, "status": "skipped", "intervals": []}}
    full, nothing = _fake_build(10_000, 10.0, ran), _fake_build(0, 8.0, noop)
    rows_full, rows_nothing = bench.stage_rows(full), bench.stage_rows(nothing)
    assert rows_full["raw_load"]["rows_per_s"] == 10_000
    assert rows_full["publish"]["rows_per_s"] is None  # not a per-row stage
    assert rows_full["raw_load"]["peak_rss_bytes"] == 800 * 2**20
    assert rows_full["other"]["seconds"] == 4.0
    assert rows_full["total"]["rows_per_s"] == 1000
    assert rows_nothing["raw_load"]["rows_per_s"] is None
    assert rows_nothing["dbt_models"]["status"] == "skipped"
    no_job = bench.stage_rows({"returncode": 0, "seconds": 0.7, "peak_rss_bytes": 1, "samples": [], "profile": None})
    assert all(no_job[name]["status"] == "skipped" for name in bench.STAGES)  # siyu build found nothing to do
    assert no_job["total"]["seconds"] == 0.7
    crashed = bench.stage_rows({"returncode": 1, "seconds": 3.0, "peak_rss_bytes": 1, "samples": [], "profile": None})
    assert crashed["raw_load"]["status"] == "no profile" and crashed["total"]["status"] == "failed (exit 1)"

    builds = {}
    for phase, build in (("full", full), ("one_day", full), ("nothing_new", nothing)):
        builds[phase] = {**build, "stages": bench.stage_rows(build), "rows_in": build["profile"]["rows_in"],
                         "work_db_bytes": 12_000_000, "published_bytes": 5_000_000}
    report = {"scale": "S", "members": 10_000, "days": 90, "seed": 1, "start": "2026-08-01", "held_back_day": "2026-10-29",
              "git_commit": "abc1234-dirty", "machine": {"cores": 2, "ram_bytes": 8 * 2**30},
              "simulate": {"seconds": 30.0, "peak_rss_bytes": 2**30, "rows_per_s": 50_000, "cached": True},
              "builds": builds}
    text = bench.format_report(report)
    table = text.split("\n\n")[1].splitlines()
    assert "full build" in table[0] and "nothing new" in table[0]
    full_rows = [line for line in table if line.startswith(("stage", "raw load", "dbt tests", "total"))]
    assert len(full_rows) == 4 and len({len(line) for line in full_rows}) == 1  # aligned columns
    skipped = next(line for line in table if line.startswith("dbt models"))
    raw = next(line for line in table if line.startswith("raw load"))
    assert skipped.endswith("skipped") and raw[:len(skipped)].endswith("1.0 s")  # under the nothing-new time column
    assert "simulate (cached)" in text and "12.0 MB" in text
    assert "abc1234-dirty" in text
    assert "speed check" not in text  # reports from before the check stay readable
    assert ": Great Expectations = " not in text  # profiles without the raw suites' times stay readable
    builds["one_day"]["profile"] = {**full["profile"], "steps": {"mart_quality_checks": {"seconds": 18.876}},
                                    "raw": {"tracking": {"ge_seconds": 0.533}, "orders": {"ge_seconds": 0.575},
                                            "campaign_costs": {"step": "raw__campaign_costs"}}}
    assert ("+1 day: Great Expectations = raw suites 1.1 s (orders 0.6, tracking 0.5) + mart suites 18.9 s"
            in bench.format_report(report))
    report["machine"] |= {"speed_check_at_start": {"python_s": 0.33, "duckdb_s": 0.64},
                          "speed_check_at_end": {"python_s": 0.5, "duckdb_s": 1.1}}
    assert ("at the start Python 0.33 s, DuckDB 0.64 s, at the end Python 0.50 s, DuckDB 1.10 s"
            in bench.format_report(report))


def test_landing_is_simulated_once_and_the_last_day_held_back(tmp_path):
    root = tmp_path / "custom"
    first = bench.prepare_landing(root, 1000, 3, log=lambda m: None)
    day = first["held_back_day"]
    assert not first["cached"] and day == "2026-08-03" and first["rows"] > 0
    held = sorted(p.parent.name for p in (root / "held_back").glob(f"*/dt={day}"))
    assert len(held) == 7 and not list((root / "landing").glob(f"*/dt={day}"))
    assert list((root / "landing").glob("tracking/dt=2026-08-02"))

    bench.move_day(day, root / "held_back", root / "landing")  # what a bench does for '+1 day'
    again = bench.prepare_landing(root, 1000, 3, log=lambda m: None)
    assert again["cached"] and again["seconds"] == first["seconds"]
    assert sorted(p.parent.name for p in (root / "held_back").glob(f"*/dt={day}")) == held
    assert not list((root / "landing").glob(f"*/dt={day}"))

    stamp = json.loads((root / "simulate.stamp.json").read_text())
    stamp["parameters"]["simulator_version"] = "older"
    (root / "simulate.stamp.json").write_text(json.dumps(stamp))
    assert not bench.prepare_landing(root, 1000, 3, log=lambda m: None)["cached"]


def test_git_commit_and_machine():
    commit = bench.git_commit()
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=bench.REPO_ROOT, capture_output=True, text=True).stdout.strip()
    assert commit.startswith(head)
    info = bench.machine()
    assert info["cores"] >= 1 and info["ram_bytes"] > 0
    assert info["speed_check_at_start"]["python_s"] > 0 and info["speed_check_at_start"]["duckdb_s"] > 0


@pytest.mark.skipif(os.environ.get("SIYU_BENCH_E2E") != "1", reason="minutes long: set SIYU_BENCH_E2E=1")
def test_bench_end_to_end_at_a_tiny_scale(tmp_path, capsys):
    code = bench.run_bench("S", tmp_path, str(tmp_path / "out.json"), members=1000, days=3)
    assert code == 0
    report = json.loads((tmp_path / "out.json").read_text())
    builds = report["builds"]
    assert set(builds) == {"full", "one_day", "nothing_new"}
    assert builds["full"]["rows_in"] > builds["one_day"]["rows_in"] > 0 == builds["nothing_new"]["rows_in"]
    for phase, build in builds.items():
        assert build["returncode"] == 0 and build["published_bytes"] > 0 and build["work_db_bytes"] > 0
        if phase == "nothing_new" and build["nothing_to_do"]:  # siyu build ran no job at all
            assert all(build["stages"][name]["status"] == "skipped" for name in bench.STAGES)
            continue
        assert build["profile"]["timestamps"] and build["stages"]["total"]["peak_rss_bytes"] > 100 * 2**20
        assert build["stages"]["raw_load"]["status"] == "ran" and build["stages"]["raw_load"]["peak_rss_bytes"]
    assert "nothing new" in capsys.readouterr().out
