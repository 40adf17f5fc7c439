"""DuckDB SQL that turns the generated frames into JSON Lines text.

Each render_* function leaves a table `lines_<source>(day, seq, line)` for one member
block: `day` is the partition, `seq` the position in the block's section of the file (even
numbers; defects.py gives malformed copies odd ones). JSON keys follow the public API field
order of the landing example; identifier keys a record does not carry are omitted, not null.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from .campaigns import Catalog
from .config import APP_LIST, CHANNELS, TRACKING_EVENTS, Calendar
from .groups import Groups


def _sql_list(values) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def msgid_sql(col: str) -> str:
    """The msgid text of a message id; shared by messages and tracking so they match."""
    return f"('m' || {col})"


def register_dimensions(con: duckdb.DuckDBPyConnection, people: pd.DataFrame, cat: Catalog, G: Groups) -> None:
    """Small lookup tables joined by integer code (people, staff, campaigns, groups)."""
    con.register("ppl", people[["distinct_id", "unionid", "openid_mp", "openid_sub", "openid_svc", "external_userid",
                                "name", "gender"]].assign(idx=np.arange(len(people))))
    con.register("staff", pd.DataFrame({"idx": np.arange(len(cat.staff)), "userid": cat.staff}))
    con.register("camp", pd.DataFrame({"idx": np.arange(len(cat.campaigns)), "campaign_id": cat.campaigns.campaign_id}))
    g = G.groups
    con.register("grp", g.assign(idx=np.arange(len(g))))


def _kv(key: str, expr: str) -> str:
    """`,"key":"value"` or '' when value is NULL. Only for values the simulator generates
    from a safe alphabet (ids, codes, urls): they need no JSON escaping."""
    return f"""coalesce(',"{key}":"' || {expr} || '"', '')"""


def _dict(codes: np.ndarray, values, valid: np.ndarray | None = None) -> pa.DictionaryArray:
    """Arrow dictionary column: `values[codes]` without materialising millions of strings."""
    mask = codes < 0 if valid is None else ~valid | (codes < 0)
    return pa.DictionaryArray.from_arrays(pa.array(np.where(mask, 0, codes).astype(np.int32), mask=mask),
                                          pa.array(np.asarray(values, dtype=object), pa.string(), from_pandas=True))


def _factorised(values: np.ndarray) -> pa.DictionaryArray:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    return _dict(codes, uniques.astype(object) if len(uniques) else np.array([""], dtype=object))


def tracking_arrow(ev: pd.DataFrame, p: pd.DataFrame, cat: Catalog, G: Groups) -> pa.Table:
    """The tracking rows as an Arrow table of dictionary-encoded strings, ready to render.

    Resolving identifiers here (instead of SQL joins) keeps the render a pure projection,
    which DuckDB streams in insertion order: the file order needs no sort."""
    person, ids, app = ev.person.to_numpy(), ev.ids.to_numpy(), ev.app.to_numpy()
    n = len(p)
    openids = np.concatenate([p.openid_mp.to_numpy(), p.openid_sub.to_numpy(), p.openid_svc.to_numpy()])
    has_open = (ids & 2) != 0
    return pa.table({
        "day": ev.day.to_numpy(), "seq": ev.seq.to_numpy(), "t": ev.t.to_numpy(), "event_id": ev.event_id.to_numpy(),
        "event": _dict(ev.ev.to_numpy(), TRACKING_EVENTS),
        "distinct_id": _dict(person, p.distinct_id.to_numpy()),
        "unionid": _dict(person, p.unionid.to_numpy(), (ids & 1) != 0),
        "openid": _dict(person + (np.maximum(app, 1) - 1) * n, openids, has_open),
        "appid": _dict(app, APP_LIST, has_open),
        "external_userid": _dict(person, p.external_userid.to_numpy(), (ids & 4) != 0),
        "phone": pa.array(ev.phone.to_numpy(dtype=object), pa.string(), from_pandas=True),
        "channel": _dict(ev.ch.to_numpy(), CHANNELS),
        "touchpoint_id": _factorised(ev.tp.to_numpy()),
        "campaign_id": _dict(ev.camp.to_numpy(), cat.campaigns.campaign_id.to_numpy()),
        "staff_id": _dict(ev.staff.to_numpy(), cat.staff),
        "group_id": _dict(ev.chat.to_numpy(), G.groups.chat_id.to_numpy()),
        "msg": pa.array(ev.msg.to_numpy(), mask=ev.msg.to_numpy() == 0),
        "url": _factorised(ev.url.to_numpy()),
    })


def _kv(key: str, expr: str) -> str:
    """`,"key":"value"` or '' when value is NULL. Only for values the simulator generates
    from a safe alphabet (ids, codes, urls): they need no JSON escaping."""
    return f"""coalesce(',"{key}":"' || {expr} || '"', '')"""


def render_tracking(con: duckdb.DuckDBPyConnection, ev: pa.Table) -> None:
    """Tracking lines are built by string concatenation rather than json_object/maps: the
    biggest source by far, and every value in it comes from a safe alphabet."""
    con.register("ev", ev)
    con.execute(f"""
        CREATE OR REPLACE TABLE lines_tracking AS
        SELECT day, seq,
            '{{"event_id":"ev-' || event_id || '","event":"' || event || '","time":' || t
            || ',"distinct_id":"' || distinct_id || '","identities":{{'
            || ltrim({_kv("unionid", "unionid")} || {_kv("openid", "openid")} || {_kv("appid", "appid")}
                     || {_kv("external_userid", "external_userid")} || {_kv("phone", "phone")}, ',')
            || '}},"properties":{{"channel":"' || channel || '"'
            || {_kv("touchpoint_id", "touchpoint_id")} || {_kv("campaign_id", "campaign_id")} || {_kv("staff_id", "staff_id")}
            || {_kv("group_id", "group_id")} || {_kv("msgid", msgid_sql("msg"))} || {_kv("url", "url")}
            || '}}}}' AS line
        FROM ev
    """)
    con.unregister("ev")


def render_followers(con: duckdb.DuckDBPyConnection, f: pd.DataFrame) -> None:
    con.register("fol", f)
    con.execute(f"""
        CREATE OR REPLACE TABLE lines_oa_followers AS
        SELECT f.day, f.seq, CASE WHEN f.subscribe = 1 THEN json_object(
            'subscribe', 1, 'openid', o.openid, 'appid', o.appid, 'unionid', p.unionid, 'language', 'zh_CN',
            'subscribe_time', f.t // 1000, 'subscribe_scene', f.scene, 'qr_scene', 0, 'qr_scene_str', f.qr,
            'tagid_list', [f.tag])
        ELSE json_object('subscribe', 0, 'openid', o.openid, 'appid', o.appid, 'unionid', p.unionid,
            'subscribe_time', f.t // 1000) END::VARCHAR AS line
        FROM fol f JOIN ppl p ON p.idx = f.person,
        LATERAL (SELECT CASE f.app WHEN 2 THEN p.openid_sub ELSE p.openid_svc END AS openid,
                        ({_sql_list(APP_LIST)})[f.app + 1] AS appid) o
    """)
    con.unregister("fol")


def render_contacts(con: duckdb.DuckDBPyConnection, lines: pd.DataFrame, entries: pd.DataFrame) -> None:
    con.register("cl", lines)
    con.register("ce", entries)
    con.execute("""
        CREATE OR REPLACE TABLE lines_wecom_contacts AS
        WITH fu AS (
            SELECT e.line, list(json_object(
                'userid', s.userid, 'remark', e.remark, 'description', '', 'createtime', e.createtime // 1000,
                'tags', [json_object('group_name', e.tag_group, 'tag_name', e.tag_name, 'type', 1, 'tag_id', 'et_' || e.tag)],
                'remark_mobiles', list_filter([e.mobile], lambda x: x IS NOT NULL),
                'oper_userid', s.userid, 'add_way', e.add_way, 'state', e.state) ORDER BY e.pos) AS follow_user
            FROM ce e JOIN staff s ON s.idx = e.staff GROUP BY e.line)
        SELECT l.day, l.seq, json_object('errcode', 0, 'errmsg', 'ok',
            'external_contact', json_object('external_userid', p.external_userid, 'name', l.name, 'type', 1,
                                            'gender', l.gender, 'unionid', p.unionid),
            'follow_user', to_json(fu.follow_user))::VARCHAR AS line
        FROM cl l JOIN ppl p ON p.idx = l.person JOIN fu ON fu.line = l.line
    """)
    con.unregister("cl")
    con.unregister("ce")


def register_snapshots(con: duckdb.DuckDBPyConnection, G: Groups) -> None:
    m = G.members.iloc[G.snap_member]
    con.register("snap", pd.DataFrame({
        "day": G.snap_day, "chat": m.chat.to_numpy(), "person": m.person.to_numpy(), "join_t": m.join_t.to_numpy(),
        "scene": m.scene.to_numpy(), "inv_p": m.invitor_person.to_numpy(), "inv_s": m.invitor_staff.to_numpy()}))


def render_groups(con: duckdb.DuckDBPyConnection, cal: Calendar, G: Groups) -> None:
    """A full snapshot per day: every group that exists, members as of the end of the day."""
    g = G.groups
    last = np.where(g.dissolve_day.to_numpy() >= 0, g.dissolve_day.to_numpy() - 1, cal.days - 1)
    count = last - g.create_day.to_numpy() + 1
    chat = np.repeat(np.arange(len(g)), count)
    day = g.create_day.to_numpy()[chat] + np.arange(len(chat)) - np.repeat(np.cumsum(count) - count, count)
    gd = pd.DataFrame({"day": day, "chat": chat}).sort_values(["day", "chat"], kind="stable")
    con.register("gd", gd.assign(seq=np.arange(len(gd)) * 2))
    con.execute("""
        CREATE OR REPLACE TABLE lines_wecom_groups AS
        WITH ext AS (
            SELECT s.day, s.chat, count(*) AS n, list(CASE WHEN s.inv_p >= 0 OR s.inv_s >= 0 THEN json_object(
                'userid', p.external_userid, 'type', 2, 'unionid', p.unionid, 'join_time', s.join_t // 1000,
                'join_scene', s.scene, 'invitor', json_object('userid', coalesce(ip.external_userid, st.userid)),
                'group_nickname', '', 'name', p.name)
              ELSE json_object(
                'userid', p.external_userid, 'type', 2, 'unionid', p.unionid, 'join_time', s.join_t // 1000,
                'join_scene', s.scene, 'group_nickname', '', 'name', p.name) END ORDER BY s.join_t, s.person) AS members
            FROM snap s JOIN ppl p ON p.idx = s.person
            LEFT JOIN ppl ip ON ip.idx = s.inv_p LEFT JOIN staff st ON st.idx = s.inv_s
            GROUP BY s.day, s.chat)
        SELECT d.day, d.seq, json_object('errcode', 0, 'errmsg', 'ok', 'group_chat', json_object(
            'chat_id', g.chat_id, 'name', g.name, 'owner', o.userid, 'create_time', g.create_t // 1000, 'notice', '',
            'member_version', 'v' || coalesce(x.n, 0),
            'member_list', to_json(list_concat(
                [json_object('userid', o.userid, 'type', 1, 'join_time', g.create_t // 1000, 'join_scene', 1)],
                CASE WHEN a.userid IS NOT NULL THEN
                    [json_object('userid', a.userid, 'type', 1, 'join_time', g.create_t // 1000 + 60, 'join_scene', 1)]
                    ELSE [] END,
                coalesce(x.members, []))),
            'admin_list', to_json(CASE WHEN a.userid IS NOT NULL THEN [json_object('userid', a.userid)] ELSE [] END)
        ))::VARCHAR AS line
        FROM gd d JOIN grp g ON g.idx = d.chat JOIN staff o ON o.idx = g.owner
        LEFT JOIN staff a ON a.idx = g.assistant
        LEFT JOIN ext x ON x.day = d.day AND x.chat = d.chat
    """)
    con.unregister("gd")


def render_messages(con: duckdb.DuckDBPyConnection, msgs: pd.DataFrame) -> None:
    con.register("msg", msgs)
    con.execute(f"""
        CREATE OR REPLACE TABLE lines_wecom_messages AS
        WITH base AS (
            SELECT m.*, CASE m.from_kind WHEN 'member' THEN fp.external_userid WHEN 'staff' THEN fs.userid
                             ELSE m.bot_id END AS sender,
                   g.chat_id, o.userid AS owner, tp.external_userid AS to_ext, ts.userid AS to_user
            FROM msg m
            LEFT JOIN ppl fp ON m.from_kind = 'member' AND fp.idx = m.from_idx
            LEFT JOIN staff fs ON m.from_kind = 'staff' AND fs.idx = m.from_idx
            LEFT JOIN grp g ON g.idx = m.room LEFT JOIN staff o ON o.idx = g.owner
            LEFT JOIN ppl tp ON tp.idx = m.to_person LEFT JOIN staff ts ON ts.idx = m.to_staff),
        room_members AS (
            SELECT b.msg, list(p.external_userid ORDER BY s.join_t, s.person) AS members
            FROM base b JOIN snap s ON s.chat = b.room AND s.day = b.day JOIN ppl p ON p.idx = s.person
            WHERE b.room >= 0 AND b.from_kind = 'staff' GROUP BY b.msg)
        SELECT b.day, b.seq, left(json_object(
            'msgid', {msgid_sql('b.msg')}, 'action', b.action, 'from', b.sender,
            'tolist', to_json(CASE WHEN b.room >= 0 AND b.from_kind = 'staff' THEN coalesce(r.members, [])
                                   WHEN b.room >= 0 THEN [b.owner]
                                   ELSE [coalesce(b.to_ext, b.to_user)] END),
            'roomid', coalesce(b.chat_id, ''), 'msgtime', b.msgtime, 'msgtype', b.msgtype)::VARCHAR, -1)
            || ',"' || b.msgtype || '":' || (CASE b.msgtype
                WHEN 'text' THEN json_object('content', b.text)
                WHEN 'image' THEN json_object('md5sum', format('{{:016x}}', b.msg) || format('{{:016x}}', b.msgtime),
                                              'filesize', 20000 + b.msg % 900000)
                WHEN 'link' THEN json_object('title', b.title, 'description', '', 'link_url', b.url, 'image_url', '')
                WHEN 'weapp' THEN json_object('title', b.title, 'description', '', 'username', 'gh_5e2d8a9c1b3f@app',
                                              'displayname', '家居商城')
                ELSE json_object('pre_msgid', {msgid_sql('b.pre_msg')}) END)::VARCHAR || '}}' AS line
        FROM base b LEFT JOIN room_members r ON r.msg = b.msg
    """)
    con.unregister("msg")
