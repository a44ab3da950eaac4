"""Linked tables and hierarchical dimensions: several tables protected as one problem.

Tables published together share cells (the same categories of the same data: a grand total, a
margin of one that is a cell of another), and their categories may nest (a region made of its
districts: a hierarchy, as in sdcTable's and τ-ARGUS's hierarchy files). An attacker combines
every relation of every table with those the hierarchy gives, so protecting each table alone
can leave a cell of one recomputable from the other. :func:`protect_linked` puts every cell of
every table into one set (a shared cell once), every table's relations and the hierarchy's into
one system, and runs secondary suppression and the audit on it: a cell suppressed in one table
is suppressed wherever it appears.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from sdc.errors import SdcError
from sdc.policy import Policy
from sdc.tables import secondary
from sdc.tables.build import TOTAL, Table
from sdc.tables.protect import Protected, _one_contributor, _Outcome, _published, _suppress
from sdc.tables.rules import primary

Hierarchy = Mapping[Any, Any]  # {code: its parent code}; a code without one sits under TOTAL


def protect_linked(
    tables: Sequence[Table],
    policy: Policy | None = None,
    hierarchies: Mapping[str, Hierarchy] | None = None,
) -> list[Protected]:
    """Protect TABLES together: one secondary suppression and one audit over all their cells.

    The tables must be of the same data and quantity (counts, or sums/means of the same values
    column, with the same holding), with margins; a dimension is the same dimension in every
    table that names it (rename columns before building). HIERARCHIES gives, per dimension,
    each code's parent ({"North-East": "North", "North-West": "North", "North": "All"}): a
    parent is the sum of its children wherever the cells are in some table. Each table's
    result is returned in order; its evidence's ``secondary_method`` says that it was linked.
    """
    policy = policy or Policy()
    tables = list(tables)
    if not tables:
        raise SdcError("protect_linked needs at least one table")
    first = tables[0]
    for table in tables:
        if not table.margins:
            raise SdcError("linked tables need margins (build them with margins=True)")
        if table.kind not in ("frequency", "magnitude"):
            raise SdcError(
                f"a table of {table.aggfunc!r} is not additive: only counts, sums and means "
                "can be linked"
            )
        if (table.kind, table.values, table.holding) != (first.kind, first.values, first.holding):
            raise SdcError(
                "linked tables must count or sum the same thing: "
                f"{first.kind} of {first.values!r} (holding {first.holding!r}) and "
                f"{table.kind} of {table.values!r} (holding {table.holding!r}); protect "
                "tables of different quantities separately"
            )
    parents = _parents(hierarchies or {})
    dims: list[str] = []
    for table in tables:
        dims += [d for d in table.dims if d not in dims]
    unknown = sorted(set(parents) - set(dims))
    if unknown:
        raise SdcError(
            f"hierarchies name {', '.join(unknown)}, which no table has "
            f"(their dimensions: {', '.join(dims)})"
        )
    checked = [primary(t.cells, t.kind, t.aggfunc, policy) for t in tables]
    cells, positions = _union(tables, checked, dims)
    rels = _linked_relations(tables, checked, positions, cells, dims, parents)
    own = secondary.shares_contributor(cells, dims, parents)
    outcome = _suppress(cells, first.kind, policy, rels, own)
    note = (
        f"protected as one linked problem of {len(tables)} tables "
        f"({sum(len(c) for c in checked) - len(cells)} shared cells"
        + (f", hierarchies of {', '.join(sorted(parents))}" if parents else "")
        + ")"
    )
    method = dict(outcome.method)
    method["note"] = "; ".join(n for n in (method.get("note", ""), note) if n)
    results = []
    for table, own_cells, where in zip(tables, checked, positions, strict=True):
        back = {int(u): k for k, u in enumerate(where)}
        suppressed = outcome.suppressed[where].copy()
        part = _Outcome(
            suppressed,
            {back[u]: v for u, v in outcome.intervals.items() if u in back},
            {back[u]: v for u, v in outcome.needed.items() if u in back},
            int((_one_contributor(own_cells) & suppressed).sum()),
            method,
        )
        results.append(_published(table, own_cells, policy, part, []))
    return results


def _parents(hierarchies: Mapping[str, Hierarchy]) -> dict[str, dict[Any, Any]]:
    """Each dimension's {code: parent}, checked: no code its own ancestor."""
    out: dict[str, dict[Any, Any]] = {}
    for dim, mapping in hierarchies.items():
        if not isinstance(mapping, Mapping):
            raise SdcError(
                f"the hierarchy of {dim!r} must map each code to its parent code, "
                f"not {type(mapping).__name__}"
            )
        parent = {code: up for code, up in mapping.items() if code != TOTAL}
        for code in list(parent):
            seen = {code}
            up = parent[code]
            while up in parent:
                if up in seen:
                    raise SdcError(f"the hierarchy of {dim!r} has a cycle through {up!r}")
                seen.add(up)
                up = parent[up]
            if up != TOTAL:
                parent[up] = TOTAL  # a top code sits under the grand total
        out[str(dim)] = parent
    return out


def _union(tables, checked, dims) -> tuple[pd.DataFrame, list[np.ndarray]]:
    """Every cell once (keyed by its category in every dimension, TOTAL where a table does not
    have the dimension), a cell unsafe in any table unsafe in all; and each table's cells'
    places in the union. Shared cells must agree (they are the same records)."""
    index: dict[tuple, int] = {}
    rows: list[dict[str, Any]] = []
    positions = []
    for t, (table, cells) in enumerate(zip(tables, checked, strict=True)):
        where = np.empty(len(cells), dtype=np.int64)
        for k, cell in enumerate(cells.to_dict("records")):
            key = tuple(cell[d] if d in table.dims else TOTAL for d in dims)
            found = index.get(key)
            if found is None:
                index[key] = found = len(rows)
                rows.append({**cell, **dict(zip(dims, key, strict=True))})
            else:
                _same_cell(rows[found], cell, key, t)
                rows[found] = _stricter(rows[found], cell)
            where[k] = found
        positions.append(where)
    return pd.DataFrame(rows).reset_index(drop=True), positions


def _same_cell(kept: dict, cell: dict, key: tuple, table: int) -> None:
    for column in ("count", "sum"):
        a, b = kept.get(column), cell.get(column)
        if a is None or b is None or (pd.isna(a) and pd.isna(b)):
            continue
        if not np.isclose(float(a), float(b), rtol=1e-9, atol=1e-9):
            raise SdcError(
                f"table {table + 1} has cell {key!r} with {column} {b:g} where an earlier table "
                f"has {a:g}: linked tables must be built from the same records"
            )


def _stricter(kept: dict, cell: dict) -> dict:
    """The shared cell's rules: unsafe where any table's copy is, with the larger level."""
    if cell["status"] == "u" and kept["status"] != "u":
        return {**kept, **{k: cell[k] for k in ("status", "reasons", "review", "protection")}}
    if cell["status"] == "u":
        return {**kept, "protection": max(kept["protection"], cell["protection"])}
    return kept


def _linked_relations(tables, checked, positions, cells, dims, parents):
    """Every table's relations in the union's positions, and the hierarchies' (a parent and
    its children, the other dimensions equal) wherever the union holds them all; each once."""
    seen: set[tuple[int, tuple[int, ...]]] = set()
    out = []

    def add(total: int, members: list[int]) -> None:
        key = (total, tuple(sorted(members)))
        if members and key not in seen:
            seen.add(key)
            out.append((total, members))

    for table, own, where in zip(tables, checked, positions, strict=True):
        for total, members in secondary.relations(own, table.dims):
            add(int(where[total]), [int(where[m]) for m in members])
    labels = cells[dims].to_numpy(object)
    place = {tuple(row): i for i, row in enumerate(labels.tolist())}
    count = cells["count"].to_numpy(float)
    for d, dim in enumerate(dims):
        children: dict[Any, list[Any]] = {}
        for code, up in parents.get(dim, {}).items():
            children.setdefault(up, []).append(code)
        for i, row in enumerate(labels.tolist()):
            below = children.get(row[d])
            if not below:
                continue
            at: list[int | None] = [
                place.get(tuple(row[:d]) + (c,) + tuple(row[d + 1 :])) for c in below
            ]
            if any(m is None for m in at):
                continue  # not every child is published in some table: no relation here
            found = [int(m) for m in at if m is not None]
            if not np.isclose(count[i], count[found].sum()):
                raise SdcError(
                    f"the hierarchy of {dim!r} makes {row[d]!r} of {', '.join(map(repr, below))}"
                    f", but their counts do not add up ({count[found].sum():g} against "
                    f"{count[i]:g}): every code of the data must be in the hierarchy, under "
                    "one parent"
                )
            add(i, found)
    return out
