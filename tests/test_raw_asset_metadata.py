"""A ranged raw run records each partition's own numbers, and the run's totals beside them
(a daily partition of raw/orders used to show the whole run's rows_in)."""

from __future__ import annotations

from pathlib import Path

from dagster import materialize

from dagster_project.assets.raw import build_raw_asset
from dagster_project.partitions import daily_partitions
from dagster_project.resources import WarehouseResource
from siyu.settings import Settings
from tests.landing import write_orders


def _order(order_no: str, paid_amount: str = "100.00") -> dict:
    return {"order_no": order_no, "status": "TRADE_SUCCESS", "created_at": "2026-06-01 10:00:00",
            "paid_at": "2026-06-01 10:05:00", "updated_at": "2026-06-01 10:05:00", "platform": "mini_program",
            "total_amount": "100.00", "discount_amount": "0.00", "paid_amount": paid_amount, "refund_amount": "0.00",
            "items": "[]"}


def test_each_partition_carries_its_own_numbers_and_the_run_totals(tmp_path: Path, monkeypatch):
    landing = tmp_path / "landing"
    # the partitions start at this landing's first day, not at the default landing's (data/landing, which
    # the README's first command fills with days from 2026-08-01)
    monkeypatch.setenv("SIYU_LANDING_DIR", str(landing))
    monkeypatch.delenv("SIYU_PARTITIONS_START", raising=False)
    write_orders(landing, "2026-06-01", [_order("A1"), _order("A2")])
    write_orders(landing, "2026-06-02", [_order("B1"), _order("B2", paid_amount="abc")])  # B2: not a number
    # 2026-06-03 is in the run's range but has no folder: nothing loaded, said so
    warehouse = WarehouseResource(landing_dir=str(landing), work_db=str(tmp_path / "w.work.duckdb"),
                                  published_db=str(tmp_path / "w.duckdb"), quality_docs_dir=str(tmp_path / "qd"))
    orders = build_raw_asset("orders", daily_partitions(Settings.from_env()))
    result = materialize([orders], resources={"warehouse": warehouse},
                         tags={"dagster/asset_partition_range_start": "2026-06-01",
                               "dagster/asset_partition_range_end": "2026-06-03"})
    assert result.success
    by_partition = {e.partition: {k: v.value for k, v in e.materialization.metadata.items()}
                    for e in result.get_asset_materialization_events()}
    assert sorted(by_partition) == ["2026-06-01", "2026-06-02", "2026-06-03"]
    first, second, empty = (by_partition[d] for d in sorted(by_partition))
    assert (first["rows_in"], first["rows_loaded"], first["rows_quarantined"]) == (2, 2, 0)
    assert (second["rows_in"], second["rows_loaded"], second["rows_quarantined"]) == (2, 1, 1)
    assert first["loaded_in_this_run"] and second["loaded_in_this_run"] and empty["loaded_in_this_run"] is False
    assert "rows_in" not in empty
    assert [f["file"] for f in second["files"]] == ["orders/dt=2026-06-02/orders.csv"]
    for numbers in by_partition.values():  # the run's totals on every partition
        assert (numbers["run_rows_in"], numbers["run_rows_loaded"], numbers["run_rows_quarantined"]) == (4, 3, 1)
        assert numbers["run_partitions_loaded"] == 2
