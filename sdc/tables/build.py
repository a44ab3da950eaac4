"""Tables from microdata, with the evidence a checker needs for every cell, in one grouped pass.

Each cell (including every margin) carries: count, sum, min, max, the two largest contributions
(top1, top2) and the number of negative contributions; a sum or mean also its non-zero records
and their smallest magnitude, with holdings also the second-largest record (what bounds a
count from a sum:
:func:`sdc.tables.rules.nearly_constant`), and a sum the ``spacing`` of its non-zero values
(the gcd of their differences, where they are whole numbers of a power of ten or two:
:func:`sdc.tables.rules.on_a_lattice`). The published statistic is computed from those.
Where the records carry a holding (a person's id or pseudonym: τ-ARGUS's holdings), a
contribution is the holding's total in the cell, not one record, and each cell also counts its
holdings: a person with three records is one contributor, not three. Margins are aggregated
from the finest cells, never by another pass over the data, except for order statistics (median,
quantiles), which need the values themselves.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sdc._checks import check_frame
from sdc.errors import SdcError
from sdc.tables import lattice

TOTAL = "All"
COUNT_FUNCS = ("count", "size")
# what publishes a sum, or a mean (its published sum over its published count): what bounds a
# count from a sum is recorded for both (rules.nearly_constant, rules.on_a_lattice)
SUMMED = ("sum", "mean", "std", "var")  # (a spread's spacing: rules.published_values)
MAGNITUDE_FUNCS = ("sum", "mean")
ORDER_FUNCS = ("min", "max", "median", "mode")
# what every cell records about its contributors (the evidence a checker re-checks)
EVIDENCE = ["value", "count", "sum", "min", "max", "top1", "top2", "negatives"]
AGGFUNCS = COUNT_FUNCS + MAGNITUDE_FUNCS + ORDER_FUNCS + ("std", "var")


@dataclass
class Table:
    """A table's cells in long form: one row per cell, margins included, with their evidence."""

    rows: list[str]
    cols: list[str]
    values: str | None
    aggfunc: str
    cells: pd.DataFrame
    margins: bool = True
    dropped: int = 0  # records left out (missing dimension or value)
    categories: dict[str, list] = field(default_factory=dict)
    holding: str | None = None  # the column of each record's person (see build)

    @property
    def dims(self) -> list[str]:
        return self.rows + self.cols

    @property
    def kind(self) -> str:
        if self.aggfunc in COUNT_FUNCS:
            return "frequency"
        if self.aggfunc in MAGNITUDE_FUNCS:
            return "magnitude"
        return "statistic"

    def wide(self, column: str = "value") -> pd.DataFrame:
        """The table as pandas.crosstab would print it (rows by columns)."""
        frame = self.cells.set_index(self.dims)[column]
        if not self.cols:
            return frame.to_frame(self.aggfunc if self.values is None else self.values)
        wide = frame.unstack(self.cols)
        row_order = _order(self.rows, self.categories, self.margins)
        col_order = _order(self.cols, self.categories, self.margins)
        return wide.reindex(index=row_order, columns=col_order)


def _order(dims: list[str], categories: dict[str, list], margins: bool):
    levels = [categories[d] + ([TOTAL] if margins else []) for d in dims]
    if len(dims) == 1:
        return pd.Index(levels[0], name=dims[0])
    return pd.MultiIndex.from_product(levels, names=dims)


def _top_two(group: np.ndarray, values: np.ndarray, groups: int) -> tuple[np.ndarray, np.ndarray]:
    """The largest and second-largest value in each group (NaN where there is none)."""
    top1 = np.full(groups, -np.inf)
    np.maximum.at(top1, group, values)
    is_top = values == top1[group]
    # drop exactly one occurrence of each group's maximum, then take the maximum again
    candidates = np.flatnonzero(is_top)
    _, first = np.unique(group[candidates], return_index=True)
    rest = values.astype(float).copy()
    rest[candidates[first]] = -np.inf
    top2 = np.full(groups, -np.inf)
    np.maximum.at(top2, group, rest)
    top1[np.isinf(top1)] = np.nan
    top2[np.isinf(top2)] = np.nan
    return top1, top2


def _merge_top_two(labels: np.ndarray, top1: np.ndarray, top2: np.ndarray, groups: int):
    values = np.concatenate([top1, top2])
    group = np.concatenate([labels, labels])
    keep = ~np.isnan(values)
    return _top_two(group[keep], values[keep], groups)


def build(
    df: pd.DataFrame,
    rows: str | Sequence[str],
    cols: str | Sequence[str] | None = None,
    values: str | None = None,
    aggfunc: str = "count",
    margins: bool = True,
    max_cells: int = 100_000,
    holding: str | None = None,
) -> Table:
    """Cells of a 1-, 2- or 3-dimensional table of DF, with every cell's evidence.

    ``aggfunc``: count (records per cell), sum or mean of VALUES, min, max, median, std, var.
    Records with a missing dimension (or a missing value, for statistics of VALUES) are left
    out and counted in ``Table.dropped``. HOLDING names the column of the person each record
    belongs to (their id or pseudonym): the dominance and p % rules then weigh each person's
    total in a cell, and the threshold counts people (``holdings``).
    """
    rows = [rows] if isinstance(rows, str) else list(rows)
    cols = [] if cols is None else ([cols] if isinstance(cols, str) else list(cols))
    dims = rows + cols
    if not 1 <= len(dims) <= 3:
        raise SdcError(f"tables have 1 to 3 dimensions; {len(dims)} given")
    if aggfunc not in AGGFUNCS:
        given = getattr(aggfunc, "__name__", None) if callable(aggfunc) else None
        raise SdcError(
            f"aggfunc must be one of {', '.join(AGGFUNCS)} (a name, as a string), not "
            + (f"the function {given}: pass aggfunc={given!r}" if given else repr(aggfunc))
        )
    if aggfunc not in COUNT_FUNCS and values is None:
        raise SdcError(f"aggfunc {aggfunc!r} needs a values column")
    check_frame(df, dims + ([values] if values else []) + ([holding] if holding else []))
    if holding is not None and holding in dims + [values]:
        raise SdcError(f"the holding column {holding!r} cannot also be a dimension or the values")
    if holding is not None and df[holding].isna().any():
        raise SdcError(
            f"the holding column {holding!r} has {int(df[holding].isna().sum())} missing "
            "value(s): every record needs its person's id (fill or drop them first)"
        )
    if values is not None and not pd.api.types.is_numeric_dtype(df[values]):
        raise SdcError(
            f"values column {values!r} is not numeric ({df[values].dtype}): convert it first "
            f"(pd.to_numeric(df[{values!r}], errors='coerce') makes unreadable values missing) "
            "or choose a numeric column"
        )

    code_columns, categories = [], {}
    keep = np.ones(len(df), bool)
    for dim in dims:
        codes, uniques = pd.factorize(df[dim], sort=True)
        code_columns.append(codes)
        categories[dim] = list(uniques)
        keep &= codes >= 0
    if values is not None:
        v_all = df[values].to_numpy(dtype=float)
        keep &= ~np.isnan(v_all)
    shape = tuple(len(categories[d]) for d in dims)
    grid_size = int(np.prod(shape)) if shape else 1
    if grid_size > max_cells:
        raise SdcError(
            f"the table would have {grid_size:,} cells (more than {max_cells:,}): that is "
            "microdata, not a table; use fewer or coarser dimensions"
        )
    codes = np.column_stack(code_columns)[keep]
    group = np.ravel_multi_index(codes.T, shape) if len(codes) else np.zeros(0, dtype=np.int64)
    v = v_all[keep] if values is not None else np.ones(len(group))

    count = np.bincount(group, minlength=grid_size).astype(float)
    total = np.bincount(group, weights=v, minlength=grid_size)
    negatives = np.bincount(group, weights=(v < 0), minlength=grid_size)
    lowest = np.full(grid_size, np.inf)
    np.minimum.at(lowest, group, v)
    highest = np.full(grid_size, -np.inf)
    np.maximum.at(highest, group, v)
    if holding is None:
        top1, top2 = _top_two(group, v, grid_size)
        pairs = None
    else:
        # one contribution per (cell, holding): the person's total in the cell
        person = pd.factorize(df[holding])[0][keep].astype(np.int64)
        people = int(person.max()) + 1 if len(person) else 1
        pair_of, pair_key = pd.factorize(group * people + person)  # hashing: no sort
        pairs = (pair_key // people, pair_key % people, np.bincount(pair_of, weights=v))
        top1, top2 = _top_two(pairs[0], pairs[2], grid_size)
    squares = np.bincount(group, weights=v * v, minlength=grid_size)
    counted_apart = values is not None and aggfunc in SUMMED
    if counted_apart:
        # what bounds a cell's count from its sum: its non-zero records, the smallest magnitude
        nonzero = np.bincount(group, weights=(v != 0), minlength=grid_size)
        smallest = np.full(grid_size, np.inf)
        np.minimum.at(smallest, group, np.where(v != 0, np.abs(v), np.inf))
        # with holdings top1 and top2 are people's totals: the records' own second largest
        by_record = _top_two(group, v, grid_size) if holding is not None else None
    # a sum's values on a lattice (rules.on_a_lattice): each cell's spacing, in whole units
    scale = lattice.integer_scale(v) if values is not None and aggfunc in SUMMED else None
    if scale is not None:
        anchor = lattice.anchors(highest, lowest)
        has_values = nonzero > 0
        spacing = lattice.cell_spacings(group, v, grid_size, anchor, scale, has_values)
    if values is not None and aggfunc in SUMMED:
        # a constant behind outliers (rules.nearly_constant): the non-zero records at each
        # cell's smallest magnitude, and at its largest
        # (both are positive where a cell has a non-zero record, so a zero is never counted)
        magnitude = np.abs(v)
        largest = _largest(highest, lowest)
        at_smallest = np.bincount(group, weights=magnitude == smallest[group], minlength=grid_size)
        positive = np.where(largest > 0, largest, np.nan)
        at_largest = np.bincount(group, weights=magnitude == positive[group], minlength=grid_size)

    grid = np.array(list(np.ndindex(*shape))) if shape else np.zeros((1, 0), dtype=int)
    levels = [tuple(1 for _ in dims)]  # the finest level: all dimensions present
    if margins:
        levels = [lvl for lvl in itertools.product((1, 0), repeat=len(dims))]
    parts = []
    for level in levels:
        present = [j for j, on in enumerate(level) if on]
        if present:
            label_codes = grid[:, present]
            sub_shape = tuple(shape[j] for j in present)
            labels = np.ravel_multi_index(label_codes.T, sub_shape)
            size = int(np.prod(sub_shape))
        else:
            labels = np.zeros(grid_size, dtype=np.int64)
            size = 1
        frame = {
            "count": np.bincount(labels, weights=count, minlength=size),
            "sum": np.bincount(labels, weights=total, minlength=size),
            "sum_squares": np.bincount(labels, weights=squares, minlength=size),
            "negatives": np.bincount(labels, weights=negatives, minlength=size),
        }
        if counted_apart:
            frame["nonzero"] = np.bincount(labels, weights=nonzero, minlength=size)
            frame["smallest"] = np.full(size, np.inf)
            np.minimum.at(frame["smallest"], labels, smallest)
            if by_record is not None:
                frame["second"] = _merge_top_two(labels, *by_record, size)[1]
        if values is not None and aggfunc in SUMMED:
            least = frame["smallest"][labels]
            frame["at_smallest"] = np.bincount(
                labels, weights=at_smallest * (smallest == least), minlength=size
            )
        low = np.full(size, np.inf)
        np.minimum.at(low, labels, lowest)
        high = np.full(size, -np.inf)
        np.maximum.at(high, labels, highest)
        frame["min"], frame["max"] = low, high
        if scale is not None:
            merged = lattice.merged_spacings(
                labels, spacing, anchor, has_values, lattice.anchors(high, low), size, scale
            )
            gathered = np.bincount(labels, weights=has_values, minlength=size) > 0
            frame["spacing"] = np.where(gathered, merged / scale, np.nan)
        if values is not None and aggfunc in SUMMED:
            most = _largest(high, low)[labels]
            frame["at_largest"] = np.bincount(
                labels, weights=at_largest * (largest == most) * (most > 0), minlength=size
            )
        if pairs is None:
            frame["top1"], frame["top2"] = _merge_top_two(labels, top1, top2, size)
        else:
            frame["top1"], frame["top2"], frame["holdings"] = _holding_top_two(labels, pairs, size)
        index = np.array(list(np.ndindex(*sub_shape))) if present else np.zeros((1, 0), int)
        for j, dim in enumerate(dims):
            if j in present:
                column = index[:, present.index(j)]
                frame[dim] = np.array(categories[dim], dtype=object)[column]
            else:
                frame[dim] = np.full(size, TOTAL, dtype=object)
        frame["margin"] = np.full(size, not all(level))
        frame["level"] = np.full(size, "".join(map(str, level)))
        parts.append(pd.DataFrame(frame))
    cells = pd.concat(parts, ignore_index=True)
    cells.loc[cells["count"] == 0, ["min", "max"]] = np.nan
    if counted_apart:
        cells.loc[np.isinf(cells["smallest"]), "smallest"] = np.nan
    cells["value"] = _statistic(cells, aggfunc, df, dims, values, keep, categories, margins)
    ordered = dims + EVIDENCE + ["sum_squares", "margin", "level"]
    if holding is not None:
        ordered.insert(len(dims) + 2, "holdings")
    if aggfunc == "mode":
        ordered.append("mode_count")
    if counted_apart:
        ordered += ["nonzero", "smallest"] + (["second"] if holding is not None else [])
    if scale is not None:
        ordered.append("spacing")
    if values is not None and aggfunc in SUMMED:
        ordered += ["at_smallest", "at_largest"]
    if values is None:
        cells = cells.drop(columns=["sum_squares"])
        ordered.remove("sum_squares")
        cells[["sum", "min", "max", "top1", "top2"]] = np.nan
    return Table(
        rows,
        cols,
        values,
        aggfunc,
        cells[ordered],
        margins,
        int((~keep).sum()),
        categories,
        holding,
    )


def _largest(highest: np.ndarray, lowest: np.ndarray) -> np.ndarray:
    """Each cell's largest magnitude, from its largest and smallest records (0: no record)."""
    high = np.nan_to_num(highest, posinf=0.0, neginf=0.0)
    low = np.nan_to_num(lowest, posinf=0.0, neginf=0.0)
    return np.maximum(np.abs(high), np.abs(low))


def _holding_top_two(labels: np.ndarray, pairs, size: int):
    """The two largest holdings' totals and the number of holdings in each cell of a level
    whose finest cells map to LABELS; PAIRS are the finest (cell, holding, total) triples. A
    person in two cells of a row is one contributor to the row, with their two totals added."""
    cell, person, amount = pairs
    people = int(person.max()) + 1 if len(person) else 1
    inverse, key = pd.factorize(labels[cell] * people + person)
    merged = np.bincount(inverse, weights=amount)
    owner = key // people
    top1, top2 = _top_two(owner, merged, size)
    return top1, top2, np.bincount(owner, minlength=size).astype(float)


def _statistic(cells, aggfunc, df, dims, values, keep, categories, margins) -> np.ndarray:
    count = cells["count"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        if aggfunc in COUNT_FUNCS:
            return count
        if aggfunc == "sum":
            return cells["sum"].to_numpy()
        if aggfunc == "mean":
            return np.where(count > 0, cells["sum"] / count, np.nan)
        if aggfunc in ("min", "max"):
            return cells[aggfunc].to_numpy()
        if aggfunc in ("var", "std"):
            mean = cells["sum"] / count
            variance = (cells["sum_squares"] - count * mean**2) / (count - 1)
            variance = np.where(count > 1, np.maximum(variance, 0), np.nan)
            return np.sqrt(variance) if aggfunc == "std" else variance
    # the median and the mode need the values of each cell: one group-by per level
    data = df.loc[keep, dims + [values]]

    def per_cell(series: pd.Series) -> float:
        if aggfunc == "median":
            return float(series.median())
        counts = series.value_counts()  # the mode: the most frequent value (smallest on ties)
        top = counts[counts == counts.max()].index.min()
        return float(top)

    def mode_count(series: pd.Series) -> float:
        return float(series.value_counts().max())

    result = np.full(len(cells), np.nan)
    frequency = np.full(len(cells), np.nan)
    for level, part in cells.groupby("level", sort=False):
        present = [d for d, on in zip(dims, level, strict=True) if on == "1"]
        if present:
            grouped = data.groupby(present, observed=True)[values]
            key = part[present].apply(tuple, axis=1) if len(present) > 1 else part[present[0]]
            result[part.index] = grouped.agg(per_cell).reindex(key.tolist()).to_numpy()
            if aggfunc == "mode":
                frequency[part.index] = grouped.agg(mode_count).reindex(key.tolist()).to_numpy()
        elif len(data):
            result[part.index] = per_cell(data[values])
            frequency[part.index] = mode_count(data[values])
    if aggfunc == "mode":
        cells["mode_count"] = frequency  # how many records share the published value
    return result
