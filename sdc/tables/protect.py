"""Protect a table under a policy, and re-check a table's evidence without trusting its maker.

:func:`protect` applies the primary rules, chooses secondary suppressions, rounds counts as the
policy says and records, per cell, what was published and why anything was not. The evidence is
JSON-able; :func:`recheck` re-runs every rule of a (possibly stricter) policy on it: the
airlock's check, which never trusts the analyst's kernel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sdc.errors import SdcError
from sdc.policy import Policy
from sdc.tables import secondary
from sdc.tables.build import EVIDENCE, TOTAL, Table
from sdc.tables.rules import (
    contributors,
    lattice_problems,
    mean_note,
    nearly_constant,
    on_a_lattice,
    primary,
    published_values,
    sum_rounding,
)

# what a cell's evidence may add (where its table has it): people, a mode's records, a
# proportion's numerator, what bounds a count from a sum (rules.nearly_constant) and the
# lattice its values lie on (rules.on_a_lattice)
EVIDENCE_COLUMNS = [
    *EVIDENCE,
    "holdings",
    "mode_count",
    "ones",
    "nonzero",
    "smallest",
    "second",
    "nonzero_low",
    "nonzero_high",
    "unit",
    "spacing",
    "lattice",
    "at_smallest",
    "at_largest",
]


@dataclass
class Protected:
    table: Table
    cells: pd.DataFrame  # the table's cells with status, reasons, review, published
    policy: Policy
    intervals: dict[int, tuple[float, float]]
    # each primary cell's required reach (down to, up to), where the table is audited
    required: dict[int, tuple[float, float]] = field(default_factory=dict)
    manual: list[dict[str, Any]] = field(default_factory=list)  # the cells marked by hand
    insiders: int = 0  # suppressed one-contributor cells whose contributor was audited
    # how secondary suppression was chosen: asked, used (the exact mode falls back to the
    # heuristic, and says why) and a note
    method: dict[str, str] = field(default_factory=dict)

    def wide(self) -> pd.DataFrame:
        return Table(
            self.table.rows,
            self.table.cols,
            self.table.values,
            self.table.aggfunc,
            self.cells,
            self.table.margins,
            self.table.dropped,
            self.table.categories,
            self.table.holding,
        ).wide("published")

    @property
    def suppressed(self) -> int:
        return int(self.cells["published"].isna().sum())

    def evidence(self) -> dict[str, Any]:
        table = self.table
        cells = []
        for i, row in enumerate(self.cells.to_dict("records")):
            cell: dict[str, Any] = {"dims": {d: _plain(row[d]) for d in table.dims}}
            for column in EVIDENCE_COLUMNS:
                if column in row:
                    cell[column] = _plain(row[column])
            cell.update(
                status=row["status"],
                reasons=list(row["reasons"]),
                review=bool(row["review"]),
                published=_plain(row["published"]),
            )
            if row["status"] == "u":
                cell["protection_level"] = _plain(row["protection"])
            if i in self.required:
                cell["required"] = list(self.required[i])
            if i in self.intervals:
                cell["interval"] = list(self.intervals[i])
            cells.append(cell)
        evidence = {
            "kind": "table",
            "table_kind": table.kind,
            "rows": table.rows,
            "cols": table.cols,
            "values": table.values,
            "aggfunc": table.aggfunc,
            "margins": table.margins,
            "holding": table.holding,
            "manual_unsafe": self.manual,
            "secondary_method": self.method,
            "dropped_records": table.dropped,
            "policy": self.policy.to_dict(),
            "cells": cells,
            "summary": {
                "cells": len(cells),
                "primary_unsafe": int((self.cells.status == "u").sum()),
                "secondary": int((self.cells.status == "x").sum()),
                "published": int(self.cells.published.notna().sum()),
                "review": int(self.cells.review.sum()),
                "insiders_audited": self.insiders,
            },
        }
        if "nonzero_low" in self.cells:
            evidence["nearly_constant"] = _pinned_note(self.cells, table.aggfunc, self.policy)
        if "lattice" in self.cells:
            evidence["lattice"] = _lattice_note(self.cells, table.aggfunc, self.policy)
        rounded = sum_rounding(self.cells, table.aggfunc, self.policy.rounding_base)
        if table.aggfunc == "mean" and (note := mean_note(self.policy.rounding_base, rounded)):
            evidence["mean"] = {"note": note}
        return evidence


def _lattice_note(cells: pd.DataFrame, aggfunc: str, policy: Policy) -> dict[str, Any]:
    """Why a table's sums were rounded for the lattice their values lie on (rules.on_a_lattice)."""
    carried = cells["lattice"].notna()
    spacing = float(cells["lattice"].max())
    rounded = sum_rounding(cells, aggfunc, policy.rounding_base)
    return {
        "cells": int(carried.sum()),
        "spacing": spacing,
        "rounded_to": rounded,
        "note": f"the non-zero values of {int(carried.sum())} cell(s) lie on a lattice with an "
        f"offset (every value the same remainder modulo a spacing of up to {spacing:.12g}, or "
        "one value): each such sum is its count times the offset, modulo the spacing, so it "
        "carries the count (or its remainder) that the policy rounds; "
        + (
            f"every sum, totals included, is rounded to a multiple of {rounded:.6g} "
            f"({policy.rounding_base} spacings, or the unit of a nearly constant variable where "
            "that is larger): no remainder is left, and a sum whose other part is known still "
            f"leaves at least {policy.rounding_base} counts possible"
            if rounded is not None
            else "every sum, totals included, is exact, as counts are under this policy"
        ),
    }


def _pinned_note(cells: pd.DataFrame, aggfunc: str, policy: Policy) -> dict[str, Any]:
    """Why a table's sums (or means) were treated as counts (rules.nearly_constant)."""
    pinned = int(cells["nonzero_low"].notna().sum())
    unit = float(cells["unit"].iloc[0])
    rounded = sum_rounding(cells, aggfunc, policy.rounding_base)
    what = (
        "their non-zero records are checked as counts (zero, threshold), unsafe cells are "
        f"protected by at least {policy.protection_level:g} record(s) (a unit of {unit:.12g}), "
        "and every sum, "
        + (
            f"totals included, is rounded to a multiple of {rounded:.6g} ({policy.rounding_base} "
            "records of the unit), as counts are rounded: a sum is a whole number of units, "
            "so it may not look round (45.00000012 = 45 x 1.0000000027)"
            if rounded is not None
            else "totals included, is exact, as counts are under this policy"
        )
        if aggfunc == "sum"
        else "a mean's sum is rounded as a sum table's would be"
        + (
            " and, where the variable has zeros, its mean is a proportion of non-zero records "
            "(class disclosure, numerator and complement at least the threshold)"
            if (cells["nonzero"] < cells["count"]).any()
            else ""
        )
    )
    return {
        "pinned_cells": pinned,
        "unit": unit,
        "rounded_to": rounded,
        "note": f"the sums of {pinned} cell(s) pin their counts of non-zero records (the "
        "variable is nearly a constant: an attacker who knows its smallest non-zero value "
        "and a cell's two largest records can tell them within fewer counts than the "
        f"policy's rounding leaves): {what}",
    }


def _plain(value):
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def additive_values(cells: pd.DataFrame, kind: str) -> tuple[np.ndarray | None, float | None]:
    """The additive quantity behind a table (counts, or sums for magnitudes) and its lower
    bound; None when the statistic is not additive (minima, medians…)."""
    if kind == "frequency":
        return cells["count"].to_numpy(float), 0.0
    if kind == "magnitude":
        negative = (cells["negatives"] > 0).any()
        return cells["sum"].to_numpy(float), (None if negative else 0.0)
    return None, None


def protect(
    table: Table,
    policy: Policy | None = None,
    unsafe: Sequence[Mapping[str, Any] | Sequence[Any]] | None = None,
) -> Protected:
    """Apply POLICY's primary rules, secondary suppression and rounding to TABLE.

    UNSAFE marks further cells sensitive by hand (for reasons outside the rules): each a
    mapping {dimension: category} (a dimension left out, or given as ``TOTAL``, is its
    margin) or a tuple of categories in the table's dimension order. They are suppressed and
    protected like any primary cell, and listed in the evidence."""
    policy = policy or Policy()
    manual, marked = _manual_cells(table, unsafe or [])
    cells = primary(table.cells, table.kind, table.aggfunc, policy, manual)
    rels = secondary.relations(cells, table.dims) if table.margins else []
    own = secondary.shares_contributor(cells, table.dims)
    outcome = _suppress(cells, table.kind, policy, rels, own)
    return _published(table, cells, policy, outcome, marked)


@dataclass
class _Outcome:
    """Secondary suppression's result on a set of cells (one table's, or a linked problem's)."""

    suppressed: np.ndarray
    intervals: dict[int, tuple[float, float]]
    needed: dict[int, tuple[float, float]]
    insiders: int
    method: dict[str, str]


def _suppress(cells: pd.DataFrame, kind: str, policy: Policy, rels, own) -> _Outcome:
    """Choose the secondary suppressions of CELLS (primary rules applied) under RELS, the
    additive relations the attacker knows, and audit them."""
    unsafe_cells = (cells.status == "u").to_numpy()
    intervals: dict[int, tuple[float, float]] = {}
    needed: dict[int, tuple[float, float]] = {}
    suppressed = unsafe_cells.copy() if policy.suppress else np.zeros(len(cells), bool)
    values, lower = additive_values(cells, kind)
    insiders = 0
    method = {"asked": policy.secondary, "used": policy.secondary, "note": ""}
    if policy.suppress and unsafe_cells.any() and values is not None and rels:
        frozen = (cells.status == "z").to_numpy()
        levels = np.where(unsafe_cells, cells["protection"].to_numpy(float), 0.0)
        reach = secondary.required(values, levels, lower)
        alone = _one_contributor(cells)
        cost = suppression_cost(cells, values, kind)
        proposed = unsafe_cells
        if policy.secondary == "optimal":
            # the integer programme proposes; the audit decides and the heuristic repairs
            # whatever the solver's tolerances let through (at large magnitudes)
            found, how = secondary.optimal(
                values,
                unsafe_cells,
                frozen,
                rels,
                np.where(cells.margin, 10.0, 1.0),
                np.maximum(levels, 1.0),
            )
            method = {"asked": "optimal", "used": "optimal", "note": how}
            if found is None:
                method.update(used="heuristic", note=how + ": the heuristic's pattern is used")
            else:
                proposed = found
        if policy.secondary == "none":
            intervals = secondary.audit(values, suppressed, rels, lower)
        else:
            notes: list[str] = []
            suppressed, intervals = secondary.heuristic(
                values,
                proposed,
                frozen,
                rels,
                cost,
                lower,
                reach,
                alone,
                unsafe_cells,
                own,
                margin=cells["margin"].to_numpy(bool),
                notes=notes,
            )
            if notes:
                method["note"] = "; ".join(filter(None, [method["note"], *notes]))
            if secondary.short_of(intervals, reach, secondary.scale_of(values)):
                raise SdcError("secondary suppression left a cell without its protection")
        insiders = int((alone & suppressed).sum())
        needed = {
            int(i): (float(reach[0][i]), float(reach[1][i])) for i in np.flatnonzero(unsafe_cells)
        }
    return _Outcome(suppressed, intervals, needed, insiders, method)


def _published(table: Table, cells: pd.DataFrame, policy: Policy, outcome: _Outcome, marked):
    """TABLE protected: CELLS with their secondary status and published values."""
    unsafe_cells = (cells.status == "u").to_numpy()
    suppressed = outcome.suppressed
    cells.loc[suppressed & ~unsafe_cells, "status"] = "x"
    published = published_values(cells, table.kind, table.aggfunc, policy)
    published[suppressed] = np.nan
    cells["published"] = published
    return Protected(
        table,
        cells,
        policy,
        outcome.intervals,
        outcome.needed,
        marked,
        outcome.insiders,
        outcome.method,
    )


def suppression_cost(cells: pd.DataFrame, values: np.ndarray, kind: str) -> np.ndarray:
    """What suppressing each cell costs, for choosing partners (cheapest first) and for the
    clean-up (dearest published again first): interior cells before any margin, then the
    smaller cell: its count in a frequency table, its absolute value (the information hidden)
    in a magnitude table, where a partner of one large record beats one of many small ones."""
    size = cells["count"].to_numpy(float) if kind == "frequency" else np.abs(values)
    size = np.nan_to_num(size)
    return size + np.where(cells["margin"].to_numpy(bool), 2.0 * float(size.sum()) + 1.0, 0.0)


def _one_contributor(cells: pd.DataFrame) -> np.ndarray:
    """Cells with a single contributor (a person where the table has holdings): that person
    knows the cell's value exactly, suppressed or not."""
    # one small record at a time (all that contributors reads): the whole table as records
    # held 3 MiB of a 40 x 30 x 5 table's peak
    counts = cells["count"].to_numpy()
    holdings = cells["holdings"].to_numpy() if "holdings" in cells else [None] * len(counts)
    return np.array(
        [
            contributors({"count": c, "holdings": h}) == 1
            for c, h in zip(counts, holdings, strict=True)
        ],
        dtype=bool,
    )


def _manual_cells(table: Table, unsafe) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The positions of the cells marked unsafe by hand, and each as {dimension: category}."""
    mask = np.zeros(len(table.cells), bool)
    marked = []
    dims = table.dims
    for spec in unsafe:
        if isinstance(spec, Mapping):
            unknown = sorted(set(map(str, spec)) - set(dims))
            if unknown:
                raise SdcError(
                    f"unsafe cell {dict(spec)!r} names {', '.join(unknown)}, which the table "
                    f"does not have (its dimensions: {', '.join(dims)})"
                )
            where = {d: spec.get(d, TOTAL) for d in dims}
        elif isinstance(spec, (str, bytes)) or not isinstance(spec, Sequence):
            if len(dims) != 1:
                raise SdcError(
                    f"unsafe cell {spec!r}: give one category per dimension "
                    f"({', '.join(dims)}), as a tuple or a mapping"
                )
            where = {dims[0]: spec}
        else:
            if len(spec) != len(dims):
                raise SdcError(
                    f"unsafe cell {tuple(spec)!r} has {len(spec)} categories; the table has "
                    f"{len(dims)} dimensions ({', '.join(dims)})"
                )
            where = dict(zip(dims, spec, strict=True))
        match = np.ones(len(table.cells), bool)
        for d, category in where.items():
            match &= (table.cells[d] == category).to_numpy()
        if not match.any():
            raise SdcError(
                f"unsafe cell {where!r} is not in the table: its categories must be ones the "
                f"table has (or {TOTAL!r} for a margin)"
            )
        mask |= match
        marked.append({d: _plain(v) for d, v in where.items()})
    return mask, marked


def recheck(evidence: dict[str, Any], policy: Policy) -> list[str]:
    """Re-run POLICY's rules on a table's evidence; the problems found, as sentences."""
    from sdc.tables.rules import cell_reasons, protection_level

    problems = []
    if evidence.get("kind") != "table":
        return ["the evidence is not a table's"]
    recorded = Policy.from_mapping(evidence["policy"])
    looser = policy.looser_settings(recorded)
    if looser:
        problems.append("the table was protected under a looser policy: " + "; ".join(looser))
    cells = pd.DataFrame(
        [
            {
                **cell["dims"],
                **{k: cell.get(k) for k in EVIDENCE_COLUMNS},
                "published": cell.get("published"),
                "status": cell.get("status"),
            }
            for cell in evidence["cells"]
        ]
    )
    dims = evidence["rows"] + evidence["cols"]
    kind, aggfunc = evidence["table_kind"], evidence["aggfunc"]
    if kind == "magnitude":  # the counts its sums pin, worked out again, never taken as given
        for column in ("nonzero_low", "nonzero_high", "unit"):
            cells[column] = np.nan
        cells = nearly_constant(
            cells.astype(
                {"nonzero": float, "smallest": float, "at_smallest": float, "at_largest": float}
            ),
            aggfunc,
            policy,
        )
        cells["lattice"] = np.nan
        cells = on_a_lattice(cells.astype({"spacing": float}), aggfunc, policy)
        for column in ("at_smallest", "at_largest"):
            at = cells[column].to_numpy(float)
            for k in np.flatnonzero((at < 0) | (at > cells["nonzero"].to_numpy(float))).tolist():
                where = ", ".join(f"{d}={cells.iloc[k][d]}" for d in dims)
                problems.append(
                    f"cell ({where}) claims {at[k]:g} records at its {column[3:]} magnitude "
                    f"among {cells.iloc[k]['nonzero']:g} non-zero ones: evidence no table "
                    "could have"
                )
        for k in np.flatnonzero(lattice_problems(cells)).tolist():
            where = ", ".join(f"{d}={cells.iloc[k][d]}" for d in dims)
            problems.append(
                f"cell ({where}) claims its non-zero values are {cells.iloc[k]['spacing']:g} "
                "apart, but its largest, smallest or sum is not: evidence no table could have"
            )
    base = max(policy.rounding_base, recorded.rounding_base)
    expected_values = published_values(cells.astype({"value": float}), kind, aggfunc, policy, base)
    for i, cell in enumerate(cells.to_dict("records")):
        people = cell.get("holdings")
        if people is not None and not np.isnan(people) and not 0 <= people <= cell["count"]:
            where = ", ".join(f"{d}={cell[d]}" for d in dims)
            problems.append(
                f"cell ({where}) claims {people:g} people among {cell['count']:g} records: "
                "evidence no table could have"
            )
        published = cell["published"]
        if published is None or (isinstance(published, float) and np.isnan(published)):
            continue
        where = ", ".join(f"{d}={cell[d]}" for d in dims)
        numeric = {k: (np.nan if cell[k] is None else cell[k]) for k in EVIDENCE_COLUMNS}
        reasons, _ = cell_reasons(numeric, kind, aggfunc, policy)
        if reasons:
            problems.append(f"cell ({where}) is published but fails: {'; '.join(reasons)}")
        expected = float(expected_values[i])
        if not np.isclose(published, expected, rtol=1e-9, atol=1e-9, equal_nan=True):
            problems.append(
                f"cell ({where}) is published as {published} but its evidence gives {expected}"
            )
    # where zeros are not disclosive, an empty cell (no records, nothing summed) of a magnitude
    # table is missing because nobody is in it, not suppressed: protect() leaves it out of the
    # attacker's unknowns, and so does the re-check (a known zero only helps the attacker)
    summed = cells["sum"].to_numpy(float)  # None (an empty cell's) is NaN
    empty = (
        (kind != "frequency" and not policy.zeros_disclosive)
        & (cells["count"] == 0).to_numpy()
        & (np.isnan(summed) | (summed == 0))
    )
    suppressed = cells["published"].isna().to_numpy() & ~empty
    manual = np.zeros(len(cells), bool)
    for spec in evidence.get("manual_unsafe") or []:
        match = np.ones(len(cells), bool)
        for d in dims:
            match &= (cells[d] == spec.get(d, TOTAL)).to_numpy()
        manual |= match
    for k in np.flatnonzero(manual & ~cells["published"].isna().to_numpy()).tolist():
        where = ", ".join(f"{d}={cells.iloc[k][d]}" for d in dims)
        problems.append(f"cell ({where}) was marked unsafe by hand but is published")
    values, lower = additive_values(cells.assign(margin=False), kind)
    if (
        values is not None
        and suppressed.any()
        and evidence.get("margins")
        and any((cells[d] == TOTAL).any() for d in dims)
    ):
        rels = secondary.relations(cells, dims)
        records = cells.to_dict("records")
        stated = [
            {k: (np.nan if c[k] is None else c[k]) for k in EVIDENCE_COLUMNS} for c in records
        ]
        levels = np.zeros(len(cells))
        unsafe = np.zeros(len(cells), bool)
        for k in np.flatnonzero(suppressed).tolist():
            reasons, _ = cell_reasons(stated[k], kind, aggfunc, policy)
            if reasons or manual[k]:
                unsafe[k] = True
                levels[k] = protection_level(stated[k], kind, policy, bool(manual[k]))
        reach = secondary.required(values, levels, lower)
        intervals = secondary.audit(values, suppressed, rels, lower)
        for k in secondary.short_of(intervals, reach, secondary.scale_of(values)):
            where = ", ".join(f"{d}={cells.iloc[k][d]}" for d in dims)
            low, high = intervals[k]
            if high - low <= 0:
                problems.append(f"suppressed cell ({where}) can be recomputed from the others")
            else:
                problems.append(
                    f"suppressed cell ({where}) is known to lie in [{low:.6g}, {high:.6g}]; its "
                    f"rule asks that it could be anywhere in [{reach[0][k]:.6g}, "
                    f"{reach[1][k]:.6g}]"
                )
        alone = _one_contributor(pd.DataFrame(stated))
        own = secondary.shares_contributor(cells, dims)
        for insider, k in secondary.insider_exposed(
            values, suppressed, rels, lower, alone, unsafe, own
        ):
            where = ", ".join(f"{d}={cells.iloc[k][d]}" for d in dims)
            other = ", ".join(f"{d}={cells.iloc[insider][d]}" for d in dims)
            problems.append(
                f"suppressed cell ({where}) can be recomputed by the sole contributor of "
                f"suppressed cell ({other})"
            )
    return problems
