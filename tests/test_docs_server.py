"""`siyu docs` serves the reports the Dagster UI links to, and nothing else (siyu/docs_server.py)."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from dagster_project.checks.quality import report_links
from dagster_project.resources import WarehouseResource
from siyu.docs_server import make_server, served_folders, url_for
from siyu.settings import Settings


@pytest.fixture
def warehouse_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "warehouse"
    for name, text in {"siyu.duckdb": "published", "siyu.work.duckdb": "private", ".siyu_pii_salt": "secret",
                       "quality_docs/index.html": "<h1>quality</h1>",
                       "quality_docs/validations/raw.tracking/run 1/page.html": "<p>tracking result</p>",
                       "dbt_docs/index.html": "<h1>dbt</h1>", "dashboard/index.html": "<h1>dashboard</h1>",
                       "dagster_home/history/runs/index.db": "runs"}.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    return folder


@pytest.fixture
def server(warehouse_dir: Path, monkeypatch):
    settings = Settings(landing_dir=warehouse_dir / "landing", warehouse=warehouse_dir / "siyu.duckdb",
                        work_db=warehouse_dir / "siyu.work.duckdb", quality_docs_dir=warehouse_dir / "quality_docs")
    httpd = make_server(settings, port=0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setenv("SIYU_DOCS_URL", f"http://127.0.0.1:{httpd.server_address[1]}")
    yield settings
    httpd.shutdown()
    httpd.server_close()


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, ""


def test_the_links_the_ui_shows_open(server: Settings, warehouse_dir: Path):
    page = warehouse_dir / "quality_docs" / "validations" / "raw.tracking" / "run 1" / "page.html"
    resource = WarehouseResource.from_settings(server)
    links = report_links(page.as_uri(), resource)
    assert links["data_docs_file"].value == str(page)
    assert _get(links["data_docs"].value) == (200, "<p>tracking result</p>")
    folders = served_folders(server.warehouse, server.quality_docs_dir)
    assert _get(url_for(warehouse_dir / "dbt_docs" / "index.html", folders)) == (200, "<h1>dbt</h1>")
    assert _get(url_for(warehouse_dir / "dashboard" / "index.html", folders)) == (200, "<h1>dashboard</h1>")
    status, index = _get(url_for(warehouse_dir / "dashboard" / "index.html", folders).rsplit("/dashboard/", 1)[0] + "/")
    assert status == 200 and all(f'href="/{p}/index.html"' in index for p in ("quality", "dbt", "dashboard"))


def test_nothing_but_the_reports_is_served(server: Settings, warehouse_dir: Path):
    base = url_for(warehouse_dir / "dbt_docs" / "index.html",
                   served_folders(server.warehouse, server.quality_docs_dir)).rsplit("/dbt/", 1)[0]
    for path in ("/siyu.duckdb", "/siyu.work.duckdb", "/.siyu_pii_salt", "/dagster_home/history/runs/index.db",
                 "/dbt/../siyu.work.duckdb", "/dbt/%2e%2e/siyu.work.duckdb", "/quality/../../warehouse/siyu.duckdb",
                 "/quality/validations/", "/nothing/index.html"):  # nor directory listings
        assert _get(base + path)[0] == 404, path
    # a file outside the served folders gets no link
    assert url_for(warehouse_dir / "siyu.duckdb", served_folders(server.warehouse, server.quality_docs_dir)) is None
