"""Counts given back by sums: tables of sums that together give a table's exact counts.

An analyst who publishes the sums of a variable she made, cost + 1, beside the sums of cost
(each an ordinary table whose counts are rounded) publishes their difference too: each cell's
exact count. So do (cost + 1)², cost² and cost together, or the means of two such variables
(sdc publishes a mean of exact sums as the sum over the rounded count, so a mean times that
count is the sum again). Count rounding protects a table of counts; it cannot protect counts
that a combination of exact sums equals.

:func:`derived_counts` looks for that combination among the tables of a request, the project's
released tables and its requests in flight. For each table whose true counts the airlock's own
replay computed, it asks whether those counts are a combination of the sums published for the
same cells (:func:`sdc.combinations.giving_counts`): exactly, or, in the simple ratios an
analyst would use (1 and −1), to within less than half a count (she rounds), on more
independent cells than the combination's rank. Cells are matched twice: by their labels
(normalised as :mod:`output_checks.ledger` matches them, never by the dimensions' names; a row
margin of area × sex is the area's cell of a table by area), and by their true counts where a
count is its table's alone (labels made in SQL, "area north" for north, match so). Only the
finest cells the tables share are counted as independent (margins add up from them). It tries
every requested table with any one other, then every choice of at most three (four on small
tables) of those sharing the most cells, one of them requested, so that tables of other
variables over the same cells hide nothing, then all of those together. Such a fit
is what the attacker computes: she knows the combination, because she made the variables. A fit
that needs a requested table fails that table (a table is in a fit when its share of a count
is more than a rounding's, whatever its scale); a fit the other tables give already is no new
disclosure and is not blamed on the request. Within one file, :func:`sdc.safe.describe` withholds
the mean of a column that combines with others into a constant.

Left out: sums the replay rounded (:attr:`Table.step`: rounding to a count's worth is what
protects them), tables the replay did not make (their cells are only what the file says: a sum
or a mean cannot be told from decimals), means whose counts the airlock does not hold, describe
tables across files, near fits in ratios other than simple ones on fewer than four spare cells,
combinations of more than three tables (four on small tables) among enough of them to fit
anything, and combinations with rounded counts or non-linear ones (a ratio of two means). When
the policy publishes exact counts (``rounding_base`` 1) nothing is given back that the tables do
not show.
"""

from __future__ import annotations

import functools
import math
from collections import Counter
from dataclasses import dataclass
from itertools import combinations

import numpy as np

from output_checks.checks import Check, CheckOutcome
from output_checks.tables import Key, Table, normal_label
from sdc.combinations import NEAR, giving_counts
from sdc.policy import Policy
from sdc.tables.rounding import round_to_base

NAME = "counts from sums"
# a fit is taken on this many independent cells more than the combination's rank at least (one
# is enough: a vector is exactly in the span of fewer others only by design)
SPARE = 1
# tables combined: a requested one with any other; every choice of at most SMALL (FEW, on tables
# of at most FEW_CELLS cells) of the MAX_COLUMNS sharing the most cells, one of them requested;
# and all of those together
SMALL = 3
FEW, FEW_CELLS = 4, 64
MAX_COLUMNS = 24

Place = tuple[str, ...]
Column = dict[Place, float]


def _place(table: Table, key: Key) -> Place:
    """A cell's labels as tables are matched: normalised, in no order of dimensions, without
    its margins (a row margin of area × sex is the area's cell of a table by area)."""
    return tuple(sorted(_normal(k) for k in key if k != table.margin))


_normal = functools.lru_cache(maxsize=65536)(normal_label)


def _by_count(table: Table, column: Column) -> Column:
    """COLUMN's inner cells (no margin: margins add nothing a fit can use) keyed by their true
    count, where the count is the table's alone: tables of one population cut alike match so,
    whatever their labels say ('area north' for north)."""
    if not table.counts:
        return {}
    counts = {_place(table, k): v for k, v in table.counts.items() if table.margin not in k}
    tally = Counter(counts.values())
    return {
        ("#", f"{counts[p]:.0f}"): v
        for p, v in column.items()
        if p in counts and tally[counts[p]] == 1 and counts[p] > 0
    }


def _sums(table: Table, policy: Policy) -> Column | None:
    """What TABLE publishes as exact sums by cell, or None: the replay's sums, or its means
    times the cells' rounded counts (the published sum behind each mean)."""
    if table.problem or table.step is not None:
        return None
    if table.statistic == "sum":
        cells = {_place(table, k): v for k, v in table.cells.items() if v is not None}
    elif table.statistic == "mean" and table.counts:
        keys = list(table.counts)
        published = round_to_base(np.array([table.counts[k] for k in keys]), policy.rounding_base)
        rounded = dict(zip(keys, published.tolist(), strict=True))
        cells = {
            _place(table, k): v * rounded[k]
            for k, v in table.cells.items()
            if v is not None and k in rounded
        }
    else:
        return None
    return {p: v for p, v in cells.items() if math.isfinite(v)}


@dataclass(frozen=True)
class _Fit:
    columns: tuple[int, ...]  # which of the candidates
    weights: tuple[float, ...]
    places: tuple[Place, ...]  # the independent cells it holds on


def _finest(values: np.ndarray, depth: np.ndarray, chosen: tuple[int, ...]) -> np.ndarray:
    """The rows where every CHOSEN column (of VALUES, NaN: not published) has a value, of the
    finest cells among them (DEPTH: each row's number of labels; margins add up from these)."""
    held = ~np.isnan(values[:, chosen]).any(axis=1)
    if not held.any():
        return held
    return held & (depth == depth[held].max())


def _fit_of(
    counts: np.ndarray, values: np.ndarray, depth: np.ndarray, chosen: tuple[int, ...]
) -> tuple[np.ndarray, dict[int, float]] | None:
    """The combination of the CHOSEN candidates (columns of VALUES) that gives COUNTS on the
    finest cells they all publish: those cells, and each table's weight; or None."""
    rows = _finest(values, depth, chosen)
    if rows.sum() < len(chosen) + SPARE:
        return None
    sums, target = values[rows][:, list(chosen)], counts[rows]
    weights = giving_counts(sums, target)
    if weights is None:
        return None
    # a table is in the combination when its share of a count is more than a rounding's
    share = np.abs(weights) * np.abs(sums).max(axis=0)
    return rows, {
        chosen[k]: float(weights[k])
        for k in range(len(chosen))
        if share[k] > 1e-6 * np.abs(target).max()
    }


def _hopeless(counts: np.ndarray, values: np.ndarray, depth: np.ndarray) -> bool:
    """Whether no choice of the columns of VALUES can give COUNTS to within half a count on the
    finest cells all of them publish: the least-squares fit of them all misses by more in
    total than any such choice would (it is as close as any of them, on the same cells)."""
    everything = tuple(range(values.shape[1]))
    rows = _finest(values, depth, everything)
    if rows.sum() <= values.shape[1] or depth[rows].max() < depth.max():
        return False  # too few cells shared by all, or only their margins: ask each choice
    sums, target = values[rows], counts[rows]
    weights, _, _, _ = np.linalg.lstsq(sums, target, rcond=None)
    return bool(np.linalg.norm(sums @ weights - target) >= NEAR * np.sqrt(rows.sum()))


def _partners(counts: np.ndarray, values: np.ndarray, depth: np.ndarray, i: int) -> list[int]:
    """The columns of VALUES that, with column I, might give COUNTS to within half a count on the
    finest cells the two publish: the rest miss by more in total, whatever their weights (the
    least-squares fit of each pair, from its sums of squares, all pairs at once)."""
    mine = ~np.isnan(values[:, i])
    both = mine[:, None] & ~np.isnan(values)
    deepest = np.where(both, depth[:, None], -1).max(axis=0)
    rows = both & (depth[:, None] == deepest[None, :])
    x = np.where(rows, np.nan_to_num(values[:, i])[:, None], 0.0)
    y = np.where(rows, np.nan_to_num(values), 0.0)
    n = np.where(rows, counts[:, None], 0.0)
    xx, xy, yy = (x * x).sum(0), (x * y).sum(0), (y * y).sum(0)
    xn, yn, nn = (x * n).sum(0), (y * n).sum(0), (n * n).sum(0)
    with np.errstate(divide="ignore", invalid="ignore"):
        det = xx * yy - xy * xy
        a = np.where(det != 0, (xn * yy - yn * xy) / det, np.where(xx > 0, xn / xx, 0.0))
        b = np.where(det != 0, (yn * xx - xn * xy) / det, 0.0)
    residual = nn - a * xn - b * yn  # the least squares' sum of squared misses
    bound = NEAR**2 * rows.sum(axis=0) + 1e-6 * nn  # (a fit within half, and rounding's slack)
    near = (residual < bound) & (rows.sum(axis=0) >= 2 + SPARE)
    return [int(j) for j in np.flatnonzero(near) if j != i]


class _Columns:
    """Tables' sums by cell, read for any table's cells at once (every cell numbered once)."""

    def __init__(self, columns: list[Column]) -> None:
        self.number: dict[Place, int] = {}
        self.cells: list[np.ndarray] = []
        self.sums: list[np.ndarray] = []
        for column in columns:
            cells = np.array([self.number.setdefault(p, len(self.number)) for p in column], int)
            order = np.argsort(cells)
            self.cells.append(cells[order])
            self.sums.append(np.array(list(column.values()), float)[order])

    def read(self, places: list[Place]) -> np.ndarray:
        """The sums of every table at PLACES (a row each; NaN: not published)."""
        wanted = np.array([self.number.get(p, -1) for p in places], int)
        out = np.full((len(places), len(self.cells)), np.nan)
        for k, (cells, sums) in enumerate(zip(self.cells, self.sums, strict=True)):
            if not len(cells):
                continue
            at = np.minimum(np.searchsorted(cells, wanted), len(cells) - 1)
            found = cells[at] == wanted
            out[found, k] = sums[at[found]]
        return out


def _search(counts: Column, columns: _Columns, ours: list[bool]) -> _Fit | None:
    """A combination of COLUMNS (OURS: the requested) that gives COUNTS: a requested table with
    any one other, then choices of at most SMALL (FEW on a table of at most FEW_CELLS cells) of
    the MAX_COLUMNS sharing the most cells, one of them requested, then all of those together."""
    places = list(counts)
    every = columns.read(places)
    overlap = (~np.isnan(every)).sum(axis=0)
    held = sorted(
        (k for k in range(len(ours)) if overlap[k] >= 1 + SPARE), key=lambda k: -overlap[k]
    )
    if not any(ours[k] for k in held):
        return None
    top = held[:MAX_COLUMNS]
    # every requested table, and every table it may pair with (past the top ones: a partner
    # released without margins shares fewer cells than honest tables over the same ones)
    shared = top + [k for k in held[MAX_COLUMNS:] if ours[k]]
    shared += [k for k in held[MAX_COLUMNS:] if not ours[k]]
    target = np.array([counts[p] for p in places])
    depth = np.array([len(p) for p in places])
    values = every[:, shared]
    mine = {i for i, k in enumerate(shared) if ours[k]}
    choices: list[tuple[int, ...]] = [(i,) for i in sorted(mine)]
    choices += [(i, j) for i in sorted(mine) for j in _partners(target, values, depth, i)]
    among = len(top)
    if not _hopeless(target, values[:, :among], depth):
        most = FEW if len(places) <= FEW_CELLS else SMALL
        choices += [
            chosen
            for size in range(3, min(most, among) + 1)
            for chosen in combinations(range(among), size)
            if mine.intersection(chosen)
        ]
        if among > SMALL:
            choices.append(tuple(range(among)))
    for chosen in choices:
        found = _fit_of(target, values, depth, chosen)
        if found is not None and mine.intersection(found[1]):
            rows, weights = found
            return _Fit(
                tuple(shared[i] for i in weights),
                tuple(weights.values()),
                tuple(p for p, held in zip(places, rows, strict=True) if held),
            )
    return None


def _words(place: Place, count: float) -> str:
    labels = "count " + place[1] if place[:1] == ("#",) else ", ".join(place) or "total"
    return f"{labels} ({count:.0f})"


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def derived_counts(
    requested: list[tuple[str, Table]], others: list[tuple[str, Table]], policy: Policy
) -> dict[str, Check]:
    """A check for each REQUESTED table that publishes sums or means the airlock made (name,
    table), with the project's OTHER tables (released, in flight): fail where a combination of
    sums that needs it gives a table's exact counts (see the module's documentation)."""
    tables = requested + others
    columns = [(name, table, _sums(table, policy)) for name, table in tables]
    ours_names = {name for name, _ in requested}
    checks: dict[str, Check] = {}
    if policy.rounding_base <= 1:
        for name, _, column in columns[: len(requested)]:
            if column is not None:
                checks[name] = Check(
                    NAME,
                    CheckOutcome.PASS,
                    "counts are published exactly under this project's policy: no sum gives "
                    "back a count it hides",
                )
        return checks
    usable = [(n, t, c) for n, t, c in columns if c is not None]
    # what each combination gives back: its tables and weights, and the tables whose counts it is
    fits: dict[tuple[tuple[str, float], ...], list[tuple[str, tuple[Place, ...], Column]]] = {}
    for keyed in (False, True):  # cells matched by their labels, then by their true counts
        named = [n for n, _, _ in usable]
        sums = [_by_count(t, c) if keyed else c for _, t, c in usable]
        ours = [n in ours_names for n in named]
        aligned = _Columns(sums)
        theirs = _Columns([s for s, o in zip(sums, ours, strict=True) if not o])
        # counts tried already (tables of one population), and the combination that gave them
        seen: dict[frozenset, tuple[tuple[str, float], ...] | None] = {}
        for target_name, table in tables:
            if not table.counts:
                continue
            plain = {_place(table, k): float(v) for k, v in table.counts.items()}
            counts = {p: float(p[1]) for p in _by_count(table, plain)} if keyed else plain
            same = frozenset(counts.items())
            if not counts:
                continue
            if same in seen:
                known = seen[same]
                if known is not None and target_name not in {t for t, _, _ in fits[known]}:
                    fits[known].append((target_name, *fits[known][0][1:]))
                continue
            seen[same] = None
            fit = _search(counts, aligned, ours)
            if fit is None:
                continue
            if _search(counts, theirs, [True] * len(theirs.cells)) is not None:
                continue  # the other tables give them back already: no new disclosure
            used = tuple((named[k], w) for k, w in zip(fit.columns, fit.weights, strict=True))
            fits.setdefault(used, []).append((target_name, fit.places, counts))
            seen[same] = used
    found: dict[str, list[str]] = {}
    for used, targets in fits.items():
        _, places, counts = targets[0]
        cells = sorted(places, key=lambda p: counts[p])[:3]
        weighted = [f"{n} × {w:.6g}".replace("× -", "× −") for n, w in used]
        message = (
            f"the sums of {_and(weighted)} add up to the count of every cell of "
            f"{_and(sorted({t for t, _, _ in targets}))}, to within half a count: its exact "
            f"counts, which the policy rounds to {policy.rounding_base} ({len(places)} cells, "
            f"e.g. {'; '.join(_words(p, counts[p]) for p in cells)}). Sums of variables derived "
            "from one another (cost + 1 beside cost, a square beside its variable) differ by "
            "the count: publish only one of them"
        )
        for name, _ in used:
            if name in ours_names:
                found.setdefault(name, []).append(message)
    for name, _, column in columns[: len(requested)]:
        if name in found:
            checks[name] = Check(NAME, CheckOutcome.FAIL, "; ".join(found[name]))
        elif column is not None:
            checks[name] = Check(
                NAME,
                CheckOutcome.PASS,
                "no combination of the project's sums with this table's gives back a table's "
                "exact counts",
            )
    return checks
