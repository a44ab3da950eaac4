"""Secondary suppression: choose further cells so that no suppressed cell can be recomputed.

A table with margins is a set of additive relations: each total equals the sum of the cells it
totals, along every dimension. An attacker who sees the published cells can solve those
relations; :func:`audit` solves the attacker's linear programmes (HiGHS) and gives each
suppressed cell its feasible interval, in a unit scaled to the table so that it means the same
for counts and for costs in billions. A cell is exposed when its interval is a point (narrower
than a billionth of the table's largest value) or narrower than the protection asked for.
:func:`heuristic` makes every relation hold either no suppressed cell or at least two, cheapest
cells first, then audits and repairs what is still exposed; :func:`optimal` solves the whole
problem as an integer programme for small tables.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from scipy.sparse import coo_array, csr_array, hstack

from sdc.errors import SdcError
from sdc.tables.build import TOTAL

# the integer programme's size guard, in nonzeros of its constraint matrix: SciPy and HiGHS
# keep several copies of the model (presolve, the LP, the search). Measured on 2-D count
# tables: 69 MiB of peak memory at 25,220 nonzeros, 205 MiB at 151,320 (about 1.1 KB a
# nonzero beyond some 40 MiB): 400,000 is about half a GiB
OPTIMAL_NONZEROS = 400_000
BYTES_PER_NONZERO = 1_100
# branch-and-bound nodes the exact mode may explore: a count, not seconds, so that the pattern
# never depends on how loaded the machine is
OPTIMAL_NODES = 2_000
# the clean-up's budget, in the attacker's linear programmes solved (a count, not seconds: the
# same table is cleaned up alike on any machine); past it, the suppressions not yet tried stay
CLEANUP_SOLVES = 5_000
# tables up to this many cells try the closing partners first (see heuristic); on a 40 x 30
# x 5 table (7,626 cells) the closing partners' repairs did not converge. Larger tables are
# cleaned up only by algebra (see clean_up): by programmes alone the clean-up took 130 s
# there to publish 2 of 787 cells again
CLOSING_CELLS = 2_000
# the clean-up's null-space basis is dense: up to this many suppressed cells (two matrices of
# 3,000 x 3,000 doubles at most, 72 MiB each)
BASIS_CELLS = 3_000
# the clean-up publishes a cell with the secondary cells its value fixes (pairs) on tables of at
# most this many cells: on the 40 x 30 x 5 table of bench_sdc_large (7,626 cells) pairs take it
# from 574 cells in 0.8 s to 423 in 2.6-4.4 s, past the time target of 1.5 x sdcTable's
# SIMPLEHEURISTIC (1.2-1.4 s, 502 cells); on sdcTable's examples and the seeded tables they cost
# nothing and reach the exact counts (docs/sdc.md)
PAIRS_CELLS = 2_000
# an interval narrower than this fraction of the table's scale is a point (see audit)
RESOLUTION = 1e-9
# HiGHS's feasibility tolerances, in the audit's unit (every value at most 1)
TOLERANCE = 1e-10
_SOLVER = None
# a point (or an insider's target) still exposed after one widening is opened by the cheapest
# move of the table through it (see _opening); off, the widening alone (for the tests)
OPENING = True


def _highs():
    """One quiet HiGHS instance per process for the attacker's programmes, emptied."""
    global _SOLVER
    if _SOLVER is None:
        _SOLVER = _new_highs()
        # the audit re-solves one model with another objective (a cell's column, up or
        # down): the last solution stays feasible, so the primal simplex starts from it where
        # the default (dual) one starts over; presolve would throw that start away. Measured
        # on a 40 x 30 x 5 table's 808 suppressed cells: 1.3 ms a programme, against 14 ms
        _SOLVER.setOptionValue("simplex_strategy", 4)
        _SOLVER.setOptionValue("presolve", "off")
    _SOLVER.clearModel()
    return _SOLVER


def _new_highs():
    """A quiet HiGHS instance with the audit's tolerances (HiGHS prints a banner when it is
    created)."""
    import os
    import sys

    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 1)
            solver = highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)
    solver.setOptionValue("output_flag", False)
    solver.setOptionValue("primal_feasibility_tolerance", TOLERANCE)
    solver.setOptionValue("dual_feasibility_tolerance", TOLERANCE)
    return solver


def relations(cells: pd.DataFrame, dims: list[str]) -> list[tuple[int, list[int]]]:
    """(total cell, member cells) for every additive relation of the table: along each
    dimension, the cells that agree on every other dimension, totalled by the one marked All.
    Relations come dimension by dimension, each dimension's in the order their keys first
    appear, members in the table's order (the heuristic's choices follow this order)."""
    out = []
    for dim in dims:
        others = [d for d in dims if d != dim]
        is_total = (cells[dim] == TOTAL).to_numpy()
        if others:
            keys = (
                cells[others]
                .astype(str)
                .groupby(others, sort=False, dropna=False)
                .ngroup()
                .to_numpy()
            )
        else:
            keys = np.zeros(len(cells), dtype=np.int64)
        order = np.argsort(keys, kind="stable")  # by key, the table's order within each
        starts = np.flatnonzero(np.r_[True, np.diff(keys[order]) != 0])
        for group in np.split(order, starts[1:]):
            flags = is_total[group]
            totals = group[flags]
            if len(totals) == 1 and len(totals) < len(group):
                out.append((int(totals[0]), group[~flags].tolist()))
    return out


def _system(n: int, rels: list[tuple[int, list[int]]]) -> csr_array:
    rows, cols, vals = [], [], []
    for r, (total, members) in enumerate(rels):
        rows.append(r)
        cols.append(total)
        vals.append(1.0)
        for m in members:
            rows.append(r)
            cols.append(m)
            vals.append(-1.0)
    return csr_array(coo_array((vals, (rows, cols)), shape=(len(rels), n)))


def scale_of(values: np.ndarray) -> float:
    """The power of two at or above the table's largest absolute value: the audit's unit.

    Dividing by a power of two is exact, so a table's values keep every digit; the attacker's
    programme is solved on numbers no larger than 1, where HiGHS's tolerances mean the same
    thing for a table of costs in billions as for a table of counts."""
    finite = np.abs(values[np.isfinite(values)])
    largest = float(finite.max()) if len(finite) else 0.0
    if largest == 0.0:
        return 1.0
    return math.ldexp(1.0, math.frexp(largest)[1])


def _attacker(values: np.ndarray, hidden: np.ndarray, rels, lower_bound: float | None):
    """The attacker's linear programme over the HIDDEN cells, in the unit of :func:`scale_of`,
    passed to the shared HiGHS instance; with its scale and the published values'
    disagreement (see :func:`audit`)."""
    import highspy

    scale = scale_of(values)
    scaled = (values / scale).tolist()  # exact: a power of two (Python floats: fast to sum)
    plain = values.tolist()
    column_of = {int(c): k for k, c in enumerate(hidden)}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rhs: list[float] = []
    for total, members in rels:
        unknown = [c for c in [total, *members] if c in column_of]
        if not unknown:
            continue
        for c in unknown:
            rows.append(len(rhs))
            cols.append(column_of[c])
            vals.append(1.0 if c == total else -1.0)
        rhs.append(math.fsum(scaled[c] if c == total else -scaled[c] for c in unknown))
    disagreement = _disagreement(plain, column_of, rels)
    m = len(hidden)
    low_bound = -highspy.kHighsInf if lower_bound is None else lower_bound / scale
    solver = _equalities(
        coo_array((vals, (rows, cols)), shape=(len(rhs), m)),
        rhs,
        np.full(m, low_bound),
        np.full(m, highspy.kHighsInf),
    )
    return solver, scale, disagreement


def _disagreement(plain: list[float], hidden, rels) -> float:
    """The published values' disagreement with the relations holding a HIDDEN cell: each
    relation's residual, summed exactly (see :func:`audit`)."""
    hidden = hidden if isinstance(hidden, set) else set(hidden)
    disagreement = 0.0
    for total, members in rels:
        if total in hidden or not hidden.isdisjoint(members):
            disagreement += abs(math.fsum([plain[total], *(-plain[c] for c in members)]))
    return disagreement


def _equalities(
    matrix: coo_array, rhs: list[float], lower: np.ndarray, upper: np.ndarray, solver=None
):
    """SOLVER (by default the shared HiGHS instance) holding MATRIX · x = RHS with
    LOWER <= x <= UPPER (no cost)."""
    import highspy

    m = matrix.shape[1]
    columns = matrix.tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m, len(rhs)
    lp.col_cost_ = np.zeros(m)
    lp.col_lower_ = np.asarray(lower, dtype=float)
    lp.col_upper_ = np.asarray(upper, dtype=float)
    lp.row_lower_ = np.array(rhs, dtype=float)
    lp.row_upper_ = np.array(rhs, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = columns.indptr
    lp.a_matrix_.index_ = columns.indices
    lp.a_matrix_.value_ = columns.data
    solver = _highs() if solver is None else solver
    solver.passModel(lp)
    return solver


def _interval(solver, column: int, scale: float, disagreement: float, lower_bound):
    """Column COLUMN's feasible interval in the table's units (narrowed: see audit)."""
    low, high = _ends(solver, column, scale)
    return _narrowed(low, high, disagreement, RESOLUTION * scale, lower_bound)


def _ends(solver, column: int, scale: float) -> tuple[float, float]:
    """Column COLUMN's least and greatest value in the shared HiGHS model, times SCALE."""
    import highspy

    solver.changeColCost(column, 1.0)
    ends = []
    for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
        solver.changeObjectiveSense(sense)
        ends.append(_solve(solver, highspy, sense) * scale)
    solver.changeColCost(column, 0.0)
    return ends[0], ends[1]


def audit(
    values: np.ndarray,
    suppressed: np.ndarray,
    rels,
    lower_bound: float | None = 0.0,
    only: np.ndarray | None = None,
):
    """Each suppressed cell's feasible interval {cell: (low, high)} given the published cells:
    the attacker's linear programme over the suppressed cells, solved twice (down and up) for
    each class of cells that move together (:class:`_Tied`: a cell's interval is its class's
    times its sign), for every suppressed cell (or for those among ONLY: the programme is the
    same, fewer cells are asked about).

    Floating point is handled so that the audit means the same at any magnitude:

    - The programme is solved in units of :func:`scale_of` (every value at most 1), with
      HiGHS's feasibility tolerances at 1e-10 of that unit.
    - A table's cells are sums rounded in different orders (a margin is not rounded like the
      sum of its cells), so the published values disagree with their relations in the last
      digits: past about 5e8 that disagreement exceeded HiGHS's absolute tolerance and the
      attacker's system was "Infeasible". The programme is therefore written in the suppressed
      cells' deviations from their own values (the true values satisfy every relation exactly,
      so every right-hand side is zero), and the published values' disagreement (each
      relation's residual, summed exactly) is measured instead.
    - Intervals are given in the table's units and narrowed by that disagreement (an end at
      the lower bound excepted: the attacker knows it exactly), so that an interval is never
      wider than the attacker's: the audit errs towards exposure.
    - A width below :data:`RESOLUTION` of the scale is a point (the cell is recomputed); the
      decision is relative to the table's magnitude, never an absolute number.
    """
    hidden = np.flatnonzero(suppressed)
    if not len(hidden):
        return {}
    import highspy

    scale = scale_of(values)
    tied = _Tied(hidden, rels)
    # each class's deviation d from the true values: x_k = value_k + sign_k d >= the bound
    lower = np.full(tied.classes, -highspy.kHighsInf)
    upper = np.full(tied.classes, highspy.kHighsInf)
    if lower_bound is not None:
        room = (values[hidden] - lower_bound) / scale  # how far each cell can fall
        rising = tied.sign > 0
        np.maximum.at(lower, tied.class_of[rising], -room[rising])
        np.minimum.at(upper, tied.class_of[~rising], room[~rising])
    solver = _equalities(tied.matrix, [0.0] * tied.matrix.shape[0], lower, upper)
    disagreement = _disagreement(values.tolist(), set(hidden.tolist()), rels)
    asked = [k for k, cell in enumerate(hidden.tolist()) if only is None or only[cell]]
    # a class that some solution already puts at its bound has that bound as its end (the
    # programme cannot pass its columns' bounds): that end needs no programme. On the
    # 40 x 30 x 5 table's final pattern, 259 of its 388 ends
    reached = (np.zeros(tied.classes, bool), np.zeros(tied.classes, bool))
    ends: dict[int, tuple[float, float]] = {}
    for g in dict.fromkeys(tied.class_of[asked].tolist()):
        solver.changeColCost(g, 1.0)
        found = []
        senses = (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize)
        for sense, bound, at in zip(senses, (lower, upper), reached, strict=True):
            if at[g]:
                found.append(bound[g] * scale)
                continue
            solver.changeObjectiveSense(sense)
            found.append(_solve(solver, highspy, sense) * scale)
            solution = np.asarray(solver.getSolution().col_value)
            reached[0][solution <= lower] = True
            reached[1][solution >= upper] = True
        solver.changeColCost(g, 0.0)
        ends[g] = (found[0], found[1])
    intervals = {}
    for k in asked:
        cell = int(hidden[k])
        least, most = ends[int(tied.class_of[k])]
        if tied.sign[k] < 0:
            least, most = -most, -least
        value = float(values[cell])
        intervals[cell] = _narrowed(
            value + least, value + most, disagreement, RESOLUTION * scale, lower_bound
        )
    return intervals


class _Tied:
    """The attacker's relations over the suppressed cells HIDDEN, with every cell tied to
    another by a relation of two suppressed cells written as ± that cell: such a relation
    (a ± b = published) moves the two together, so each class of cells tied so moves as one
    unknown, each cell by its SIGN (±1) times its class's deviation from the true values.
    MATRIX holds the other relations over the classes (their right-hand sides are zero: the
    true values satisfy them); a relation of two cells of one class that does not cancel
    stays in it (2d = 0: the class is fixed), and so does one of a single suppressed cell.
    The attacker's programme and the relations' null space are the same over the classes as
    over the cells (each cell a class's unknown times its sign) and far smaller: a
    40 x 30 x 5 table's 574 suppressed cells are 194 classes under 236 relations (617 over
    the cells)."""

    def __init__(self, hidden: np.ndarray, rels):
        index = {int(c): k for k, c in enumerate(hidden)}
        parent = list(range(len(index)))
        sign = [1.0] * len(index)  # each cell's sign relative to its parent

        def root(k: int) -> tuple[int, float]:
            path = []
            while parent[k] != k:
                path.append(k)
                k = parent[k]
            product = 1.0
            for j in reversed(path):  # compress: each cell on the path now points at the root
                product *= sign[j]
                sign[j], parent[j] = product, k
            return k, (sign[path[0]] if path else 1.0)

        kept = []
        for total, members in rels:
            unknown = [
                (index[c], 1.0 if c == total else -1.0) for c in (total, *members) if c in index
            ]
            if len(unknown) == 2:
                (a, alpha), (b, beta) = unknown
                (ra, sa), (rb, sb) = root(a), root(b)
                if ra != rb:  # alpha sa d_ra + beta sb d_rb = 0
                    parent[rb] = ra
                    sign[rb] = -alpha * beta * sa * sb
                    continue
            if unknown:
                kept.append(unknown)
        roots = [root(k) for k in range(len(index))]
        number: dict[int, int] = {}
        self.class_of = np.array([number.setdefault(r, len(number)) for r, _ in roots], int)
        self.sign = np.array([s for _, s in roots])
        self.classes = len(number)
        rows: list[int] = []
        cols: list[int] = []
        vals: list[float] = []
        count = 0
        for relation in kept:
            line: dict[int, float] = {}
            for k, coefficient in relation:
                g = int(self.class_of[k])
                line[g] = line.get(g, 0.0) + coefficient * self.sign[k]
            line = {g: v for g, v in line.items() if v != 0.0}
            if line:
                rows += [count] * len(line)
                cols += list(line)
                vals += list(line.values())
                count += 1
        self.matrix = coo_array((vals, (rows, cols)), shape=(count, self.classes))

    def null_space(self) -> np.ndarray:
        """A basis of the relations' null space over the cells, one row per cell: each cell's
        class's row of the null space over the classes, times the cell's sign."""
        basis = _null_space(self.matrix.toarray(), overwrite=True)
        return basis[self.class_of] * self.sign[:, None]


def _screened(
    values: np.ndarray,
    suppressed: np.ndarray,
    rels,
    lower_bound: float | None,
    reach: tuple[np.ndarray, np.ndarray] | None,
    only: np.ndarray | None = None,
) -> dict[int, tuple[float, float]]:
    """The heuristic's audit of a pattern it is still building: :func:`audit`'s intervals, but
    a cell that a feasible move already shows protected keeps that move's interval instead of
    its two programmes. Where every suppressed cell lies above the lower bound (the true values
    inside the attacker's polytope) and there are at most :data:`BASIS_CELLS` of them, the
    relations' null space (:class:`_Basis`) gives each cell a direction along which the true
    values move as far as every cell stays above the bound (:meth:`_Basis.spans`); a span that
    already reaches REACH, narrowed like an audited interval, is a certificate (the attacker's
    interval holds it), so the cell is neither a point nor short. The others are audited by
    their programmes. Which cells are exposed or short is the same as :func:`audit` says; the
    intervals of protected cells may be narrower than the attacker's, so the intervals
    recorded come from :func:`audit` of the final pattern."""
    hidden = np.flatnonzero(suppressed)
    asked = hidden if only is None else hidden[only[hidden]]
    if not len(asked):
        return {}
    scale = scale_of(values)
    slack = RESOLUTION * scale
    interior = lower_bound is None or bool(np.all(values[hidden] > lower_bound + slack))
    if not interior or len(hidden) > BASIS_CELLS:
        return audit(values, suppressed, rels, lower_bound, only)
    basis = _Basis(hidden, rels)
    spread = _disagreement(values.tolist(), set(hidden.tolist()), rels)
    certified: dict[int, tuple[float, float]] = {}
    moving = [
        c for c in asked.tolist() if basis.moving[basis.index[c]]
    ]  # a point: its programmes say so
    for cell, reached in zip(moving, basis.spans(moving, values, lower_bound), strict=True):
        span = _narrowed(*reached, spread, slack, lower_bound)
        if not short_of({cell: span}, reach, scale):
            certified[cell] = span
    left = np.zeros(len(suppressed), bool)
    left[[c for c in asked.tolist() if c not in certified]] = True
    return certified | (audit(values, suppressed, rels, lower_bound, left) if left.any() else {})


def audit_published(
    lower: np.ndarray, upper: np.ndarray, rels, asked: list[int]
) -> dict[int, tuple[float, float]] | None:
    """Each ASKED cell's feasible interval {cell: (low, high)} when all an attacker knows of
    cell i is that it lies in [LOWER[i], UPPER[i]] (a published cell: its value, or the
    interval its rounding leaves; a suppressed one: zero, or minus infinity for a sum of values
    that may be negative, to infinity) and that every relation
    holds: the programme of :func:`audit` for someone who holds only published tables, none of
    the suppressed values (the airlock's joint audit of several tables). None when no values
    satisfy them: the published values contradict the relations.

    As in :func:`audit`, the programme is solved in units of :func:`scale_of` and an interval
    narrower than :data:`RESOLUTION` of it is a point."""
    import highspy

    lower, upper = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    scale = scale_of(np.concatenate([lower, upper]))
    fixed = lower == upper
    free = np.flatnonzero(~fixed)
    column_of = {int(c): k for k, c in enumerate(free)}
    known = (np.where(fixed, lower, 0.0) / scale).tolist()
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rhs: list[float] = []
    for total, members in rels:
        signed = [(total, 1.0), *((m, -1.0) for m in members)]
        rest = -math.fsum(sign * known[c] for c, sign in signed if c not in column_of)
        unknown = [(c, sign) for c, sign in signed if c in column_of]
        if not unknown:
            if abs(rest) > RESOLUTION:
                return None
            continue
        for c, sign in unknown:
            rows.append(len(rhs))
            cols.append(column_of[c])
            vals.append(sign)
        rhs.append(rest)
    intervals = {int(c): (float(lower[c]), float(lower[c])) for c in asked if fixed[c]}
    if not len(free):
        return intervals
    solver = _equalities(
        coo_array((vals, (rows, cols)), shape=(len(rhs), len(free))),
        rhs,
        np.where(np.isfinite(lower[free]), lower[free] / scale, -highspy.kHighsInf),
        np.where(np.isfinite(upper[free]), upper[free] / scale, highspy.kHighsInf),
    )
    solver.run()
    if solver.getModelStatus() == highspy.HighsModelStatus.kInfeasible:
        return None
    for c in asked:
        if not fixed[c]:
            bound = float(lower[c]) if math.isfinite(lower[c]) else None
            intervals[int(c)] = _interval(solver, column_of[int(c)], scale, 0.0, bound)
    return intervals


def insider_exposed(
    values: np.ndarray,
    suppressed: np.ndarray,
    rels,
    lower_bound: float | None,
    insiders: np.ndarray,
    sensitive: np.ndarray,
    own: Callable[[int, int], bool] | None = None,
) -> list[tuple[int, int]]:
    """(insider, cell) pairs where the sole contributor of the suppressed cell INSIDER (who
    knows its value exactly) can recompute the suppressed SENSITIVE cell CELL: τ-ARGUS's
    singleton protection. OWN(insider, cell) says that the insider is in CELL (see
    :func:`shares_contributor`): a person's own contribution is no disclosure to them, and it
    is left out.

    Where every suppressed cell lies above the lower bound (the true values are then inside the
    attacker's polytope, not on its edge), a cell is fixed by the insider's value exactly when
    its row of the relations' null space is parallel to the insider's: one SVD answers every
    pair. Where some suppressed cell sits on the bound (an empty cell), the bound itself can pin
    cells, and the attacker's programme is solved again with each insider's cell fixed."""
    hidden = np.flatnonzero(suppressed)
    known = [int(c) for c in hidden if insiders[c]]
    if not known or not (sensitive & suppressed).any():
        return []
    scale = scale_of(values)
    if lower_bound is not None and bool(np.any(values[hidden] <= lower_bound + RESOLUTION * scale)):
        pairs = _insider_pairs_by_programme(values, hidden, known, rels, lower_bound, sensitive)
    else:
        pairs = _insider_pairs_by_null_space(hidden, known, rels, sensitive)
    return [(a, b) for a, b in pairs if own is None or not own(a, b)]


def _insider_pairs_by_null_space(hidden: np.ndarray, known: list[int], rels, sensitive):
    """The pairs, one group of suppressed cells tied by relations at a time (each small)."""
    component = _components(hidden, rels)
    groups: dict[int, list[int]] = {}
    for c in hidden.tolist():
        groups.setdefault(component[c], []).append(c)
    relations_of: dict[int, list[list[int]]] = {}
    for total, members in rels:
        unknown = [c for c in [total, *members] if c in component]
        if unknown:
            relations_of.setdefault(component[unknown[0]], []).append(
                [c if c == total else -1 - c for c in unknown]  # members negated
            )
    found = []
    for root, cells in groups.items():
        insiders = [c for c in cells if c in set(known)]
        if not insiders or not any(sensitive[c] for c in cells):
            continue
        column_of = {c: k for k, c in enumerate(cells)}
        matrix = np.zeros((len(relations_of.get(root, [])), len(cells)))
        for r, relation in enumerate(relations_of.get(root, [])):
            for c in relation:
                matrix[r, column_of[c if c >= 0 else -1 - c]] = 1.0 if c >= 0 else -1.0
        basis = _null_space(matrix)
        norms = np.linalg.norm(basis, axis=1)
        unit = basis / np.where(norms > 0, norms, 1.0)[:, None]
        targets = np.array([bool(sensitive[c]) for c in cells]) & (norms > 1e-9)
        for insider in insiders:
            k = column_of[insider]
            if norms[k] <= 1e-9:
                continue
            parallel = np.abs(unit @ unit[k]) >= 1.0 - 1e-9
            found += [(insider, cells[j]) for j in np.flatnonzero(parallel & targets) if j != k]
    return found


def _null_space(matrix: np.ndarray, overwrite: bool = False) -> np.ndarray:
    """A basis of MATRIX's null space, one row per column, by Gauss-Jordan elimination with
    partial pivoting. Elementwise numpy only: an SVD calls a threaded BLAS, which on a loaded
    machine took a second for what this does in milliseconds (the relations' ±1 coefficients
    keep the elimination's numbers small). With OVERWRITE, MATRIX (float) is eliminated in
    place; the rows are updated a block at a time, so no temporary is as large as it."""
    work = matrix if overwrite else matrix.astype(float, copy=True)
    rows, cols = work.shape
    pivots: list[int] = []
    for column in range(cols):
        r = len(pivots)
        if r == rows:
            break
        best = r + int(np.argmax(np.abs(work[r:, column])))
        if abs(work[best, column]) < 1e-9:
            continue
        work[[r, best]] = work[[best, r]]
        work[r] /= work[r, column]
        others = np.flatnonzero(work[:, column])
        others = others[others != r]
        for start in range(0, len(others), 256):
            block = others[start : start + 256]
            work[block] -= work[block, column][:, None] * work[r][None, :]
        pivots.append(column)
    pivot_set = set(pivots)
    free = [c for c in range(cols) if c not in pivot_set]
    basis = np.zeros((cols, len(free)))
    basis[free, np.arange(len(free))] = 1.0
    for r, column in enumerate(pivots):
        basis[column] = -work[r, free]
    return basis


def _insider_pairs_by_programme(values, hidden, known, rels, lower_bound, sensitive):
    component = _components(hidden, rels)
    solver, scale, disagreement = _attacker(values, hidden, rels, lower_bound)
    column_of = {int(c): k for k, c in enumerate(hidden)}
    found = []
    for insider in known:
        column = column_of[insider]
        exact = float(values[insider]) / scale
        solver.changeColBounds(column, exact, exact)
        for cell in hidden.tolist():
            if cell == insider or not sensitive[cell]:
                continue
            if component[cell] != component[insider]:
                continue
            low, high = _interval(solver, column_of[cell], scale, disagreement, lower_bound)
            if high - low <= 0:
                found.append((insider, cell))
        low_bound = -np.inf if lower_bound is None else lower_bound / scale
        solver.changeColBounds(column, low_bound, np.inf)
    return found


def shares_contributor(
    cells: pd.DataFrame, dims: list[str], parents: dict[str, dict] | None = None
) -> Callable[[int, int], bool]:
    """For a one-contributor cell A and another cell B: is A's contributor in B? So it is
    when the cells overlap (on every dimension the same category, one inside the other by
    the dimension's hierarchy PARENTS ({code: parent}), or a margin) and their common part
    holds anyone: A's single contributor is then in it, and so in B."""
    labels = cells[dims].to_numpy(object)
    where = {tuple(row): i for i, row in enumerate(labels.tolist())}
    count = cells["count"].to_numpy(float)
    up = [(parents or {}).get(d, {}) for d in dims]

    def inside(code, ancestor, parent: dict) -> bool:
        while code in parent:
            code = parent[code]
            if code == ancestor:
                return True
        return False

    def own(a: int, b: int) -> bool:
        common = []
        for x, y, parent in zip(labels[a], labels[b], up, strict=True):
            if x == TOTAL or x == y or inside(y, x, parent):
                common.append(y)
            elif y == TOTAL or inside(x, y, parent):
                common.append(x)
            else:
                return False
        found = where.get(tuple(common))
        return found is not None and count[found] > 0

    return own


def _components(hidden: np.ndarray, rels) -> dict[int, int]:
    """The suppressed cells' groups: two are together when a relation holds both (only there
    can knowing one tell anything of the other)."""
    parent = {int(c): int(c) for c in hidden}

    def root(c: int) -> int:
        while parent[c] != c:
            parent[c] = parent[parent[c]]
            c = parent[c]
        return c

    for total, members in rels:
        inside = [c for c in [total, *members] if c in parent]
        for c in inside[1:]:
            parent[root(c)] = root(inside[0])
    return {c: root(c) for c in parent}


def _solve(solver, highspy, sense) -> float:
    """One end of a cell's interval; a run that ends without an answer is retried once from
    scratch (a warm start can stall) before the audit gives up."""
    for attempt in range(2):
        solver.run()
        status = solver.getModelStatus()
        if status == highspy.HighsModelStatus.kOptimal:
            return float(solver.getInfo().objective_function_value)
        # the true values are a solution, so "unbounded or infeasible" is unbounded
        if status in (
            highspy.HighsModelStatus.kUnbounded,
            highspy.HighsModelStatus.kUnboundedOrInfeasible,
        ):
            return -np.inf if sense == highspy.ObjSense.kMinimize else np.inf
        if attempt == 0:
            solver.clearSolver()
    raise SdcError(
        f"the audit of the table failed: {solver.modelStatusToString(status)} (the attacker's "
        "programme has the true values as a solution, so this is the solver's failure: "
        "report it with the table's shape and magnitude)"
    )


def _narrowed(
    low: float, high: float, margin: float, resolution: float, bound: float | None
) -> tuple[float, float]:
    """An interval narrowed by MARGIN at each finite end the relations set (an end at the lower
    BOUND is known exactly: it stays, and noise below it is cut), and a point when it is no
    wider than RESOLUTION (or than the narrowing)."""
    if bound is not None and low <= bound:
        low = bound
    elif math.isfinite(low):
        low += margin
    if math.isfinite(high):
        high -= margin
    if math.isfinite(low) and math.isfinite(high) and high - low <= resolution:
        middle = (low + high) / 2 if bound is None else max((low + high) / 2, bound)
        return middle, middle
    return low, high


def exposed(intervals: dict[int, tuple[float, float]]) -> list[int]:
    """Suppressed cells whose interval is a point: :func:`audit` has already made a point of
    every interval narrower than its resolution."""
    return [i for i, (low, high) in intervals.items() if high - low <= 0]


def required(
    values: np.ndarray, levels: np.ndarray, lower_bound: float | None
) -> tuple[np.ndarray, np.ndarray]:
    """How far each cell's interval must reach, (down to, up to): value ∓ its protection
    level, the lower end never below what the cell can be (LOWER_BOUND)."""
    low = values - levels
    if lower_bound is not None:
        low = np.maximum(low, lower_bound)
    return low, values + levels


def short_of(
    intervals: dict[int, tuple[float, float]],
    reach: tuple[np.ndarray, np.ndarray] | None,
    scale: float,
) -> list[int]:
    """Suppressed cells that are exposed, or whose interval does not reach REACH (see
    :func:`required`) within the audit's resolution of SCALE."""
    if reach is None:
        return exposed(intervals)
    slack = RESOLUTION * scale
    down, up = reach
    return [
        i
        for i, (low, high) in intervals.items()
        if high - low <= 0 or low > down[i] + slack or high < up[i] - slack
    ]


def heuristic(
    values,
    primary: np.ndarray,
    frozen: np.ndarray,
    rels,
    cost: np.ndarray,
    lower_bound: float | None = 0.0,
    reach: tuple[np.ndarray, np.ndarray] | None = None,
    insiders: np.ndarray | None = None,
    sensitive: np.ndarray | None = None,
    own: Callable[[int, int], bool] | None = None,
    max_rounds: int = 50,
    cleanup: bool = True,
    margin: np.ndarray | None = None,
    closing: bool = True,
    notes: list[str] | None = None,
) -> tuple[np.ndarray, dict]:
    """Suppressed cells (primary + secondary) so that no suppressed cell is exposed, every
    primary cell's interval reaches REACH (:func:`required`), and no sole contributor of a
    suppressed cell (INSIDERS) can recompute a SENSITIVE one (by default the PRIMARY cells);
    and their audited intervals. With CLEANUP, every secondary suppression the audit shows
    unnecessary is published again (:func:`clean_up`). With CLOSING, partners that close
    relations come first (:func:`_partner`); where the repairs do not converge so, the search
    starts again with the cheapest partners alone (the earlier rule: on a 40 × 30 × 5 table
    an insider's exposure outlasted fifty rounds of repairs around the closing pattern), and a
    table of more than :data:`CLOSING_CELLS` cells uses the cheapest partners from the start
    (its clean-up needs the null-space basis: see :func:`clean_up`). What the evidence
    should say of how the pattern was found is appended to NOTES."""
    closing = closing and len(values) <= CLOSING_CELLS
    for closing_now in (True, False) if closing else (False,):
        try:
            return _heuristic(
                values,
                primary,
                frozen,
                rels,
                cost,
                lower_bound,
                reach,
                insiders,
                sensitive,
                own,
                max_rounds,
                cleanup,
                margin,
                closing_now,
                notes,
            )
        except SdcError:
            if not closing_now:
                raise
    raise AssertionError("unreachable")


def _heuristic(
    values,
    primary,
    frozen,
    rels,
    cost,
    lower_bound,
    reach,
    insiders,
    sensitive,
    own,
    max_rounds,
    cleanup,
    margin,
    closing,
    notes,
) -> tuple[np.ndarray, dict]:
    sensitive = primary.copy() if sensitive is None else sensitive
    suppressed = primary.copy()
    if not suppressed.any():
        return suppressed, {}
    groups_of: dict[int, list[list[int]]] = {}  # each cell's relations, in the order of RELS
    # suppressing more only widens the attacker's intervals (a cell's known value becomes one
    # more unknown): a cell found protected stays protected, and each round audits the others;
    # a full audit confirms the pattern at the end (and gives the intervals recorded)
    settled = np.zeros(len(suppressed), bool)
    scale = scale_of(values)
    for total, members in rels:
        group = [total] + members
        for c in group:
            groups_of.setdefault(c, []).append(group)
    widened_before: set[int] = set()
    system = None
    for _ in range(max_rounds):
        changed = True
        while changed:
            changed = False
            for total, members in rels:
                group = [total] + members
                hidden = [c for c in group if suppressed[c]]
                if len(hidden) == 1:
                    choice = (
                        _partner(group, suppressed, frozen, cost, groups_of, margin)
                        if closing
                        else _cheapest(group, suppressed, frozen, cost)
                    )
                    if choice is None:
                        continue
                    suppressed[choice] = True
                    changed = True
        partial = _screened(values, suppressed, rels, lower_bound, reach, ~settled)
        bad = short_of(partial, reach, scale)
        points = set(exposed(partial))
        known_by: dict[int, list[int]] = {}
        settled[list(partial)] = True
        settled[bad] = False
        if not bad and insiders is not None:
            pairs = insider_exposed(values, suppressed, rels, lower_bound, insiders, sensitive, own)
            for insider, cell in pairs:
                known_by.setdefault(cell, []).append(insider)
            bad = sorted(known_by)
        if not bad:
            screened = _screened(values, suppressed, rels, lower_bound, reach)
            bad = short_of(screened, reach, scale)
            points = set(exposed(screened))
            if not bad:
                if cleanup:
                    # the safe pattern is kept unless the cleaned one passes the full audit
                    # (so the clean-up never starts the repairs again: they could undo it)
                    cleaned = clean_up(
                        values,
                        suppressed,
                        sensitive,
                        rels,
                        cost,
                        lower_bound,
                        reach,
                        insiders,
                        own,
                        notes,
                    )
                    if (cleaned != suppressed).any():
                        checked = audit(values, cleaned, rels, lower_bound)
                        if not short_of(checked, reach, scale) and not (
                            insiders is not None
                            and insider_exposed(
                                values, cleaned, rels, lower_bound, insiders, sensitive, own
                            )
                        ):
                            return cleaned, checked
                # the intervals recorded are the attacker's, not the screen's certificates
                return suppressed, audit(values, suppressed, rels, lower_bound)
            settled[bad] = False
        widened = False
        for cell in bad:  # widen: one more cell near each exposed cell
            if OPENING and cell in widened_before and (cell in points or cell in known_by):
                if system is None:  # the relations as a matrix, built once
                    system = _system(len(values), rels)
                opened = _opening(
                    cell,
                    suppressed,
                    frozen,
                    rels,
                    cost,
                    values,
                    lower_bound,
                    known_by.get(cell, []),
                    system,
                )
                if opened:
                    suppressed[opened] = True
                    widened = True
                    continue
            widened_before.add(cell)
            choice = _widen(cell, suppressed, frozen, groups_of, cost)
            if choice is not None:
                suppressed[choice] = True
                widened = True
        if not widened:
            break
    raise SdcError(
        f"secondary suppression did not converge: {len(bad)} suppressed cells were still "
        f"exposed after the repairs (at most {max_rounds} rounds); no pattern is returned "
        "unaudited: merge the rare categories (coarsen the table) or publish fewer margins"
    )


def clean_up(
    values: np.ndarray,
    suppressed: np.ndarray,
    sensitive: np.ndarray,
    rels,
    cost: np.ndarray,
    lower_bound: float | None = 0.0,
    reach: tuple[np.ndarray, np.ndarray] | None = None,
    insiders: np.ndarray | None = None,
    own: Callable[[int, int], bool] | None = None,
    notes: list[str] | None = None,
) -> np.ndarray:
    """SUPPRESSED with every secondary suppression (a suppressed cell not SENSITIVE) that is
    not needed published again, dearest first (by COST: margins, then the largest values).

    One at a time: a cell is published again only if, with its value known, no suppressed cell
    is a point, every sensitive cell's interval still reaches REACH and no sole contributor of
    a suppressed cell (INSIDERS) can recompute a sensitive one; otherwise it stays suppressed.
    A relation that would be left with one suppressed cell rules a trial out first.

    Where every suppressed cell lies above the lower bound (the true values are then inside
    the attacker's polytope), the points and the insiders are decided by algebra, without a
    programme: a cell is a point exactly when its row of the relations' null space is zero,
    publishing a cell removes one dimension of that space (a rank-one update of one basis,
    computed once), so publishing CELL makes a point of every cell whose row is parallel to
    CELL's. Only the sensitive cells' levels are left: a sensitive cell whose true values,
    moved along its own null-space direction as far as every cell stays above the bound,
    already reach its level needs no programme (a feasible solution is a certificate); the
    others are re-solved in one model, CELL's column fixed at its value (warm-started).
    Otherwise (a suppressed cell on the bound, where the bound itself can pin cells), or past
    :data:`BASIS_CELLS` suppressed cells on a table of at most :data:`CLOSING_CELLS` cells,
    every cell tied to CELL is re-solved, the sensitive ones first, stopping at the first that
    fails (a larger table without the basis is not cleaned up: by programmes alone that took
    minutes). The pattern only shrinks where every rule still holds: the caller
    audits the result in full. It stops after :data:`CLEANUP_SOLVES` programmes, keeping what
    it has published again so far, and says so in NOTES (the evidence's method note)."""
    suppressed = suppressed.copy()
    candidates = [int(c) for c in np.flatnonzero(suppressed & ~sensitive)]
    if not candidates:
        return suppressed
    candidates.sort(key=lambda c: (-cost[c], c))
    relations_of: dict[int, list[list[int]]] = {}
    for total, members in rels:
        group = [total, *members]
        for c in group:
            relations_of.setdefault(c, []).append(group)
    scale = scale_of(values)
    slack = RESOLUTION * scale
    free_low = -np.inf if lower_bound is None else lower_bound / scale
    hidden = np.flatnonzero(suppressed)
    interior = lower_bound is None or bool(np.all(values[hidden] > lower_bound + slack))
    basis = _Basis(hidden, rels) if interior and len(hidden) <= BASIS_CELLS else None
    if basis is None and len(values) > CLOSING_CELLS:
        return suppressed  # by programmes alone a large table's clean-up costs minutes
    spread = _disagreement(values.tolist(), set(hidden.tolist()), rels)
    # cells leave in pairs (a cell with the points its value fixes) with the basis, on tables
    # of at most PAIRS_CELLS cells: on larger ones each pair's trial costs programmes
    pairs = basis is not None and len(values) <= PAIRS_CELLS
    solver = None
    model: dict[int, int] = {}
    disagreement = 0.0
    solves = 0
    for tried, cell in enumerate(candidates):
        if solves >= CLEANUP_SOLVES:
            if notes is not None:
                notes.append(
                    f"the clean-up stopped after {CLEANUP_SOLVES:,} programmes: "
                    f"{len(candidates) - tried:,} of {len(candidates):,} secondary suppressions "
                    "were not tried and stay suppressed"
                )
            break
        # published, CELL would leave a relation with one suppressed cell: that one is a point
        # (where cells leave in pairs, a secondary one is published with it, below)
        if any(
            len(left := [c for c in group if suppressed[c] and c != cell]) == 1
            and (not pairs or sensitive[left[0]])
            for group in relations_of.get(cell, [])
        ):
            continue
        trial = suppressed.copy()
        trial[cell] = False
        reduced = None
        fixed: list[int] = []
        if basis is not None:
            reduced = basis.publish(cell)
            if reduced is None:
                continue
            # the secondary cells CELL's value fixes are known to the attacker: published with
            # it (a sensitive one fixed rules the trial out); a hierarchy's subtotal often pins
            # one, so that cells leave the pattern in pairs
            fixed = reduced.points()
            if fixed and (not pairs or any(sensitive[c] for c in fixed)):
                continue
            for c in fixed:
                trial[c] = False
                reduced.known[reduced.index[c]] = True
            if insiders is not None and reduced.insider_pairs(insiders & trial, sensitive, own):
                continue
        # the cells tied to CELL before it (and what it fixes) left the pattern
        group = [c for c in _tied(cell, suppressed, relations_of) if trial[c]]
        if reduced is not None:  # the points are decided: only the levels are left to check
            group = [c for c in group if sensitive[c]]
            spans = reduced.spans(group, values, lower_bound)
            group = [
                c
                for c, reached in zip(group, spans, strict=True)
                if short_of({c: _narrowed(*reached, spread, slack, lower_bound)}, reach, scale)
            ]
            if not group:
                suppressed, basis = trial, reduced
                if solver is not None:  # the model learns the values too
                    for known in (cell, *fixed):
                        exact = float(values[known]) / scale
                        solver.changeColBounds(model[known], exact, exact)
                continue
        if solver is None:
            hidden = np.flatnonzero(suppressed)
            solver, _, disagreement = _attacker(values, hidden, rels, lower_bound)
            model = {int(c): k for k, c in enumerate(hidden)}
        column = model[cell]
        exact = float(values[cell]) / scale
        solver.changeColBounds(column, exact, exact)
        group.sort(key=lambda c: (not sensitive[c], c))
        ok = True
        for other in group:
            solves += 2
            found = {other: _interval(solver, model[other], scale, disagreement, lower_bound)}
            if short_of(found, reach if sensitive[other] else None, scale):
                ok = False
                break
        if ok and basis is None and insiders is not None and (insiders & trial).any():
            solves += 2 * len(group)  # the insiders' test weighs like the group's audit
            ok = not insider_exposed(values, trial, rels, lower_bound, insiders, sensitive, own)
            solver = None  # the insiders' programme (a cell on the bound) used the shared solver
        if ok:
            suppressed = trial
            basis = reduced
        elif solver is not None:
            solver.changeColBounds(column, free_low, np.inf)
    return suppressed


class _Basis:
    """A basis of the null space of the relations over the suppressed cells, one row per cell
    (the directions in which the attacker's unknowns can move together), kept as cells are
    published again: publishing a cell fixes its value, which removes the basis's dimension
    along that cell's row (a rank-one update, no new elimination)."""

    def __init__(
        self,
        hidden: np.ndarray,
        rels,
        rows: np.ndarray | None = None,
        known: np.ndarray | None = None,
    ):
        self.cells = [int(c) for c in hidden]
        self.index = {c: k for k, c in enumerate(self.cells)}
        self.known = np.zeros(len(self.cells), bool) if known is None else known
        if rows is None:
            rows = _Tied(hidden, rels).null_space()
        self.rows = rows
        self.norms = np.linalg.norm(rows, axis=1)
        self.moving = self.norms > 1e-9

    def publish(self, cell: int) -> _Basis | None:
        """The basis once CELL's value is known (its row zero); None if CELL is a point."""
        k = self.index[cell]
        row = self.rows[k]
        if not self.moving[k]:
            return None
        pivot = int(np.argmax(np.abs(row)))
        reduced = self.rows - np.outer(self.rows[:, pivot] / row[pivot], row)
        reduced[:, pivot] = 0.0  # the dimension removed (kept as a column of zeros: no copy)
        reduced[k] = 0.0
        known = self.known.copy()
        known[k] = True
        return _Basis(np.array(self.cells), None, reduced, known)

    def spans(
        self, cells: list[int], values: np.ndarray, lower_bound: float | None
    ) -> list[tuple[float, float]]:
        """For each of CELLS (each moving), an interval it can take, each end reached by a
        solution of the attacker's programme: the true values moved along the null-space
        direction of the cell's row, as far as every suppressed cell stays above LOWER_BOUND.
        Within the attacker's interval: a certificate that a level is reached, which saves the
        programme. A block of cells at a time: one product of the basis with a block of its
        rows, where a product per cell made a threaded BLAS call each (on a loaded machine,
        seconds over a 40 x 30 x 5 table's 1,268 suppressed cells)."""
        if lower_bound is None:
            return [(-np.inf, np.inf)] * len(cells)
        room = (values[self.cells] - lower_bound)[:, None]
        out: list[tuple[float, float]] = []
        for start in range(0, len(cells), 32):  # blocks small beside the peak: 0.3 MiB
            some = cells[start : start + 32]
            ks = [self.index[c] for c in some]
            direction = self.rows @ self.rows[ks].T  # a cell's own entry: its squared norm, > 0
            own = direction[ks, np.arange(len(ks))]
            with np.errstate(divide="ignore", invalid="ignore"):
                up = np.where(direction < 0, room / -direction, np.inf).min(axis=0)
                down = np.where(direction > 0, room / direction, np.inf).min(axis=0)
            value = values[some]
            out += zip((value - down * own).tolist(), (value + up * own).tolist(), strict=True)
        return out

    def points(self) -> list[int]:
        """Cells whose value the relations fix, other than those known (published) already."""
        return [self.cells[k] for k in np.flatnonzero(~self.moving & ~self.known)]

    def insider_pairs(self, insiders: np.ndarray, sensitive: np.ndarray, own) -> bool:
        """Whether the sole contributor of a suppressed cell of INSIDERS can recompute a
        suppressed SENSITIVE cell (other than their own: OWN)."""
        targets = np.array([bool(sensitive[c]) for c in self.cells]) & self.moving
        unit = self.rows / np.where(self.moving, self.norms, 1.0)[:, None]
        for k, insider in enumerate(self.cells):
            if not insiders[insider] or self.known[k] or not self.moving[k]:
                continue
            parallel = np.abs(unit @ unit[k]) >= 1.0 - 1e-9
            for j in np.flatnonzero(parallel & targets):
                if j != k and (own is None or not own(insider, self.cells[j])):
                    return True
        return False


def _tied(cell: int, suppressed: np.ndarray, relations_of) -> list[int]:
    """The suppressed cells tied to CELL through relations holding suppressed cells: the
    only ones whose interval can change when CELL's value becomes known."""
    seen = {cell}
    frontier = [cell]
    found = []
    while frontier:
        following = []
        for current in frontier:
            for group in relations_of.get(current, []):
                for c in group:
                    if suppressed[c] and c not in seen:
                        seen.add(c)
                        found.append(c)
                        following.append(c)
        frontier = following
    return found


def _widen(cell, suppressed, frozen, groups_of, cost):
    """One more cell to suppress for an exposed CELL: the cheapest in the first of its
    relations that has one. Where every cell of its relations is suppressed already or a
    structural zero (a rare category beside empty cells), suppressing more beside it cannot
    help: the search moves out to the relations of the suppressed cells it is tied to, nearest
    first (before, the heuristic added nothing and ran its fifty rounds to "did not converge")."""
    seen = {cell}
    frontier = [cell]
    while frontier:
        following = []
        for current in frontier:
            for group in groups_of.get(current, []):
                choice = _cheapest(group, suppressed, frozen, cost)
                if choice is not None:
                    return choice
                for c in group:
                    if suppressed[c] and c not in seen:
                        seen.add(c)
                        following.append(c)
        frontier = following
    return None


def _opening(
    cell: int,
    suppressed: np.ndarray,
    frozen: np.ndarray,
    rels,
    cost: np.ndarray,
    values: np.ndarray,
    lower_bound: float | None,
    still: Sequence[int] = (),
    system: csr_array | None = None,
) -> list[int]:
    """Cells to suppress so that CELL, a point, can move: the cheapest move of the table that
    changes CELL and keeps every relation, leaving the cells of STILL (insiders whose value is
    known) where they are. A linear programme over every cell's change y (y⁺ − y⁻): each
    relation's changes sum to zero, y of CELL is 1, a published cell moved costs its cost (a
    suppressed one nothing), a structural zero cannot move and a cell at the lower bound can
    only rise. Its support, suppressed, is a direction of the attacker's programme along which
    CELL moves (the true values moved a little along it stay feasible), so CELL is no longer a
    point, nor parallel to an insider of STILL. Empty where no such move exists.

    One relation's cheapest cell at a time (:func:`_widen`) can miss: the cell added, with its
    partners, makes a move that leaves CELL where it was (a 40 × 30 × 5 table's margins stayed
    points through fifty rounds so: the move must pass through the margins of other slices)."""
    import highspy

    n = len(values)
    system = _system(n, rels) if system is None else system
    matrix = hstack([system, -system], format="csc")  # y⁺, then y⁻
    upper = np.full(2 * n, highspy.kHighsInf)
    lower = np.zeros(2 * n)
    if lower_bound is not None:
        at_bound = values <= lower_bound + RESOLUTION * scale_of(values)
        upper[n:][at_bound] = 0.0  # it cannot fall
    fixed = frozen & ~suppressed
    fixed[list(still)] = True
    upper[:n][fixed] = 0.0
    upper[n:][fixed] = 0.0
    lower[cell] = upper[cell] = 1.0
    upper[n + cell] = 0.0
    price = np.where(suppressed, 0.0, cost / max(float(np.max(cost)), 1.0))
    price = np.concatenate([price, price])

    def cheapest(columns: np.ndarray) -> np.ndarray | None:
        """The cheapest move over COLUMNS alone (the others stay 0), or None."""
        # an instance of its own, dropped after: HiGHS keeps what a model of two columns a
        # cell allocated, and the shared instance grew by 10 MiB over a 40 x 30 x 5 table's
        # openings (123 MiB at the peak, 112 so)
        solver = _new_highs()
        # solved once from nothing: the dual simplex after presolve (the audit's warm-started
        # primal simplex took 18 s here on a 7,626-cell table)
        solver.setOptionValue("simplex_strategy", 1)
        solver.setOptionValue("presolve", "on")
        some = matrix if len(columns) == 2 * n else matrix[:, columns]
        _equalities(some, [0.0] * system.shape[0], lower[columns], upper[columns], solver)
        solver.changeColsCost(len(columns), np.arange(len(columns), dtype=np.int32), price[columns])
        solver.changeObjectiveSense(highspy.ObjSense.kMinimize)
        solver.run()
        status = solver.getModelStatus()
        move = np.asarray(solver.getSolution().col_value)
        return move if status == highspy.HighsModelStatus.kOptimal else None

    # a move among the suppressed cells alone costs nothing: where one exists and every
    # published cell that could move costs something, the cheapest move is such a one and
    # opens nothing (found over the suppressed cells' columns, a twentieth of the table's)
    movable = ~suppressed & ~fixed
    if not (price[:n][movable] <= 0).any():
        hidden = np.flatnonzero(suppressed)
        if cheapest(np.concatenate([hidden, hidden + n])) is not None:
            return []
    move = cheapest(np.arange(2 * n))
    if move is None:
        return []
    moved = np.abs(move[:n]) + np.abs(move[n:]) > 1e-7
    return [int(c) for c in np.flatnonzero(moved & ~suppressed)]


def _partner(group, suppressed, frozen, cost, groups_of, margin):
    """The partner to suppress in GROUP, a relation with one suppressed cell: an interior cell
    before any margin; among them, one that closes more of its other relations (each holding
    a single suppressed cell, which would otherwise need a partner of its own) than it opens
    (each holding none, which will now need one), the more the better; then the cheapest.
    Chosen one relation at a time by cost alone, a 3-D table's partners cascaded into
    relations of their own (as sdcTable's SIMPLEHEURISTIC's do)."""
    options = [c for c in group if not suppressed[c] and not frozen[c]]
    if not options:
        return None
    if margin is not None and not all(margin[c] for c in options):
        options = [c for c in options if not margin[c]]

    def gain(c: int) -> int:
        closed = opened = 0
        for other in groups_of.get(c, []):
            if other is not group:
                hidden = sum(1 for d in other if suppressed[d])
                closed += hidden == 1
                opened += hidden == 0
        return max(closed - opened, 0)

    return min(options, key=lambda c: (-gain(c), cost[c], c))


def _cheapest(group, suppressed, frozen, cost):
    options = [c for c in group if not suppressed[c] and not frozen[c]]
    if not options:
        return None
    return min(options, key=lambda c: (cost[c], c))


def optimal(
    values,
    primary: np.ndarray,
    frozen: np.ndarray,
    rels,
    cost: np.ndarray,
    protection: np.ndarray | float = 1.0,
    node_limit: int = OPTIMAL_NODES,
) -> tuple[np.ndarray | None, str]:
    """The cheapest suppression pattern protecting every primary cell by PROTECTION both ways
    (one level for all, or each cell's own; the Fischetti-Salazar model: for each primary
    cell, deviations that the relations allow), and a sentence on how it was found.

    The model is sparse (its nonzeros grow with the table times its primary cells, never the
    square of it), refused past :data:`OPTIMAL_NONZEROS` (about 1.1 KB of memory each), and
    the search stops after NODE_LIMIT branch-and-bound nodes, never after some
    seconds, so the same table gives the same pattern on an idle machine and a loaded one.
    None (with the reason) where no pattern was found: :func:`sdc.tables.protect` then uses
    the heuristic's and says so in the evidence.

    The answer is a proposal: the big-M is the table's own size, and once that size is about
    1e6 times the protection (costs in millions, protected by 1), a binary within HiGHS's
    integrality tolerance of 0 carries a real deviation, so the pattern can leave a cell that
    the relations recompute. :func:`sdc.tables.protect` audits the proposal and repairs it with
    :func:`heuristic`."""
    # imported here: scipy.optimize costs most of a second to import, and the airlock's
    # replay process (which never needs it unless the policy asks for it) starts per file
    from scipy.optimize import Bounds, LinearConstraint, milp

    n = len(values)
    primaries = np.flatnonzero(primary)
    if not len(primaries):
        return primary.copy(), "no primary cell: nothing to protect"
    system = _system(n, rels).tocoo()
    blocks = 2 * len(primaries)
    nonzeros = blocks * (system.nnz + 4 * n + 1)
    if nonzeros > OPTIMAL_NONZEROS:
        return None, (
            f"the integer programme would have {nonzeros:,} nonzeros (about "
            f"{nonzeros * BYTES_PER_NONZERO / 2**20:,.0f} MiB; the limit is {OPTIMAL_NONZEROS:,}): "
            f"{n} cells with {len(primaries)} unsafe"
        )
    big = float(np.abs(values).sum()) + 1.0
    # past 2**20 (a million), HiGHS's absolute tolerances meet numbers of the table's size and
    # its solve can fail (costs in 1e12): the model is then written in a power-of-two unit
    # that keeps the big-M at 2**20 (exact; a table of ordinary size keeps its own units)
    unit = max(1.0, math.ldexp(1.0, math.frexp(big)[1] - 20))
    values = np.asarray(values, dtype=float) / unit
    big = big / unit
    levels = np.broadcast_to(np.asarray(protection, dtype=float), (n,)) / unit
    # variables: s (n binaries), then for each primary p: up (n), down (n) deviations
    total_vars = n + blocks * n
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    vals: list[np.ndarray] = []
    lower: list[np.ndarray] = []
    upper: list[np.ndarray] = []
    count = 0
    cells = np.arange(n)
    keep_low = np.where(values >= 0, np.maximum(values, 0.0), big)
    for b in range(blocks):
        offset = n + b * n
        # deviations keep every relation
        rows.append(system.row + count)
        cols.append(system.col + offset)
        vals.append(system.data)
        lower.append(np.zeros(system.shape[0]))
        upper.append(np.zeros(system.shape[0]))
        count += system.shape[0]
        # a deviation only where suppressed: y_c - M s_c <= 0 and y_c + v_c s_c >= 0
        for weight, least, most in ((-big, -np.inf, 0.0), (keep_low, 0.0, np.inf)):
            rows += [count + cells, count + cells]
            cols += [offset + cells, cells]
            vals += [np.ones(n), np.broadcast_to(weight, (n,)).astype(float)]
            lower.append(np.full(n, least))
            upper.append(np.full(n, most))
            count += n
        p = primaries[b // 2]
        if b % 2 == 0:
            bounds = (float(levels[p]), np.inf)
        elif values[p] > 0:  # a cell cannot fall below zero: protect downwards what it can
            bounds = (-np.inf, -min(float(levels[p]), float(values[p])))
        else:
            continue
        rows.append(np.array([count]))
        cols.append(np.array([offset + p]))
        vals.append(np.ones(1))
        lower.append(np.array([bounds[0]]))
        upper.append(np.array([bounds[1]]))
        count += 1
    matrix = coo_array(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
        shape=(count, total_vars),
    ).tocsr()
    objective = np.zeros(total_vars)
    objective[:n] = cost
    integrality = np.zeros(total_vars)
    integrality[:n] = 1
    low = np.full(total_vars, -np.inf)
    high = np.full(total_vars, np.inf)
    low[:n] = primary.astype(float)
    high[:n] = np.where(frozen & ~primary, 0.0, 1.0)
    result = milp(
        objective,
        constraints=LinearConstraint(matrix, np.concatenate(lower), np.concatenate(upper)),
        integrality=integrality,
        bounds=Bounds(low, high),
        options={"node_limit": node_limit},
    )
    if result.x is None:
        return None, f"the integer programme found no pattern within {node_limit:,} nodes"
    if result.status == 0:
        return result.x[:n] > 0.5, "the integer programme's optimal pattern"
    return result.x[:n] > 0.5, (
        f"the integer programme's best pattern after {node_limit:,} nodes (not proven optimal)"
    )
