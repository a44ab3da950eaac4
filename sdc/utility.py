"""Utility after anonymisation: how much information a method cost.

* ``il1s``: sdcMicro's IL1s, the mean absolute change of each numeric value scaled by
  sqrt(2) × its column's standard deviation.
* ``eigen``: the relative change of the eigenvalues of the correlation matrix.
* ``compare_tabulations``: each key's category counts before and after, with the total variation
  distance between the two distributions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sdc._checks import check_frame
from sdc.errors import SdcError


def _pair(original: pd.DataFrame, anonymised: pd.DataFrame, columns: Sequence[str]):
    columns = [columns] if isinstance(columns, str) else list(columns)
    check_frame(original, columns, "numeric column")
    check_frame(anonymised, columns, "numeric column")
    if len(original) != len(anonymised):
        raise SdcError("the original and anonymised data have different numbers of records")
    return original[columns].to_numpy(float), anonymised[columns].to_numpy(float)


def il1s(original: pd.DataFrame, anonymised: pd.DataFrame, columns: Sequence[str]) -> float:
    """IL1s information loss: mean over values of |x - x'| / (sqrt(2) · sd(x))."""
    x, y = _pair(original, anonymised, columns)
    spread = np.nanstd(x, axis=0, ddof=1)
    spread = np.where(spread > 0, spread, 1.0)
    return float(np.nanmean(np.abs(x - y) / (np.sqrt(2) * spread)))


def eigen(original: pd.DataFrame, anonymised: pd.DataFrame, columns: Sequence[str]) -> float:
    """Sum over eigenvalues of the correlation matrix of |λ - λ'| / λ (0 = structure kept)."""
    x, y = _pair(original, anonymised, columns)
    if x.shape[1] < 2:
        raise SdcError("eigen utility needs at least two numeric columns")
    a = np.linalg.eigvalsh(np.corrcoef(x[~np.isnan(x).any(axis=1)], rowvar=False))
    b = np.linalg.eigvalsh(np.corrcoef(y[~np.isnan(y).any(axis=1)], rowvar=False))
    return float(np.sum(np.abs(a - b) / np.where(a > 1e-12, a, 1e-12)))


def compare_tabulations(
    original: pd.DataFrame, anonymised: pd.DataFrame, keys: Sequence[str]
) -> pd.DataFrame:
    """Category counts of each key before and after (missing counted as its own row)."""
    keys = [keys] if isinstance(keys, str) else list(keys)
    check_frame(original, keys, "key variable")
    check_frame(anonymised, keys, "key variable")
    rows = []
    for key in keys:
        before = original[key].astype(object).value_counts(dropna=False)
        after = anonymised[key].astype(object).value_counts(dropna=False)
        both = before.index.union(after.index, sort=False)
        b = before.reindex(both, fill_value=0)
        a = after.reindex(both, fill_value=0)
        distance = 0.5 * float(np.abs(b / b.sum() - a / a.sum()).sum())
        for category, count_before, count_after in zip(
            both, b.to_numpy(), a.to_numpy(), strict=True
        ):
            rows.append(
                {
                    "key": key,
                    "category": "(missing)" if pd.isna(category) else str(category),
                    "before": int(count_before),
                    "after": int(count_after),
                    "total_variation": distance,
                }
            )
    return pd.DataFrame(rows)
