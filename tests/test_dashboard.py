"""The operator dashboard: `siyu build` renders it from the published warehouse; headless Chromium
shows every chart drawn with data; a warehouse without marts (or with empty ones) gives "no data"
notes, not a crash.

The screenshot lands in the test's tmp dir, and is copied to $SIYU_SCREENSHOT_DIR when set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from siyu.dashboard import CHARTS, MARTS, render_dashboard

CHART_IDS = [spec["id"] for spec in CHARTS]
CARD = re.compile(r'<section class="card[^"]*" id="chart-(\w+)" data-chart="\w+" data-rows="(\d+)">(.*?)</section>', re.S)


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or (
        "/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)


def _cards(page: str) -> dict[str, tuple[int, str]]:
    return {chart: (int(rows), body) for chart, rows, body in CARD.findall(page)}


def _headless(chromium: str, tmp: Path, url: str, *args: str) -> subprocess.CompletedProcess:
    cmd = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={tmp / 'chromium-profile'}", "--virtual-time-budget=10000", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def built(simulated) -> Path:
    """The session's simulated warehouse (tests/conftest.py); `siyu build` rendered the dashboard."""
    return simulated[1]


def test_build_renders_a_self_contained_page(built: Path):
    page_path = built.parent / "dashboard" / "index.html"
    assert page_path.exists(), "siyu build did not run the dashboard asset"
    page = page_path.read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=", page), "the page must not load scripts from anywhere (offline)"
    assert page.count("plotly.js v") <= 2 and len(page) > 3_000_000, "plotly.js should be inlined exactly once"
    cards = _cards(page)
    assert list(cards) == CHART_IDS
    for chart, (rows, body) in cards.items():
        assert rows > 0, f"{chart}: no mart rows on the simulated warehouse"
        assert f'id="plot-{chart}"' in body and "data-no-data" not in body, chart


def test_charts_render_with_data_in_chromium(built: Path, tmp_path: Path):
    chromium = _chromium()
    if not chromium:
        pytest.skip("chromium not found (scripts/test.sh installs it with apt-get install chromium)")
    url = (built.parent / "dashboard" / "index.html").as_uri()
    dom = _headless(chromium, tmp_path, url, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-3000:]
    cards = _cards(dom.stdout)
    assert list(cards) == CHART_IDS
    for chart, (_, body) in cards.items():
        assert 'class="main-svg"' in body, f"{chart}: Plotly drew nothing"
        if chart == "groups_attention":
            assert 'class="table' in body and body.count('class="cell-text') >= 9 * 2, f"{chart}: empty table"
        else:
            assert re.search(r'<g class="trace (bars|scatter)', body), f"{chart}: no data traces"
            marks = len(re.findall(r'class="point|class="js-line"|<image', body))
            assert marks >= 3, f"{chart}: only {marks} data marks drawn"

    shot = tmp_path / "dashboard-screenshot.png"
    result = _headless(chromium, tmp_path, url, f"--screenshot={shot}", "--window-size=1400,3600")
    assert result.returncode == 0 and shot.exists() and shot.stat().st_size > 100_000, result.stderr[-3000:]
    if os.environ.get("SIYU_SCREENSHOT_DIR"):
        target = Path(os.environ["SIYU_SCREENSHOT_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, target / shot.name)


def test_missing_or_empty_marts_give_no_data_notes(built: Path, tmp_path: Path):
    # no marts at all
    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    rows = render_dashboard(bare, tmp_path / "bare" / "index.html")
    assert rows == {chart: 0 for chart in CHART_IDS}
    cards = _cards((tmp_path / "bare" / "index.html").read_text(encoding="utf-8"))
    assert all("data-no-data" in body and "plot-" not in body for _, body in cards.values())

    # every mart present with its real columns, but empty
    empty = tmp_path / "empty.duckdb"
    con = duckdb.connect(str(empty))
    try:
        con.execute(f"attach '{built}' as src (read_only)")
        con.execute("create schema marts")
        for mart in MARTS:
            con.execute(f"create table marts.{mart} as select * from src.marts.{mart} limit 0")
    finally:
        con.close()
    rows = render_dashboard(empty, tmp_path / "empty" / "index.html")
    assert rows == {chart: 0 for chart in CHART_IDS}
    page = (tmp_path / "empty" / "index.html").read_text(encoding="utf-8")
    assert page.count("data-no-data") == len(CHART_IDS)


def test_pooled_survival_never_mixes_cohorts_of_different_ages():
    """Week A (old) is observed on days 1, 7, 14 and is lively; week B (young) only on day 1 and
    mostly dead. Pooling every week would give day 1 = (9 + 1) / 20 = 50 % then day 14 = 9/10 = 90 %
    (a rising curve); pooled over the weeks observed at every k ≤ 14 (only A) it is 90 %, 90 %, 80 %."""
    from siyu.dashboard import pooled_survival

    def row(week, k, alive, groups):
        return {"created_week": week, "day_k": k, "alive_groups": alive, "groups": groups}

    rows = [row("A", 1, 9, 10), row("A", 7, 9, 10), row("A", 14, 8, 10), row("B", 1, 1, 10)]
    ks, pooled, k_max = pooled_survival(rows)
    assert (ks, k_max) == ([1, 7, 14], 14)
    assert pooled == {1: [9, 10], 7: [9, 10], 14: [8, 10]}
    shares = [pooled[k][0] / pooled[k][1] for k in ks]
    assert shares == sorted(shares, reverse=True)
    assert pooled_survival([]) == ([], {}, None)
