"""WeCom external contacts (`externalcontact/get` lines) and OA follower records (`user/info`).

A contact line is the contact's state when it was added or changed: first when a staff
member adds the person, again when a second staff member adds them or the guide writes the
phone into `remark_mobiles`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .campaigns import ACQ_CHANNELS, Catalog
from .config import APP_SUB, APP_SVC, DAY_MS, HOUR_MS, Calendar
from .ids import phone_spelling
from .people import NEVER
from .textpool import TAGS

STYLE_WEIGHTS = np.array([0.5, 0.12, 0.08, 0.12, 0.1, 0.08])


def phone_styles(rng: np.random.Generator, n: int) -> np.ndarray:
    """How a phone is typed: mostly plain digits, sometimes with +86/0086, dashes, spaces."""
    return rng.choice(len(STYLE_WEIGHTS), size=n, p=STYLE_WEIGHTS)


def make_contacts(rng: np.random.Generator, cal: Calendar, cat: Catalog, p: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(lines, follow_user entries): a line per contact state, an entry per staff member on it."""
    n = len(p)
    contact_t, contact2_t = p.contact_t.to_numpy(), p.contact2_t.to_numpy()
    store_acq = p.acq.to_numpy() == [c[0] for c in ACQ_CHANNELS].index("store")
    remark = p.remark_phone.to_numpy()
    who = np.flatnonzero(contact_t != NEVER)
    lead_t = p.lead_t.to_numpy()
    later = np.where((lead_t != NEVER) & (lead_t > contact_t), lead_t + HOUR_MS,
                     contact_t + (5 * DAY_MS * rng.lognormal(0, 0.6, size=n)).astype(np.int64))
    upd_t = np.where(contact2_t != NEVER, contact2_t, np.where(remark & ~store_acq, later, NEVER))
    upd_t = np.where(upd_t < cal.t_end, upd_t, NEVER)
    upd = who[upd_t[who] != NEVER]
    lines = pd.DataFrame({
        "line": np.arange(len(who) + len(upd)),
        "person": np.concatenate([who, upd]),
        "t": np.concatenate([contact_t[who], upd_t[upd]]),
    })
    lines["name"] = p.name.to_numpy()[lines.person]
    lines["gender"] = p.gender.to_numpy()[lines.person]
    # follow_user entries: the first staff on every line, the second one on update lines if added.
    mobile = pd.Series(np.where(remark, phone_spelling(p.phone, phone_styles(rng, n)), None), dtype=object)
    first_mobile = np.concatenate([np.where(store_acq[who] & remark[who], mobile[who], None), mobile[upd].to_numpy()])
    tag = np.where(store_acq, 4, rng.integers(0, 4, size=n))
    state = np.where(store_acq, cat.stores[p.store.to_numpy()], np.char.add("cw-", np.array([c[2] for c in ACQ_CHANNELS])[np.maximum(p.acq.to_numpy(), 0)]).astype(object))
    state = np.where(p.fission.to_numpy(), "cw-group", state)
    add_way = np.where(store_acq, 1, rng.choice([1, 2, 3, 16], size=n))
    e1 = pd.DataFrame({"line": lines.line, "pos": 0, "person": lines.person, "staff": p.staff.to_numpy()[lines.person],
                       "createtime": contact_t[lines.person], "mobile": first_mobile, "tag": tag[lines.person],
                       "add_way": add_way[lines.person], "state": state[lines.person]})
    second = lines.iloc[len(who):]
    second = second[contact2_t[second.person] != NEVER]
    e2 = pd.DataFrame({"line": second.line, "pos": 1, "person": second.person, "staff": p.staff2.to_numpy()[second.person],
                       "createtime": contact2_t[second.person], "mobile": None, "tag": rng.integers(0, 4, size=len(second)),
                       "add_way": 201, "state": ""})
    entries = pd.concat([e1, e2], ignore_index=True).sort_values(["line", "pos"], kind="stable").reset_index(drop=True)
    entries["tag_group"] = np.array([t[0] for t in TAGS], dtype=object)[entries.tag]
    entries["tag_name"] = np.array([t[1] for t in TAGS], dtype=object)[entries.tag]
    entries["remark"] = lines.name.to_numpy()[entries.line] + " " + entries.tag_name
    return lines, entries


SCENES = np.array(["ADD_SCENE_QR_CODE", "ADD_SCENE_SEARCH", "ADD_SCENE_PROFILE_CARD", "ADD_SCENE_ARTICLE_AD",
                   "ADD_SCENE_OTHERS"], dtype=object)


def make_followers(rng: np.random.Generator, cal: Calendar, cat: Catalog, p: pd.DataFrame) -> pd.DataFrame:
    """One row per follow (subscribe 1) or unfollow (subscribe 0) of the two OA accounts."""
    parts = []
    for app, start_col, end_col in ((APP_SUB, "sub_t", "sub_end"), (APP_SVC, "svc_t", "svc_end")):
        start, end = p[start_col].to_numpy(), p[end_col].to_numpy()
        fol = np.flatnonzero(start != NEVER)
        scene = np.where(p.oa_first.to_numpy()[fol] & (app == APP_SUB), 2, rng.choice(5, size=len(fol), p=[0.45, 0.2, 0.15, 0.1, 0.1]))
        qr = np.where(scene == 0, cat.stores[p.store.to_numpy()[fol]], "")
        parts.append(pd.DataFrame({"person": fol, "app": app, "subscribe": 1, "t": start[fol], "scene": SCENES[scene],
                                   "qr": qr, "tag": rng.integers(100, 104, size=len(fol))}))
        unf = np.flatnonzero((start != NEVER) & (end != NEVER) & (end < cal.t_end))
        parts.append(pd.DataFrame({"person": unf, "app": app, "subscribe": 0, "t": end[unf], "scene": None, "qr": None, "tag": -1}))
    f = pd.concat(parts, ignore_index=True)
    return f.sort_values(["t", "person", "app"], kind="stable").reset_index(drop=True)
