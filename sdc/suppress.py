"""Local suppression: blank key values until every record is k-anonymous (NA matches anything).

The heuristic works in rounds. Each round computes, for every key j, the frequency each record
would have if its value of j were suppressed (the frequency over the other keys, as a missing
value matches anything). Records that violate k-anonymity are taken riskiest first; each picks
the key whose suppression makes it safe, preferring the least important key, and otherwise the
key that helps most. A suppression also helps the records it then matches, so within a round a
record does not suppress where another has just suppressed the same key among the same values;
it waits for the next round, which often finds it already safe. An exact mode solves the
integer programme (SciPy's HiGHS) for the minimum number of suppressions on small data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from sdc._checks import check_frame, check_keys, codes, combine
from sdc._result import Result
from sdc.errors import SdcError
from sdc.risk import _freq_arrays, individual_risk

EXACT_LIMIT = 150  # records; the programme has one variable per pair of records


def _importance(df: pd.DataFrame, keys: list[str], importance) -> np.ndarray:
    """sdcMicro's convention: 1 = keep if at all possible, len(keys) = suppress first.
    By default keys with more categories are suppressed first."""
    if importance is None:
        levels = np.array([df[key].nunique() for key in keys])
        order = np.argsort(levels, kind="stable")  # fewest categories first -> rank 1
        ranks = np.empty(len(keys), dtype=float)
        ranks[order] = np.arange(1, len(keys) + 1)
        return ranks
    if isinstance(importance, Mapping):
        missing = [key for key in keys if key not in importance]
        if missing:
            raise SdcError(f"importance does not rank the keys {missing}")
        return np.array([float(importance[key]) for key in keys])
    values = np.asarray(importance, dtype=float)
    if len(values) != len(keys):
        raise SdcError(f"importance has {len(values)} values for {len(keys)} keys")
    return values


def _strata_codes(df: pd.DataFrame, strata) -> np.ndarray | None:
    if strata is None:
        return None
    columns = [strata] if isinstance(strata, str) else list(strata)
    check_frame(df, columns, "strata column")
    return combine(codes(df, columns) + 1)


def _heuristic(
    code_matrix: np.ndarray,
    stratum: np.ndarray | None,
    k: int,
    rank: np.ndarray,
    order_key: np.ndarray,
) -> np.ndarray:
    n, m = code_matrix.shape
    work = code_matrix.copy()
    extra = stratum[:, None] if stratum is not None else np.zeros((n, 0), dtype=np.int64)

    def frequencies(matrix: np.ndarray) -> np.ndarray:
        return _freq_arrays(np.hstack([matrix, extra]), None, 1.0)[0]

    for _ in range(10 * m + 10):
        fk = frequencies(work)
        violators = np.flatnonzero(fk < k)
        if not len(violators):
            return work
        # fk of every record with key j suppressed, and the group that suppression joins
        after = np.zeros((n, m))
        joined = np.zeros((n, m), dtype=np.int64)
        for j in range(m):
            dropped = work.copy()
            dropped[:, j] = -1
            after[:, j] = frequencies(dropped)
            keep = [c for c in range(m) if c != j]
            joined[:, j] = combine(np.hstack([work[:, keep] + 1, extra]))
        touched: set[tuple[int, int]] = set()
        progressed = False
        for i in violators[np.argsort(order_key[violators], kind="stable")]:
            candidates = np.flatnonzero(work[i] >= 0)
            if not len(candidates):
                continue
            gains = after[i, candidates]
            fixes = candidates[gains >= k]
            if len(fixes):
                j = fixes[np.argmax(rank[fixes])]  # the least important key that fixes it
            else:
                best = gains.max()
                tied = candidates[gains == best]
                j = tied[np.argmax(rank[tied])]
            if (j, joined[i, j]) in touched:
                continue  # another record just suppressed the same key here: look again later
            touched.add((j, joined[i, j]))
            work[i, j] = -1
            progressed = True
        if not progressed:
            break
    if (frequencies(work) < k).any():
        raise SdcError(
            "k-anonymity cannot be reached by suppression: some strata have fewer than "
            f"{k} records; merge small strata or lower k"
        )
    return work


def _exact(
    code_matrix: np.ndarray, stratum: np.ndarray | None, k: int, rank: np.ndarray, time_limit: float
) -> tuple[np.ndarray, bool]:
    """Minimum suppressions by integer programming: s[i,j] suppresses record i's key j;
    m[i,o] says records i and o match; every record needs k-1 matches."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_array

    n, keys = code_matrix.shape
    if n > EXACT_LIMIT:
        raise SdcError(
            f"exact local suppression is for at most {EXACT_LIMIT} records ({n} given); "
            "use the heuristic (exact=False) for larger data"
        )
    same_stratum = (
        np.ones((n, n), bool) if stratum is None else stratum[:, None] == stratum[None, :]
    )
    pairs = [(i, o) for i in range(n) for o in range(i + 1, n) if same_stratum[i, o]]
    n_s = n * keys
    n_vars = n_s + len(pairs)
    rows, cols, vals, lower, upper = [], [], [], [], []
    row = 0
    for p, (i, other) in enumerate(pairs):
        differs = np.flatnonzero(
            (code_matrix[i] >= 0)
            & (code_matrix[other] >= 0)
            & (code_matrix[i] != code_matrix[other])
        )
        for j in differs:  # m[i,o] <= s[i,j] + s[o,j]
            rows += [row, row, row]
            cols += [n_s + p, i * keys + j, other * keys + j]
            vals += [1.0, -1.0, -1.0]
            lower.append(-np.inf)
            upper.append(0.0)
            row += 1
    # every record needs k - 1 matches: row (base + i) sums the pairs that contain i
    base = row
    for p, (i, other) in enumerate(pairs):
        rows += [base + i, base + other]
        cols += [n_s + p, n_s + p]
        vals += [1.0, 1.0]
    lower += [k - 1] * n
    upper += [np.inf] * n
    row += n
    matrix = coo_array((vals, (rows, cols)), shape=(row, n_vars))
    # suppressions cost 1 each; the importance breaks ties towards less important keys
    cost = np.zeros(n_vars)
    cost[:n_s] = np.tile(1.0 + 1e-3 * (rank.max() - rank), n)
    already = (code_matrix < 0).ravel()
    low_bounds = np.zeros(n_vars)
    high_bounds = np.ones(n_vars)
    high_bounds[:n_s][already] = 0  # a missing value needs no suppression
    result = milp(
        cost,
        constraints=LinearConstraint(matrix, lower, upper),
        integrality=np.ones(n_vars),
        bounds=Bounds(low_bounds, high_bounds),
        options={"time_limit": time_limit},
    )
    if result.x is None:
        raise SdcError(
            f"exact local suppression found no solution in {time_limit} s ({result.message}); "
            "use the heuristic, or allow more time with time_limit="
        )
    chosen = result.x[:n_s].reshape(n, keys) > 0.5
    out = code_matrix.copy()
    out[chosen] = -1
    return out, result.status == 0


def _blank(data: pd.DataFrame, key: str, hit: np.ndarray) -> None:
    """Set KEY missing where HIT (in place); integer columns become float to hold NaN."""
    if not hit.any():
        return
    if pd.api.types.is_integer_dtype(data[key]):
        data[key] = data[key].astype(float)
    data.loc[data.index[hit], key] = None


def local_suppression(
    df: pd.DataFrame,
    keys: Sequence[str],
    k: int = 2,
    importance: Sequence[float] | Mapping[str, float] | None = None,
    strata: str | Sequence[str] | None = None,
    exact: bool = False,
    time_limit: float = 60.0,
) -> Result:
    """Suppress key values (set them missing) until every record has fk >= K.

    ``importance``: sdcMicro's convention, a number per key where 1 means "keep if at all
    possible" and len(keys) "suppress first" (a list in key order, or a dict); by default keys
    with more categories are suppressed first. ``strata``: k-anonymity within each stratum.
    ``exact=True`` finds the minimum number of suppressions (small data only; if TIME_LIMIT
    seconds pass first, the best solution found, with ``optimal`` false). The result's
    ``.suppressed`` is the number of values suppressed; its record has them per key.
    """
    keys = check_keys(df, keys)
    if k < 1:
        raise SdcError(f"k must be at least 1, got {k}")
    rank = _importance(df, keys, importance)
    stratum = _strata_codes(df, strata)
    code_matrix = codes(df, keys)
    optimal = None
    risk = individual_risk(df, keys).to_numpy()
    new_codes = _heuristic(code_matrix, stratum, k, rank, -risk)
    if exact:
        exact_codes, optimal = _exact(code_matrix, stratum, k, rank, time_limit)
        # a solver stopped by its time limit may do worse than the heuristic: keep the better
        if optimal or (exact_codes < 0).sum() <= (new_codes < 0).sum():
            new_codes = exact_codes
    newly = (new_codes < 0) & (code_matrix >= 0)
    data = df.copy()
    per_key = {}
    for j, key in enumerate(keys):
        hit = newly[:, j]
        per_key[key] = int(hit.sum())
        _blank(data, key, hit)
    total = int(newly.sum())
    record = {
        "method": "local_suppression",
        "keys": keys,
        "k": k,
        "importance": [float(r) for r in rank],
        "strata": strata,
        "exact": exact,
        "optimal": optimal,
        "suppressed": total,
        "suppressed_per_key": per_key,
    }
    return Result(data, record, suppressed=total)


def threshold_suppression(
    df: pd.DataFrame,
    keys: Sequence[str],
    threshold: float,
    weight: str | None = None,
    key: str | None = None,
) -> Result:
    """Suppress a key value of every record whose individual risk exceeds THRESHOLD
    (sdcMicro's localSupp): the value of KEY, or by default of the key with most categories."""
    keys = check_keys(df, keys)
    if key is None:
        key = max(keys, key=lambda name: df[name].nunique())
    elif key not in keys:
        raise SdcError(f"{key!r} is not one of the key variables {keys}")
    risk = individual_risk(df, keys, weight).to_numpy()
    hit = (risk > threshold) & df[key].notna().to_numpy()
    data = df.copy()
    _blank(data, key, hit)
    total = int(hit.sum())
    record = {
        "method": "threshold_suppression",
        "keys": keys,
        "key": key,
        "threshold": threshold,
        "weight": weight,
        "suppressed": total,
    }
    return Result(data, record, suppressed=total)
