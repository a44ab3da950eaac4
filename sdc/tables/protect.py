"""Protect a table under a policy, and re-check a table's evidence without trusting its maker.

:func:`protect` applies the primary rules, chooses secondary suppressions, rounds counts as the
policy says and records, per cell, what was published and why anything was not. The evidence is
JSON-able; :func:`recheck` re-runs every rule of a (possibly stricter) policy on it: the
airlock's check, which never trusts the analyst's kernel.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sdc.errors import SdcError
from sdc.policy import Policy
from sdc.tables import secondary
from sdc.tables.build import EVIDENCE, TOTAL, Table
from sdc.tables.rounding import redact_then_round
from sdc.tables.rules import primary

EVIDENCE_COLUMNS = [*EVIDENCE, "mode_count", "ones"]


@dataclass
class Protected:
    table: Table
    cells: pd.DataFrame  # the table's cells with status, reasons, review, published
    policy: Policy
    intervals: dict[int, tuple[float, float]]

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
            if i in self.intervals:
                cell["interval"] = list(self.intervals[i])
            cells.append(cell)
        return {
            "kind": "table",
            "table_kind": table.kind,
            "rows": table.rows,
            "cols": table.cols,
            "values": table.values,
            "aggfunc": table.aggfunc,
            "margins": table.margins,
            "dropped_records": table.dropped,
            "policy": self.policy.to_dict(),
            "cells": cells,
            "summary": {
                "cells": len(cells),
                "primary_unsafe": int((self.cells.status == "u").sum()),
                "secondary": int((self.cells.status == "x").sum()),
                "published": int(self.cells.published.notna().sum()),
                "review": int(self.cells.review.sum()),
            },
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


def protect(table: Table, policy: Policy | None = None) -> Protected:
    policy = policy or Policy()
    cells = primary(table.cells, table.kind, table.aggfunc, policy)
    unsafe = (cells.status == "u").to_numpy()
    intervals: dict[int, tuple[float, float]] = {}
    suppressed = unsafe.copy() if policy.suppress else np.zeros(len(cells), bool)
    values, lower = additive_values(cells, table.kind)
    if policy.suppress and unsafe.any() and values is not None and table.margins:
        rels = secondary.relations(cells, table.dims)
        frozen = (cells.status == "z").to_numpy()
        # cheapest first: small cells, and interior cells before totals
        cost = cells["count"].to_numpy(float) + np.where(cells.margin, 1e9, 0.0)
        if policy.secondary == "heuristic":
            suppressed, intervals = secondary.heuristic(values, unsafe, frozen, rels, cost, lower)
        elif policy.secondary == "optimal":
            # the integer programme proposes; the audit decides and the heuristic repairs
            # whatever the solver's tolerances let through (at large magnitudes)
            proposed = secondary.optimal(
                values, unsafe, frozen, rels, np.where(cells.margin, 10.0, 1.0)
            )
            suppressed, intervals = secondary.heuristic(values, proposed, frozen, rels, cost, lower)
        else:
            intervals = secondary.audit(values, suppressed, rels, lower)
        if policy.secondary != "none" and secondary.exposed(intervals):
            raise SdcError("secondary suppression left a cell that can be recomputed")
    cells.loc[suppressed & ~unsafe, "status"] = "x"
    published = cells["value"].to_numpy(float).copy()
    if table.kind == "frequency":
        published = redact_then_round(published, policy.redact_at_most, policy.rounding_base)
    published[suppressed] = np.nan
    cells["published"] = published
    return Protected(table, cells, policy, intervals)


def recheck(evidence: dict[str, Any], policy: Policy) -> list[str]:
    """Re-run POLICY's rules on a table's evidence; the problems found, as sentences."""
    from sdc.tables.rules import cell_reasons

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
    for cell in cells.to_dict("records"):
        published = cell["published"]
        if published is None or (isinstance(published, float) and np.isnan(published)):
            continue
        where = ", ".join(f"{d}={cell[d]}" for d in dims)
        numeric = {k: (np.nan if cell[k] is None else cell[k]) for k in EVIDENCE_COLUMNS}
        reasons, _ = cell_reasons(numeric, kind, aggfunc, policy)
        if reasons:
            problems.append(f"cell ({where}) is published but fails: {'; '.join(reasons)}")
        expected = numeric["value"]
        if kind == "frequency":
            expected = float(
                redact_then_round(
                    np.array([expected]),
                    policy.redact_at_most,
                    max(policy.rounding_base, recorded.rounding_base),
                )[0]
            )
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
    values, lower = additive_values(cells.assign(margin=False), kind)
    if (
        values is not None
        and suppressed.any()
        and evidence.get("margins")
        and any((cells[d] == TOTAL).any() for d in dims)
    ):
        rels = secondary.relations(cells, dims)
        for i in secondary.exposed(secondary.audit(values, suppressed, rels, lower)):
            where = ", ".join(f"{d}={cells.iloc[i][d]}" for d in dims)
            problems.append(f"suppressed cell ({where}) can be recomputed from the others")
    return problems
