"""The Dagster UI loads the code location without errors and shows every asset, group and check;
runs launched through it (GraphQL `launchRun`, as the Launchpad does) and the runs the landing
sensor asks for succeed on the working database `siyu build` uses."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pytest

from dagster_project.instance import ensure_instance_yaml
from siyu.simulator import simulate
from tests.harness import REPO, siyu_env

LANDING_START = date(2026, 6, 1)
LANDING_DAYS = 3

QUERY = """
{
  assetNodes { assetKey { path } groupName hasAssetChecks assetChecksOrError { ... on AssetChecks { checks { name blocking } } } }
  workspaceOrError { ... on Workspace { locationEntries { name locationOrLoadError { __typename ... on PythonError { message } } } } }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str, variables: dict | None = None) -> dict:
    body = {"query": query, "variables": variables or {}}
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    work = tmp_path_factory.mktemp("ui")
    simulate(work / "landing", members=60, days=LANDING_DAYS, start=LANDING_START, seed=5, progress=False)
    # `dagster dev`'s temporary files (its code servers' sockets, a workspace file), removed after it is killed
    scratch = tempfile.mkdtemp(prefix="dagster-dev-")  # a short path: a unix socket's is limited
    env = siyu_env(work, dagster_home=True, warehouse=work / "w.duckdb", landing=work / "landing") | {"TMPDIR": scratch}
    ensure_instance_yaml(Path(env["DAGSTER_HOME"]))  # as siyu build writes it: the fast event log under dagster dev
    port = _free_port()
    # a new session: the webserver and its code server die together with the process group
    # `dagster dev` as the README starts it: the webserver and the daemon, which takes launched runs
    # off the instance's run queue (a webserver alone would leave them queued)
    proc = subprocess.Popen([str(Path(sys.executable).parent / "dagster"), "dev", "-m", "dagster_project.definitions",
                             "-h", "127.0.0.1", "-p", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                data = _graphql(port, QUERY)
                entries = data["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["locationOrLoadError"] and data["assetNodes"]:
                    yield {**data, "port": port, "env": env, "location": entries[0]["name"]}
                    break
            except Exception:
                pass
            time.sleep(0.5)
        else:
            pytest.fail("dagster-webserver did not serve the code location within 120 s")
    finally:
        # every process `dagster dev` starts (webserver, daemon, code servers, run workers) is in this
        # process group; its graceful shutdown takes ~10 s and there is nothing to keep: kill the group
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=20)
        shutil.rmtree(scratch, ignore_errors=True)


def test_code_location_loads(webserver):
    [entry] = webserver["workspaceOrError"]["locationEntries"]
    assert entry["locationOrLoadError"]["__typename"] == "RepositoryLocation", entry


def test_every_layer_and_check_is_present(webserver):
    nodes = {"/".join(n["assetKey"]["path"]): n for n in webserver["assetNodes"]}
    groups = {n["groupName"] for n in nodes.values()}
    assert {"raw", "reference", "staging", "intermediate", "marts", "publish"} <= groups
    for source in ("tracking", "wecom_contacts", "wecom_groups", "wecom_messages", "oa_followers", "orders", "campaign_costs"):
        checks = nodes[f"raw/{source}"]["assetChecksOrError"]["checks"]
        assert {"name": "great_expectations_suite", "blocking": True} in checks
    for mart in ("dim_member", "fct_touchpoint_events", "fct_member_funnel", "funnel_daily", "fct_orders",
                 "order_attribution", "dim_group", "group_daily", "group_survival", "channel_reach",
                 "member_layers_daily", "cohort_retention"):
        assert nodes[f"marts/{mart}"]["groupName"] == "marts"
        assert nodes[f"marts/{mart}"]["hasAssetChecks"]
    pii = [c for c in nodes["marts/dim_member"]["assetChecksOrError"]["checks"] if c["name"] == "pii_scan"]
    assert pii and pii[0]["blocking"]
    assert "published_warehouse" in nodes


LAUNCH = """
mutation Launch($params: ExecutionParams!) {
  launchRun(executionParams: $params) {
    __typename
    ... on LaunchRunSuccess { run { runId } }
    ... on PythonError { message }
    ... on InvalidSubsetError { message }
    ... on RunConfigValidationInvalid { errors { message } }
  }
}
"""
RUN_STATUS = """query Status($runId: ID!) { runOrError(runId: $runId) { __typename ... on Run { status } } }"""
PARTITIONS = """
query Partitions($location: String!) {
  partitionSetsOrError(repositorySelector: {repositoryLocationName: $location, repositoryName: "__repository__"},
                       pipelineName: "siyu_build") {
    ... on PartitionSets { results { partitionsOrError { ... on Partitions { results { name } } } } }
  }
}
"""


def _launch_and_wait(server: dict, tags: dict[str, str], timeout_s: float = 420) -> str:
    """Launch `siyu_build` as the UI's Launchpad does (a run worker process per run) and wait for its end."""
    params = {"selector": {"repositoryLocationName": server["location"], "repositoryName": "__repository__",
                           "jobName": "siyu_build"},
              "runConfigData": {},
              "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in tags.items()]}}
    launched = _graphql(server["port"], LAUNCH, {"params": params})["launchRun"]
    assert launched["__typename"] == "LaunchRunSuccess", launched
    run_id = launched["run"]["runId"]
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        status = _graphql(server["port"], RUN_STATUS, {"runId": run_id})["runOrError"]["status"]
        if status in ("SUCCESS", "FAILURE", "CANCELED"):
            return status
        time.sleep(0.5)
    pytest.fail(f"run {run_id} did not finish within {timeout_s:.0f} s (last status {status})")


def _published_members(server: dict) -> int:
    con = duckdb.connect(server["env"]["SIYU_WAREHOUSE"], read_only=True)
    try:
        return con.execute("select count(*) from marts.dim_member").fetchone()[0]
    finally:
        con.close()


def test_partitions_start_at_the_first_landing_day(webserver):
    sets = _graphql(webserver["port"], PARTITIONS, {"location": webserver["location"]})["partitionSetsOrError"]["results"]
    names = [p["name"] for p in sets[0]["partitionsOrError"]["results"]]
    assert names[0] == LANDING_START.isoformat(), names[:3]


def test_a_run_launched_from_the_ui_succeeds(webserver):
    """Raw steps, dbt and publishing share one DuckDB file: the job's in-process executor runs them
    one after another, so a Launchpad run over the whole landing range succeeds and publishes."""
    last = LANDING_START + timedelta(days=LANDING_DAYS - 1)
    status = _launch_and_wait(webserver, {"dagster/asset_partition_range_start": LANDING_START.isoformat(),
                                          "dagster/asset_partition_range_end": last.isoformat()})
    assert status == "SUCCESS"
    assert _published_members(webserver) > 0


def test_the_run_the_landing_sensor_requests_succeeds(webserver, monkeypatch):
    """The sensor, evaluated on the same landing folder, asks for one run over the new days; launched
    (as the daemon would), it succeeds on the working database the UI run left behind."""
    from dagster_project.automation import landing_run_request

    monkeypatch.setenv("SIYU_LANDING_DIR", webserver["env"]["SIYU_LANDING_DIR"])
    request, cursor = landing_run_request(cursor=None)
    assert landing_run_request(cursor)[0].skip_message  # the same files again: nothing to run
    assert request.tags["dagster/asset_partition_range_start"] == LANDING_START.isoformat()
    assert _launch_and_wait(webserver, dict(request.tags)) == "SUCCESS"
    assert _published_members(webserver) > 0
