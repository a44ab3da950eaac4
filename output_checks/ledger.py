"""The release ledger and the differencing checks.

Every released table made with ``sdc.safe`` enters the project's ledger: its dimensions, the
category set of each, its population (the grand total of records), and every cell (count and
published value). A new table is tested against every earlier one for three ways of recovering a
small group by subtraction:

1. the same table (same dimensions and categories) over a population that differs by fewer than
   the threshold: subtracting one from the other reveals that small group;
2. nested or overlapping categories: a cell of the new table and a cell of a released one that
   differ only in one dimension's category and whose counts differ by fewer than the threshold;
3. a published total that reveals a suppressed cell: a released table suppressed a cell whose
   row's other cells were published, and the new table publishes that row's total (or the
   reverse).
"""

from __future__ import annotations

from typing import Any

from output_checks.checks import Check, CheckOutcome
from sdc.policy import Policy

MARGIN = "All"


def table_entry(evidence: dict[str, Any]) -> dict[str, Any] | None:
    """What the ledger keeps of a table's evidence (None for other outputs)."""
    if evidence.get("kind") != "table":
        return None
    dims = list(evidence["rows"]) + list(evidence["cols"])
    cells = [
        {
            "dims": {d: str(c["dims"][d]) for d in dims},
            "count": c["count"],
            "published": c["published"],
        }
        for c in evidence["cells"]
    ]
    inner = [c for c in cells if MARGIN not in c["dims"].values()]
    total = next((c["count"] for c in cells if all(v == MARGIN for v in c["dims"].values())), None)
    if total is None:
        total = sum(c["count"] for c in inner)
    return {
        "dims": dims,
        "categories": {d: sorted({c["dims"][d] for c in inner}) for d in dims},
        "values": evidence.get("values"),
        "aggfunc": evidence.get("aggfunc"),
        "population": total,
        "cells": cells,
    }


def _row_totals(entry: dict[str, Any], dim: str) -> dict[str, float]:
    """Published totals of each category of DIM (a margin, or a one-dimensional table)."""
    others = [d for d in entry["dims"] if d != dim]
    out = {}
    for cell in entry["cells"]:
        value = cell["dims"][dim]
        if value == MARGIN or cell["published"] is None:
            continue
        if all(cell["dims"][o] == MARGIN for o in others):
            out[value] = cell["count"]
    return out


def _recoverable(old: dict[str, Any], new: dict[str, Any], name_old: str) -> list[str]:
    """Suppressed cells of OLD that NEW's published totals let someone work out."""
    found = []
    for dim in old["dims"]:
        if dim not in new["dims"]:
            continue
        totals = _row_totals(new, dim)
        if not totals:
            continue
        others = [d for d in old["dims"] if d != dim]
        if not others:
            continue
        for value in totals:
            row = [
                c
                for c in old["cells"]
                if c["dims"][dim] == value and MARGIN not in [c["dims"][o] for o in others]
            ]
            hidden = [c for c in row if c["published"] is None]
            if len(hidden) == 1 and len(row) > 1:
                cell = hidden[0]
                where = ", ".join(f"{k}={v}" for k, v in cell["dims"].items())
                found.append(
                    f"{name_old} suppressed the cell {where}, but publishes the rest of its row; "
                    f"this table publishes the total of {dim}={value}, so the suppressed cell is "
                    "that total minus the others"
                )
    return found


def differencing(
    entry: dict[str, Any], released: list[tuple[str, dict[str, Any]]], policy: Policy
) -> Check:
    """Test a new table against the project's released ones."""
    if not released:
        return Check(
            "differencing", CheckOutcome.PASS, "nothing has been released from this project yet"
        )
    threshold = policy.threshold
    flags: list[tuple[str, str]] = []
    for name, old in released:
        same_shape = old["dims"] == entry["dims"] and old["categories"] == entry["categories"]
        gap = abs(entry["population"] - old["population"])
        if same_shape and 0 < gap < threshold:
            flags.append(
                (
                    CheckOutcome.FAIL,
                    f"the same table as {name}, over a population that differs by {gap:g} "
                    f"(fewer than {threshold}): subtracting one from the other reveals that group",
                )
            )
        for message in _recoverable(old, entry, name) + _recoverable(entry, old, "this table"):
            flags.append((CheckOutcome.FAIL, message))
        if not same_shape and sorted(old["dims"]) == sorted(entry["dims"]):
            flags.extend((CheckOutcome.REVIEW, m) for m in _nested(old, entry, name, threshold))
    if not flags:
        return Check(
            "differencing",
            CheckOutcome.PASS,
            f"compared with {len(released)} released tables: no small group can be recovered "
            "by subtraction",
        )
    worst = (
        CheckOutcome.FAIL if any(o == CheckOutcome.FAIL for o, _ in flags) else CheckOutcome.REVIEW
    )
    return Check(
        "differencing",
        worst,
        "; ".join(m for _, m in flags[:3])
        + (f" (and {len(flags) - 3} more)" if len(flags) > 3 else ""),
        {"flags": [m for _, m in flags]},
    )


def _nested(old: dict[str, Any], new: dict[str, Any], name: str, threshold: int) -> list[str]:
    found = []
    old_cells = [c for c in old["cells"] if c["published"] is not None]
    for cell in new["cells"]:
        if cell["published"] is None:
            continue
        for other in old_cells:
            differing = [d for d in new["dims"] if cell["dims"][d] != other["dims"].get(d)]
            if len(differing) != 1 or MARGIN in (
                cell["dims"][differing[0]],
                other["dims"][differing[0]],
            ):
                continue
            dim = differing[0]
            gap = abs(cell["count"] - other["count"])
            if 0 < gap < threshold and cell["dims"][dim] not in old["categories"].get(dim, []):
                found.append(
                    f"{dim}={cell['dims'][dim]} here counts {cell['count']:g} and "
                    f"{dim}={other['dims'][dim]} in {name} counts {other['count']:g}: if one "
                    f"group contains the other, the difference reveals {gap:g} people"
                )
                if len(found) >= 5:
                    return found
    return found
