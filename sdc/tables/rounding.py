"""Rounding of published counts, applied the same way to every cell, totals included: a total is
the rounded true total, never the sum of rounded (or redacted) cells."""

from __future__ import annotations

import numpy as np


def round_to_base(values: np.ndarray, base: int) -> np.ndarray:
    """Conventional rounding to the nearest multiple of BASE (halves go up); base <= 1 keeps."""
    values = np.asarray(values, dtype=float)
    if base <= 1:
        return values
    return np.floor(values / base + 0.5) * base


def redact_then_round(values: np.ndarray, redact_at_most: int | None, base: int) -> np.ndarray:
    """OpenSAFELY style: counts at most REDACT_AT_MOST become missing, the rest are rounded."""
    values = np.asarray(values, dtype=float)
    rounded = round_to_base(values, base)
    if redact_at_most is None:
        return rounded
    return np.where(values <= redact_at_most, np.nan, rounded)
