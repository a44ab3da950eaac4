"""Rounding of published counts, applied the same way to every cell, totals included: a total is
the rounded true total, never the sum of rounded (or redacted) cells."""

from __future__ import annotations

import numpy as np


def round_to_base(values: np.ndarray, base: int) -> np.ndarray:
    """Conventional rounding to the nearest multiple of BASE (halves go up); base <= 1 keeps."""
    values = np.asarray(values, dtype=float)
    if base <= 1:
        return values
    return round_to_multiple(values, base)


def round_to_multiple(values: np.ndarray, step: float | np.ndarray) -> np.ndarray:
    """VALUES rounded to the nearest multiple of STEP (> 0; halves go up): a count's base, or
    the base of sums that pin counts (:func:`sdc.tables.rules.sum_rounding`), which may be
    below 1 (a variable of tenths); or one step per value (a mean's or spread's grid)."""
    return np.floor(np.asarray(values, dtype=float) / step + 0.5) * step


def redact_then_round(values: np.ndarray, redact_at_most: int | None, base: int) -> np.ndarray:
    """OpenSAFELY style: counts at most REDACT_AT_MOST become missing, the rest are rounded."""
    values = np.asarray(values, dtype=float)
    rounded = round_to_base(values, base)
    if redact_at_most is None:
        return rounded
    return np.where(values <= redact_at_most, np.nan, rounded)
