"""Perturbative methods: PRAM, MDAV microaggregation, additive noise, rank swapping.

Every method takes ``seed=`` and gives the same result for the same seed and data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sdc._checks import check_frame
from sdc._result import Result
from sdc.errors import SdcError


def _numeric(df: pd.DataFrame, columns: Sequence[str]) -> np.ndarray:
    columns = [columns] if isinstance(columns, str) else list(columns)
    check_frame(df, columns, "numeric column")
    for column in columns:
        if not pd.api.types.is_numeric_dtype(df[column]):
            raise SdcError(f"column {column!r} is not numeric ({df[column].dtype})")
    return df[columns].to_numpy(dtype=float)


def pram_matrix(
    frequencies: np.ndarray, pd_min: float, alpha: float, rng: np.random.Generator
) -> np.ndarray:
    """An invariant PRAM transition matrix for categories with these frequencies.

    P has diagonal entries drawn from [pd_min, 1] and the rest of each row spread evenly; the
    backward matrix Q (q_lk = p_kl T_k / sum_j p_jl T_j) makes R = PQ invariant (T'R = T'), and
    the result is alpha·R + (1 - alpha)·I, so the expected tabulation is the original one.
    """
    m = len(frequencies)
    if m == 1:
        return np.ones((1, 1))
    diagonal = rng.uniform(pd_min, 1.0, m)
    p = np.tile(((1 - diagonal) / (m - 1))[:, None], (1, m))
    np.fill_diagonal(p, diagonal)
    totals = frequencies @ p  # sum_j T_j p_jl
    q = (p * frequencies[:, None]).T / totals[:, None]  # q[l, k]
    r = p @ q
    return alpha * r + (1 - alpha) * np.eye(m)


def pram(
    df: pd.DataFrame,
    column: str,
    pd_min: float = 0.8,
    alpha: float = 0.5,
    strata: str | None = None,
    seed: int | None = None,
) -> Result:
    """Invariant PRAM of a categorical COLUMN (sdcMicro's defaults pd = 0.8, alpha = 0.5):
    each value is replaced by a draw from its row of the transition matrix (``.transition``).
    Missing values stay missing. With STRATA, a matrix per stratum."""
    check_frame(df, [column] + ([strata] if strata else []))
    if not 0 < pd_min <= 1 or not 0 <= alpha <= 1:
        raise SdcError("pd_min must be in (0, 1] and alpha in [0, 1]")
    rng = np.random.default_rng(seed)
    data = df.copy()
    values = df[column]
    new = values.astype(object).copy()
    groups = (
        [(None, df.index)] if strata is None else df.groupby(strata, dropna=False).groups.items()
    )
    matrices = {}
    changed = 0
    for name, index in groups:
        part = values.loc[index]
        observed = part.dropna()
        if observed.empty:
            continue
        categories, coded = np.unique(observed.astype(str).to_numpy(), return_inverse=True)
        originals = pd.Series(observed.to_numpy()).groupby(coded).first().to_numpy()
        frequencies = np.bincount(coded, minlength=len(categories)).astype(float)
        matrix = pram_matrix(frequencies, pd_min, alpha, rng)
        cumulative = np.cumsum(matrix, axis=1)
        draws = rng.random(len(coded))
        target = (draws[:, None] > cumulative[coded]).sum(axis=1)
        target = np.minimum(target, len(categories) - 1)
        new.loc[observed.index] = originals[target]
        changed += int((target != coded).sum())
        matrices[str(name)] = pd.DataFrame(matrix, index=categories, columns=categories)
    if pd.api.types.is_numeric_dtype(values):
        new = pd.to_numeric(new)
    data[column] = new
    transition = matrices["None"] if strata is None else matrices
    record = {
        "method": "pram",
        "column": column,
        "pd_min": pd_min,
        "alpha": alpha,
        "strata": strata,
        "seed": seed,
        "records_changed": changed,
    }
    return Result(data, record, extras={"transition": transition})


def _mdav_groups(x: np.ndarray, k: int) -> np.ndarray:
    n = len(x)
    group = np.full(n, -1, dtype=np.int64)
    remaining = np.arange(n)
    label = 0

    def take(around: int, pool: np.ndarray) -> np.ndarray:
        distance = ((x[pool] - x[around]) ** 2).sum(axis=1)
        return pool[np.argsort(distance, kind="stable")[:k]]

    while len(remaining) >= 3 * k:
        centroid = x[remaining].mean(axis=0)
        r = remaining[np.argmax(((x[remaining] - centroid) ** 2).sum(axis=1))]
        s = remaining[np.argmax(((x[remaining] - x[r]) ** 2).sum(axis=1))]
        members = take(r, remaining)
        group[members] = label
        remaining = remaining[group[remaining] < 0]
        members = take(s, remaining)
        group[members] = label + 1
        remaining = remaining[group[remaining] < 0]
        label += 2
    if len(remaining) >= 2 * k:
        centroid = x[remaining].mean(axis=0)
        r = remaining[np.argmax(((x[remaining] - centroid) ** 2).sum(axis=1))]
        members = take(r, remaining)
        group[members] = label
        remaining = remaining[group[remaining] < 0]
        label += 1
    group[remaining] = label
    return group


def microaggregation(df: pd.DataFrame, columns: Sequence[str], k: int = 3) -> Result:
    """MDAV microaggregation: groups of at least K similar records (on standardised COLUMNS)
    whose values are replaced by the group means, so group means are kept exactly."""
    columns = [columns] if isinstance(columns, str) else list(columns)
    x = _numeric(df, columns)
    if np.isnan(x).any():
        raise SdcError("microaggregation needs complete numeric columns; impute or drop missing")
    if k < 2 or k > len(df):
        raise SdcError(f"k must be between 2 and the number of records ({len(df)}), got {k}")
    spread = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(spread > 0, spread, 1)
    group = _mdav_groups(z, k)
    sums = np.zeros((group.max() + 1, x.shape[1]))
    np.add.at(sums, group, x)
    means = sums / np.bincount(group)[:, None]
    data = df.copy()
    data[columns] = means[group]
    sizes = np.bincount(group)
    record = {
        "method": "microaggregation",
        "algorithm": "MDAV",
        "columns": columns,
        "k": k,
        "groups": int(len(sizes)),
        "smallest_group": int(sizes.min()),
    }
    return Result(data, record, extras={"groups": pd.Series(group, index=df.index)})


def add_noise(
    df: pd.DataFrame,
    columns: Sequence[str],
    noise: float = 0.1,
    method: str = "correlated",
    seed: int | None = None,
) -> Result:
    """Additive noise on numeric COLUMNS.

    ``additive``: each column gets independent normal noise with standard deviation
    noise × its standard deviation. ``correlated``: the noise has covariance noise² × the
    columns' covariance, which keeps correlations in expectation. The default noise = 0.1 (10 %
    of the spread) is deliberately moderate; sdcMicro's default of 150 % swamps the data.
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    x = _numeric(df, columns)
    if noise < 0:
        raise SdcError("noise must be zero or more (a share of each column's spread)")
    rng = np.random.default_rng(seed)
    observed = ~np.isnan(x)
    if method == "additive":
        spread = np.nanstd(x, axis=0, ddof=1)
        added = rng.normal(0.0, 1.0, x.shape) * (noise * spread)
    elif method == "correlated":
        complete = x[observed.all(axis=1)]
        covariance = np.atleast_2d(np.cov(complete, rowvar=False))
        added = rng.multivariate_normal(
            np.zeros(len(columns)), noise**2 * covariance, size=len(x), method="eigh"
        )
    else:
        raise SdcError(f"method must be 'additive' or 'correlated', got {method!r}")
    data = df.copy()
    data[columns] = np.where(observed, x + added, np.nan)
    record = {
        "method": "add_noise",
        "columns": columns,
        "noise": noise,
        "kind": method,
        "seed": seed,
    }
    return Result(data, record)


def rank_swap(
    df: pd.DataFrame, columns: Sequence[str], p: float = 5.0, seed: int | None = None
) -> Result:
    """Rank swapping: each value is swapped with another whose rank differs by at most P % of
    the records, column by column, so each column's distribution is kept exactly."""
    columns = [columns] if isinstance(columns, str) else list(columns)
    x = _numeric(df, columns)
    if not 0 < p <= 100:
        raise SdcError("p must be a percentage in (0, 100]")
    rng = np.random.default_rng(seed)
    out = x.copy()
    window = max(1, int(round(p / 100 * len(x))))
    swapped_total = 0
    for j in range(x.shape[1]):
        present = np.flatnonzero(~np.isnan(x[:, j]))
        order = present[np.argsort(x[present, j], kind="stable")]
        free = np.ones(len(order), bool)
        for position in range(len(order)):
            if not free[position]:
                continue
            free[position] = False
            upper = min(len(order), position + window + 1)
            options = np.flatnonzero(free[position + 1 : upper]) + position + 1
            if not len(options):
                continue
            partner = options[rng.integers(len(options))]
            free[partner] = False
            a, b = order[position], order[partner]
            out[a, j], out[b, j] = x[b, j], x[a, j]
            swapped_total += 2
    data = df.copy()
    data[columns] = out
    record = {
        "method": "rank_swap",
        "columns": columns,
        "p": p,
        "seed": seed,
        "values_swapped": swapped_total,
    }
    return Result(data, record)
