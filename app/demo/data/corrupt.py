"""Realistic identifier quality: typos, nicknames, swapped day and month, blanks.

Each function takes a numpy random Generator and returns a new array; the rate is the share of
values changed. Only the chosen values are touched in Python, so a million records cost little.
"""

from __future__ import annotations

import numpy as np

from app.demo.data.names import NICKNAMES

_NEIGHBOURS = {
    "a": "sqz",
    "b": "vn",
    "c": "xv",
    "d": "sf",
    "e": "wr",
    "f": "dg",
    "g": "fh",
    "h": "gj",
    "i": "uo",
    "j": "hk",
    "k": "jl",
    "l": "k",
    "m": "n",
    "n": "bm",
    "o": "ip",
    "p": "o",
    "q": "w",
    "r": "et",
    "s": "ad",
    "t": "ry",
    "u": "yi",
    "v": "cb",
    "w": "qe",
    "x": "zc",
    "y": "tu",
    "z": "x",
}


def _chosen(rng: np.random.Generator, size: int, rate: float) -> np.ndarray:
    return np.flatnonzero(rng.random(size) < rate)


def _typo(word: str, draw: float, position: float) -> str:
    if len(word) < 3:
        return word
    i = 1 + int(position * (len(word) - 2))  # never the first letter: people rarely mistype it
    if draw < 0.35:  # a neighbouring key
        near = _NEIGHBOURS.get(word[i].lower(), "e")
        return word[:i] + near[int(position * 97) % len(near)] + word[i + 1 :]
    if draw < 0.6:  # a letter dropped
        return word[:i] + word[i + 1 :]
    if draw < 0.85:  # two letters swapped
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]  # a letter doubled


def typos(rng: np.random.Generator, values: np.ndarray, rate: float) -> np.ndarray:
    out = values.astype(object).copy()
    chosen = _chosen(rng, len(out), rate)
    draws, positions = rng.random(len(chosen)), rng.random(len(chosen))
    for index, draw, position in zip(chosen, draws, positions, strict=True):
        if isinstance(out[index], str):
            out[index] = _typo(out[index], draw, position)
    return out


def nicknames(rng: np.random.Generator, given: np.ndarray, rate: float) -> np.ndarray:
    out = given.astype(object).copy()
    chosen = _chosen(rng, len(out), rate)
    picks = rng.random(len(chosen))
    for index, pick in zip(chosen, picks, strict=True):
        options = NICKNAMES.get(out[index])
        if options:
            out[index] = options[int(pick * len(options))]
    return out


def swap_day_month(rng: np.random.Generator, dates: np.ndarray, rate: float) -> np.ndarray:
    """Swap day and month where the result is a real, different date (day <= 12)."""
    out = dates.copy()
    chosen = _chosen(rng, len(out), rate)
    if not len(chosen):
        return out
    picked = out[chosen]
    years = picked.astype("datetime64[Y]")
    months = (picked.astype("datetime64[M]") - years).astype(int) + 1
    days = (picked - picked.astype("datetime64[M]")).astype(int) + 1
    ok = (days <= 12) & (days != months) & ~np.isnat(picked)
    swapped = years[ok] + (days[ok] - 1).astype("timedelta64[M]")
    swapped = swapped.astype("datetime64[D]") + (months[ok] - 1).astype("timedelta64[D]")
    out[chosen[ok]] = swapped
    return out


def blank(rng: np.random.Generator, values: np.ndarray, rate: float) -> np.ndarray:
    """Missing values: None in object arrays, NaT in dates."""
    out = values.copy() if values.dtype.kind == "M" else values.astype(object).copy()
    chosen = _chosen(rng, len(out), rate)
    out[chosen] = np.datetime64("NaT") if out.dtype.kind == "M" else None
    return out


def break_check_digit(rng: np.random.Generator, numbers: np.ndarray, rate: float) -> np.ndarray:
    """Mistyped NHS numbers: two adjacent digits swapped (what the mod-11 check catches)."""
    out = numbers.astype(object).copy()
    chosen = _chosen(rng, len(out), rate)
    for index in chosen:
        value = out[index]
        if isinstance(value, str) and len(value) == 10 and value[3] != value[4]:
            out[index] = value[:3] + value[4] + value[3] + value[5:]
    return out
