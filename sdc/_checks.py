"""Input checks shared by every sdc function, and the integer coding of key variables."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from sdc.errors import SdcError


def check_frame(df: pd.DataFrame, columns: Sequence[str], what: str = "column") -> None:
    if not isinstance(df, pd.DataFrame):
        raise SdcError(f"expected a pandas DataFrame, got {type(df).__name__}")
    if len(df) == 0:
        raise SdcError(
            "the data frame is empty: there are no records to assess (check the filter or "
            "query that made it)"
        )
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise SdcError(
            f"unknown {what}{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}; "
            f"the data has {', '.join(map(repr, list(df.columns)[:20]))}"
        )


def check_keys(df: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    if isinstance(keys, str):
        keys = [keys]
    keys = list(keys)
    if not keys:
        raise SdcError("no key variables given: name at least one quasi-identifier column")
    if len(set(keys)) != len(keys):
        raise SdcError(f"key variables named twice: {keys}")
    check_frame(df, keys, "key variable")
    return keys


def check_unique_keys(df: pd.DataFrame, keys: Sequence[str]) -> None:
    """A key with a different value on every record is an identifier, not a quasi-identifier."""
    if len(df) < 2:
        return
    for key in keys:
        if df[key].nunique(dropna=True) == len(df):
            raise SdcError(
                f"key variable {key!r} has a unique value on every record: it is a direct "
                "identifier; remove it from the data or recode it before assessing risk"
            )


def weights(df: pd.DataFrame, weight: str | None) -> np.ndarray | None:
    if weight is None:
        return None
    check_frame(df, [weight], "weight column")
    column = df[weight]
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        raise SdcError(f"weight column {weight!r} is not numeric ({column.dtype})")
    values = column.to_numpy(dtype=float)
    if np.isnan(values).any():
        raise SdcError(
            f"weight column {weight!r} has {int(np.isnan(values).sum())} missing values; "
            "every record needs a sampling weight"
        )
    if (values <= 0).any():
        raise SdcError(
            f"weight column {weight!r} has {int((values <= 0).sum())} values <= 0; "
            "sampling weights must be positive"
        )
    return values


def codes(df: pd.DataFrame, keys: Sequence[str]) -> np.ndarray:
    """Integer codes per key (n x k); missing values are -1."""
    out = np.empty((len(df), len(keys)), dtype=np.int64)
    for j, key in enumerate(keys):
        out[:, j] = pd.factorize(df[key], use_na_sentinel=True)[0]
    return out


def combine(code_matrix: np.ndarray) -> np.ndarray:
    """One dense group id per distinct row of non-negative integer codes (0..groups-1)."""
    n, k = code_matrix.shape
    if k == 0:
        return np.zeros(n, dtype=np.int64)
    combined = pd.factorize(code_matrix[:, 0])[0].astype(np.int64)
    for j in range(1, k):
        column = code_matrix[:, j].astype(np.int64)
        width = int(column.max()) + 2 if n else 1
        # keep the running id dense so the product never overflows
        combined = pd.factorize(combined * width + (column + 1))[0].astype(np.int64)
    return pd.factorize(combined)[0].astype(np.int64)
