"""Counts given back by sums: tables of sums that together give a table's exact counts.

An analyst who publishes the sums of a variable she made, cost + 1, beside the sums of cost
(each an ordinary table whose counts are rounded) publishes their difference too: each cell's
exact count. So do (cost + 1)², cost² and cost together, or the means of two such variables
(sdc publishes a mean of exact sums as the sum over the rounded count, so a mean times that
count is the sum again). Count rounding protects a table of counts; it cannot protect counts
that a combination of exact sums equals.

:func:`derived_counts` looks for that combination among the tables of a request, the project's
released tables and its requests in flight: for each table whose true counts the airlock's own
replay computed, it asks whether those counts, over the cells the tables share (matched by
their labels, as :mod:`output_checks.ledger` matches them, never by the dimensions' names), are
a linear combination of the exact sums published for the same cells, with more cells than the
combination has free choices (so that a fit is no accident of too few cells) and to within the
precision the files carry. Such a fit is what the attacker computes: she knows the combination,
because she made the variables. A fit that needs a requested table fails that table; a fit the
other tables give already is no new disclosure and is not blamed on the request.

Left out: sums the replay rounded (:attr:`Table.step`: rounding to a count's worth is what
protects them), tables the replay did not make (their cells are only what the file says: a sum
or a mean cannot be told from decimals), means whose counts the airlock does not hold, and
combinations with rounded counts or non-linear ones (a ratio of two means). When the policy
publishes exact counts (``rounding_base`` 1) nothing is given back that the tables do not show.
"""

from __future__ import annotations

import functools

import numpy as np

from output_checks.checks import Check, CheckOutcome
from output_checks.tables import Key, Table, normal_label
from sdc.policy import Policy
from sdc.tables.rounding import round_to_base

NAME = "counts from sums"
# a fit is a combination whose count values are within this fraction of the sums' own scale
# (files carry sums in full precision; a sum of floats is off by about 1e-13 of itself)
RELATIVE = 1e-8
# at most this many tables of sums are combined for one table's counts (the most overlapping)
MAX_COLUMNS = 24
MARGIN = "\x00margin"  # any table's margin label ("All", "Total"…), matched as one

Column = dict[tuple[str, ...], float]


def _place(table: Table, key: Key) -> tuple[str, ...]:
    """A cell's labels as tables are matched: normalised, in no order of dimensions."""
    return tuple(sorted(MARGIN if k == table.margin else _normal(k) for k in key))


_normal = functools.lru_cache(maxsize=65536)(normal_label)


def _sums(table: Table, policy: Policy) -> Column | None:
    """What TABLE publishes as exact sums by cell, or None: the replay's sums, or its means
    times the cells' rounded counts (the published sum behind each mean)."""
    if table.problem or table.step is not None:
        return None
    if table.statistic == "sum":
        return {_place(table, k): v for k, v in table.cells.items() if v is not None}
    if table.statistic == "mean" and table.counts:
        return {
            _place(table, k): v
            * float(round_to_base(np.array([table.counts[k]]), policy.rounding_base)[0])
            for k, v in table.cells.items()
            if v is not None and k in table.counts
        }
    return None


def _fit(counts: Column, columns: list[Column]) -> tuple[list[tuple[str, ...]], np.ndarray] | None:
    """The cells and the combination of COLUMNS that gives COUNTS exactly, on more cells than
    the combination's rank, or None."""
    places = [p for p in counts if all(p in c for c in columns)]
    if not columns or not places:
        return None
    sums = np.array([[c[p] for c in columns] for p in places])
    target = np.array([counts[p] for p in places])
    weights, _, rank, _ = np.linalg.lstsq(sums, target, rcond=None)
    if len(places) < rank + 2 or not target.any():
        return None
    scale = np.abs(sums) @ np.abs(weights) + 1.0
    if np.all(np.abs(sums @ weights - target) <= RELATIVE * scale):
        return places, weights
    return None


def _words(place: tuple[str, ...], count: float) -> str:
    labels = ", ".join("total" if p == MARGIN else p for p in place) or "total"
    return f"{labels} ({count:.0f})"


def _overlap(a: frozenset, b: frozenset, known: dict[tuple[frozenset, frozenset], int]) -> int:
    """How many cells layouts A and B share (KNOWN: the pairs counted already)."""
    if (a, b) not in known:
        known[a, b] = len(a & b)
    return known[a, b]


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def derived_counts(
    requested: list[tuple[str, Table]], others: list[tuple[str, Table]], policy: Policy
) -> dict[str, Check]:
    """A check for each REQUESTED table that publishes sums or means the airlock made (name,
    table), with the project's OTHER tables (released, in flight): fail where a combination of
    exact sums that needs it gives a table's exact counts (see the module's documentation)."""
    ours = {name: _sums(table, policy) for name, table in requested}
    theirs = {name: _sums(table, policy) for name, table in others}
    checks: dict[str, Check] = {}
    if policy.rounding_base <= 1:
        for name, column in ours.items():
            if column is not None:
                checks[name] = Check(
                    NAME,
                    CheckOutcome.PASS,
                    "counts are published exactly under this project's policy: no sum gives "
                    "back a count it hides",
                )
        return checks
    # what each combination gives back: its tables and weights, and the tables whose counts it is
    fits: dict[tuple[tuple[str, float], ...], list[tuple[str, list[tuple[str, ...]], Column]]] = {}
    columns = [(n, c) for n, c in list(ours.items()) + list(theirs.items()) if c is not None]
    # each table's cells, and how many a table's counts share with them (tables of one layout
    # share the answer)
    interned: dict[frozenset, frozenset] = {}  # one object per layout: its pairs found at once
    layouts = {n: interned.setdefault(frozenset(c), frozenset(c)) for n, c in columns}
    overlaps: dict[tuple[frozenset, frozenset], int] = {}
    seen: dict[frozenset, tuple] = {}  # counts already tried (tables of one population)
    for target_name, table in requested + others:
        if not table.counts:
            continue
        counts = {_place(table, k): float(v) for k, v in table.counts.items()}
        layout = interned.setdefault(frozenset(counts), frozenset(counts))

        if not any(_overlap(layout, layouts[n], overlaps) >= 3 for n in ours if n in layouts):
            continue  # no requested sums over its cells: nothing new about it here
        same = frozenset(counts.items())
        if same in seen:
            if seen[same]:
                fits[seen[same]].append((target_name, *fits[seen[same]][0][1:]))
            continue
        seen[same] = ()
        # the tables of sums sharing the most cells with it
        shared = [(_overlap(layout, layouts[n], overlaps), n, c) for n, c in columns]
        shared.sort(key=lambda snc: -snc[0])
        named = [(n, c) for k, n, c in shared[:MAX_COLUMNS] if k >= 3]
        fit = _fit(counts, [c for _, c in named])
        if fit is None or not any(n in ours for n, _ in named):
            continue
        if _fit(counts, [c for n, c in named if n not in ours]) is not None:
            continue  # the other tables give them back already: no new disclosure
        places, weights = fit
        used = tuple(
            (n, float(w)) for (n, _), w in zip(named, weights, strict=True) if abs(w) > RELATIVE
        )
        fits.setdefault(used, []).append((target_name, places, counts))
        seen[same] = used
    found: dict[str, list[str]] = {}
    for used, targets in fits.items():
        _, places, counts = targets[0]
        cells = sorted(places, key=lambda p: counts[p])[:3]
        message = (
            f"the sums of {_and([f'{n} × {w:.6g}' for n, w in used])} add up to the exact count "
            f"of every cell of {_and([t for t, _, _ in targets])}, which the policy rounds to "
            f"{policy.rounding_base} ({len(places)} cells, e.g. "
            f"{'; '.join(_words(p, counts[p]) for p in cells)}): sums of variables derived "
            "from one another (cost + 1 beside cost, a square beside its variable) differ by "
            "the count. Publish only one of them"
        )
        for name, _ in used:
            if name in ours:
                found.setdefault(name, []).append(message)
    for name, column in ours.items():
        if name in found:
            checks[name] = Check(NAME, CheckOutcome.FAIL, "; ".join(found[name]))
        elif column is not None:
            checks[name] = Check(
                NAME,
                CheckOutcome.PASS,
                "no combination of the project's exact sums with this table's gives back a "
                "table's exact counts",
            )
    return checks
