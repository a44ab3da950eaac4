"""Primary disclosure rules for table cells, from a Policy, with a sentence for every failure.

Status codes follow sdcTable: ``u`` primary unsafe, ``x`` secondary suppression, ``s`` safe,
``z`` must not be suppressed (a structural zero when zeros are not disclosive). A cell may also
need ``review`` (negative contributions, where dominance rules do not apply).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sdc.policy import Policy
from sdc.tables import lattice
from sdc.tables.rounding import redact_then_round, round_to_multiple

EXTREMES = ("min", "max", "median")


def cell_reasons(cell: dict, kind: str, aggfunc: str, policy: Policy) -> tuple[list[str], bool]:
    """Why one cell is unsafe under POLICY (an empty list: safe), and whether it needs review."""
    reasons: list[str] = []
    count = cell["count"]
    if count == 0:
        if policy.zeros_disclosive:
            reasons.append("zero: an empty cell reveals that nobody in the group has it")
        return reasons, False
    people = contributors(cell)
    if people < policy.threshold:
        if people == count:
            who = f"{int(count)} record{'s' if count != 1 else ''}"
        else:
            who = f"{int(people)} {'person' if people == 1 else 'people'} ({int(count)} records)"
        reasons.append(f"threshold: {who}, fewer than the minimum of {policy.threshold}")
    review = False
    if kind == "magnitude":
        negatives = cell.get("negatives") or 0
        total, top1, top2 = cell["sum"], cell["top1"], cell["top2"]
        top2 = 0.0 if top2 is None or np.isnan(top2) else top2
        if negatives > 0:
            review = True
        elif total > 0:
            largest = top1 + (top2 if policy.dominance_n == 2 else 0.0)
            share = 100.0 * largest / total
            if share >= policy.dominance_k:
                reasons.append(
                    f"dominance: the {policy.dominance_n} largest contributions make "
                    f"{share:.0f} % of the cell (limit {policy.dominance_k:g} %)"
                )
            rest = total - top1 - top2
            if rest < policy.p_percent / 100.0 * top1:
                reasons.append(
                    f"p% rule: the others' share ({rest:.4g}) would let the second-largest "
                    f"contributor estimate the largest to within {policy.p_percent:g} %"
                )
            if (
                policy.pq_p is not None
                and policy.pq_q is not None  # set together (Policy checks it)
                and rest < policy.pq_p / policy.pq_q * top1
            ):
                reasons.append(f"pq rule (p={policy.pq_p:g}, q={policy.pq_q:g}) fails")
        reasons += pinned_reasons(cell, aggfunc, policy)
    reasons += proportion_reasons(cell.get("ones"), count, aggfunc, policy)
    if aggfunc in EXTREMES and policy.extremes_disclosive:
        reasons.append(f"{aggfunc}: the value is one person's own value")
    if aggfunc == "mode":
        shared = cell.get("mode_count")
        shared = 0 if shared is None or np.isnan(shared) else int(shared)
        if shared < policy.threshold:
            reasons.append(
                f"mode: the value is shared by {shared} record(s), fewer than the "
                f"minimum of {policy.threshold}"
            )
    return reasons, review


def contributors(cell: dict) -> float:
    """How many contribute to CELL: its holdings (people) where the table has them, else its
    records."""
    holdings = cell.get("holdings")
    if holdings is None or np.isnan(holdings):
        return cell["count"]
    return holdings


def protection_level(cell: dict, kind: str, policy: Policy, manual: bool = False) -> float:
    """How far an attacker's interval must reach on each side of an unsafe CELL's additive
    value (its count, or its sum), following τ-ARGUS's definitions for the rule that made it
    unsafe (the largest where several did):

    - p % rule: p/100·x1 − (T − x1 − x2), what the runner-up must still not know of the largest;
    - pq rule: p/q·x1 − (T − x1 − x2);
    - (n, k) dominance: 100/k·(x1 [+ x2]) − T;
    - a frequency table's threshold (and zero) cell, and a proportion's numerator: the policy's
      ``protection_level``, a count;
    - a magnitude table's threshold cell: the p % rule's level of its contributions (a cell of
      one person is then protected by p % of its value);
    - a cell marked unsafe by hand: ``protection_level`` (counts) or p % of its value
      (magnitudes: τ-ARGUS's manual safety range).

    0 means "not a single point" (every suppressed cell needs at least that)."""
    if kind == "frequency":
        return float(policy.protection_level)
    if kind != "magnitude":
        return 0.0
    levels = [0.0]
    total, top1, top2 = cell["sum"], cell["top1"], cell["top2"]
    if cell["count"] > 0 and not (cell.get("negatives") or 0) and total > 0:
        top1 = 0.0 if top1 is None or np.isnan(top1) else float(top1)
        top2 = 0.0 if top2 is None or np.isnan(top2) else float(top2)
        rest = total - top1 - top2
        levels.append(policy.p_percent / 100.0 * top1 - rest)
        largest = top1 + (top2 if policy.dominance_n == 2 else 0.0)
        levels.append(100.0 / policy.dominance_k * largest - total)
        if policy.pq_p is not None and policy.pq_q is not None:
            levels.append(policy.pq_p / policy.pq_q * top1 - rest)
        if manual:
            levels.append(policy.p_percent / 100.0 * abs(total))
    # a table whose sums pin counts: a count's level, in records of the table's unit
    unit = _number(cell.get("unit"))
    if unit is not None:
        levels.append(policy.protection_level * unit)
    ones = cell.get("ones")
    if ones is not None and not np.isnan(ones):
        levels.append(policy.protection_level * (1.0 if unit is None else unit))
    return max(levels)


def _number(value) -> float | None:
    """VALUE as a float; None where it is missing (None or NaN, as evidence gives it)."""
    if value is None or np.isnan(value):
        return None
    return float(value)


def nearly_constant(cells: pd.DataFrame, aggfunc: str, policy: Policy) -> pd.DataFrame:
    """CELLS with the counts their sums pin (a copy where any is), where the variable is nearly
    a constant.

    The attacker knows the variable's smallest non-zero magnitude a (over the table's records)
    and each cell's two largest records (the p % rule's intruder): the rest of a cell's sum
    then comes from between rest/second and rest/a non-zero records, besides the largest. A
    cell that passes the threshold and whose range holds fewer counts than the policy leaves a
    count (its rounding base, or the 2·level + 1 of a suppressed count's protection) is
    *pinned*: ``nonzero_low``
    and ``nonzero_high`` record the range, and its non-zero records are checked as a count
    (:func:`pinned_reasons`). Where any cell is pinned, every cell gets the table's ``unit``
    (the largest second record, or sole record, of its pinned cells: a record's worth), by
    which sums are rounded (:func:`sum_rounding`) and unsafe cells protected; a mean's pinned
    cells, where the table has zeros, get ``ones`` (their non-zero records: a proportion).
    Values of both signs bound no count; a table of non-positive values is read by magnitude
    (its largest magnitude then bounds the rest, without a known largest contribution). A
    constant behind outliers (:func:`behind_outliers`) pins its cell's non-zero records exactly,
    with the constant's magnitude for a unit, whatever the signs elsewhere in the table."""
    if aggfunc not in ("sum", "mean") or "nonzero" not in cells or not len(cells):
        return cells
    smallest = cells["smallest"].to_numpy(float)
    if np.isnan(smallest).all():
        return cells  # nothing but zeros: no count of non-zero records to pin
    least = float(np.nanmin(smallest))
    count = cells["count"].to_numpy(float)
    nonzero = cells["nonzero"].to_numpy(float)
    negatives = np.nan_to_num(cells["negatives"].to_numpy(float))
    total = cells["sum"].to_numpy(float)
    known_low = known_high = np.zeros(len(cells))
    if (negatives > 0).any() and not (negatives == nonzero).all():
        # both signs: a sum bounds no count (but a constant behind outliers still pins one)
        rest = bound = np.full(len(cells), np.nan)
    elif (negatives > 0).any():
        rest, bound = -total, -cells["min"].to_numpy(float)
    else:
        # the two largest records (with holdings top1 and top2 are people's totals: the
        # cell's largest record is its max, and build records the second as `second`)
        held = "second" in cells and not cells["second"].isna().all()
        top1 = np.nan_to_num(cells["max" if held else "top1"].to_numpy(float))
        top2 = np.nan_to_num(cells["second" if held else "top2"].to_numpy(float))
        rest, bound = np.maximum(total - top1, 0.0), np.where(top2 > 0, top2, top1)
        known_low = known_high = (top1 > 0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rest_low = np.where(rest > 0, np.ceil(rest / bound * (1 - 1e-9)), 0.0)
        rest_high = np.floor(rest / least * (1 + 1e-9))
    low, high = known_low + rest_low, known_high + rest_high
    counts = max(policy.rounding_base, 2 * policy.protection_level + 1)
    people = count
    if "holdings" in cells:  # as contributors(): people where the table has holdings
        held = cells["holdings"].to_numpy(float)
        people = np.where(np.isnan(held), count, held)
    with np.errstate(invalid="ignore"):
        bounded = high - low + 1 < counts
    behind, constant = behind_outliers(cells, policy)
    passes = (count > 0) & (people >= policy.threshold)
    pinned = passes & (bounded | behind)
    if not pinned.any():
        return cells
    out = cells.copy()
    out["nonzero_low"] = np.where(pinned, np.where(behind, nonzero, low), np.nan)
    out["nonzero_high"] = np.where(pinned, np.where(behind, nonzero, high), np.nan)
    worth = np.fmax(np.where(bounded, bound, np.nan), np.where(behind, constant, np.nan))
    out["unit"] = float(np.nanmax(np.where(pinned, worth, np.nan)))
    if aggfunc == "mean" and (nonzero < count).any():
        ones = out["ones"].to_numpy(float) if "ones" in out else np.full(len(out), np.nan)
        out["ones"] = np.where(pinned & np.isnan(ones), nonzero, ones)
    return out


def behind_outliers(cells: pd.DataFrame, policy: Policy) -> tuple[np.ndarray, np.ndarray]:
    """The cells of a sum whose non-zero records are mostly one value, at the cell's smallest
    magnitude or its largest, behind fewer outliers than the policy's threshold (a group the
    policy deems small enough to be known), and that value's magnitude (NaN elsewhere).

    An analyst who knows the outliers (she made them: two records of 10⁶ per cell, or values
    of their own, of either sign) subtracts them from the sum and divides by the constant: the
    count at it is exact, and so is the cell's count of non-zero records. ``build`` records
    ``at_smallest`` and ``at_largest``, the non-zero records at each cell's smallest and
    largest magnitude; a cell of both signs is left out (its sum is a difference of counts).
    A constant with outliers both below and above it is not seen here (see docs/sdc.md)."""
    none = np.zeros(len(cells), bool), np.full(len(cells), np.nan)
    if "at_smallest" not in cells or "at_largest" not in cells:
        return none
    nonzero = np.nan_to_num(cells["nonzero"].to_numpy(float))
    negatives = np.nan_to_num(cells["negatives"].to_numpy(float))
    one_sign = (negatives == 0) | (negatives == nonzero)
    largest = np.maximum(
        np.abs(np.nan_to_num(cells["max"].to_numpy(float))),
        np.abs(np.nan_to_num(cells["min"].to_numpy(float))),
    )
    behind, constant = none
    for at, magnitude in (
        (cells["at_smallest"].to_numpy(float), cells["smallest"].to_numpy(float)),
        (cells["at_largest"].to_numpy(float), largest),
    ):
        with np.errstate(invalid="ignore"):
            off = nonzero - at
            alike = one_sign & (at >= 2) & (at > off) & (off < policy.threshold)
        constant = np.where(alike, np.fmax(constant, magnitude), constant)
        behind = behind | alike
    return behind, constant


def on_a_lattice(cells: pd.DataFrame, aggfunc: str, policy: Policy) -> pd.DataFrame:
    """CELLS with the ``lattice`` of those whose sums carry their counts (a copy where any
    does), where a cell's non-zero values lie on a lattice a + D·Z with an offset (a not a
    multiple of D).

    Such a cell's sum is n·a + D·W for its n non-zero records: the sum modulo D is n·a modulo
    D, which gives n modulo D / gcd(D, a), all of n where that is larger (values K·w + 1 publish
    each count as the sum modulo K; a constant 1 with outliers of 10⁶ lies on 1 + 999,999·Z, so
    the sum modulo 999,999 is the count whatever the outliers). A cell of one value (D = 0)
    publishes n·a. ``build`` records each cell's ``spacing`` D (the gcd of the differences of
    its non-zero values; missing where they are not whole numbers of a power of ten or two
    below 2⁵³, whose sums are rounded in their last digits); the offset is read from its
    largest (else smallest) record, so nothing but the spacing is taken on trust. A cell that
    passes the threshold and carries a residue gets ``lattice``, a record's worth: D, or |a|
    where D = 0. :func:`sum_rounding` then rounds every sum to the rounding base times the
    largest: a multiple of each cell's D, so no residue is left, and an interval of base · D
    (at least base / (a/D) ≥ base counts) where the rest, W, is known. Values of both signs
    are on a lattice like any others. Ordinary values are not: incomes, ages or costs in
    pennies have a spacing that divides their offset (D = 1, or 0.01), and a lognormal's
    values have no scale at all."""
    if aggfunc not in ("sum", "mean") or "spacing" not in cells or not len(cells):
        return cells
    spacing = cells["spacing"].to_numpy(float)
    if np.isnan(spacing).all():
        return cells
    anchor = lattice.anchors(cells["max"].to_numpy(float), cells["min"].to_numpy(float))
    whole, offset, scale = lattice.offsets(spacing, anchor)
    if not scale:
        return cells
    shared = np.gcd(whole, offset)  # gcd(0, a) = |a|: one value
    modulus = np.where(whole > 0, whole // np.maximum(shared, 1), 0)
    count = cells["count"].to_numpy(float)
    people = count
    if "holdings" in cells:  # as contributors(): people where the table has holdings
        held = cells["holdings"].to_numpy(float)
        people = np.where(np.isnan(held), count, held)
    carries = (
        ~np.isnan(spacing)
        & (offset != 0)
        & (people >= policy.threshold)
        & ((whole == 0) | (modulus > 1))
    )
    if not carries.any():
        return cells
    out = cells.copy()
    out["lattice"] = np.where(carries, np.where(whole > 0, whole, np.abs(offset)) / scale, np.nan)
    return out


def lattice_problems(cells: pd.DataFrame) -> np.ndarray:
    """The cells whose stated ``spacing`` their own evidence contradicts: a non-zero largest or
    smallest record, or the sum less the non-zero records times the offset, not a multiple of
    it (evidence no table could have; a stated spacing smaller than the truth is consistent
    with anything, and is the builder's to get right)."""
    if "spacing" not in cells or not len(cells):
        return np.zeros(len(cells), bool)
    spacing = cells["spacing"].to_numpy(float)
    known = ~np.isnan(spacing)
    if not known.any():
        return np.zeros(len(cells), bool)
    highest, lowest = cells["max"].to_numpy(float), cells["min"].to_numpy(float)
    anchor = lattice.anchors(highest, lowest)
    step, _, scale = lattice.offsets(spacing, anchor)
    if not scale:
        return known  # a spacing no power of ten or two makes whole
    bad = np.zeros(len(cells), bool)
    total = np.nan_to_num(cells["sum"].to_numpy(float))
    nonzero = np.nan_to_num(cells["nonzero"].to_numpy(float))
    records = 1e-6  # a record is a whole number of the scale, to a decimal's representation
    # a sum of decimals is a float: within its rounding (unchecked where that reaches half
    # the spacing)
    summed = np.maximum(records, 1e-9 * np.abs(total) * scale)
    for difference, tolerance in (
        (np.where(np.nan_to_num(highest) != 0, highest - anchor, 0.0), records),
        (np.where(np.nan_to_num(lowest) != 0, lowest - anchor, 0.0), records),
        (total - nonzero * anchor, summed),
    ):
        residue = np.nan_to_num(difference) * scale
        off = residue - step * np.rint(residue / np.maximum(step, 1))
        bad |= known & (np.abs(off) > tolerance) & (tolerance < np.maximum(step, 1) / 2)
    return bad


def pinned_reasons(cell: dict, aggfunc: str, policy: Policy) -> list[str]:
    """A sum that pins its cell's non-zero records (:func:`nearly_constant`) publishes a count:
    the count's rules (zero, threshold) apply to them."""
    low, high = _number(cell.get("nonzero_low")), _number(cell.get("nonzero_high"))
    if aggfunc != "sum" or low is None or high is None:
        return []
    ones = int(cell["nonzero"])
    pins = f"the sum of a nearly constant variable pins its non-zero records to {low:.0f}" + (
        f"–{high:.0f}" if high > low else ""
    )
    if ones == 0:
        if policy.zeros_disclosive:
            return [f"zero: {pins}: none of its {int(cell['count'])} records has the value"]
        return []
    if ones < policy.threshold:
        return [f"threshold: {pins} (it has {ones}), fewer than the minimum of {policy.threshold}"]
    return []


def pinned_redacted(cells: pd.DataFrame, aggfunc: str, redact_at_most: int | None) -> np.ndarray:
    """The cells whose sum pins a count of non-zero records at most REDACT_AT_MOST: missing,
    as such a count is (:func:`sdc.tables.rounding.redact_then_round`)."""
    if aggfunc != "sum" or redact_at_most is None or "nonzero_low" not in cells:
        return np.zeros(len(cells), bool)
    pinned = cells["nonzero_low"].notna().to_numpy()
    return pinned & (cells["nonzero"].to_numpy(float) <= redact_at_most)


def sum_rounding(cells: pd.DataFrame, aggfunc: str, base: int) -> float | None:
    """The base to which a table's sums are rounded where they pin counts: the policy's
    rounding BASE in records of the table's unit (a count's rounding, in the sum's units, so
    that a rounded sum leaves at least BASE counts possible), or of its largest ``lattice``
    (:func:`on_a_lattice`), whichever is larger; None where sums stay exact. A mean's sums are
    rounded alike (a mean is published as its published sum over its published count)."""
    if aggfunc not in ("sum", "mean") or base <= 1:
        return None
    units = [cells[column].to_numpy(float) for column in ("unit", "lattice") if column in cells]
    unit = np.concatenate(units) if units else np.zeros(0)
    if not len(unit) or np.isnan(unit).all() or not np.nanmax(unit) > 0:
        return None
    return base * float(np.nanmax(unit))


def mean_note(base: int, rounded_sums: float | None = None) -> str | None:
    """What a mean published by :func:`published_values` is, for the evidence and the analyst
    (ROUNDED_SUMS: the step its table's sums are rounded to, None where they are exact); None
    where means are exact (counts are not rounded)."""
    if base <= 1:
        return None
    if rounded_sums is None:
        return (
            f"each mean is published as its sum over its count rounded to {base} (as rates "
            "are published from rounded numerators and denominators), so that with the sum "
            f"it gives no exact count: a cell of n records is off by at most {base // 2}/"
            f"(n - {base // 2}) of its mean (the exact mean is kept in the evidence, for the "
            "checkers)"
        )
    return (
        f"this table's sums are rounded (to {rounded_sums:.6g}), so each mean is its rounded sum "
        f"over its count rounded to {base} (off by up to half that step over the count, and "
        f"{base // 2}/(n - {base // 2}) of itself), but for cells whose own records pin their "
        "count or lie on a lattice: those keep their precision, but for the lattice's (a mean "
        f"of values a spacing D apart is rounded to D / (its rounded count less {base / 2:g})), "
        "so that no mean gives an exact count"
    )


def published_values(
    cells: pd.DataFrame, kind: str, aggfunc: str, policy: Policy, base: int | None = None
) -> np.ndarray:
    """Each cell's published value, before suppression (BASE: the rounding base, the policy's
    by default). A count is redacted then rounded; a sum that pins counts is rounded to
    :func:`sum_rounding`'s step. A mean is published so that it gives no exact count with the
    sum and count tables beside it (:func:`_published_means`)."""
    base = policy.rounding_base if base is None else base
    values = cells["value"].to_numpy(float).copy()
    if kind == "frequency":
        values = redact_then_round(values, policy.redact_at_most, base)
    elif aggfunc in ("sum", "mean"):
        values = cells["sum"].to_numpy(float).copy()
        step = sum_rounding(cells, aggfunc, base)
        if step is not None:  # sums that carry counts are rounded as counts are, totals included
            values = round_to_multiple(values, step)
        if aggfunc == "mean":
            values = _published_means(cells, values, step, policy, base)
    elif aggfunc in ("std", "var") and base > 1:
        values = _published_spreads(cells, aggfunc, policy, base)
    values[pinned_redacted(cells, aggfunc, policy.redact_at_most)] = np.nan
    return values


def _published_means(
    cells: pd.DataFrame, sums: np.ndarray, step: float | None, policy: Policy, base: int
) -> np.ndarray:
    """The published means of CELLS, whose published sums are SUMS (rounded to STEP, or exact).

    A mean in full precision gives its cell's exact count n, which the count table rounds: from
    the exact sum beside it (sum / mean = n, two outputs nothing links), or from its own
    denominator where the values lie on a lattice (a mean of whole numbers is S/n, a share k/n).
    Where sums are exact, a mean is its sum over its rounded count, as rates are published from
    rounded numerators and denominators: a cell of n records is then off by at most 2/(n - 2)
    with base 5. Where sums are rounded (to STEP: they pin counts, or lie on a lattice), a cell
    whose own records pin its count or lie on a lattice has its sum rounded wherever it is
    published, and the rounded sum leaves at least BASE counts for a mean of at most
    STEP / BASE (checked per cell); such a cell's mean keeps its precision but for its lattice
    (every other cell's mean is its rounded sum over its rounded count: its sum is exact in a
    table without the cells that rounded this one's, which with a precise mean would give its
    count; an attack review found it): it is rounded, on the
    grid through the cell's largest value, to its spacing D (the gap between its values, or
    the one non-zero value of a share) over (rounded count - base / 2): finer than D/n' for
    every count n' the rounding leaves, so that every one of them has a mean that rounds alike,
    and never on the grid of one of them (whose denominator would name it)."""
    counts = redact_then_round(cells["count"].to_numpy(float), policy.redact_at_most, base)
    with np.errstate(invalid="ignore", divide="ignore"):
        over_rounded = np.where(counts > 0, sums / counts, np.nan)
    if step is None or base <= 1:
        return over_rounded if base > 1 else cells["value"].to_numpy(float).copy()
    mean = cells["value"].to_numpy(float)
    spacing = (
        cells["spacing"].to_numpy(float) if "spacing" in cells else np.full(len(cells), np.nan)
    )
    one_value = np.abs(cells["smallest"].to_numpy(float)) if "smallest" in cells else spacing
    gap = np.where(spacing > 0, spacing, np.where(spacing == 0, one_value, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        resolution = np.where(counts > base, np.nan_to_num(gap) / (counts - base / 2), 0.0)
        top = cells["max"].to_numpy(float)
        rounded = np.where(np.isfinite(top), _counted_down(top, mean, resolution), mean)
        hides = step / np.abs(mean) >= base
    # only a cell whose own sum is rounded wherever it is published (its own records pin its
    # count, or lie on a lattice) keeps its precision: another cell's sum is rounded here only
    # because of its neighbours, and another table of the same records (without them) gives it
    # exactly, which with a precise mean would give its count
    own = np.zeros(len(cells), bool)
    for column in ("nonzero_low", "lattice"):
        if column in cells:
            own |= cells[column].notna().to_numpy()
    return np.where(own & hides & (counts > 0), rounded, over_rounded)


def _counted_down(top, value: np.ndarray, resolution: np.ndarray) -> np.ndarray:
    """VALUE rounded to RESOLUTION on the grid through TOP (a lattice point: a constant's mean
    stays the constant, a share is counted down from 1); kept where RESOLUTION is 0."""
    with np.errstate(invalid="ignore", divide="ignore"):
        grid = top - round_to_multiple(top - value, np.where(resolution > 0, resolution, 1.0))
    return np.where(resolution > 0, grid, value)


def _published_spreads(cells: pd.DataFrame, aggfunc: str, policy: Policy, base: int) -> np.ndarray:
    """The published standard deviations (or variances) of CELLS: never the exact count with the
    sum and count tables beside them.

    A cell of zeros and one value a (a 0/1 flag) has the spread |a|·sqrt(p(1 - p) n/(n - 1)),
    which gives n and the share p = k/n together: it is published from the share rounded as
    a mean of a lattice is (:func:`_published_means`) and the rounded count R alone. A cell of
    values a spacing D apart (whole numbers) has a sum of squares Q on a grid of D², and
    var·(n' - 1) + S²/n' = Q is on it for the true n' only (S from the exact sum): its variance
    is rounded to D² / (R - 3), so that every count the rounding leaves finds a Q on the grid
    (ages move by less than 0.01 %). Values with no spacing (measurements) stay exact."""
    counts = redact_then_round(cells["count"].to_numpy(float), policy.redact_at_most, base)
    exact = cells["value"].to_numpy(float)
    variance = exact**2 if aggfunc == "std" else exact.copy()
    spacing = (
        cells["spacing"].to_numpy(float) if "spacing" in cells else np.full(len(cells), np.nan)
    )
    top, low = cells["max"].to_numpy(float), cells["min"].to_numpy(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        # zeros and one value a: a share p of a, rounded on the grid through 1 (as a mean)
        value = np.where(np.abs(top) >= np.abs(low), top, low)
        share = (spacing == 0) & ((top == 0) | (low == 0)) & (value != 0)
        p = cells["sum"].to_numpy(float) / (value * cells["count"].to_numpy(float))
        p = _counted_down(1.0, p, np.where(counts > base, 1 / (counts - base / 2), 0.0))
        of_share = value**2 * p * (1 - p) * counts / (counts - 1)
        # values a spacing D apart: the variance to D² / (R - 3)
        step = np.where((spacing > 0) & (counts > 3), spacing**2 / (counts - 3), 0.0)
        on_grid = round_to_multiple(variance, np.where(step > 0, step, 1.0))
        variance = np.where(share, of_share, np.where(step > 0, on_grid, variance))
        variance = np.where((counts > 1) & ~np.isnan(exact), variance, np.nan)
    return np.sqrt(variance) if aggfunc == "std" else variance


def proportion_reasons(ones, count: float, aggfunc: str, policy: Policy) -> list[str]:
    """A mean of a 0/1 flag is a proportion, ONES of COUNT: class disclosure when it is 0 % or
    100 % (it tells something about every member of the group), and the numerator and its
    complement must each reach the threshold (3 of 783 is three people)."""
    if aggfunc not in ("mean", "std", "var") or ones is None or np.isnan(ones) or count <= 0:
        return []
    rest = count - ones
    if ones == 0 or rest == 0:
        return [
            f"class disclosure: {'all' if rest == 0 else 'none'} of the {int(count)} records "
            f"have the flag (a share of {'100' if rest == 0 else '0'} %)"
        ]
    if min(ones, rest) < policy.threshold:
        return [
            f"proportion: {int(ones)} of {int(count)} records have the flag and {int(rest)} do "
            f"not; both must be at least {policy.threshold}"
        ]
    return []


MANUAL = "manual: marked unsafe by hand (for reasons outside the rules)"


def primary(
    cells: pd.DataFrame,
    kind: str,
    aggfunc: str,
    policy: Policy,
    manual: np.ndarray | None = None,
) -> pd.DataFrame:
    """Add ``status``, ``reasons``, ``review`` and ``protection`` (the level an unsafe cell's
    interval must reach on each side; 0 for a safe one) to CELLS (a copy). MANUAL marks the
    cells made unsafe by hand."""
    out = cells.copy()
    if kind == "magnitude":
        out = on_a_lattice(nearly_constant(out, aggfunc, policy), aggfunc, policy)
    statuses, all_reasons, reviews, levels = [], [], [], []
    for i, cell in enumerate(out.to_dict("records")):
        reasons, review = cell_reasons(cell, kind, aggfunc, policy)
        by_hand = manual is not None and bool(manual[i])
        if by_hand:
            reasons.append(MANUAL)
        levels.append(protection_level(cell, kind, policy, by_hand) if reasons else 0.0)
        if reasons:
            status = "u"
        elif cell["count"] == 0:
            status = "z"
        else:
            status = "s"
        statuses.append(status)
        all_reasons.append(reasons)
        reviews.append(review)
    out["status"] = statuses
    out["reasons"] = all_reasons
    out["review"] = reviews
    out["protection"] = levels
    return out
