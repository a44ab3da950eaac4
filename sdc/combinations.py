"""Counts given back by a combination of published sums (or means times their rounded counts).

An analyst who makes variables from one another (cost and cost + 1; cost², (cost + 1)² and
cost) knows a combination of their sums that equals the count of records: each table of them is
safe alone, and together they give back the exact counts that the policy rounds. A combination
is disclosive when it gives every count exactly, or, in the simple ratios an analyst would use
(1 and −1, 1 and −2…), to within less than half a count (she rounds it).
:func:`sdc.safe.describe` withholds the means of columns so related; the airlock looks for such
combinations across a request's tables and the project's (``output_checks.derived``).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

# an exact fit: every count within this fraction of the sums' own scale (a sum of floats is off
# by about 1e-13 of itself)
RELATIVE = 1e-8
# a near fit: every count within less than half, by weights in simple ratios (p/q, q at most
# SIMPLE) to the largest
NEAR = 0.5
SIMPLE = 12
# how many rows more than columns a near fit needs: in simple ratios, in any ratios (an honest
# table's sums are about its mean times its counts, so a few of them come near any counts on few
# cells)
SIMPLE_SPARE = 3
NEAR_SPARE = 4


def simple_weights(weights: np.ndarray, sums: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """The weights an analyst would use, near WEIGHTS, if they give TARGET from SUMS (one column
    a variable) to within less than half a count in total per row: in simple ratios to the
    largest, times one scale; or None."""
    top = weights[np.argmax(np.abs(weights))]
    if top == 0:
        return None
    ratios = np.array([float(Fraction(float(r)).limit_denominator(SIMPLE)) for r in weights / top])
    combined = sums @ ratios
    if not combined.any():
        return None
    scale = float(combined @ target / (combined @ combined))
    if np.all(np.abs(combined * scale - target) < NEAR):
        return ratios * scale
    return None


def giving_counts(sums: np.ndarray, target: np.ndarray) -> np.ndarray | None:
    """The weights of a combination of the columns of SUMS that gives TARGET (a count per row):
    exactly, on more rows than its rank; or to within less than half a count, in simple ratios
    on SIMPLE_SPARE rows more than it has columns, in any ratios on NEAR_SPARE more (on fewer,
    so near a fit comes by chance among many tables); or None."""
    columns = sums.shape[1]
    if len(target) <= columns or not target.any():
        return None
    weights, _, rank, _ = np.linalg.lstsq(sums, target, rcond=None)
    if len(target) <= rank:
        return None
    miss = np.abs(sums @ weights - target)
    if np.all(miss <= RELATIVE * (np.abs(sums) @ np.abs(weights) + 1.0)):
        return weights
    if len(target) >= columns + NEAR_SPARE and np.all(miss < NEAR):
        return weights
    if len(target) >= columns + SIMPLE_SPARE:
        return simple_weights(weights, sums, target)
    return None


def related_columns(values: np.ndarray) -> dict[int, list[int]]:
    """The columns of VALUES (records × variables, no missing value) of which some combination,
    of two or more, is exactly the same non-zero constant for every record: their means, each
    the sum over the count, give the count back together. Returns all of them but the first of
    each relation (whose means are to be withheld), found until none is left, each with the
    others of its relation. (A relation that holds only nearly is not looked for: its constant
    is the analyst's to know.)"""
    withheld: dict[int, list[int]] = {}
    kept = list(range(values.shape[1]))
    while len(kept) >= 2 and len(values) > len(kept):
        ones = np.ones(len(values))
        weights, _, _, _ = np.linalg.lstsq(values[:, kept], ones, rcond=None)
        miss = values[:, kept] @ weights - ones
        if not np.all(np.abs(miss) <= RELATIVE * (np.abs(values[:, kept]) @ np.abs(weights) + 1)):
            break
        share = np.abs(weights) * np.abs(values[:, kept]).max(axis=0)
        involved = [kept[k] for k in range(len(kept)) if share[k] > 1e-6]
        if len(involved) < 2:
            break  # one column nearly constant: its own rounding (sums that pin counts) holds
        withheld[involved[-1]] = involved[:-1]
        kept.remove(involved[-1])
    return withheld
