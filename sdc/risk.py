"""Microdata disclosure risk, with sdcMicro's semantics (reimplemented from the definitions).

* ``freq_counts``: fk (sample frequency of a record's key combination) and Fk (its estimated
  population frequency, the sum of sampling weights). A missing key value matches any value.
* ``individual_risk``: Benedetti-Franconi individual risk; ``global_risk`` its mean and sum;
  ``household_risk``: 1 - prod(1 - r) over a household's members.
* ``kanon_violations``, ``ldiversity``, ``risky_cells``.

Every result is aligned with the input frame's index. Work is one grouped pass per missingness
pattern pair, in numpy: no Python loop over records.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from math import comb

import numpy as np
import pandas as pd
from scipy import special

from sdc._checks import check_frame, check_keys, check_unique_keys, codes, combine, weights
from sdc.errors import SdcError


def _freq_arrays(
    code_matrix: np.ndarray, w: np.ndarray | None, alpha: float
) -> tuple[np.ndarray, np.ndarray]:
    n, k = code_matrix.shape
    w_or_one = np.ones(n) if w is None else w
    observed = code_matrix >= 0
    if observed.all():
        group = combine(code_matrix)
        fk = np.bincount(group)[group].astype(float)
        Fk = np.bincount(group, weights=w_or_one)[group]
        return fk, Fk

    # rows grouped by missingness pattern (bit j set when key j is observed)
    bits = (observed * (1 << np.arange(k))).sum(axis=1)
    patterns = np.unique(bits)
    full = (1 << k) - 1
    rows = {p: np.flatnonzero(bits == p) for p in patterns}
    fk, Fk = np.zeros(n), np.zeros(n)
    # a group id for each subset of keys that two patterns share, computed once per subset
    shared_ids: dict[int, np.ndarray] = {}

    def ids(subset: int) -> np.ndarray:
        if subset not in shared_ids:
            columns = [j for j in range(k) if subset >> j & 1]
            # codes are only compared where both patterns observe the keys, so -1 never meets
            shared_ids[subset] = combine(code_matrix[:, columns])
        return shared_ids[subset]

    for p, q in itertools.product(patterns, patterns):
        shared = int(p & q)
        # sdcMicro's alpha: records with missing keys count alpha times for others, except
        # records in a record's own exact group; complete records always count fully
        factor = 1.0 if (q == full or p == q) else alpha
        if factor == 0.0:
            continue
        rows_p, rows_q = rows[p], rows[q]
        group = ids(shared)
        size = int(group.max()) + 1 if n else 0
        counts = np.bincount(group[rows_q], minlength=size)
        sums = np.bincount(group[rows_q], weights=w_or_one[rows_q], minlength=size)
        fk[rows_p] += factor * counts[group[rows_p]]
        Fk[rows_p] += factor * sums[group[rows_p]]
    # a record with every key missing matches every record
    if 0 in rows:
        fk[rows[0]] = n
        Fk[rows[0]] = w_or_one.sum()
    return fk, Fk


def freq_counts(
    df: pd.DataFrame, keys: Sequence[str], weight: str | None = None, alpha: float = 1.0
) -> pd.DataFrame:
    """Sample frequency ``fk`` and population frequency ``Fk`` of each record's key combination.

    Records i and j match when they agree on every key observed in both (a missing value is a
    wildcard). ``alpha`` (0..1, sdcMicro's parameter) says how much records with missing keys
    count towards *other* records' frequencies: 1 counts every wildcard match (the default);
    0 ignores them, so complete records are counted only among themselves while a record with
    missing keys still counts the complete records it matches. Without ``weight``, Fk = fk.
    """
    keys = check_risk_inputs(df, keys)
    if not 0.0 <= alpha <= 1.0:
        raise SdcError(f"alpha must be between 0 and 1, got {alpha}")
    w = weights(df, weight)
    fk, Fk = _freq_arrays(codes(df, keys), w, alpha)
    return pd.DataFrame({"fk": fk, "Fk": Fk}, index=df.index)


def _risk_from_frequencies(
    fk: np.ndarray, Fk: np.ndarray, weighted: bool, method: str, qual: float, survey: bool
) -> np.ndarray:
    if method not in ("approx", "exact"):
        raise SdcError(f"method must be 'approx' or 'exact', got {method!r}")
    if not survey:
        return 1.0 / fk
    if not weighted:
        return qual / fk
    with np.errstate(divide="ignore", invalid="ignore"):
        pk = fk / Fk
        qk = 1.0 - pk
        ratio = pk / qk
        log_inv = np.log(1.0 / pk)
        r = np.where(
            fk == 1,
            ratio * log_inv,
            np.where(fk == 2, ratio - ratio**2 * log_inv, pk / (fk - qk)),
        )
        if method == "exact":
            big = fk > 2
            # E[1/F | f] under the negative-binomial posterior, 2F1(1, f; f+1; -q/p) / f, in
            # Pfaff's form p·2F1(1, 1; f+1; q) / f (a series of positive terms); where even
            # that fails (f in the hundreds, q near 1) the approximation is exact to 1e-6
            exact = pk[big] * special.hyp2f1(1.0, 1.0, fk[big] + 1.0, qk[big]) / fk[big]
            r[big] = np.where(np.isfinite(exact), exact, r[big])
    # where the sample is the population (pk >= 1), the risk is 1/fk
    r = np.where(pk >= 1.0, 1.0 / fk, r)
    return r * qual


def individual_risk(
    df: pd.DataFrame,
    keys: Sequence[str],
    weight: str | None = None,
    method: str = "approx",
    qual: float = 1.0,
    survey: bool = True,
    alpha: float = 1.0,
) -> pd.Series:
    """Benedetti-Franconi individual re-identification risk of each record (sdcMicro indivRisk).

    With pk = fk/Fk: fk = 1: pk/(1-pk)·log(1/pk); fk = 2: pk/(1-pk) - (pk/(1-pk))²·log(1/pk);
    fk > 2: ``approx`` pk/(fk - (1-pk)), ``exact`` the negative-binomial expectation of 1/F.
    Without weights (or ``survey=False``) the risk is 1/fk; ``qual`` scales survey risks.
    """
    freq = freq_counts(df, keys, weight, alpha)
    r = _risk_from_frequencies(
        freq["fk"].to_numpy(), freq["Fk"].to_numpy(), weight is not None, method, qual, survey
    )
    return pd.Series(r, index=df.index, name="risk")


@dataclass(frozen=True)
class GlobalRisk:
    risk: float  # mean individual risk
    expected_reidentifications: float  # sum of individual risks
    records: int

    @property
    def risk_pct(self) -> float:
        return 100.0 * self.risk


def global_risk(
    df: pd.DataFrame, keys: Sequence[str], weight: str | None = None, **options
) -> GlobalRisk:
    """Global risk: the mean individual risk and the expected number of re-identifications."""
    r = individual_risk(df, keys, weight, **options).to_numpy()
    return GlobalRisk(float(r.mean()), float(r.sum()), len(r))


def household_risk(
    df: pd.DataFrame, keys: Sequence[str], household: str, weight: str | None = None, **options
) -> pd.Series:
    """Each record's household risk: 1 - prod(1 - r) over the members of its household."""
    check_frame(df, [household], "household column")
    if df[household].isna().any():
        raise SdcError(f"household column {household!r} has missing values")
    r = individual_risk(df, keys, weight, **options).to_numpy()
    group = pd.factorize(df[household])[0]
    with np.errstate(divide="ignore"):
        log_safe = np.bincount(group, weights=np.log1p(-np.minimum(r, 1.0)))
    return pd.Series(1.0 - np.exp(log_safe[group]), index=df.index, name="household_risk")


def kanon_violations(
    df: pd.DataFrame, keys: Sequence[str], k: int, weight: str | None = None
) -> int:
    """Records violating k-anonymity: fk < k (with ``weight``: estimated, Fk < k)."""
    if k < 1:
        raise SdcError(f"k must be at least 1, got {k}")
    freq = freq_counts(df, keys, weight)
    column = "Fk" if weight is not None else "fk"
    return int((freq[column].to_numpy() < k).sum())


def ldiversity(
    df: pd.DataFrame, keys: Sequence[str], sensitive: str, kind: str = "distinct", c: float = 2
) -> pd.Series:
    """l-diversity of each record's equivalence class (records with equal keys) for SENSITIVE.

    ``distinct``: the number of distinct sensitive values in the class; ``entropy``: exp of the
    entropy of its values (natural log), the largest l for which the class is entropy
    l-diverse; ``recursive``: the largest l for which r1 < c·(r_l + … + r_m), with r1 ≥ r2 ≥ …
    the counts of its values. Missing keys and sensitive values are categories here.
    """
    keys = check_keys(df, keys)
    check_frame(df, [sensitive], "sensitive variable")
    if kind not in ("distinct", "entropy", "recursive"):
        raise SdcError(f"kind must be 'distinct', 'entropy' or 'recursive', got {kind!r}")
    key_codes = codes(df, keys) + 1  # missing as its own category
    group = combine(key_codes)
    value = pd.factorize(df[sensitive], use_na_sentinel=False)[0]
    pair = combine(np.column_stack([group, value]))
    pair_group = np.zeros(int(pair.max()) + 1, dtype=np.int64)
    pair_group[pair] = group
    pair_count = np.bincount(pair).astype(float)
    groups = int(group.max()) + 1
    if kind == "distinct":
        result = np.bincount(pair_group, minlength=groups).astype(float)
    elif kind == "entropy":
        size = np.bincount(group, minlength=groups).astype(float)
        share = pair_count / size[pair_group]
        entropy = np.bincount(pair_group, weights=-share * np.log(share), minlength=groups)
        result = np.exp(entropy)
    else:
        result = np.zeros(groups)
        frame = pd.DataFrame({"g": pair_group, "n": pair_count}).sort_values(
            ["g", "n"], ascending=[True, False]
        )
        for g, counts in frame.groupby("g", sort=False)["n"]:
            values = counts.to_numpy()
            tails = np.cumsum(values[::-1])[::-1]  # tails[l-1] = r_l + ... + r_m
            ok = values[0] < c * tails
            result[g] = int(np.flatnonzero(ok).max()) + 1 if ok.any() else 0
    return pd.Series(result[group], index=df.index, name=f"{kind}_ldiversity")


def risky_cells(
    df: pd.DataFrame,
    keys: Sequence[str],
    threshold: int | Sequence[int] = 3,
    max_dim: int = 3,
) -> pd.DataFrame:
    """Cells of every combination of up to MAX_DIM keys whose count is at most THRESHOLD.

    As sdcMicro's riskyCells (without identification levels): a threshold per dimension may be
    given (a list, the first for one-way tables). Returns one row per combination size with
    the number of unsafe cells, and the unsafe cells themselves in ``.attrs['cells']``.
    """
    keys = check_keys(df, keys)
    if not 1 <= max_dim <= len(keys):
        raise SdcError(f"max_dim must be between 1 and {len(keys)} (the number of keys)")
    if isinstance(threshold, (int, float, np.integer, np.floating)):  # one for every size
        limits = [threshold] * max_dim
    else:
        limits = list(threshold)
    if len(limits) < max_dim:
        limits += [limits[-1]] * (max_dim - len(limits))
    summary, cells = [], []
    for dim in range(1, max_dim + 1):
        unsafe = 0
        for combo in itertools.combinations(keys, dim):
            counts = df.groupby(list(combo), dropna=False, observed=True).size()
            bad = counts[counts <= limits[dim - 1]]
            unsafe += len(bad)
            for values, count in bad.items():
                values = values if isinstance(values, tuple) else (values,)
                cells.append({"keys": combo, "values": values, "count": int(count)})
        summary.append(
            {
                "dim": dim,
                "threshold": limits[dim - 1],
                "combinations": comb(len(keys), dim),
                "unsafe_cells": unsafe,
            }
        )
    result = pd.DataFrame(summary)
    result.attrs["cells"] = cells
    return result


def check_risk_inputs(df: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """The checks every risk measure makes, plus refusing identifiers used as keys."""
    keys = check_keys(df, keys)
    check_unique_keys(df, keys)
    return keys
