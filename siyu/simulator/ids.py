"""Vectorised generators for identifier strings (WeChat ids, phones and their spellings)."""

from __future__ import annotations

import numpy as np
import pandas as pd

_ALNUM = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_", dtype=np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def tokens(rng: np.random.Generator, n: int, length: int, prefix: str = "", hexchars: bool = False) -> np.ndarray:
    """`n` distinct random strings `prefix + length chars` (base64url-ish like real openids).

    Uniqueness is checked rather than assumed, so a collision can never silently merge two
    simulated people.
    """
    alphabet = _HEX if hexchars else _ALNUM
    codes = alphabet[rng.integers(0, len(alphabet), size=(n, length))]
    body = np.ascontiguousarray(codes).view(f"S{length}").ravel().astype(str)
    out = np.char.add(prefix, body) if prefix else body
    if len(np.unique(out)) != n:
        raise RuntimeError("identifier collision; use a longer token")
    return out.astype(object)


def mobiles(rng: np.random.Generator, n: int, exclude: str) -> np.ndarray:
    """`n` distinct mainland mobile numbers (^1[3-9][0-9]{9}$), never equal to `exclude`."""
    draw = 13_000_000_000 + rng.integers(0, 7_000_000_000, size=int(n * 1.05) + 16)
    _, first = np.unique(draw, return_index=True)
    draw = draw[np.sort(first)]
    draw = draw[draw != int(exclude)][:n]
    if len(draw) < n:
        raise RuntimeError("not enough distinct phone numbers drawn")
    return draw.astype(str).astype(object)


# How people type their own number into forms: the spellings DESIGN §4 normalises away.
PHONE_STYLES = ("plain", "plus86_spaced", "0086", "dashed", "plus86", "spaced")


def phone_spelling(phones: pd.Series, style: np.ndarray) -> pd.Series:
    """Render 11-digit phones in the spelling `style` (indices into PHONE_STYLES)."""
    p = phones.astype("str")
    a, b, c = p.str.slice(0, 3), p.str.slice(3, 7), p.str.slice(7, 11)
    variants = [
        p,
        "+86 " + a + " " + b + " " + c,
        "0086" + p,
        a + "-" + b + "-" + c,
        "+86" + p,
        a + " " + b + " " + c,
    ]
    out = p.copy()
    for i, v in enumerate(variants):
        mask = style == i
        out[mask] = v[mask]
    return out
