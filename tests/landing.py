"""Write small landing folders in the exact export formats, for tests with hand-computed answers."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

SHANGHAI = timezone(timedelta(hours=8))

ORDER_HEADER = [
    "order_no", "status", "created_at", "paid_at", "updated_at", "buyer_phone", "buyer_openid",
    "buyer_appid", "buyer_unionid", "platform", "store_id", "guide_userid", "group_id", "campaign_id",
    "total_amount", "discount_amount", "paid_amount", "refund_amount", "items",
]


def ms(local: str) -> int:
    """Epoch milliseconds of a Shanghai wall-clock time 'YYYY-MM-DD HH:MM[:SS[.fff]]'."""
    return int(datetime.fromisoformat(local).replace(tzinfo=SHANGHAI).timestamp() * 1000)


def sec(local: str) -> int:
    return ms(local) // 1000


def write_jsonl(root: Path, source: str, dt: str, records: list[dict | str], name: str = "part-0000.jsonl") -> Path:
    folder = root / source / f"dt={dt}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def write_orders(root: Path, dt: str, orders: list[dict], name: str = "orders.csv", encoding: str = "utf-8") -> Path:
    folder = root / "orders" / f"dt={dt}"
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=ORDER_HEADER, lineterminator="\n")
    writer.writeheader()
    for order in orders:
        row = {k: "" for k in ORDER_HEADER}
        row.update({k: ("" if v is None else v) for k, v in order.items()})
        writer.writerow(row)
    path = folder / name
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def write_costs(root: Path, dt: str, rows: list[tuple[str, str, str, str]]) -> Path:
    folder = root / "campaign_costs" / f"dt={dt}"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "costs.csv"
    path.write_text("dt,campaign_id,channel,cost\n" + "".join(",".join(r) + "\n" for r in rows), encoding="utf-8")
    return path


def event(event_id: str, name: str, local_time: str, channel: str, distinct_id: str | None = None,
          identities: dict | None = None, **properties: str) -> dict:
    record: dict = {"event_id": event_id, "event": name, "time": ms(local_time), "identities": identities or {},
                    "properties": {"channel": channel, **properties}}
    if distinct_id:
        record["distinct_id"] = distinct_id
    return record
