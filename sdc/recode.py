"""Non-perturbative recoding: global recoding (R's ``cut``), grouping categories, top and bottom
coding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from sdc._checks import check_frame
from sdc._result import Result
from sdc.errors import SdcError


def _label(value: float) -> str:
    return f"{value:.3g}"


def cut_breaks(values: np.ndarray, breaks: int, method: str = "equidistant") -> np.ndarray:
    """Break points for BREAKS intervals: R's ``cut(x, n)`` rule for ``equidistant`` (the range
    split evenly, its ends pushed out by 0.1 % of the range), quantiles for ``equal_amount``,
    and even steps of log(x) for ``log_equidistant``."""
    finite = values[~np.isnan(values)]
    if not len(finite):
        raise SdcError("the column has no values to recode")
    low, high = float(finite.min()), float(finite.max())
    if method == "equidistant":
        if low == high:
            low, high = low - abs(low) / 1000, high + abs(high) / 1000
            return np.linspace(low, high, breaks + 1)
        edges = np.linspace(low, high, breaks + 1)
        span = high - low
        edges[0], edges[-1] = low - span / 1000, high + span / 1000
        return edges
    if method == "equal_amount":
        edges = np.unique(np.quantile(finite, np.linspace(0, 1, breaks + 1)))
        edges[0] -= (high - low) / 1000 or 1e-9
        return edges
    if method == "log_equidistant":
        if low <= 0:
            raise SdcError("log_equidistant breaks need positive values")
        return np.exp(cut_breaks(np.log(finite), breaks, "equidistant"))
    raise SdcError(f"method must be equidistant, equal_amount or log_equidistant, not {method!r}")


def global_recode(
    df: pd.DataFrame,
    column: str,
    breaks: int | Sequence[float],
    labels: Sequence[str] | None = None,
    method: str = "equidistant",
    include_lowest: bool = False,
    right: bool = True,
) -> Result:
    """Recode a numeric COLUMN into intervals, with R ``cut`` semantics.

    Intervals are right-closed, (a, b], unless ``right=False``. A value equal to the lowest
    break falls outside every interval and becomes missing unless ``include_lowest`` is set;
    values outside the breaks become missing too. An integer BREAKS asks for that many
    intervals (see :func:`cut_breaks`). Labels default to R's "(a,b]" with 3 significant digits.
    """
    check_frame(df, [column])
    values = pd.to_numeric(df[column], errors="coerce").to_numpy(dtype=float)
    if isinstance(breaks, (int, float, np.integer, np.floating)):  # a number of intervals
        if int(breaks) < 1:
            raise SdcError("breaks must be at least 1 interval")
        edges = cut_breaks(values, int(breaks), method)
    else:
        edges = np.asarray(breaks, dtype=float)
        if len(edges) < 2 or np.any(np.diff(edges) <= 0):
            raise SdcError("breaks must be at least two increasing numbers")
    intervals = len(edges) - 1
    if labels is None:
        ends = [_label(e) for e in edges]
        labels = [
            ("(" if right else "[") + f"{ends[i]},{ends[i + 1]}" + ("]" if right else ")")
            for i in range(intervals)
        ]
        if include_lowest:
            labels[0 if right else -1] = "[" + labels[0][1:] if right else labels[-1][:-1] + "]"
    elif len(labels) != intervals:
        raise SdcError(f"{len(labels)} labels given for {intervals} intervals")
    side: Literal["left", "right"] = "left" if right else "right"
    index = np.searchsorted(edges, values, side=side) - 1
    valid = (index >= 0) & (index < intervals) & ~np.isnan(values)
    if include_lowest:
        end = edges[0] if right else edges[-1]
        at_end = values == end
        index = np.where(at_end, 0 if right else intervals - 1, index)
        valid |= at_end
    categories = pd.Categorical.from_codes(
        np.where(valid, index, -1), categories=list(labels), ordered=True
    )
    data = df.copy()
    data[column] = categories
    newly_missing = int((~valid & ~np.isnan(values)).sum())
    record = {
        "method": "global_recode",
        "column": column,
        "breaks": [float(e) for e in edges],
        "labels": list(labels),
        "include_lowest": include_lowest,
        "right": right,
        "categories_before": int(pd.Series(values).nunique()),
        "categories_after": intervals,
        "values_made_missing": newly_missing,
    }
    return Result(data, record)


def group_categories(
    df: pd.DataFrame, column: str, groups: Mapping[object, Sequence[object]]
) -> Result:
    """Merge categories: ``groups`` maps each new category to the old ones it replaces
    (sdcMicro's groupAndRename). Categories not named are kept."""
    check_frame(df, [column])
    present = set(df[column].dropna().unique())
    mapping: dict[object, object] = {}
    for new, olds in groups.items():
        for old in olds:
            if old in mapping:
                raise SdcError(f"category {old!r} of {column!r} is put in two groups")
            mapping[old] = new
    unknown = [old for old in mapping if old not in present]
    if unknown:
        raise SdcError(f"categories {unknown!r} do not occur in {column!r}")
    data = df.copy()
    original = (
        df[column].astype(object)
        if isinstance(df[column].dtype, pd.CategoricalDtype)
        else df[column]
    )
    data[column] = original.map(lambda v: mapping.get(v, v))
    record = {
        "method": "group_categories",
        "column": column,
        "groups": {str(k): [str(v) for v in vs] for k, vs in groups.items()},
        "records_changed": int(df[column].isin(list(mapping)).sum()),
        "categories_before": len(present),
        "categories_after": int(data[column].nunique()),
    }
    return Result(data, record)


def top_bottom_code(
    df: pd.DataFrame, column: str, value: float, replacement: float, kind: str = "top"
) -> Result:
    """Top coding replaces values strictly above VALUE by REPLACEMENT; bottom coding, strictly
    below (sdcMicro's topBotCoding compares strictly)."""
    check_frame(df, [column])
    if kind not in ("top", "bottom"):
        raise SdcError(f"kind must be 'top' or 'bottom', got {kind!r}")
    if not pd.api.types.is_numeric_dtype(df[column]):
        raise SdcError(f"column {column!r} is not numeric ({df[column].dtype})")
    values = df[column]
    hit = values > value if kind == "top" else values < value
    data = df.copy()
    data.loc[hit, column] = replacement
    record = {
        "method": "top_bottom_code",
        "column": column,
        "kind": kind,
        "value": value,
        "replacement": replacement,
        "records_changed": int(hit.sum()),
    }
    return Result(data, record)
