"""The joint audit: every table of a request and the project's other tables as one problem.

The differencing checks (:mod:`output_checks.ledger`) compare tables two at a time. An attacker
who publishes several tables, each safe alone and each pair passing, can still recompute a
suppressed cell by chaining the relations of three or more tables, or a margin of one with the
cells of another. The joint audit reads every table of counts (and of sums, when the airlock's
own replay made them: :func:`family`) of a request, of the project's released tables and of its
requests in flight (from the airlock's own copies, as differencing does) and puts all their
cells into one system (sums joined only with sums, counts with counts):

- **within a table**, every row, column and margin adds up: each total cell is the sum of the
  cells it totals along each dimension. A margin the file does not publish is an unknown of the
  system (its cells still add up to it), so a table without totals links by them too;
- **across tables**, a cell of one is the same number as its match in another when the two
  tables' views (inner cells or margins) are matched by content, as :func:`ledger.align` matches
  them (by their labels, never the dimensions' names; a category matched only by its population
  is left out), when every cell both tables publish in those views is equal, within the
  rounding of either, and the tables agree on at least :data:`MIN_LINKED` cells (their grand
  totals included): one population, published twice. Views that differ are not joined (the
  margins of a table over some of the areas are not those of a table over all of them);
- **a slice**: a table of fewer dimensions is also matched, by the same rule, with each slice
  of another (:func:`_slices`: the 2023 layer of an area ×
  agency × year table published as area × agency); several slices matching is review;
- **a grouping under other labels**: the categories of a table by region ("north or east") that
  a 0/1 programme finds, uniquely, to be sums of another's areas in every cell both publish
  (:func:`_regrouped`) are each the sum of those areas' cells; plausible but undecided is
  review;
- a published count is known (exactly, or within half its rounding base: 10 at base 5 is 8 to
  12 at most), a suppressed one (blank, ``[c]``, ``<10``…) is an unknown of at least zero (a
  suppressed sum: unbounded below when a sum published in the audit is negative);
- a total that is not the sum of its published cells (a row left out) is a contradiction.

For each suppressed cell the attacker's two linear programmes (:func:`sdc.tables.secondary.
audit_published`) give the interval its value must lie in. A cell is exposed when that interval
is a point, or, when the airlock's own replay knows its true count and it is below the
threshold (an unsafe cell), when it does not reach the policy's ``protection_level`` either
side of it. A cell is blamed on the request only when the
tables without the request's leave it unexposed (a value already public is no new disclosure).

Bounded: only the tables joined to the request's, directly or through others, enter the system
(found through an index of their labels); past :data:`MAX_JOINT_TABLES` tables,
:data:`MAX_JOINT_CELLS` cells or :data:`MAX_JOINT_SUPPRESSED` suppressed cells (counted while
they are found) the audit is not run and says so (a checker checks by hand); past
:data:`MAX_SLICE_CELLS` cells of slices or :data:`MAX_REGROUPINGS` searches for groupings,
the tables not compared are review; each group of
unknowns tied together by relations is solved on its own. A table is sized by what it publishes
(:attr:`_Grid.keys`); one left out (too large, more than :data:`MAX_DIMENSIONS` dimensions, or a
reading the airlock does not trust: :attr:`Table.problem`) that shares a label with the tables
audited makes the check review. Every requested table gets a check: review, with the reason,
when it cannot be audited.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from itertools import combinations, permutations, product
from typing import Any

import numpy as np

from output_checks.checks import Check, CheckOutcome
from output_checks.ledger import (
    MAX_ALIGN_DIMENSIONS,
    MAX_MESSAGES,
    View,
    align,
    cell_words,
    normal_label,
)
from output_checks.tables import Key, Table
from sdc.errors import SdcError
from sdc.policy import Policy
from sdc.tables.secondary import audit_published

NAME = "linked tables"
COUNTS, SUMS = "counts", "sums"  # the tables the joint audit adds up (each with its own kind)
MAX_JOINT_CELLS = 20_000  # cells of every table together, margins included
MAX_JOINT_SUPPRESSED = 2_000  # suppressed cells asked about (two programmes each)
MAX_JOINT_TABLES = 100  # tables joined to the request's, directly or through others
MAX_DIMENSIONS = MAX_ALIGN_DIMENSIONS  # a table of more is not matched by content
MAX_SLICE_CELLS = (
    200_000  # cells of slices compared with smaller tables (:func:`_sliced`) per audit
)
MAX_REGROUPINGS = 200  # pairs of dimensions searched for categories summing another's (per audit)
MAX_REGROUPED = 60  # categories of the finer dimension of a pair searched
MAX_REGROUPING_NODES = 10_000  # branch-and-bound nodes of each search: a count, not seconds
MIN_LINKED = 3  # cells two tables must both publish, all equal, to be one population
ALL = "\x00all"  # the margin of a table that publishes none
# a group whose published values span more than this ratio (largest to smallest non-zero) is not
# solved: HiGHS's tolerance, relative to the largest, would hide small counts beside it
MAX_SPAN = 1e6
TOLERANCE = 1e-6  # counts: an interval end within this of the reach required is the reach


@dataclass
class _Grid:
    """One table as unknowns: every combination of its categories and its margin label."""

    name: str
    table: Table
    margin: str
    categories: list[list[str]]
    base: int  # the rounding base its published counts are read at
    family: str = COUNTS  # what its cells add up: counts, or sums of a variable (SUMS)
    shown: int = 1  # the base its counts may be rounded at, for matching them with another's
    step: float = 0.0  # the multiple its sums are rounded to (Table.step), 0: exact

    @cached_property
    def keys(self) -> list[Key]:
        """Every combination of its categories and margin label when there are at most
        :data:`MAX_JOINT_CELLS` of them; else (a long table of margins over many categories)
        the cells it publishes and the margins of each: what a reader can add up."""
        labels = [[*c, self.margin] for c in self.categories]
        if math.prod(len(c) for c in labels) <= MAX_JOINT_CELLS:
            return list(product(*labels))
        found: dict[Key, None] = {}
        n = len(self.categories)
        for key in self.table.cells:
            for size in range(n + 1):
                for summed in combinations(range(n), size):
                    found[tuple(self.margin if i in summed else k for i, k in enumerate(key))] = (
                        None
                    )
        return list(found)

    @cached_property
    def place(self) -> dict[Key, int]:
        return {key: i for i, key in enumerate(self.keys)}

    @cached_property
    def views(self) -> list[tuple[View, dict[Key, Key]]]:
        """Its inner cells and every margin, as views :func:`ledger.align` matches, each with
        the cell of the grid behind each of its cells."""
        return _views(self, {})

    @cached_property
    def known(self) -> dict[Key, float | None]:
        return _known(self)

    @property
    def total(self) -> tuple[Key, float | None]:
        """Its grand total's cell, and the total as a reader knows it (None: not known)."""
        return _total(self, {})

    @cached_property
    def labels(self) -> set[str]:
        """Its categories' labels as :func:`ledger.align` compares them."""
        return set().union(*self.named)

    @cached_property
    def named(self) -> list[dict[str, str]]:
        """Each dimension's categories by their labels as :func:`ledger.align` compares them."""
        return [{normal_label(label): label for label in labels} for labels in self.categories]

    @property
    def suppressed(self) -> int:
        return sum(1 for v in self.table.cells.values() if v is None)


Link = list[tuple[Key, Key]]  # cells of two grids that are the same number


@dataclass
class _System:
    """The joint system: bounds of every unknown, relations, and who holds which cell."""

    grids: list[_Grid]
    lower: list[float] = field(default_factory=list)
    upper: list[float] = field(default_factory=list)
    suppressed: list[bool] = field(default_factory=list)
    owner: list[tuple[int, Key]] = field(default_factory=list)  # (grid, key) of each unknown
    relations: list[tuple[int, list[int]]] = field(default_factory=list)
    same: list[tuple[int, int]] = field(default_factory=list)  # unknowns of one cell


def family(table: Table) -> str | None:
    """What TABLE's cells are, for the joint audit: counts (:data:`COUNTS`), sums of a variable
    (:data:`SUMS`, known only from the airlock's own replay: a file of decimals may as well be
    means), or None: means, medians, shares, describe tables, values it cannot tell (not
    additive: no row of them adds up to its total)."""
    if table.statistic == "sum":
        return SUMS
    if table.kind == "counts" and table.statistic in (None, "count", "size"):
        return COUNTS
    return None


def _categories(table: Table, i: int) -> list[str]:
    return list(dict.fromkeys(k[i] for k in table.cells if k[i] != table.margin))


def _bounds(value: float | None, base: int) -> tuple[float, float]:
    """What a published count tells of the true one: the value, or the whole numbers that
    round to it (halves go up, as :func:`sdc.tables.rounding.round_to_base` rounds)."""
    if value is None:
        return 0.0, math.inf
    if base <= 1:
        return value, value
    return max(0.0, math.ceil(value - base / 2)), math.ceil(value + base / 2) - 1


def _base(table: Table, policy: Policy) -> int:
    """The rounding base to read TABLE's counts at: the policy's when every count is a multiple
    of it (20, 20 and 40 may be 21, 21 and 42 rounded to 5), else none (exact). A divisor the
    counts merely share (all even under a policy of exact counts, :attr:`Table.base` 2) is no
    rounding: an attacker chooses the counts, and reading them as rounded would widen every
    interval the audit finds. A table rounded to another base than the policy's is read as exact
    (its totals then seldom add up: review)."""
    base = policy.rounding_base
    if family(table) == SUMS or base <= 1:
        return 1  # sums are published as they are (a sum of a flag is published as a count)
    published = [v for v in table.cells.values() if v is not None]
    return base if all(v % base == 0 for v in published) else 1


def _grid(name: str, table: Table, policy: Policy) -> _Grid:
    margin = table.margin if table.margin is not None else ALL
    categories = [_categories(table, i) for i in range(len(table.dims))]
    kind = family(table) or COUNTS
    base = _base(table, policy)
    shown = max(base, table.base) if kind == COUNTS else 1
    step = float(table.step or 0.0) if kind == SUMS else 0.0
    return _Grid(name, table, margin, categories, base, kind, shown, step)


def _known(grid: _Grid) -> dict[Key, float | None]:
    """Each cell's value as a reader knows it exactly: published, or (unrounded tables) the sum
    of published cells a margin the file leaves out totals; None when not known."""
    table, margin = grid.table, grid.margin
    known: dict[Key, float | None] = {}
    for key in sorted(grid.keys, key=lambda k: sum(label == margin for label in k)):
        if key in table.cells:
            known[key] = table.cells[key]
            continue
        known[key] = None
        if grid.base != 1 or grid.step:
            continue
        i = next((i for i, label in enumerate(key) if label == margin), None)
        if i is None:
            continue
        parts = [known.get(key[:i] + (c,) + key[i + 1 :]) for c in grid.categories[i]]
        if parts and all(p is not None for p in parts):
            known[key] = sum(p for p in parts if p is not None)
    return known


def _views(grid: _Grid, fixed: dict[int, str]) -> list[tuple[View, dict[Key, Key]]]:
    """The views of GRID with its dimensions FIXED (by number) held at one label each (a
    category or the margin: a slice of it): the inner cells of the other dimensions and every
    margin of them, each with the cell of the grid behind each of its cells."""
    margin, n = grid.margin, len(grid.table.dims)
    free = [i for i in range(n) if i not in fixed]
    known, place = grid.known, grid.place
    found = []
    for size in range(len(free), 0, -1):
        for kept in combinations(free, size):
            choices = [
                grid.categories[i] if i in kept else [fixed.get(i, margin)] for i in range(n)
            ]
            if math.prod(len(c) for c in choices) <= len(place):
                keys: list[Key] = [k for k in product(*choices) if k in place]
            else:  # a long table of margins: only the cells it names
                keys = [
                    k
                    for k in grid.keys
                    if all(k[i] == fixed[i] for i in fixed)
                    and all((k[i] == margin) != (i in kept) for i in free)
                ]
            if len(keys) >= 2:
                cells = {tuple(k[i] for i in kept): known[k] for k in keys}
                behind = {tuple(k[i] for i in kept): k for k in keys}
                names = [grid.table.dims[i] for i in kept]
                found.append((View(names, cells, {}, "cells", grid.base), behind))
    return found


def _total(grid: _Grid, fixed: dict[int, str]) -> tuple[Key, float | None]:
    """The total of GRID's slice FIXED (its grand total when none is fixed): its cell, and its
    value as a reader knows it (None: not known)."""
    key = tuple(fixed.get(i, grid.margin) for i in range(len(grid.categories)))
    return key, grid.known.get(key)


def _joined(a: _Grid, b: _Grid) -> tuple[Link | None, tuple[Link, int] | None]:
    """The cells of A and B that are the same number, when the two are one population (see
    the module), else None. Views (and grand totals) whose published cells differ are not
    joined: the margins of a table over some of the areas are not those of one over all. And
    the cells they would share, with the published cells they agree on, when they may be one
    population but agree on too few cells to tell (none differing)."""
    joined, agreeing, differing = _matched(a, {}, b)
    if agreeing >= MIN_LINKED:
        return joined, None
    return None, ((joined, agreeing) if agreeing and joined and not differing else None)


def _matched(a: _Grid, fixed: dict[int, str], b: _Grid) -> tuple[Link, int, bool]:
    """The cells of A's slice FIXED (all of A when none is fixed) and of B that are the same
    number, matched as :func:`_joined` matches two tables (views whose published cells differ
    left out), how many published cells they agree on, and whether any differ."""
    # matched within the rounding either may show (its bounds are read exactly: see _base)
    slack = 0.0 if a.shown == b.shown else sum(x / 2 for x in (a.shown, b.shown) if x > 1)
    if a.step != b.step:  # sums rounded to different multiples (or one exact): within both
        slack += (a.step + b.step) / 2

    def differ(x: float, y: float) -> bool:  # sums: within a float's precision
        return abs(x - y) > slack + TOLERANCE * 1e-3 * max(1.0, abs(x), abs(y))

    joined: Link = []
    agreeing, differing = 0, False
    (top_a, total_a), (top_b, total_b) = _total(a, fixed), b.total
    if total_a is not None and total_b is not None:
        if not differ(total_a, total_b):
            agreeing += 1
            joined.append((top_a, top_b))
        else:
            differing = True
    for mine, here in a.views if not fixed else _views(a, fixed):
        for theirs, there in b.views:
            if len(mine.names) != len(theirs.names):
                continue
            # categories matched by their populations are not evidence enough of one
            # population: only cells matched by their labels are joined
            pairs = [p for p in align(mine, theirs) if not p.by_population]
            both = [(p.a, p.b) for p in pairs if p.a is not None and p.b is not None]
            if any(differ(x, y) for x, y in both):
                differing = True
                continue
            agreeing += len(both)
            joined += [(here[p.here], there[p.there]) for p in pairs]
    return joined, agreeing, differing


def _slices(big: _Grid, small: _Grid) -> Iterator[dict[int, str]]:
    """The slices of BIG that may be SMALL: its dimensions but as many as SMALL has held at one
    label each (a category, or the margin where another is held at a category: all at the
    margin is a margin of BIG, matched already), the dimensions left each sharing a label with
    one of SMALL's (:func:`ledger.align` matches nothing else by its label)."""
    n, k = len(big.categories), len(small.categories)
    shares = [any(mine.keys() & theirs.keys() for theirs in small.named) for mine in big.named]
    for held in combinations(range(n), n - k):
        if not all(shares[i] for i in range(n) if i not in held):
            continue
        for labels in product(*[[*big.categories[i], big.margin] for i in held]):
            if any(label != big.margin for label in labels):
                yield dict(zip(held, labels, strict=True))


def _slice_words(grid: _Grid, fixed: dict[int, str]) -> str:
    return cell_words(tuple(fixed.values()), [grid.table.dims[i] for i in fixed]).replace(
        f"={ALL}", "=(all)"
    )


def _sliced(big: _Grid, small: _Grid, budget: dict[str, int]) -> tuple[Link | None, str | None]:
    """The cells of SMALL and of the one slice of BIG (:func:`_slices`) it matches, as
    :func:`_joined` matches two tables; or why it is not linked though it may be
    (it matches several slices, or BUDGET's slices left to try in the audit ran out)."""
    matched: list[tuple[dict[int, str], Link]] = []
    for fixed in _slices(big, small):
        free = [c for i, c in enumerate(big.categories) if i not in fixed]
        cells = math.prod(len(c) + 1 for c in free)
        if cells > len(big.keys):  # a long table: its views are read from every cell it has
            cells = len(big.keys)
        if budget["slices"] < cells:
            return None, (
                f"not every slice of {big.name} was compared with {small.name} (the joint "
                f"audit compares at most {MAX_SLICE_CELLS:,} cells of slices): check by hand "
                f"whether {small.name} is a slice of {big.name} (one category of a dimension "
                "it leaves out) that recomputes a suppressed cell with it"
            )
        budget["slices"] -= cells
        link, agreeing, _ = _matched(big, fixed, small)
        if agreeing >= MIN_LINKED:
            matched.append((fixed, link))
    if len(matched) > 1:
        slices = "; ".join(_slice_words(big, fixed) for fixed, _ in matched[:MAX_MESSAGES])
        return None, (
            f"the published cells of {small.name} match several slices of {big.name} "
            f"({slices}): which one it is cannot be told, so it is not linked; check by hand "
            "whether a suppressed cell can be recomputed from them together"
        )
    return (matched[0][1], None) if matched else (None, None)


Sums = list[tuple[Key, list[Key]]]  # a cell of one grid, and the cells of another it adds up


def _pairings(coarse: _Grid, fine: _Grid) -> Iterator[tuple[int, int, dict[int, int]]]:
    """Ways COARSE's categories may be sums of FINE's under other labels: (i, j, others) where
    COARSE's dimension i has fewer categories than FINE's j and shares fewer than half of
    their labels (:func:`ledger.align` does not match them), and each other dimension of
    COARSE is paired with one of FINE's (OTHERS) sharing a label."""
    n = len(coarse.categories)
    if n != len(fine.categories) or n < 2:
        return
    mine, theirs = coarse.named, fine.named
    for order in permutations(range(n)):
        shared = [len(mine[i].keys() & theirs[order[i]].keys()) for i in range(n)]
        apart = [
            i
            for i in range(n)
            if 2 * shared[i] < max(len(mine[i]), len(theirs[order[i]]))
            or _relabelled(coarse, fine, i, order)
        ]
        if len(apart) != 1 or any(shared[k] == 0 for k in range(n) if k != apart[0]):
            continue
        i = apart[0]
        if 1 <= len(coarse.categories[i]) < len(fine.categories[order[i]]):
            yield i, order[i], {k: order[k] for k in range(n) if k != i}


def _relabelled(coarse: _Grid, fine: _Grid, i: int, order: tuple[int, ...]) -> bool:
    """Does COARSE, with fewer categories at I than FINE at ORDER[I], use FINE's labels for
    other people: a cell it publishes under labels FINE also has (its dimensions paired by
    ORDER) that differs from FINE's ("north" that is north and central, beside a table by
    area)? Then its categories may be sums of FINE's under the same labels."""
    j = order[i]
    if len(coarse.categories[i]) >= len(fine.categories[j]):
        return False
    labels = [{**m, normal_label(coarse.margin): fine.margin} for m in fine.named]
    for key, value in coarse.table.cells.items():
        if key[i] == coarse.margin:
            continue
        theirs: list[str] = [""] * len(key)
        for k, label in enumerate(key):
            found = labels[order[k]].get(normal_label(label))
            if found is None:
                break
            theirs[order[k]] = found
        else:
            other = fine.known.get(tuple(theirs))
            if other is not None and value is not None and abs(other - value) > TOLERANCE:
                return True
    return False


def _regroup_rows(
    coarse: _Grid, fine: _Grid, i: int, j: int, others: dict[int, int]
) -> dict[Key, list[Key]]:
    """Each cell of COARSE with a category at I whose other labels FINE has (paired by OTHERS):
    the cells of FINE behind it, one per category of FINE's J (in order)."""
    labels = [{**m, normal_label(coarse.margin): fine.margin} for m in fine.named]
    rows: dict[Key, list[Key]] = {}
    for key in coarse.keys:
        if key[i] == coarse.margin:
            continue
        template: list[str] = [""] * len(key)
        for k, m in others.items():
            found = labels[m].get(normal_label(key[k]))
            if found is None:
                break
            template[m] = found
        else:
            cells = [
                tuple(f if m == j else template[m] for m in range(len(key)))
                for f in fine.categories[j]
            ]
            if all(c in fine.place for c in cells):
                rows[key] = cells
    return rows


def _regrouped(coarse: _Grid, fine: _Grid, budget: dict[str, int]) -> tuple[Sums, str | None]:
    """The cells of COARSE that are sums of FINE's cells, when each category of one of its
    dimensions is found, by content, to be a sum of categories of one of FINE's under other
    labels ("north or east"): a 0/1 choice of FINE's categories whose published cells add up
    to the category's over the other dimensions, in every cell both publish exactly, unique and
    on at least :data:`MIN_LINKED` cells of each category (a programme of HiGHS, bounded by
    :data:`MAX_REGROUPING_NODES`). Tried only when COARSE's margins over the other dimensions
    can be part of FINE's (:func:`_within`). Else nothing, and why when the grouping is plausible
    but undecided (BUDGET's searches left in the audit ran out; suppressed cells leave too
    few; several choices fit)."""
    if coarse.base != 1 or fine.base != 1 or coarse.family != fine.family:
        return [], None  # rounded counts do not add up exactly
    for i, j, others in _pairings(coarse, fine):
        rows = _regroup_rows(coarse, fine, i, j, others)
        if not _within(coarse, fine, i, j, rows):
            continue
        where = (
            f"the categories of {coarse.table.dims[i]} in {coarse.name} may be sums of the "
            f"categories of {fine.name} ({fine.table.dims[j]}) under other labels"
        )
        hand = ": check by hand whether a suppressed cell can be recomputed from them together"
        if budget["groupings"] <= 0 or len(fine.categories[j]) > MAX_REGROUPED:
            return [], (
                f"{where}, but the joint audit searches at most {MAX_REGROUPINGS} such "
                f"groupings of at most {MAX_REGROUPED} categories{hand}"
            )
        budget["groupings"] -= 1
        chosen, why = _grouping(coarse, fine, i, j, rows)
        if why is not None:
            return [], f"{where}, but {why}{hand}"
        if chosen is not None:
            return [
                (key, [cells[f] for f in chosen[key[i]]])
                for key, cells in rows.items()
                if key[i] in chosen
            ], None
    return [], None


def _within(coarse: _Grid, fine: _Grid, i: int, j: int, rows: dict[Key, list[Key]]) -> bool:
    """Can some of COARSE's categories at I be groups of FINE's: is there one whose every
    published cell is no larger than FINE's margin over J where FINE publishes it? (A group of
    some of FINE's categories is no larger than all of them. COARSE's own margin over I is not
    compared: an "other" category that groups none of FINE's makes it larger.)"""
    larger: set[str] = set()
    for key, cells in rows.items():
        mine = coarse.known.get(key)
        theirs = fine.known.get(cells[0][:j] + (fine.margin,) + cells[0][j + 1 :])
        if mine is not None and theirs is not None and mine > theirs + TOLERANCE:
            larger.add(key[i])
    return any(category not in larger for category in coarse.categories[i])


def _grouping(
    coarse: _Grid, fine: _Grid, i: int, j: int, rows: dict[Key, list[Key]]
) -> tuple[dict[str, list[int]] | None, str | None]:
    """Which of FINE's categories (by place, its dimension J) each category of COARSE's I is
    the sum of: a 0/1 programme over the cells both publish (equal sums), and where FINE hides
    a cell, the bounds the cells it publishes allow; None when no choice fits (not a
    grouping), or why it cannot be decided."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    groups = coarse.categories[i]
    parts = len(next(iter(rows.values()))) if rows else 0
    if not parts:
        return None, None
    # x (a group's choice of FINE's categories, by group) and y (the group is a sum of FINE's
    # at all: a category of COARSE that is no grouping, such as an "other" row, leaves the
    # others to be found): a row of group g holds as sum(x·v) = total·y, so y = 0 frees it
    size = len(groups) * parts
    n = size + len(groups)
    equations, used = [], dict.fromkeys(groups, 0)
    bounded, low, high = [], [], []  # hidden cells of FINE: what the published ones allow
    for key, cells in rows.items():
        total = coarse.known.get(key)
        found = [fine.known.get(c) for c in cells]
        if total is None:
            continue
        g = groups.index(key[i])
        row = np.zeros(n)
        row[size + g] = -total
        if all(v is not None for v in found):
            row[g * parts : (g + 1) * parts] = [v or 0.0 for v in found]
            equations.append(row)
            used[key[i]] += 1
            continue
        # a hidden cell is at least 0 and at most what its column's total leaves
        column = fine.known.get(cells[0][:j] + (fine.margin,) + cells[0][j + 1 :])
        left = None if column is None else column - sum(v for v in found if v is not None)
        row[g * parts : (g + 1) * parts] = [0.0 if v is None else v for v in found]
        bounded.append(row)
        low.append(-np.inf)
        high.append(0.0)  # the published cells chosen add up to no more than the group's
        if left is not None:
            upper = row.copy()
            upper[g * parts : (g + 1) * parts] = [left if v is None else v for v in found]
            bounded.append(upper)
            low.append(0.0)  # nor, with every hidden one at its most, to less
            high.append(np.inf)
    if not equations:
        return None, None
    once = np.zeros((parts + 2 * len(groups), n))
    for f in range(parts):
        once[f, f:size:parts] = 1.0  # each of FINE's categories in one group at most
    for g in range(len(groups)):
        once[parts + g, g * parts : (g + 1) * parts] = -1.0  # a group of one at least
        once[parts + g, size + g] = 1.0
        for f in range(parts):  # and none where the category is no group
            once[parts + len(groups) + g, g * parts + f] = 1.0 / parts
        once[parts + len(groups) + g, size + g] = -1.0
    constraints = [
        LinearConstraint(np.array(equations), 0.0, 0.0),
        LinearConstraint(once, -np.inf, np.r_[np.ones(parts), np.zeros(2 * len(groups))]),
    ]
    if bounded:
        constraints.append(LinearConstraint(np.array(bounded), low, high))

    def solve(extra: list[LinearConstraint]) -> np.ndarray | None | str:
        result = milp(
            np.zeros(n),
            constraints=constraints + extra,
            integrality=np.ones(n),
            bounds=Bounds(0, 1),
            # a new dict each time: scipy's milp pops node_limit out of the one it is given
            options={"node_limit": MAX_REGROUPING_NODES, "presolve": True},
        )
        if result.status == 0 and result.x is not None:
            return np.round(result.x)
        if result.status == 2:
            return None
        return f"the search stopped ({result.message.strip()})"

    def grouping(which: np.ndarray) -> np.ndarray | None | str:
        """A choice where the categories WHICH (0/1 by group) are groups and the others not."""
        fixed = np.c_[np.zeros((len(groups), size)), np.eye(len(groups))]
        return solve([LinearConstraint(fixed, which, which)])

    # every category a group (the usual case, and a quick proof where none is); else those
    # that are one by one (an "other" row groups nothing), then together
    first = grouping(np.ones(len(groups)))
    if first is None:
        fits, nodes = [], max(100, MAX_REGROUPING_NODES // len(groups))  # one budget, shared
        for g in range(len(groups)):
            alone = _alone(constraints, np.r_[g * parts : (g + 1) * parts, size + g], nodes)
            if isinstance(alone, str):
                return None, alone
            fits.append(alone)
        if not any(fits):
            return None, None  # no category of COARSE is a sum of FINE's: not a grouping
        first = grouping(np.array(fits, float))
        if first is None:
            return None, "its categories fit one by one, but not together"
    if isinstance(first, str):
        return None, first
    grouped = first[size:] > 0.5
    # the same categories grouped otherwise
    chosen = grouped.astype(float)
    same = LinearConstraint(
        np.c_[np.zeros((len(groups), size)), np.eye(len(groups))], chosen, chosen
    )
    ones = first[:size] > 0.5
    cut = LinearConstraint(
        np.r_[np.where(ones, 1.0, -1.0), np.zeros(len(groups))], -np.inf, ones.sum() - 1
    )
    second = solve([same, cut])
    if isinstance(second, str):
        return None, second
    if second is not None:
        return None, "several choices of its categories fit the cells both publish"
    few = [g for k, g in enumerate(groups) if grouped[k] and used[g] < MIN_LINKED]
    if few:
        return None, (
            f"too few cells of {', '.join(few[:MAX_MESSAGES])} are published in both (fewer "
            f"than {MIN_LINKED}) to tell"
        )
    return {
        g: [f for f in range(parts) if ones[k * parts + f]]
        for k, g in enumerate(groups)
        if grouped[k]
    }, None


def _alone(constraints: list, columns: np.ndarray, nodes: int) -> bool | str:
    """Whether one category of a grouping's programme (:func:`_grouping`), its choice and its
    0/1 "is a group" (COLUMNS, the last), fits alone: the programme on those columns, the
    others at zero. True or False, or why the search stopped: after NODES nodes of
    branch-and-bound (the categories share :data:`MAX_REGROUPING_NODES`; a subset sum of
    large values can take thousands)."""
    from scipy.optimize import Bounds, LinearConstraint, milp

    parts = []
    for c in constraints:
        matrix = np.asarray(c.A)
        rows = len(matrix)
        matrix = matrix[:, columns]
        keep = np.abs(matrix).sum(axis=1) > 0
        low, high = np.broadcast_to(c.lb, rows)[keep], np.broadcast_to(c.ub, rows)[keep]
        parts.append(LinearConstraint(matrix[keep], low, high))
    size = len(columns)
    result = milp(
        np.zeros(size),
        constraints=parts,
        integrality=np.ones(size),
        bounds=Bounds(np.r_[np.zeros(size - 1), 1.0], np.ones(size)),
        options={"node_limit": nodes, "presolve": True},
    )
    if result.status == 0:
        return True
    if result.status == 2:
        return False
    return f"the search stopped ({result.message.strip()})"


GridPair = tuple[int, int]  # two grids, by number, the smaller first


@dataclass
class _Found:
    """What :func:`_linked` found: the grids joined to the request's (those first), the cells
    each two of them share, whether the search stopped past a cap, and the pairs of tables that
    may be linked but were not, each with why (a checker decides)."""

    chosen: list[int]
    links: dict[GridPair, Link]
    over: bool = False
    problems: list[tuple[GridPair, str]] = field(default_factory=list)
    sums: dict[GridPair, Sums] = field(default_factory=dict)  # (coarse, fine): its cells' sums
    # pairs that may be one population but agree on too few cells to tell: the cells they
    # would share, and how many published cells they agree on
    weak: dict[GridPair, tuple[Link, int]] = field(default_factory=dict)


def _linked(grids: list[_Grid], first: int) -> _Found:
    """The grids joined, directly or through others, to the first FIRST (the request's): by
    their views (:func:`_joined`), or a slice of one by the other (:func:`_sliced`); see
    :class:`_Found`. Caps: :data:`MAX_JOINT_TABLES`, :data:`MAX_JOINT_CELLS`,
    :data:`MAX_JOINT_SUPPRESSED`, :data:`MAX_SLICE_CELLS`, :data:`MAX_REGROUPINGS`."""
    by_label: dict[str, set[int]] = defaultdict(set)
    for g, grid in enumerate(grids):
        for label in grid.labels:
            by_label[label].add(g)
    chosen = list(range(first))
    cells = sum(len(grids[g].keys) for g in chosen)
    hidden = sum(grids[g].suppressed for g in chosen)
    found = _Found(chosen, {})
    budget = {"slices": MAX_SLICE_CELLS, "groupings": MAX_REGROUPINGS}
    checked: set[GridPair] = set()
    queue = list(chosen)
    while queue:
        g = queue.pop(0)
        candidates = sorted({c for label in grids[g].labels for c in by_label[label]} - {g})
        for c in candidates:
            if grids[c].family != grids[g].family:
                continue  # counts add up with counts, sums of a variable with sums
            pair = (min(g, c), max(g, c))
            if pair in checked:
                continue
            checked.add(pair)
            if not _pair(grids, pair, found, budget, ours=pair[0] < first):
                continue
            if c not in chosen:
                chosen.append(c)
                queue.append(c)
                cells += len(grids[c].keys)
                hidden += grids[c].suppressed
            if (
                len(chosen) > MAX_JOINT_TABLES
                or cells > MAX_JOINT_CELLS
                or hidden > MAX_JOINT_SUPPRESSED
            ):
                found.over = True
                return found
    return found


def _pair(
    grids: list[_Grid], pair: GridPair, found: _Found, budget: dict[str, int], ours: bool
) -> bool:
    """Link the two grids of PAIR into FOUND, if they are linked: by their views, or a slice of
    one by the other (:func:`_sliced`), or (OURS: one of them is the request's) the categories
    of one as sums of the other's (:func:`_regrouped`: a search, not made between two tables
    released already); note in FOUND why they may be linked though they were not. BUDGET: the
    slices and groupings the audit may still try."""
    a, b = grids[pair[0]], grids[pair[1]]
    joined, weak = _joined(a, b)
    if joined is None and len(a.categories) != len(b.categories):
        big, small = (a, b) if len(a.categories) > len(b.categories) else (b, a)
        joined, why = _sliced(big, small, budget)
        if why is not None:
            found.problems.append((pair, why))
        if joined is not None and big is b:
            joined = [(y, x) for x, y in joined]
    if joined is not None:
        found.links[pair] = joined
    elif weak is not None:
        found.weak[pair] = weak
    for coarse, fine in (pair, pair[::-1]) if ours else ():
        sums, why = _regrouped(grids[coarse], grids[fine], budget)
        if why is not None:
            found.problems.append((pair, why))
        if sums:
            found.sums[(coarse, fine)] = sums
    return pair in found.links or pair in found.sums or pair[::-1] in found.sums


def _problems(found: _Found, ours: int) -> list[tuple[int, str]]:
    """The request's grids (by number, below OURS) each problem of FOUND concerns: those joined
    (directly or through others) to either table of the pair."""
    tied = _Union(max([*found.chosen, *(g for pair, _ in found.problems for g in pair)]) + 1)
    for a, b in [*found.links, *found.sums]:
        tied.join(a, b)
    said = []
    for pair, why in found.problems:
        roots = {tied.root(g) for g in pair}
        said += [(g, why) for g in range(ours) if tied.root(g) in roots]
    return said


def _system(
    grids: list[_Grid], links: dict[GridPair, Link], sums: dict[GridPair, Sums] | None = None
) -> _System:
    """The joint system of GRIDS, with the cells LINKS (by grid number) joins and the SUMS of
    one grid's cells another's are (by coarse and fine grid number)."""
    system = _System(grids)
    first = []
    # a sum of values that may be negative may be negative: its unknowns are unbounded below
    signed = any(
        v is not None and v < 0
        for grid in grids
        if grid.family == SUMS
        for v in grid.table.cells.values()
    )
    for g, grid in enumerate(grids):
        first.append(len(system.lower))
        table = grid.table
        floor = -math.inf if signed and grid.family == SUMS else 0.0
        for key in grid.keys:
            published = key in table.cells
            value = table.cells.get(key)
            low, high = _bounds(value, grid.base) if published else (0.0, math.inf)
            if grid.step and value is not None:  # a rounded sum: halves go up, as sdc rounds
                low, high = max(value - grid.step / 2, floor), value + grid.step / 2
            low = floor if value is None else low
            system.lower.append(low)
            system.upper.append(high)
            system.suppressed.append(published and value is None)
            system.owner.append((g, key))
        place = grid.place
        for i, categories in enumerate(grid.categories):
            for key in grid.keys:
                if key[i] == grid.margin and categories:
                    cells = [key[:i] + (c,) + key[i + 1 :] for c in categories]
                    if any(c not in place for c in cells):
                        continue  # a long table's margin over cells it never names
                    members = [place[c] for c in cells]
                    system.relations.append(
                        (first[g] + place[key], [first[g] + m for m in members])
                    )
    for (a, b), joined in links.items():
        for x, y in joined:
            system.same.append((first[a] + grids[a].place[x], first[b] + grids[b].place[y]))
    for (a, b), added in (sums or {}).items():
        for key, parts in added:
            system.relations.append(
                (first[a] + grids[a].place[key], [first[b] + grids[b].place[p] for p in parts])
            )
    return system


class _Union:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def root(self, a: int) -> int:
        while self.parent[a] != a:
            self.parent[a] = self.parent[self.parent[a]]
            a = self.parent[a]
        return a

    def join(self, a: int, b: int) -> None:
        self.parent[self.root(a)] = self.root(b)


@dataclass
class Exposure:
    """A suppressed cell the tables together expose."""

    unknown: int  # its representative unknown
    low: float
    high: float
    holders: list[tuple[int, Key]]  # (grid, key) of each table's copy of the cell
    tables: list[int]  # the grids whose relations tie it down


@dataclass
class _Merged:
    """The system with each cell published in several tables as one unknown (its root)."""

    roots: list[int]
    copies: dict[int, list[int]]  # root: the unknowns of every table's copy of the cell
    lower: np.ndarray
    upper: np.ndarray
    asked: set[int]  # roots of cells some table suppressed

    def free(self, cells: list[int]) -> list[int]:
        return [c for c in cells if self.lower[c] != self.upper[c]]


def _merged(system: _System, also: Collection[int] = ()) -> _Merged:
    n = len(system.lower)
    same = _Union(n)
    for a, b in system.same:
        same.join(a, b)
    roots = [same.root(i) for i in range(n)]
    lower = np.zeros(n)
    upper = np.full(n, math.inf)
    copies: dict[int, list[int]] = defaultdict(list)
    for i, r in enumerate(roots):
        copies[r].append(i)
    for r, unknowns in copies.items():
        lower[r] = max(system.lower[i] for i in unknowns)
        upper[r] = min(system.upper[i] for i in unknowns)
    asked = {
        r
        for r, unknowns in copies.items()
        if any(system.suppressed[i] or i in also for i in unknowns)
    }
    return _Merged(roots, copies, lower, upper, asked)


ADD_UP = (
    "do not add up together (a total that is not the sum of its cells, or tables matched by "
    "their cells that are not the same people), or the attacker's programme failed on them: "
    "not audited jointly, check by hand"
)
SPAN = (
    f"span more than {MAX_SPAN:g} times their smallest (one huge value beside small counts): "
    "the attacker's programme cannot resolve the small ones, not audited jointly, check by hand"
)


def _exposures(
    system: _System,
    policy: Policy,
    also: Collection[int] = (),
) -> tuple[list[Exposure], list[tuple[list[int], str]]]:
    """The suppressed cells the system exposes (and the unknowns ALSO, when they are fixed),
    and the groups of tables whose published values contradict each other (not audited). Each
    group of unknowns tied together by relations (a published value ties nothing) is solved on
    its own."""
    merged = _merged(system, also)
    roots, copies = merged.roots, merged.copies
    tied = _Union(len(roots))
    relations = [(roots[total], [roots[p] for p in parts]) for total, parts in system.relations]
    for total, parts in relations:
        free = merged.free([total, *parts])
        for c in free[1:]:
            tied.join(free[0], c)
    by_group: dict[int, list[tuple[int, list[int]]]] = defaultdict(list)
    for total, parts in relations:
        free = merged.free([total, *parts])
        if free:
            by_group[tied.root(free[0])].append((total, parts))
    # the tables a group ties together: those with an unknown in it, and those that publish
    # a cell another suppressed (which a relation of the group then uses)
    grids_of: dict[int, set[int]] = defaultdict(set)
    for i, r in enumerate(roots):
        if merged.free([r]):
            grids_of[tied.root(r)].add(system.owner[i][0])
    # and the tables of a relation between two (a category one adds up of the other's)
    for (total, parts), (first, originals) in zip(relations, system.relations, strict=True):
        owners = {system.owner[i][0] for i in (first, *originals)}
        free = merged.free([total, *parts])
        if free and len(owners) > 1:
            grids_of[tied.root(free[0])] |= owners
    revealed = {r for r in merged.asked if not merged.free([r]) and len(copies[r]) > 1}
    for total, parts in relations:
        free = merged.free([total, *parts])
        for c in revealed & {total, *parts}:
            grids_of[tied.root(free[0]) if free else c] |= {system.owner[i][0] for i in copies[c]}
    wanted: dict[int, list[int]] = defaultdict(list)
    for r in sorted(merged.asked):
        wanted[tied.root(r)].append(r)
    exposures: list[Exposure] = []
    contradictions: list[tuple[list[int], str]] = []  # the tables of each, and why
    # a relation of published values only: a total that is not the sum of its cells (a row
    # left out of the file) tells its difference to whoever subtracts
    for total, parts in relations:
        if merged.free([total, *parts]):
            continue
        rest = merged.lower[total] - math.fsum(merged.lower[p] for p in parts)
        if abs(rest) > TOLERANCE * 1e-3 * max(abs(merged.lower[total]), 1.0):
            owners = {system.owner[i][0] for c in (total, *parts) for i in copies[c]}
            if (sorted(owners), ADD_UP) not in contradictions:
                contradictions.append((sorted(owners), ADD_UP))
    for tie, cells in wanted.items():
        rels = by_group.get(tie, [])
        local = sorted({c for total, parts in rels for c in (total, *parts)} | set(cells))
        index = {c: k for k, c in enumerate(local)}
        ends = np.abs(np.concatenate([merged.lower[local], merged.upper[local]]))
        ends = ends[np.isfinite(ends) & (ends > 0)]
        if len(ends) and ends.max() > MAX_SPAN * ends.min():
            contradictions.append((sorted(grids_of[tie]), SPAN))
            continue
        try:
            intervals = audit_published(
                merged.lower[local],
                merged.upper[local],
                [(index[t], [index[p] for p in parts]) for t, parts in rels],
                [index[c] for c in cells],
            )
        except SdcError:  # the solver's failure: left to the checkers, like a contradiction
            intervals = None
        if intervals is None:
            contradictions.append((sorted(grids_of[tie]), ADD_UP))
            continue
        for c in cells:
            low, high = intervals[index[c]]
            holders = [system.owner[i] for i in copies[c]]
            if _exposed(low, high, holders, system, policy):
                tables = grids_of[tie] | {g for g, _ in holders}
                exposures.append(Exposure(c, low, high, holders, sorted(tables)))
    return exposures, contradictions


def _exposed(
    low: float, high: float, holders: list[tuple[int, Key]], system: _System, policy: Policy
) -> bool:
    """A point, or (when the airlock's replay knows the true count, and it is unsafe: below
    the threshold) an interval that does not reach the policy's protection level either side of
    it. Cells suppressed only to protect others need not be a point, as in ``sdc``'s audit."""
    if math.isfinite(high - low) and high - low <= TOLERANCE * 1e-3 * max(abs(low), abs(high), 1):
        return True  # a point, within a float's precision of the sums' values
    level = policy.protection_level
    for g, key in holders:
        if system.grids[g].family != COUNTS:
            continue  # the true counts are of people, not the sums' values
        true = (system.grids[g].table.counts or {}).get(key)
        if true is not None and true < policy.threshold and level > 0:
            down, up = max(true - level, 0.0), true + level
            if low > down + TOLERANCE or high < up - TOLERANCE:
                return True
    return False


def _cell(grid: _Grid, key: Key) -> str:
    return cell_words(key, grid.table.dims).replace(f"={ALL}", "=(all)")


def _names(system: _System, grids: list[int]) -> str:
    names = [system.grids[g].name for g in grids]
    if len(names) > MAX_MESSAGES:
        names = [*names[:MAX_MESSAGES], f"{len(names) - MAX_MESSAGES} more"]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _hidden_where(exposure: Exposure, system: _System) -> tuple[int, Key]:
    """The first table that suppressed the cell, and the cell's key there."""
    hiding = [(g, k) for g, k in exposure.holders if system.grids[g].table.cells.get(k, 0) is None]
    return hiding[0] if hiding else exposure.holders[0]


def _kind(exposure: Exposure, system: _System) -> str:
    if exposure.high - exposure.low > 0:
        return "narrowed"
    published = any(system.grids[g].table.cells.get(k) is not None for g, k in exposure.holders)
    return "published" if published else "recomputed"


def _explain(exposure: Exposure, system: _System, policy: Policy) -> str:
    """One exposed cell, in a sentence."""
    g, key = _hidden_where(exposure, system)
    where = f"the cell {_cell(system.grids[g], key)} that {system.grids[g].name} suppressed"
    together = _names(system, exposure.tables)
    kind = _kind(exposure, system)
    if kind == "published":
        publishing = {h for h, k in exposure.holders if system.grids[h].table.cells.get(k)}
        return (
            f"{where} is published as {exposure.low:g} in {_names(system, sorted(publishing))}: "
            "the same cell of the same population"
        )
    if kind == "recomputed":
        return (
            f"{where} is recomputed exactly as {exposure.low:g} from the cells and margins of "
            f"{together} together: their rows, columns and totals add up to it"
        )
    return (
        f"{where} is narrowed to between {exposure.low:g} and {exposure.high:g} by the cells "
        f"and margins of {together} together: closer than the policy's protection level of "
        f"{policy.protection_level:g} either side of its true count"
    )


def _summary(exposures: list[Exposure], system: _System, policy: Policy) -> str:
    """The exposed cells in a few sentences, one per set of tables and way of exposure."""
    groups: dict[tuple[str, tuple[int, ...]], list[Exposure]] = defaultdict(list)
    for exposure in exposures:
        kind = _kind(exposure, system)
        tables = () if kind == "published" else tuple(exposure.tables)
        groups[(kind, tables)].append(exposure)
    said = []
    for (kind, tables), found in groups.items():
        by_table: dict[int, list[str]] = defaultdict(list)
        for exposure in found[:MAX_MESSAGES]:
            g, key = _hidden_where(exposure, system)
            cell = _cell(system.grids[g], key)
            if kind == "narrowed":
                by_table[g].append(f"{cell} (between {exposure.low:g} and {exposure.high:g})")
            elif kind == "published":
                where = {h for h, k in exposure.holders if system.grids[h].table.cells.get(k)}
                by_table[g].append(f"{cell} ({exposure.low:g} in {_names(system, sorted(where))})")
            else:
                by_table[g].append(f"{cell} ({exposure.low:g})")
        more = f" (and {len(found) - MAX_MESSAGES} more)" if len(found) > MAX_MESSAGES else ""
        listed = (
            "; ".join(f"in {system.grids[g].name}, " + ", ".join(c) for g, c in by_table.items())
            + more
        )
        n = len(found)
        if kind == "published":
            said.append(
                f"{n} suppressed cell{'s are' if n > 1 else ' is'} published in another table "
                f"of the same population: {listed}"
            )
        elif kind == "recomputed":
            said.append(
                f"read together, {_names(system, list(tables))} recompute {n} suppressed "
                f"cell{'s' if n > 1 else ''} exactly from their rows, columns and totals: "
                f"{listed}"
            )
        else:
            said.append(
                f"read together, {_names(system, list(tables))} narrow {n} suppressed "
                f"cell{'s' if n > 1 else ''} to closer than the policy's protection level of "
                f"{policy.protection_level:g} either side of its true count: {listed}"
            )
    return ". ".join(said)


def _left_out(grid: _Grid) -> str | None:
    """Why GRID cannot enter the joint audit (in words), or None when it can."""
    table = grid.table
    if table.problem:
        return table.problem
    if len(table.dims) > MAX_DIMENSIONS:
        return (
            f"{len(table.dims)} dimensions, more than the {MAX_DIMENSIONS} the airlock matches "
            "by content"
        )
    if len(grid.keys) > MAX_JOINT_CELLS:
        return f"{len(grid.keys):,} cells and margins, more than {MAX_JOINT_CELLS:,}"
    return None


def _not_additive(table: Table) -> Check:
    """The check of a requested table whose cells do not add up (means, medians, shares…)."""
    if table.statistic is not None:
        return Check(
            NAME,
            CheckOutcome.PASS,
            f"the airlock's own replay made it ({table.statistic}): values that do not add up "
            "to totals are not audited jointly; differencing compares the counts behind a "
            "table of means",
        )
    if table.kind == "describe":
        return Check(
            NAME,
            CheckOutcome.PASS,
            "a describe table (summaries of variables, not the cells of a table): not audited "
            "jointly; differencing compares it with the project's other describe tables",
        )
    return Check(
        NAME,
        CheckOutcome.REVIEW,
        "its values are not all whole counts and the airlock did not make them itself, so it "
        "cannot tell whether they add up (counts or sums) or not (means, shares): not audited "
        "jointly; check by hand whether a suppressed cell of this or another table can be "
        "recomputed from its counts or sums with the project's other tables",
    )


def _too_many(cells: int, hidden: int, tables: int) -> str:
    return (
        f"not audited jointly: too many cells (at least {cells:,} cells, {hidden:,} suppressed, "
        f"in {tables} tables of counts joined by their cells; the joint audit takes at most "
        f"{MAX_JOINT_CELLS:,} cells, {MAX_JOINT_SUPPRESSED:,} suppressed and "
        f"{MAX_JOINT_TABLES} tables): check by hand whether a suppressed cell can be recomputed "
        "from this table with the project's others"
    )


def _new(
    exposures: list[Exposure],
    system: _System,
    ours: int,
    links: dict[GridPair, Link],
    policy: Policy,
    sums: dict[GridPair, Sums],
) -> list[Exposure]:
    """The EXPOSURES of SYSTEM (whose first OURS grids are the request's) that the other tables
    do not expose without the request's: a cell they publish, recompute, or that a released
    table's cells add up to (a margin it leaves out) is public already, no new disclosure."""
    before = _system(
        system.grids[ours:],
        {(a - ours, b - ours): c for (a, b), c in links.items() if min(a, b) >= ours},
        {(a - ours, b - ours): c for (a, b), c in sums.items() if min(a, b) >= ours},
    )
    place = {(g, k): i for i, (g, k) in enumerate(before.owner)}
    implicit = {
        place[(g - ours, k)]
        for e in exposures
        for g, k in e.holders
        if g >= ours and k not in system.grids[g].table.cells
    }
    already, _ = _exposures(before, policy, implicit)
    public = {(before.grids[g].name, k) for e in already for g, k in e.holders}
    public |= {
        (before.grids[g].name, k)
        for g, k in before.owner
        if before.grids[g].table.cells.get(k) is not None and before.grids[g].base == 1
    }
    return [
        e for e in exposures if not any((system.grids[g].name, k) in public for g, k in e.holders)
    ]


def _if_linked(
    grids: list[_Grid], found: _Found, ours: int, policy: Policy
) -> list[tuple[int, str]]:
    """The request's grids (by number, below OURS) that a pair of FOUND's tables agreeing on
    too few cells to tell they are one population (:attr:`_Found.weak`) would, if they are,
    expose a new cell with; each with why (the checkers judge)."""
    if not found.weak:
        return []
    chosen = list(found.chosen)
    chosen += [g for g in dict.fromkeys(g for pair in found.weak for g in pair) if g not in chosen]
    joined = [grids[g] for g in chosen]
    cells, hidden = sum(len(g.keys) for g in joined), sum(g.suppressed for g in joined)
    pairs = " and ".join(
        f"{grids[a].name} with {grids[b].name}" for a, b in list(found.weak)[:MAX_MESSAGES]
    )
    if len(joined) > MAX_JOINT_TABLES or cells > MAX_JOINT_CELLS or hidden > MAX_JOINT_SUPPRESSED:
        why = (
            f"{pairs} may be the same people (they agree on too few cells to tell), but audited "
            f"together the tables are too many ({cells:,} cells, {hidden:,} suppressed, "
            f"{len(joined)} tables; at most {MAX_JOINT_CELLS:,}, {MAX_JOINT_SUPPRESSED:,} and "
            f"{MAX_JOINT_TABLES}): check by hand whether a suppressed cell can be recomputed "
            "from them together"
        )
        return [(g, why) for g in range(ours)]
    index = {g: k for k, g in enumerate(chosen)}
    links = {**found.links, **{pair: link for pair, (link, _) in found.weak.items()}}
    local = {(index[a], index[b]): c for (a, b), c in links.items()}
    sums = {(index[a], index[b]): c for (a, b), c in found.sums.items()}
    system = _system(joined, local, sums)
    exposures, _ = _exposures(system, policy)
    exposures = _new(exposures, system, ours, local, policy, sums)
    said = []
    for a, b in found.weak:
        weak = {index[a], index[b]}
        mine = [e for e in exposures if weak <= {g for g, _ in e.holders} | set(e.tables)]
        if not mine:
            continue
        agreeing = found.weak[(a, b)][1]
        listed = ", ".join(
            f"{_cell(system.grids[g], k)} ({e.low:g})"
            for e in mine[:MAX_MESSAGES]
            for g, k in [_hidden_where(e, system)]
        )
        why = (
            f"{grids[a].name} and {grids[b].name} agree on only {agreeing} published "
            f"cell{'s' if agreeing > 1 else ''} (fewer than {MIN_LINKED}: too few to tell they "
            "are the same people); if they are, read together they expose the suppressed cells "
            f"{listed}: check by hand"
        )
        involved = {g for e in mine for g, _ in e.holders} | {g for e in mine for g in e.tables}
        said += [(g, why) for g in sorted(involved) if g < ours]
    return said


def _sorted(
    tables: list[tuple[str, Table]], policy: Policy
) -> tuple[list[_Grid], list[tuple[_Grid, str]]]:
    """The TABLES that add up (:func:`family`, or whose reading is untrusted) as grids: those
    the joint audit takes, and those it leaves out, each with why (:func:`_left_out`)."""
    taken: list[_Grid] = []
    left: list[tuple[_Grid, str]] = []
    for name, table in tables:
        if family(table) is None and not table.problem:
            continue
        grid = _grid(name, table, policy)
        why = _left_out(grid)
        if why is None:
            taken.append(grid)
        else:
            left.append((grid, why))
    return taken, left


def joint_audit(
    requested: list[tuple[str, Table]], others: list[tuple[str, Table]], policy: Policy
) -> dict[str, Check]:
    """The joint audit of the REQUESTED tables (name, table) with the project's OTHER tables
    (released and in flight): a check per requested table, by name (review when it cannot be
    audited, saying why)."""
    checks: dict[str, Check] = {}
    mine, left_mine = _sorted(requested, policy)
    for grid, why in left_mine:
        checks[grid.name] = Check(
            NAME,
            CheckOutcome.REVIEW,
            f"not audited jointly: {why}; check by hand whether a suppressed cell can be "
            "recomputed from this table with the project's others",
        )
    for name, table in requested:
        if family(table) is None and not table.problem:
            checks[name] = _not_additive(table)
    if not mine:
        return checks
    audited, left_out = _sorted(others, policy)
    grids = mine + audited
    found = _linked(grids, len(mine))
    chosen, links = found.chosen, found.links
    joined = [grids[g] for g in chosen]
    if found.over:
        cells = sum(len(g.keys) for g in joined)
        message = _too_many(cells, sum(g.suppressed for g in joined), len(joined))
        return checks | {g.name: Check(NAME, CheckOutcome.REVIEW, message) for g in mine}
    index = {g: k for k, g in enumerate(chosen)}
    local = {(index[a], index[b]): cells for (a, b), cells in links.items()}
    sums = {(index[a], index[b]): added for (a, b), added in found.sums.items()}
    system = _system(joined, local, sums)
    exposures, contradictions = _exposures(system, policy)
    ours = len(mine)
    if exposures and len(joined) > ours:
        exposures = _new(exposures, system, ours, local, policy, sums)
    flags: dict[int, list[str]] = defaultdict(list)
    exposed: dict[int, list[Exposure]] = defaultdict(list)
    marked: dict[int, list[list[Any]]] = defaultdict(list)  # cells for the checkers' page
    for exposure in exposures:
        message = _explain(exposure, system, policy)
        involved = {g for g, _ in exposure.holders} | set(exposure.tables)
        for g in sorted(g for g in involved if g < ours):
            flags[g].append(message)
            exposed[g].append(exposure)
        for g, key in exposure.holders:
            if g < ours and len(key) == 2 and system.grids[g].table.cells.get(key, 0) is None:
                marked[g].append([key[0], key[1], exposure.low])
    unsure: dict[int, list[str]] = defaultdict(list)
    for group, why in contradictions:
        for g in sorted(g for g in group if g < ours):
            unsure[g].append(f"the published values of {_names(system, group)} {why}")
    # a table the audit leaves out that shares labels with one it audits may link to it
    shared = {label for j in chosen for label in grids[j].labels}
    for g in range(len(mine)):
        for other, why in left_out:
            if other.labels & shared:
                unsure[g].append(
                    f"{other.name} shares labels with the tables audited jointly with it but is "
                    f"left out of the audit ({why}): check by hand whether a suppressed cell "
                    "can be recomputed from them together"
                )
    for g, why in _problems(found, len(mine)) + _if_linked(grids, found, len(mine), policy):
        unsure[g].append(why)
    for g, grid in enumerate(mine):
        if flags[g]:
            said = flags[g]
            checks[grid.name] = Check(
                NAME,
                CheckOutcome.FAIL,
                _summary(exposed[g], system, policy),
                {
                    "flags": [{"outcome": "fail", "explanation": m} for m in said],
                    "cells": marked[g],
                },
            )
        elif unsure[g]:
            checks[grid.name] = Check(NAME, CheckOutcome.REVIEW, "; ".join(unsure[g]))
        elif len(joined) == 1:
            checks[grid.name] = Check(
                NAME,
                CheckOutcome.PASS,
                "no released, in-flight or other requested table of counts shares cells with "
                "it: audited alone, no suppressed cell can be recomputed from its cells and "
                "margins",
            )
        else:
            checks[grid.name] = Check(
                NAME,
                CheckOutcome.PASS,
                f"audited jointly with the {len(joined) - 1} other tables of counts (released, "
                "in flight or in this request) that share cells with it or with each other: no "
                "suppressed cell can be recomputed from their cells and margins together",
            )
    return checks
