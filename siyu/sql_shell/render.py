"""Rendering results: tables that fit the terminal, CSV and JSON values."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import math
import re
import unicodedata
import uuid
from typing import Any

_NUMERIC = re.compile(r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|REAL|DECIMAL.*|NUMERIC.*)$", re.I)
_CONTROL = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def display_width(text: str) -> int:
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _clip(text: str, width: int) -> str:
    if display_width(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = 0 if unicodedata.combining(ch) else (2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(0, width - display_width(text))
    return gap + text if right else text + gap


def format_cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "".join(chr(b) if 32 <= b < 127 and b != 92 else f"\\x{b:02X}" for b in bytes(value))
    text = str(value)
    if any(ch in text for ch in "\n\r\t"):
        text = "".join(_CONTROL.get(ch, ch) for ch in text)
    return text


def _fit(natural: list[int], limit: int | None) -> tuple[list[int], list[int]]:
    """Column widths and the indices of the columns shown, so each line is at most `limit` wide."""
    def total(widths: list[int]) -> int:
        return sum(widths) + 3 * len(widths) + 1

    def capped(widths: list[int], room: int) -> list[int]:
        if total(widths) <= room:
            return widths
        lo, hi = 1, max(widths)
        while lo < hi:  # the largest common cap that fits
            mid = (lo + hi + 1) // 2
            if total([min(w, mid) for w in widths]) <= room:
                lo = mid
            else:
                hi = mid - 1
        out = [min(w, lo) for w in widths]
        spare = room - total(out)
        for i, w in enumerate(widths):  # hand the remainder to the columns that were cut
            if spare <= 0:
                break
            if w > out[i]:
                out[i] += 1
                spare -= 1
        return out

    everything = list(range(len(natural)))
    if limit is None or total(natural) <= limit:
        return natural, everything
    floor = [min(w, 8) for w in natural]
    if total(floor) <= limit:
        return capped(natural, limit), everything
    # too many columns even when narrow: show the first ones, readable (up to 16 wide), then "…"
    room = limit - 4  # the "…" column of hidden ones
    keep: list[int] = []
    used = 1
    for i, w in enumerate(min(w, 16) for w in natural):
        if used + w + 3 > room:
            break
        keep.append(i)
        used += w + 3
    if not keep:
        keep = [0]
    widths = capped([natural[i] for i in keep], room)
    return [max(1, w) for w in widths], keep


def render_table(names: list[str], types: list[str], rows: list[tuple], width: int | None) -> tuple[list[str], list[str]]:
    """Box-drawn lines, and the names of columns left out to fit `width`."""
    cells = [[format_cell(v) for v in row] for row in rows]
    type_names = [t.lower().strip('"') for t in types]
    natural = [max([display_width(names[i]), display_width(type_names[i])] + [display_width(r[i]) for r in cells])
               for i in range(len(names))]
    widths, shown = _fit(natural, width)
    hidden = [names[i] for i in range(len(names)) if i not in shown]
    right = [bool(_NUMERIC.match(types[i].strip('"'))) for i in shown]
    more = ["…"] if hidden else []
    col_widths = widths + ([1] if hidden else [])

    def rule(left: str, mid: str, end: str) -> str:
        return left + mid.join("─" * (w + 2) for w in col_widths) + end

    def line(values: list[str], align: list[bool]) -> str:
        parts = [_pad(_clip(v, w), w, r) for v, w, r in zip(values, col_widths, align)]
        return "│ " + " │ ".join(parts) + " │"

    align_text = [False] * len(col_widths)
    out = [rule("┌", "┬", "┐"),
           line([names[i] for i in shown] + more, align_text),
           line([type_names[i] for i in shown] + more, align_text),
           rule("├", "┼", "┤")]
    out += [line([r[i] for i in shown] + more, right + [False] * len(more)) for r in cells]
    out.append(rule("└", "┴", "┘"))
    return out, hidden


def json_value(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() and value.as_tuple().exponent >= 0 else float(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return format_cell(value)
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    return str(value)


def csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(json_value(value), ensure_ascii=False)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return format_cell(value)
    return value
