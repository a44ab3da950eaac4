"""Values on a lattice: the spacing of each cell's non-zero values, in whole numbers.

Values that all lie on a + D·Z (the same offset a modulo a spacing D) sum, in a cell of n of
them, to n·a + D·W: the sum modulo D is n·a modulo D, which gives n modulo D / gcd(D, a) (all of
n where that is larger than the cell: values K·w + 1 publish n as the sum modulo K). A float is
a whole number of some power of ten (a decimal: 0.07 is 7 hundredths) or of two (a binary
fraction, which sums exactly: w + 2⁻²⁰); :func:`integer_scale` finds the power that makes every
value a whole number below 2⁵³ (exactly representable), and the gcd of a cell's differences is
then exact. Values that need more digits than a float holds (a lognormal's) have no scale: their
sums are rounded in their last digits, where no count can be read.

:func:`cell_spacings` is ``build``'s part (one pass over the records, with the cells' extremes as
anchors); :func:`merged_spacings` gives a margin's spacing from its finest cells;
:func:`offsets` reads a table's cells (the airlock's evidence) back as whole numbers.
"""

from __future__ import annotations

import numpy as np

EXACT = 2.0**53  # whole numbers below it are floats exactly
# a decimal is whole to its representation error (a few parts in 10¹⁶ of it): tried only where
# that error is far below one (a float near 2⁵³ is whole whatever it was meant to be)
DECIMAL = 2.0**40
DECIMALS = 12  # the most decimal places tried before binary fractions
SAMPLE = 1_000  # records tried first at each scale (most scales fail on the first few)
EPS = np.finfo(float).eps
MAX_EXPONENT = 1000  # a float's exponent reaches 1023
CHUNK = 1 << 16  # records per step of a cell's gcd


def integer_scale(values: np.ndarray) -> float | None:
    """The smallest power of ten (up to 10¹², the values staying below 2⁴⁰), else of two (below
    2⁵³), by which every non-zero value of VALUES is a whole number (to a decimal's
    representation error: 0.07 × 100 is 7);
    None where no power does (a value of more digits than that, or one not finite)."""
    v = np.asarray(values, dtype=float)
    if not len(v):
        return None
    top = max(float(v.max()), -float(v.min()))  # no copy of a million records
    if not np.isfinite(top) or top == 0:
        return None
    sample = v[:SAMPLE]
    for places in range(DECIMALS + 1):
        scale = 10.0**places
        if top * scale >= DECIMAL:
            break
        if _whole(sample, scale) and _whole(v, scale):
            return scale
    # a binary fraction is exact: the scale is two to the lowest bit any value sets
    if top * _binary_scale(sample) >= EXACT:
        return None  # the first records already need more digits than a float holds
    scale = _binary_scale(v)
    return scale if top * scale < EXACT else None


def _binary_scale(values: np.ndarray) -> float:
    """Two to the lowest bit any non-zero value of VALUES sets, at least 1."""
    mantissa, exponent = np.frexp(values[values != 0])
    if not len(mantissa):
        return 1.0
    bits = (mantissa * 2.0**53).astype(np.int64)  # exactly: a mantissa has 53 bits
    lowest = np.frexp((bits & -bits).astype(float))[1] - 1 + exponent - 53
    power = max(0, -int(lowest.min()))
    return 2.0**power if power < MAX_EXPONENT else np.inf  # a tiny value: no whole scale


def _whole(values: np.ndarray, scale: float) -> bool:
    if scale == 1:
        return bool(np.array_equal(values, np.rint(values)))
    x = values * scale
    off = np.rint(x)
    np.subtract(x, off, out=off)
    np.abs(off, out=off)
    np.abs(x, out=x)
    x *= 4 * EPS
    return bool((off <= x).all())


def whole(values: np.ndarray, scale: float) -> np.ndarray:
    """VALUES times SCALE as whole numbers (int64; 0 where missing)."""
    return np.rint(np.nan_to_num(np.asarray(values, dtype=float) * scale)).astype(np.int64)


def anchors(highest: np.ndarray, lowest: np.ndarray) -> np.ndarray:
    """A non-zero record of each cell, from its largest and smallest records: the largest
    unless it is 0 (then the smallest; 0 only where the cell has no non-zero record)."""
    highest = np.nan_to_num(np.asarray(highest, dtype=float), posinf=0.0, neginf=0.0)
    lowest = np.nan_to_num(np.asarray(lowest, dtype=float), posinf=0.0, neginf=0.0)
    return np.where(highest != 0, highest, lowest)


def cell_spacings(
    group: np.ndarray,
    values: np.ndarray,
    cells: int,
    anchor: np.ndarray,
    scale: float,
    seen: np.ndarray,
) -> np.ndarray:
    """The gcd of the differences between each cell's non-zero VALUES (records in cells
    GROUP) and its ANCHOR, in whole units of 1/SCALE (int64; 0: one value, or none). SEEN
    marks the cells with a non-zero record."""
    fixed = whole(anchor, scale)
    spacing = np.zeros(cells, dtype=np.int64)

    def gather(owner: np.ndarray, part: np.ndarray) -> None:
        np.gcd.at(spacing, owner, np.abs(whole(part, scale) - fixed[owner]))

    # the first records settle most cells (ordinary data: every cell's spacing is then the
    # smallest there is, 1), and only the records of the others are gone through after them
    head = values[:CHUNK] != 0
    gather(group[:CHUNK][head], values[:CHUNK][head])
    if len(values) > CHUNK and not (spacing[seen] == 1).all():
        rest = group[CHUNK:]
        todo = np.flatnonzero((spacing[rest] != 1) & (values[CHUNK:] != 0)) + CHUNK
        gather(group[todo], values[todo])
    return spacing


def merged_spacings(
    labels: np.ndarray,
    spacing: np.ndarray,
    anchor: np.ndarray,
    has_values: np.ndarray,
    merged_anchor: np.ndarray,
    size: int,
    scale: float,
) -> np.ndarray:
    """The spacing of the cells a level's LABELS gather (int64, units of 1/SCALE): the gcd of
    their own SPACING and of their ANCHORs' differences from the gathered cell's."""
    keep = has_values
    out = np.zeros(size, dtype=np.int64)
    drift = np.abs(whole(anchor[keep], scale) - whole(merged_anchor, scale)[labels[keep]])
    np.gcd.at(out, labels[keep], np.gcd(spacing[keep], drift))
    return out


def offsets(spacing: np.ndarray, anchor: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Cells' SPACING and ANCHOR as whole numbers of a common scale, and the scale (0 where
    no scale makes them whole: then both are zeros)."""
    spacing = np.asarray(spacing, dtype=float)
    known = ~np.isnan(spacing)
    scale = integer_scale(np.concatenate([spacing[known], np.asarray(anchor, float)[known]]))
    if scale is None:
        zeros = np.zeros(len(spacing), dtype=np.int64)
        return zeros, zeros, 0.0
    return whole(spacing, scale), whole(anchor, scale), scale
