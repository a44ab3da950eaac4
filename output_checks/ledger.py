"""The release ledger and the differencing checks, by content.

Every requested table enters the project's ledger when it is released: the cells the airlock
read from its own verified copy of the file (:mod:`output_checks.tables`), whether the table was
made with ``sdc.safe`` or by hand. A new table is compared with every released table and with
every table in flight (the other files of its request, and the files of the project's other
requests that were submitted and are not yet released, rejected or withdrawn).

Nothing the analyst chose is trusted for matching: not the order of rows and columns, not the
dimensions' names, not the labels. Each table is seen as *views*: its inner cells, and each of
its margins (a 2-D table's row totals are a 1-D view, its grand total a 0-D one). Two views of
the same number of dimensions are aligned: every way of pairing their dimensions is tried, a
category is matched by its label where both tables use it, and otherwise by its population (the
categories left over on both sides are paired in order of size). Then, cell by cell:

1. **a small group recovered by subtraction**: two matched cells whose difference is a group of
   fewer than the threshold, when the two populations can be nested (every cell of one table is
   at least its match in the other), or are mostly the same people (two thirds of the cells
   equal: a group removed in one cell and padded elsewhere), or the same total cut into bands
   at other boundaries (bands matched by population whose intervals overlap). The outcome is
   *fail*, or *review* when the categories were matched by population (a checker judges whether
   one group contains the other) or the cells are the counts behind a table of means;
2. **rounding defeated**: the same counts published at two rounding bases (5 and 7): together
   they narrow each count more than either base allows;
3. **a total that reveals a suppressed cell**: one table suppressed a cell whose row's other
   cells it published, and the other publishes that row's total (and agrees with its complete
   rows);
4. **describe over nested populations**: the same summary (means and spreads within a quarter
   of a standard deviation) over counts that differ by fewer than the threshold (everyone, and
   everyone but one): count × mean of one minus the other's is the small group's own values.
   *Fail* when the airlock knows the true counts, else *review* (published counts are rounded).

What keeps harmless pairs clean: populations that cannot be nested (two yearly cohorts: some
cells up, some down); two margins of tables cut by other categories count as related only when
mostly equal, never merely nested (two studies filtering the same data a little apart); when
two tables' cells, matched by name, show other people, their margins are not taken as nested
either (a margin of a few cells looks nested by chance); groups moved between bands that are
all at or above the threshold; two classifications of the same people (sex and outcome) that
have equal totals but are not bands.

What a file does not publish cannot be compared: a group hidden by rounding (102 and 99 both
published as 100) is seen only with true counts, which the caller passes only when the airlock
computed them itself (never from a sidecar).

The ledger is indexed by each view's *signature* (its number of dimensions, the size of each,
and its labels): a view is aligned only with views whose every dimension shares at least half
of its labels with one of theirs, or that have the same sizes, so the cost grows with the tables
that could match, not with the ledger.
"""

from __future__ import annotations

import csv
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import combinations, permutations
from pathlib import PurePath
from typing import Any

from sqlalchemy.orm import Session

from output_checks import data
from output_checks.checks import ALLOWED, Check, CheckOutcome
from output_checks.tables import Key, Table, normal_label, parse_table
from sdc.policy import Policy

MAX_MESSAGES = 5
MIN_VERDICT = 6  # cells matched by name needed to call two populations unrelated
# align tries every pairing of two views' dimensions (k! of them): a table of more dimensions
# is not matched by content (its checks say so, for a checker)
MAX_ALIGN_DIMENSIONS = 4


def read_table(content: bytes, suffix: str, evidence: dict[str, Any] | None = None) -> Table | None:
    """The table the airlock reads in a file it holds (None: not a table). EVIDENCE only when
    the airlock computed it itself (see :func:`output_checks.tables.parse_table`). Only the
    types that may leave the airlock are read (an XLSX workbook is not yet one of them)."""
    if suffix.lower() not in ALLOWED:
        return None
    try:
        return parse_table(content, suffix, evidence)
    except (ValueError, csv.Error):  # an XLSX the airlock refuses, a CSV it cannot read: its
        # own checks say why
        return None


def ledger_entry(
    content: bytes, suffix: str, evidence: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """What the ledger keeps of a released file: the table read from the airlock's verified
    copy (never from a sidecar; EVIDENCE only when the airlock's replay computed it), or None
    when the file is not a table."""
    table = read_table(content, suffix, evidence)
    return None if table is None else table.to_json()


def from_entry(stored: dict[str, Any]) -> Table:
    """A ledger row's table (either format the ledger has written)."""
    return Table.from_json(stored)


# ---------------------------------------------------------------------------------------------
# Views: the inner cells and every margin of a table


@dataclass
class View:
    """Cells of a table over some of its dimensions: its inner cells, or one of its margins."""

    names: list[str]  # the dimensions' names in the file, for explanations
    cells: dict[Key, float | None]
    counts: dict[Key, float]
    what: str  # "cells" or "the margin over …"
    base: int = 1  # the rounding base of the table's published counts
    means: str = ""  # not empty: the cells are the true counts behind a table of values
    labels: list[dict[str, str]] = field(default_factory=list)  # per dim: normalised → label
    sizes: list[dict[str, float]] = field(default_factory=list)  # per dim: population of label

    def __post_init__(self) -> None:
        self.hidden = sum(1 for v in self.cells.values() if v is None)
        k = len(self.names)
        self.sizes = [defaultdict(float) for _ in range(k)]
        for key, value in self.cells.items():
            for i, label in enumerate(key):
                self.sizes[i][label] += value or 0.0
        self.labels = [{normal_label(label): label for label in sizes} for sizes in self.sizes]

    @property
    def signature(self) -> tuple[int, ...]:
        return tuple(sorted(len(d) for d in self.labels))


def views(table: Table) -> list[View]:
    """The table's inner cells and each of its margins (from the margin cells it publishes, or
    summed from its cells when it publishes every cell unrounded and no margin)."""
    means = ""
    if table.kind == "values" and table.counts:
        # a table of means or sums is compared by the true counts behind it, when the airlock
        # computed them itself: nested populations a few people apart reveal that small group's
        # total (count × mean of one minus the other's)
        table = Table(
            table.dims,
            {k: table.counts.get(k) if v is not None else None for k, v in table.cells.items()},
            table.margin,
            "counts",
            table.counts,
        )
        means = "the counts behind its values"
    elif table.kind != "counts":
        return []
    n = len(table.dims)
    counts = table.counts or {}
    inner = table.inner()
    base = table.base
    found = [
        View(
            list(table.dims),
            inner,
            {k: counts[k] for k in inner if k in counts},
            means or "cells",
            base,
            means,
        )
    ]
    for size in range(n - 1, 0, -1):
        for kept in combinations(range(n), size):
            cells: dict[Key, float | None] = {}
            kept_counts: dict[Key, float] = {}
            if table.margin is not None:
                for key, value in table.cells.items():
                    if all((key[i] == table.margin) != (i in kept) for i in range(n)):
                        short = tuple(key[i] for i in kept)
                        cells[short] = value
                        if key in counts:
                            kept_counts[short] = counts[key]
            elif table.base == 1 and all(v is not None for v in inner.values()):
                for key, value in inner.items():
                    short = tuple(key[i] for i in kept)
                    cells[short] = (cells.get(short) or 0.0) + (value or 0.0)
            if len(cells) >= 2:
                names = [table.dims[i] for i in kept]
                what = "the margin over " + " × ".join(names) + (f" ({means})" if means else "")
                found.append(View(names, cells, kept_counts, what, base, means))
    return found


def grand_total(table: Table) -> float | None:
    """The table's published grand total (its all-margin cell, or the sum of every cell)."""
    if table.margin is not None:
        total = table.cells.get(tuple(table.margin for _ in table.dims))
        if total is not None:
            return total
    inner = table.inner()
    if table.kind == "counts" and inner and all(v is not None for v in inner.values()):
        return sum(v for v in inner.values() if v is not None)
    return None


# ---------------------------------------------------------------------------------------------
# Aligning two views


@dataclass(slots=True)
class Pair:
    """Two matched cells: here (the new table) and there (the other)."""

    here: Key
    there: Key
    a: float | None
    b: float | None
    count_a: float | None
    count_b: float | None
    by_population: bool  # a label was matched by its population, not by its name


def _matchable(a: dict[str, str], b: dict[str, str]) -> bool:
    """Can two dimensions be the same (their categories matched)? When they share at least
    half of the labels of either (next year's table with one new area), or have as many
    categories (relabelled: matched by population)."""
    shared = len(a.keys() & b.keys())
    return len(a) == len(b) or shared > 0 and 2 * shared >= max(len(a), len(b))


def _align_labels(
    mine: View, i: int, theirs: View, j: int
) -> tuple[dict[str, str], set[str]] | None:
    """Map labels of MINE's dim I to THEIRS' dim J: by name, then the leftovers by population
    (when as many are left on both sides). Returns the map and the labels matched by size."""
    names_a, names_b = mine.labels[i], theirs.labels[j]
    if not _matchable(names_a, names_b):
        return None
    mapping = {names_a[k]: names_b[k] for k in names_a.keys() & names_b.keys()}
    left_a = [names_a[k] for k in names_a.keys() - names_b.keys()]
    left_b = [names_b[k] for k in names_b.keys() - names_a.keys()]
    guessed: set[str] = set()
    if left_a and len(left_a) == len(left_b):
        left_a.sort(key=lambda label: (mine.sizes[i].get(label, 0.0), label))
        left_b.sort(key=lambda label: (theirs.sizes[j].get(label, 0.0), label))
        for a, b in zip(left_a, left_b, strict=True):
            mapping[a] = b
            guessed.add(a)
    if not mapping or len(guessed) == len(mapping) and len(mapping) < 2:
        return None
    return mapping, guessed


def align(mine: View, theirs: View) -> list[Pair]:
    """The best matching of MINE's cells to THEIRS' (most cells matched, fewest matched by
    population, smallest differences); empty when they cannot be matched. Views of more than
    :data:`MAX_ALIGN_DIMENSIONS` dimensions are never aligned (callers refuse them first)."""
    k = len(mine.names)
    if k > MAX_ALIGN_DIMENSIONS:
        raise ValueError(f"views of {k} dimensions are not aligned: at most {MAX_ALIGN_DIMENSIONS}")
    best: tuple[tuple[float, ...], list[Pair]] = ((0.0,), [])
    theirs_cells, mine_counts, theirs_counts = theirs.cells, mine.counts, theirs.counts
    for order in permutations(range(k)):
        maps = [_align_labels(mine, i, theirs, order[i]) for i in range(k)]
        if any(m is None for m in maps):
            continue
        mappings = [m[0] for m in maps if m is not None]
        guesses = [m[1] for m in maps if m is not None]
        place = [order.index(j) for j in range(k)]  # theirs' dim j is mine's dim place[j]
        guessing = any(guesses)
        pairs = []
        for key, a in mine.cells.items():
            try:
                mapped = [mappings[i][label] for i, label in enumerate(key)]
            except KeyError:
                continue
            there = tuple(mapped[place[j]] for j in range(k))
            if there not in theirs_cells:
                continue
            guessed = guessing and any(label in guesses[i] for i, label in enumerate(key))
            pairs.append(
                Pair(
                    key,
                    there,
                    a,
                    theirs_cells[there],
                    mine_counts.get(key),
                    theirs_counts.get(there),
                    guessed,
                )
            )
        if not pairs:
            continue
        guessed_pairs = sum(p.by_population for p in pairs)
        spread = sum(abs(p.a - p.b) for p in pairs if p.a is not None and p.b is not None)
        score = (float(len(pairs)), -float(guessed_pairs), -spread)
        if score > best[0]:
            best = (score, pairs)
    return best[1]


# ---------------------------------------------------------------------------------------------
# The ledger, indexed by signature


@dataclass
class Known:
    """A released or in-flight table, with its views."""

    name: str
    table: Table
    views: list[View]
    total: float | None


class Ledger:
    """The tables a new table is compared with, indexed so that each of its views meets only
    the views it could match: views sharing a label on every dimension, or of the same sizes."""

    def __init__(self, tables: Iterable[tuple[str, Table]] = ()) -> None:
        self.known: list[Known] = []
        self._by_label: dict[tuple[int, str], set[tuple[int, int]]] = defaultdict(set)
        self._by_sizes: dict[tuple[int, ...], set[tuple[int, int]]] = defaultdict(set)
        for name, table in tables:
            self.add(name, table)

    def __len__(self) -> int:
        return len(self.known)

    def add(self, name: str, table: Table) -> None:
        index = len(self.known)
        known = Known(name, table, views(table), grand_total(table))
        self.known.append(known)
        for v, view in enumerate(known.views):
            self._by_sizes[view.signature].add((index, v))
            for labels in view.labels:
                for label in labels:
                    self._by_label[(len(view.names), label)].add((index, v))

    def candidates(self, view: View, dims: int | None = None) -> set[tuple[int, int]]:
        """(table, view) indexes of the views of DIMS dimensions (VIEW's own by default) that
        VIEW could be matched with: sharing a label, or (same dimensions) of the same sizes."""
        k = len(view.names) if dims is None else dims
        found = set(self._by_sizes.get(view.signature, set())) if k == len(view.names) else set()
        for labels in view.labels:
            for label in labels:
                found |= self._by_label.get((k, label), set())
        if k != len(view.names):
            return found
        # every dimension must be matchable with one of the other view's
        return {
            (t, v)
            for t, v in found
            if all(
                any(_matchable(mine, theirs) for theirs in self.known[t].views[v].labels)
                for mine in view.labels
            )
        }


# ---------------------------------------------------------------------------------------------
# The checks


@dataclass
class Flag:
    outcome: CheckOutcome
    message: str


def cell_words(key: Key, names: list[str]) -> str:
    return ", ".join(f"{n}={v}" for n, v in zip(names, key, strict=True)) or "the total"


def _gap(pair: Pair, exact: bool) -> float | None:
    """The difference here − there: of the true counts when EXACT (known for every cell),
    else of the published values."""
    if exact and pair.count_a is not None and pair.count_b is not None:
        return pair.count_a - pair.count_b
    if pair.a is None or pair.b is None:
        return None
    return pair.a - pair.b


def _compare_cells(
    mine: View,
    theirs: View,
    pairs: list[Pair],
    name: str,
    bases: tuple[int, int],
    totals: tuple[float | None, float | None],
    threshold: int,
    nesting: bool = True,
    unrelated: bool = False,
) -> tuple[list[Flag], bool | None]:
    """Rules 1 and 2 on two aligned views; and whether their populations look related (None:
    too few cells matched by name to say)."""
    published = [p for p in pairs if p.a is not None and p.b is not None]
    if len(published) < 2:
        return [], None
    base_a, base_b = bases
    # how far apart two published counts of the same true count can be: nothing at one base
    # (the same count rounds the same way), else half of each base (an unrounded count: none)
    slack = 0.0 if base_a == base_b else sum(b / 2 for b in bases if b > 1)
    exact = all(p.count_a is not None and p.count_b is not None for p in published)
    gaps = [(p, _gap(p, exact) or 0.0) for p in published]
    equal = [p for p, g in gaps if abs(g) <= (0 if exact else slack)]
    differing = [(p, g) for p, g in gaps if abs(g) > (0 if exact else slack)]
    flags: list[Flag] = []
    guessed = any(p.by_population for p in published)
    if (
        base_a != base_b
        and min(bases) >= 2
        and not differing
        and not exact
        and len(published) >= 2
        and not guessed
    ):
        p = published[0]
        assert p.a is not None and p.b is not None
        low = max(p.a - base_a / 2, p.b - base_b / 2)
        high = min(p.a + base_a / 2, p.b + base_b / 2)
        flags.append(
            Flag(
                CheckOutcome.FAIL,
                f"{name} publishes the same counts rounded to base {base_b} where this table "
                f"rounds to base {base_a}: together they narrow each count, e.g. "
                f"{cell_words(p.here, mine.names)} ({p.a:g} here, {p.b:g} there) lies between "
                f"{low:g} and {high:g}; publish every table at the policy's one base",
            )
        )
    if not differing:
        return flags, True
    signs = {g > 0 for _, g in differing}
    nested = len(signs) == 1 and nesting
    mostly_equal = (
        len(equal) >= 2
        and len(equal) * 3 >= len(published) * 2
        and (not unrelated or len(published) >= MIN_VERDICT)
    )
    same_total = (
        totals[0] is not None
        and totals[1] is not None
        and abs(totals[0] - totals[1]) <= (slack if not exact else 0)
        and len(differing) >= 2
        and guessed  # categories cut differently: same labels with new counts are other people
        and _rebanded(published, mine, theirs)
    )
    related = nested or mostly_equal or same_total
    verdict = related if len(published) >= MIN_VERDICT and not guessed else None
    if not related:
        return flags, verdict
    small = [(p, g) for p, g in differing if abs(g) < threshold + (0 if exact else slack)]
    if not small:
        return flags, verdict
    p, g = min(small, key=lambda item: abs(item[1]))
    how = (
        "one population can hold the other (every cell of one is at least its match)"
        if nested
        else "most of their cells are equal (the same people, with a few removed or added)"
        if mostly_equal
        else "their totals are equal (the same people, cut into categories differently)"
    )
    # true counts, or unrounded counts on both sides: the size of the group is exact
    size = f"{abs(g):g}" if exact or max(bases) == 1 else f"about {abs(g):g}"
    weak = guessed or (same_total and not nested and not mostly_equal)
    behind = mine.means or theirs.means
    where = f"{cell_words(p.here, mine.names)} in {mine.what}"
    matched = (
        ""
        if p.here == p.there
        else f" (matched to {cell_words(p.there, theirs.names)} in {name}"
        + (", by its population" if p.by_population else "")
        + ")"
    )
    rest = sorted((item for item in small if item[0] is not p), key=lambda item: abs(item[1]))
    others = "".join(
        f", and {cell_words(q.here, mine.names)} ({q.a:g} here, {q.b:g} there)" for q, _ in rest[:3]
    ) + (f", and {len(rest) - 3} more cells" if len(rest) > 3 else "")
    flags.append(
        Flag(
            CheckOutcome.REVIEW if weak or behind else CheckOutcome.FAIL,
            f"compared with {name}: {where}{matched} differs by {size} "
            f"({p.a:g} here, {p.b:g} there){others}, and {how}: subtracting one from the other "
            f"reveals a group of {size} people, fewer than the threshold of {threshold}"
            + (
                "; the categories were matched by their populations: a checker judges "
                "whether one group contains the other"
                if weak
                else ""
            )
            + (
                "; the values published are means or sums over those people: with their "
                "counts, the small group's total is one table's count × value minus the other's"
                if behind
                else ""
            ),
        )
    )
    return flags, verdict


BAND = re.compile(
    r"^\s*(?:(?P<low>\d+(?:\.\d+)?)\s*(?:-|–|to)\s*(?P<high>\d+(?:\.\d+)?)"
    r"|(?P<over>\d+(?:\.\d+)?)\s*(?:\+|and over|or more)"
    r"|(?:<|under)\s*(?P<under>\d+(?:\.\d+)?))\s*$",
    re.IGNORECASE,
)


def band(label: str) -> tuple[float, float] | None:
    """The interval a band label names ("18-24", "65+", "under 5"), or None."""
    found = BAND.match(label)
    if found is None:
        return None
    if found["low"] is not None:
        return float(found["low"]), float(found["high"])
    if found["over"] is not None:
        return float(found["over"]), math.inf
    return -math.inf, float(found["under"])


def _rebanded(pairs: list[Pair], mine: View, theirs: View) -> bool:
    """Were the categories matched by population bands cut at other boundaries (every label
    matched by population is a band on both sides, and each overlaps its match)? Two different
    classifications of the same people (sex and outcome) also have equal totals: they are not
    a re-banding."""
    checked = False
    for pair in pairs:
        if not pair.by_population:
            continue
        ours = {normal_label(label): label for label in pair.here}
        others = {normal_label(label): label for label in pair.there}
        for here, there in zip(
            sorted(ours.keys() - others.keys()), sorted(others.keys() - ours.keys()), strict=False
        ):
            a, b = band(here), band(there)
            if a is None or b is None or a[0] > b[1] or b[0] > a[1]:
                return False
            checked = True
    return checked


def _recoverable(rows_of: View, totals_of: View, name_rows: str, name_totals: str) -> list[Flag]:
    """Rule 3: a line of ROWS_OF's 2-D cells with one suppressed cell whose total TOTALS_OF
    (a 1-D view) publishes, when TOTALS_OF agrees with ROWS_OF's complete lines."""
    if len(rows_of.names) != 2 or len(totals_of.names) != 1 or not rows_of.hidden:
        return []
    found: list[Flag] = []
    target = totals_of.labels[0]
    for dim in (0, 1):
        lines: dict[str, list[tuple[Key, float | None]]] = defaultdict(list)
        for key, value in rows_of.cells.items():
            lines[key[dim]].append((key, value))
        totals = {
            label: totals_of.cells.get((target[normal_label(label)],))
            for label in lines
            if normal_label(label) in target
        }
        if len(totals) < 2:
            continue
        # the two must describe the same people: every complete line adds up to its total
        # (allowing for rounding: half a base for each cell and for the total)
        complete = [
            (sum(v for _, v in line if v is not None), totals[label], len(line))
            for label, line in lines.items()
            if label in totals and all(v is not None for _, v in line)
        ]
        bound = max(rows_of.base, totals_of.base) / 2
        if not complete or any(t is None or abs(s - t) > bound * (n + 1) for s, t, n in complete):
            continue
        for label, line in lines.items():
            hidden = [key for key, v in line if v is None]
            total = totals.get(label)
            if len(hidden) != 1 or len(line) < 2 or total is None:
                continue
            rest = sum(v for _, v in line if v is not None)
            found.append(
                Flag(
                    CheckOutcome.FAIL,
                    f"{name_rows} suppressed the cell {cell_words(hidden[0], rows_of.names)} but "
                    f"publishes the rest of its row; {name_totals} publishes that row's total "
                    f"({total:g}), so the suppressed cell is about {total - rest:g}: the total "
                    "minus the others",
                )
            )
    return found


def _describe_flags(mine: Table, theirs: Table, name: str, threshold: int) -> list[Flag]:
    """Rule 4: the same summary over counts that differ by fewer than the threshold."""
    flags = []
    base = max(mine.base, theirs.base)
    for (stat, variable), n_a in mine.cells.items():
        if stat != "count" or n_a is None:
            continue
        mean_a, sd_a = mine.cells.get(("mean", variable)), mine.cells.get(("std", variable))
        if mean_a is None:
            continue
        for (stat_b, other), n_b in theirs.cells.items():
            if stat_b != "count" or n_b is None:
                continue
            mean_b, sd_b = theirs.cells.get(("mean", other)), theirs.cells.get(("std", other))
            if mean_b is None or (mean_a == mean_b and n_a == n_b):
                continue
            true_a = (mine.counts or {}).get(("count", variable))
            true_b = (theirs.counts or {}).get(("count", other))
            exact = true_a is not None and true_b is not None
            gap = abs(true_a - true_b) if exact else abs(n_a - n_b)  # type: ignore[operator]
            if exact and not 0 < gap < threshold or not exact and gap >= threshold + base:
                continue
            spread = max(abs(sd_a or 0.0), abs(sd_b or 0.0))
            scale = spread if spread > 0 else 0.2 * max(abs(mean_a), abs(mean_b))
            if abs(mean_a - mean_b) > 0.25 * scale:
                continue  # not the same variable: the summaries are far apart
            if sd_a and sd_b and abs(sd_a - sd_b) > 0.25 * spread:
                continue
            size = f"{gap:g}" if exact else (f"up to {base - 1:g}" if gap == 0 else f"{gap:g}")
            flags.append(
                Flag(
                    CheckOutcome.FAIL if exact else CheckOutcome.REVIEW,
                    f"compared with {name}: the summary of {variable} (count {n_a:g}, mean "
                    f"{mean_a:g}) and of {other} there (count {n_b:g}, mean {mean_b:g}) look "
                    f"like the same variable over populations that differ by {size} people: "
                    "count × mean of one minus the other's is the total of that small group's "
                    "values (one person's value when they differ by one)",
                )
            )
    return flags


def released_tables(session: Session, project_id: str) -> list[tuple[str, Table]]:
    """The project's released tables, as the ledger keeps them, each with its name."""
    return [
        (f"{e.file} (released in {e.request_id})", from_entry(e.table))
        for e in data.ledger_of(session, project_id)
    ]


def tables_in_flight(
    session: Session,
    found: data.ReleaseRequest,
    held: Callable[[data.ReleaseRequest, data.RequestFile], bytes | None],
    trusted: Callable[[data.RequestFile], dict[str, Any] | None],
) -> list[tuple[str, Table]]:
    """The tables of the project's other requests that were submitted and are not yet
    released, rejected or withdrawn, read from the airlock's copies (HELD gives a copy's bytes,
    or None when they are no longer the bytes recorded: such a file can never be released;
    TRUSTED the airlock's own evidence of a file its replay verified, else None)."""
    tables = []
    for other in data.requests_in_flight(session, found):
        for item in other.files:
            if item.withdrawn or item.supporting:
                continue
            content = held(other, item)
            table = (
                None
                if content is None
                else read_table(content, PurePath(item.path).suffix, trusted(item))
            )
            if table is not None:
                tables.append((f"{item.path} (in flight in {other.id})", table))
    return tables


def differencing(
    table: Table,
    others: Ledger | list[tuple[str, Table]],
    policy: Policy,
    exclude: str | None = None,
) -> Check:
    """Compare TABLE (the airlock's reading of a requested file) with every released and
    in-flight table in OTHERS (but the one named EXCLUDE: TABLE itself)."""
    ledger = others if isinstance(others, Ledger) else Ledger(others)
    count = sum(1 for k in ledger.known if k.name != exclude)
    if not count:
        return Check(
            "differencing",
            CheckOutcome.PASS,
            "no table has been released from this project or is in flight",
        )
    threshold = policy.threshold
    if table.problem or len(table.dims) > MAX_ALIGN_DIMENSIONS:
        why = table.problem or (
            f"it has {len(table.dims)} dimensions, more than the {MAX_ALIGN_DIMENSIONS} the "
            "airlock matches by content"
        )
        return Check(
            "differencing",
            CheckOutcome.REVIEW,
            f"not compared by content: {why}; check by hand whether a small group can be "
            "recovered by subtracting it from the project's other tables",
        )
    flags: list[Flag] = []
    if table.kind == "describe":
        for known in ledger.known:
            if known.table.kind == "describe" and known.name != exclude:
                flags += _describe_flags(table, known.table, known.name, threshold)
    else:
        mine = views(table)
        total = grand_total(table)
        seen: set[tuple[int, str]] = set()
        # tables whose cells, matched by name, show other people (a later cohort): their
        # margins are not taken as nested (a margin of few cells can look nested by chance),
        # only as mostly equal
        unrelated: set[int] = set()
        for view in mine:
            k = len(view.names)
            same = sorted(ledger.candidates(view))
            across = sorted(ledger.candidates(view, 3 - k)) if k in (1, 2) else []
            for index, v in same + across:
                known = ledger.known[index]
                if known.name == exclude:
                    continue
                theirs = known.views[v]
                if len(theirs.names) == k:
                    new, verdict = _compare_cells(
                        view,
                        theirs,
                        align(view, theirs),
                        known.name,
                        (table.base, known.table.base),
                        (total, known.total),
                        threshold,
                        # two margins of tables cut by other categories: nesting alone is
                        # no evidence (two studies filtering the same data a little apart)
                        nesting=index not in unrelated and "cells" in (view.what, theirs.what),
                        unrelated=index in unrelated,
                    )
                    if verdict is False and k >= 2:
                        unrelated.add(index)
                elif index not in unrelated:
                    new = _recoverable(view, theirs, "this table", known.name) + _recoverable(
                        theirs, view, known.name, "this table"
                    )
                else:
                    new = []
                for flag in new:
                    if (index, flag.message) not in seen:
                        seen.add((index, flag.message))
                        flags.append(flag)
    if not flags:
        return Check(
            "differencing",
            CheckOutcome.PASS,
            f"compared by content with {count} released or in-flight tables: no small "
            "group can be recovered by subtraction",
        )
    worst = (
        CheckOutcome.FAIL
        if any(f.outcome == CheckOutcome.FAIL for f in flags)
        else CheckOutcome.REVIEW
    )
    ordered = sorted(flags, key=lambda f: f.outcome != CheckOutcome.FAIL)
    return Check(
        "differencing",
        worst,
        "; ".join(f.message for f in ordered[:MAX_MESSAGES])
        + (f" (and {len(flags) - MAX_MESSAGES} more)" if len(flags) > MAX_MESSAGES else ""),
        {"flags": [{"outcome": f.outcome.value, "explanation": f.message} for f in ordered]},
    )
