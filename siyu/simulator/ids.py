"""Vectorised generators for identifier strings (WeChat ids, phones and their spellings)."""

from __future__ import annotations

import numpy as np
import pandas as pd

_ALNUM = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_", dtype=np.uint8)
_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


class Taken:
    """Identifier keys handed out so far, per kind, across all member blocks of a run.

    People are generated block by block (see `simulate`), each block with its own random
    stream; this registry is what keeps a later block from drawing an id an earlier one
    already holds. Each block's keys are kept as one sorted array (a few MB at 1 M members).
    """

    def __init__(self) -> None:
        self._keys: dict[str, list[np.ndarray]] = {}

    def fresh(self, kind: str, keys: np.ndarray) -> np.ndarray:
        """Mask of `keys` that are neither taken yet nor a repeat of an earlier key in `keys`."""
        keys = np.asarray(keys, dtype=np.int64)
        ok = np.zeros(len(keys), dtype=bool)
        ok[np.unique(keys, return_index=True)[1]] = True
        for done in self._keys.get(kind, ()):
            pos = np.minimum(np.searchsorted(done, keys), len(done) - 1)
            ok &= done[pos] != keys
        return ok

    def add(self, kind: str, keys: np.ndarray) -> None:
        if len(keys):
            self._keys.setdefault(kind, []).append(np.sort(np.asarray(keys, dtype=np.int64)))


def _fresh_draws(n: int, draw, key, kind: str, taken: Taken | None) -> np.ndarray:
    """`n` draws (rows of `draw(k)`) whose `key` is unique and not in `taken`; repeats are
    redrawn (deterministically: from the same stream) and the keys registered."""
    taken = Taken() if taken is None else taken
    values = draw(n)
    keys = key(values)
    for _ in range(100):
        bad = np.flatnonzero(~taken.fresh(kind, keys))
        if len(bad) == 0:
            taken.add(kind, keys)
            return values
        values[bad] = draw(len(bad))
        keys = key(values)
    raise RuntimeError(f"cannot draw {n} distinct {kind} identifiers")


def tokens(rng: np.random.Generator, n: int, length: int, prefix: str = "", hexchars: bool = False,
           taken: Taken | None = None) -> np.ndarray:
    """`n` distinct random strings `prefix + length chars` (base64url-ish like real openids).

    Uniqueness is checked rather than assumed (within the call and against `taken`): a
    collision is redrawn, so it can never silently merge two simulated people. The check key
    is the exact value of the first 60 bits of the token (a longer token that shares them
    is redrawn too, which costs nothing but a draw)."""
    alphabet = _HEX if hexchars else _ALNUM
    bits = 4 if hexchars else 6
    width = min(length, 60 // bits)
    weights = (np.int64(1) << (bits * np.arange(width, dtype=np.int64)))

    def draw(k: int) -> np.ndarray:
        return rng.integers(0, len(alphabet), size=(k, length), dtype=np.int64)

    idx = _fresh_draws(n, draw, lambda v: v[:, :width] @ weights, f"{prefix}{length}{'x' if hexchars else ''}", taken)
    codes = alphabet[idx]
    body = np.ascontiguousarray(codes).view(f"S{length}").ravel().astype(str)
    out = np.char.add(prefix, body) if prefix else body
    return out.astype(object)


def mobiles(rng: np.random.Generator, n: int, exclude: str, taken: Taken | None = None) -> np.ndarray:
    """`n` distinct mainland mobile numbers (^1[3-9][0-9]{9}$), never equal to `exclude`
    nor to one in `taken`."""
    taken = Taken() if taken is None else taken
    if taken.fresh("mobile", np.array([int(exclude)]))[0]:
        taken.add("mobile", np.array([int(exclude)]))

    def draw(k: int) -> np.ndarray:
        return 13_000_000_000 + rng.integers(0, 7_000_000_000, size=k)

    return _fresh_draws(n, draw, lambda v: v, "mobile", taken).astype(str).astype(object)


# How people type their own number into forms: the spellings contracts §4 normalises away.
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
