"""Write small landing folders in the exact export formats, for tests with hand-computed answers."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from siyu.landing.rules import ORDER_COLUMNS

SHANGHAI = timezone(timedelta(hours=8))

ORDER_HEADER = list(ORDER_COLUMNS)  # the landing contract's orders header (siyu/landing/rules.py)


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


def contact(euid: str, unionid: str | None, staff: str, added: str, mobiles: list[str] | None = None,
            tags: list[str] | None = None, name: str = "张女士", remark: str = "", state: str | None = None) -> dict:
    """One WeCom external-contact detail (contacts §3), followed by one staff member."""
    return {"errcode": 0, "errmsg": "ok",
            "external_contact": {"external_userid": euid, "name": name, "type": 1, "gender": 2,
                                 **({"unionid": unionid} if unionid else {})},
            "follow_user": [{"userid": staff, "remark": remark, "description": "", "createtime": sec(added),
                             "tags": [{"group_name": "意向", "tag_name": t, "type": 1} for t in (tags or [])],
                             "remark_mobiles": mobiles or [], "oper_userid": staff, "add_way": 1,
                             "state": state or f"qr-{euid}"}]}


def follower(openid: str, appid: str, unionid: str, local: str) -> dict:
    return {"subscribe": 1, "openid": openid, "appid": appid, "unionid": unionid, "language": "zh_CN",
            "subscribe_time": sec(local), "subscribe_scene": "ADD_SCENE_QR_CODE", "qr_scene": 0,
            "qr_scene_str": "qr-oa", "tagid_list": []}


def staff_entry(userid: str, local: str) -> dict:
    return {"userid": userid, "type": 1, "join_time": sec(local), "join_scene": 1}


def ext_entry(userid: str, unionid: str, local: str, invitor: str | None = None) -> dict:
    entry = {"userid": userid, "type": 2, "unionid": unionid, "join_time": sec(local),
             "join_scene": 1 if invitor else 3, "group_nickname": "", "name": "群友"}
    if invitor:
        entry["invitor"] = {"userid": invitor}
    return entry


def group(chat_id: str, owner: str, created: str, members: list[dict], name: str | None = None) -> dict:
    """One customer-group snapshot as WeCom's groupchat/get returns it."""
    return {"errcode": 0, "errmsg": "ok",
            "group_chat": {"chat_id": chat_id, "name": name or f"福利群 {chat_id}", "owner": owner,
                           "create_time": sec(created), "notice": "", "member_version": "v1",
                           "member_list": members, "admin_list": []}}


def msg(msgid: str, sender: str, room: str, local: str, to: list[str] | None = None) -> dict:
    return {"msgid": msgid, "action": "send", "from": sender, "tolist": to or ["guide_x"], "roomid": room,
            "msgtime": ms(local), "msgtype": "text", "text": {"content": f"消息内容 {msgid}"}}


def recall(msgid: str, sender: str, room: str, local: str, of: str) -> dict:
    return {"msgid": msgid, "action": "recall", "from": sender, "tolist": ["guide_x"], "roomid": room,
            "msgtime": ms(local), "msgtype": "revoke", "revoke": {"pre_msgid": of}}
