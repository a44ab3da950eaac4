"""SUDA2: minimal sample uniques (MSUs), SUDA scores and DIS-SUDA scores.

An MSU of a record is a set of key variables on which the record's values are unique in the
sample while no smaller subset of it is. Each MSU of size s adds a weight to the record's score:
``elliot`` (Elliot et al., sdcMicro's default): (ATT - s)!; ``ihsn`` (the IHSN implementation):
(2^(ATT-s) - 1) · s!·(ATT-s)!/ATT!, where ATT is the number of keys. The DIS-SUDA score turns
scores into a probability of correct matching using the sampling fraction ``dis_fraction``.
Missing key values are treated as a category of their own here.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from math import factorial

import numpy as np
import pandas as pd

from sdc._checks import check_keys, codes, combine
from sdc.errors import SdcError

MAX_KEYS = 16


def _weights(att: int, scores: str) -> np.ndarray:
    sizes = np.arange(1, att + 1)
    if scores == "elliot":
        return np.array([float(factorial(att - s)) for s in sizes])
    if scores == "ihsn":
        return np.array(
            [
                (2.0 ** (att - s) - 1) * factorial(s) * factorial(att - s) / factorial(att)
                for s in sizes
            ]
        )
    raise SdcError(f"scores must be 'elliot' or 'ihsn', got {scores!r}")


def suda2(
    df: pd.DataFrame,
    keys: Sequence[str],
    dis_fraction: float = 0.01,
    scores: str = "elliot",
    max_size: int | None = None,
) -> pd.DataFrame:
    """SUDA and DIS-SUDA scores of each record; per-key contributions in ``.attrs``."""
    keys = check_keys(df, keys)
    att = len(keys)
    if att > MAX_KEYS:
        raise SdcError(f"suda2 takes at most {MAX_KEYS} keys ({att} given)")
    if not 0 < dis_fraction < 1:
        raise SdcError("dis_fraction must be a sampling fraction between 0 and 1")
    max_size = att if max_size is None else max_size
    weight = _weights(att, scores)
    code_matrix = codes(df, keys) + 1
    n = len(df)
    score = np.zeros(n)
    contribution = np.zeros((n, att))
    unique_prev: dict[tuple[int, ...], np.ndarray] = {
        (): np.zeros(n, bool) if n > 1 else np.ones(n, bool)
    }
    for size in range(1, max_size + 1):
        unique_now: dict[tuple[int, ...], np.ndarray] = {}
        for subset in itertools.combinations(range(att), size):
            group = combine(code_matrix[:, list(subset)])
            unique = np.bincount(group)[group] == 1
            unique_now[subset] = unique
            minimal = unique.copy()
            for drop in range(size):
                smaller = subset[:drop] + subset[drop + 1 :]
                minimal &= ~unique_prev[smaller]
            if minimal.any():
                score[minimal] += weight[size - 1]
                for j in subset:
                    contribution[minimal, j] += weight[size - 1]
        unique_prev = unique_now

    # DIS-SUDA (sdcMicro/IHSN): sample uniques U and records in duplicate pairs P
    full = combine(code_matrix)
    counts = np.bincount(full)
    uniques = int((counts == 1).sum())
    pair_records = int(2 * (counts == 2).sum())
    dis_score = np.zeros(n)
    if uniques:
        dis = uniques * dis_fraction / (uniques * dis_fraction + pair_records * (1 - dis_fraction))
        q = 1.0 + (8.0 - att) / 20.0
        positive = score > 0
        adjust = float((1.0 / score[positive] ** q).sum())
        dis_score[positive] = 1.0 / (
            1.0 + (uniques / dis - uniques) / (score[positive] ** q * adjust)
        )
    result = pd.DataFrame({"score": score, "dis_score": dis_score}, index=df.index)
    total = score.sum()
    result.attrs["contributions"] = {
        key: (100.0 * contribution[:, j].sum() / total if total else 0.0)
        for j, key in enumerate(keys)
    }
    return result
