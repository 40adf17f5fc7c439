"""The Dagster UI loads the code location without errors and shows every asset, group and check."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.harness import REPO, siyu_env

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


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["data"]


@pytest.fixture(scope="module")
def webserver(tmp_path_factory):
    work = tmp_path_factory.mktemp("ui")
    env = siyu_env(work, dagster_home=True) | {"SIYU_WAREHOUSE": str(work / "w.duckdb"), "SIYU_LANDING_DIR": str(work / "landing")}
    Path(env["DAGSTER_HOME"]).mkdir(parents=True, exist_ok=True)
    (Path(env["DAGSTER_HOME"]) / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = _free_port()
    # a new session: the webserver and its code server die together with the process group
    proc = subprocess.Popen([str(Path(sys.executable).parent / "dagster-webserver"), "-m", "dagster_project.definitions",
                             "-h", "127.0.0.1", "-p", str(port)],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            try:
                data = _graphql(port, QUERY)
                entries = data["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["locationOrLoadError"] and data["assetNodes"]:
                    yield data
                    break
            except Exception:
                pass
            time.sleep(1)
        else:
            pytest.fail("dagster-webserver did not serve the code location within 120 s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


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
