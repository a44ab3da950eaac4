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

import numpy as np
import pandas as pd
from scipy.sparse import coo_array, csr_array

from sdc.errors import SdcError
from sdc.tables.build import TOTAL

OPTIMAL_LIMIT = 2_000  # cells x primary cells, for the integer programme
# an interval narrower than this fraction of the table's scale is a point (see audit)
RESOLUTION = 1e-9
# HiGHS's feasibility tolerances, in the audit's unit (every value at most 1)
TOLERANCE = 1e-10
_SOLVER = None


def _highs():
    """One quiet HiGHS instance per process (HiGHS prints a banner when it is created)."""
    global _SOLVER
    if _SOLVER is None:
        import os
        import sys

        import highspy

        sys.stdout.flush()
        saved = os.dup(1)
        try:
            with open(os.devnull, "w") as devnull:
                os.dup2(devnull.fileno(), 1)
                _SOLVER = highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
        _SOLVER.setOptionValue("output_flag", False)
        _SOLVER.setOptionValue("primal_feasibility_tolerance", TOLERANCE)
        _SOLVER.setOptionValue("dual_feasibility_tolerance", TOLERANCE)
    _SOLVER.clearModel()
    return _SOLVER


def relations(cells: pd.DataFrame, dims: list[str]) -> list[tuple[int, list[int]]]:
    """(total cell, member cells) for every additive relation of the table: along each
    dimension, the cells that agree on every other dimension, totalled by the one marked All."""
    out = []
    positions = np.arange(len(cells))
    for dim in dims:
        others = [d for d in dims if d != dim]
        is_total = (cells[dim] == TOTAL).to_numpy()
        if others:
            keys = cells[others].astype(str).agg("\x1f".join, axis=1).to_numpy()
        else:
            keys = np.zeros(len(cells), dtype=object)
        frame = pd.DataFrame({"key": keys, "total": is_total, "pos": positions})
        for _, group in frame.groupby("key", sort=False):
            totals = group.pos[group.total].tolist()
            members = group.pos[~group.total].tolist()
            if len(totals) == 1 and members:
                out.append((totals[0], members))
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


def audit(values: np.ndarray, suppressed: np.ndarray, rels, lower_bound: float | None = 0.0):
    """Each suppressed cell's feasible interval {cell: (low, high)} given the published cells:
    the attacker's two linear programmes per cell, over the suppressed cells only.

    Floating point is handled so that the audit means the same at any magnitude:

    - The programme is solved in units of :func:`scale_of` (every value at most 1), with
      HiGHS's feasibility tolerances at 1e-10 of that unit.
    - A table's cells are sums rounded in different orders (a margin is not rounded like the
      sum of its cells), so the published values disagree with their relations in the last
      digits: past about 5e8 that disagreement exceeded HiGHS's absolute tolerance and the
      attacker's system was "Infeasible". Each relation's right-hand side is therefore written
      with the suppressed cells' own values (the true values satisfy every relation exactly),
      and the published values' disagreement (each relation's residual, summed exactly) is
      measured instead.
    - Intervals are given in the table's units and narrowed by that disagreement (an end at
      the lower bound excepted: the attacker knows it exactly), so that an interval is never
      wider than the attacker's: the audit errs towards exposure.
    - A width below :data:`RESOLUTION` of the scale is a point (the cell is recomputed); the
      decision is relative to the table's magnitude, never an absolute number.
    """
    import highspy

    hidden = np.flatnonzero(suppressed)
    if not len(hidden):
        return {}
    scale = scale_of(values)
    scaled = (values / scale).tolist()  # exact: a power of two (Python floats: fast to sum)
    plain = values.tolist()
    column_of = {int(c): k for k, c in enumerate(hidden)}
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    rhs: list[float] = []
    disagreement = 0.0
    for total, members in rels:
        unknown = [c for c in [total, *members] if c in column_of]
        if not unknown:
            continue
        for c in unknown:
            rows.append(len(rhs))
            cols.append(column_of[c])
            vals.append(1.0 if c == total else -1.0)
        rhs.append(math.fsum(scaled[c] if c == total else -scaled[c] for c in unknown))
        residual = math.fsum([plain[total], *(-plain[c] for c in members)])
        disagreement += abs(residual)
    m = len(hidden)
    matrix = coo_array((vals, (rows, cols)), shape=(len(rhs), m)).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m, len(rhs)
    lp.col_cost_ = np.zeros(m)
    low_bound = -highspy.kHighsInf if lower_bound is None else lower_bound / scale
    lp.col_lower_ = np.full(m, low_bound)
    lp.col_upper_ = np.full(m, highspy.kHighsInf)
    lp.row_lower_ = np.array(rhs, dtype=float)
    lp.row_upper_ = np.array(rhs, dtype=float)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = matrix.indptr
    lp.a_matrix_.index_ = matrix.indices
    lp.a_matrix_.value_ = matrix.data
    solver = _highs()
    solver.passModel(lp)
    intervals = {}
    for k, cell in enumerate(hidden):
        solver.changeColCost(k, 1.0)
        ends = []
        for sense in (highspy.ObjSense.kMinimize, highspy.ObjSense.kMaximize):
            solver.changeObjectiveSense(sense)
            ends.append(_solve(solver, highspy, sense) * scale)
        solver.changeColCost(k, 0.0)
        intervals[int(cell)] = _narrowed(
            ends[0], ends[1], disagreement, RESOLUTION * scale, lower_bound
        )
    return intervals


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


def exposed(intervals: dict[int, tuple[float, float]], protection: float = 0.0) -> list[int]:
    """Suppressed cells whose interval is a point (or no wider than PROTECTION): :func:`audit`
    has already made a point of every interval narrower than its resolution."""
    return [i for i, (low, high) in intervals.items() if high - low <= protection]


def heuristic(
    values,
    primary: np.ndarray,
    frozen: np.ndarray,
    rels,
    cost: np.ndarray,
    lower_bound: float | None = 0.0,
    protection: float = 0.0,
    max_rounds: int = 50,
) -> tuple[np.ndarray, dict]:
    """Suppressed cells (primary + secondary) so that no suppressed cell is exposed, and their
    audited intervals."""
    suppressed = primary.copy()
    if not suppressed.any():
        return suppressed, {}
    groups_of: dict[int, list[list[int]]] = {}  # each cell's relations, in the order of RELS
    for _ in range(max_rounds):
        changed = True
        while changed:
            changed = False
            for total, members in rels:
                group = [total] + members
                hidden = [c for c in group if suppressed[c]]
                if len(hidden) == 1:
                    choice = _cheapest(group, suppressed, frozen, cost)
                    if choice is None:
                        continue
                    suppressed[choice] = True
                    changed = True
        intervals = audit(values, suppressed, rels, lower_bound)
        bad = exposed(intervals, protection)
        if not bad:
            return suppressed, intervals
        if not groups_of:
            for total, members in rels:
                group = [total] + members
                for c in group:
                    groups_of.setdefault(c, []).append(group)
        widened = False
        for cell in bad:  # widen: one more cell near each exposed cell
            choice = _widen(cell, suppressed, frozen, groups_of, cost)
            if choice is not None:
                suppressed[choice] = True
                widened = True
        if not widened:
            break
    raise SdcError("secondary suppression did not converge; coarsen the table")


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
    protection: float = 1.0,
    time_limit: float = 60.0,
) -> np.ndarray:
    """The cheapest suppression pattern protecting every primary cell by PROTECTION both ways
    (the Fischetti-Salazar model: for each primary cell, deviations that the relations allow).

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
    if len(primaries) * n > OPTIMAL_LIMIT * 10:
        raise SdcError(
            f"optimal secondary suppression is for small tables ({n} cells and "
            f"{len(primaries)} unsafe cells given); use the heuristic"
        )
    if not len(primaries):
        return primary.copy()
    matrix = _system(n, rels).toarray()
    big = float(np.abs(values).sum()) + 1.0
    # past 2**20 (a million), HiGHS's absolute tolerances meet numbers of the table's size and
    # its solve can fail (costs in 1e12): the model is then written in a power-of-two unit
    # that keeps the big-M at 2**20 (exact; a table of ordinary size keeps its own units)
    unit = max(1.0, math.ldexp(1.0, math.frexp(big)[1] - 20))
    values = np.asarray(values, dtype=float) / unit
    big, protection = big / unit, protection / unit
    # variables: s (n binaries), then for each primary p: up (n), down (n) deviations
    blocks = 2 * len(primaries)
    total_vars = n + blocks * n
    a_rows, lower, upper = [], [], []

    def add(row, lo, hi):
        a_rows.append(row)
        lower.append(lo)
        upper.append(hi)

    for b in range(blocks):
        offset = n + b * n
        for relation in matrix:  # deviations keep every relation
            row = np.zeros(total_vars)
            row[offset : offset + n] = relation
            add(row, 0.0, 0.0)
        for c in range(n):  # a deviation only where suppressed: |y_c| <= M s_c, y_c >= -v_c s_c
            row = np.zeros(total_vars)
            row[offset + c] = 1.0
            row[c] = -big
            add(row, -np.inf, 0.0)
            row = np.zeros(total_vars)
            row[offset + c] = 1.0
            row[c] = max(values[c], 0.0) if values[c] >= 0 else big
            add(row, 0.0, np.inf)
        p = primaries[b // 2]
        row = np.zeros(total_vars)
        row[offset + p] = 1.0
        if b % 2 == 0:
            add(row, protection, np.inf)
        elif values[p] > 0:  # a cell cannot fall below zero: protect downwards what it can
            add(row, -np.inf, -min(protection, float(values[p])))
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
        constraints=LinearConstraint(np.array(a_rows), lower, upper),
        integrality=integrality,
        bounds=Bounds(low, high),
        options={"time_limit": time_limit},
    )
    if result.x is None:
        raise SdcError(f"optimal secondary suppression found no pattern: {result.message}")
    return result.x[:n] > 0.5
