"""The airlock's automatic checks of a request of 50 tables built from 1,000,000-row data.

Target: under 5 s for all 50 files (evidence re-check, file verification, content sniffing,
microdata scan, and differencing by content against a ledger that grows to 49 tables); and the
joint audit of one table with 1,000 released ones, of layers of released 3-D tables (slices), of
a table searched for groupings against 50 released ones, and at its cap.
Baseline in the same process: making the same 50 tables with `pandas.crosstab` (what an
analyst's kernel spends on them).
"""

from __future__ import annotations

import tempfile
import time
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
from common import report

from output_checks import checks
from output_checks.joint import joint_audit
from output_checks.ledger import Ledger, differencing
from output_checks.tables import Table, parse_table
from sdc import safe
from sdc.policy import Policy

ROWS, TABLES = 1_000_000, 50


def main() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "area": rng.integers(0, 40, ROWS).astype(str),
            "age": rng.integers(0, 11, ROWS).astype(str),
            "agency": rng.choice(["A&E", "police", "fire", "csc", "school"], ROWS),
            "month": rng.integers(1, 13, ROWS).astype(str),
            "value": rng.gamma(2, 10, ROWS),
        }
    )
    pairs = [
        ("area", "agency"),
        ("age", "agency"),
        ("month", "agency"),
        ("area", "age"),
        ("month", "age"),
    ]
    policy = Policy()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        for i in range(TABLES):
            rows, cols = pairs[i % len(pairs)]
            pd.crosstab(frame[rows], frame[cols])
        pandas_s = time.perf_counter() - started
        paths = []
        for i in range(TABLES):
            rows, cols = pairs[i % len(pairs)]
            sample = frame if i < 5 else frame.iloc[: ROWS - i * 1000]
            path = folder / f"table-{i:02d}.csv"
            safe.crosstab(sample[rows], sample[cols], policy=policy).save(path)
            paths.append(path)
        started = time.perf_counter()
        ledger, outcomes, differencing_s = Ledger(), [], 0.0
        for path in paths:
            results = checks.check_file(path, policy, set(), 20 << 20, 5000, [])
            compared = time.perf_counter()
            table = parse_table(path.read_bytes(), path.suffix)  # the airlock's own reading
            assert table is not None
            results.append(differencing(table, ledger, policy))
            ledger.add(path.name, table)
            differencing_s += time.perf_counter() - compared
            outcomes.append(checks.outcome_of(results))
        checks_s = time.perf_counter() - started
    ledger_ms, joint_ms = _against_a_long_ledger()
    report(
        "airlock",
        tables=TABLES,
        rows=ROWS,
        checks_s=round(checks_s, 2),
        differencing_s=round(differencing_s, 2),
        ms_per_table_against_1000_released=round(ledger_ms, 1),
        joint_ms_per_table_against_1000_released=round(joint_ms, 1),
        joint_s_20_tables_sharing_every_cell=round(joint_worst_case(), 2),
        joint_ms_per_slice_against_1000_released=round(joint_slices(), 1),
        joint_ms_per_table_against_50_classifications=round(joint_groupings(), 1),
        pandas_crosstabs_s=round(pandas_s, 2),
        ratio_to_pandas=round(checks_s / pandas_s, 2),
        outcomes={k: int(v) for k, v in pd.Series(outcomes).value_counts().items()},
        target="checks_s < 5",
    )


def _against_a_long_ledger() -> tuple[float, float]:
    """Milliseconds to compare one new table with a ledger of 1,000 released tables over 100
    classifications (ten tables each): the signature index offers it only the few it could
    match; and to audit it jointly with them (only the tables joined to it enter)."""
    rng = np.random.default_rng(2)
    classes = [[f"c{c}-{i}" for i in range(int(rng.integers(3, 12)))] for c in range(100)]

    def table(rows: list[str], cols: list[str]) -> Table:
        cells = {(r, c): float(rng.integers(4, 60) * 5) for r in rows for c in cols}
        return Table(["rows", "columns"], cells, None, "counts")

    ledger = Ledger(
        (f"t{i}", table(classes[i % 100], classes[(i * 7 + 3) % 100])) for i in range(1000)
    )
    new = [table(classes[i], classes[(i * 7 + 3) % 100]) for i in range(20)]
    started = time.perf_counter()
    for candidate in new:
        differencing(candidate, ledger, Policy())
    compared_ms = 1000 * (time.perf_counter() - started) / len(new)
    released = [(k.name, k.table) for k in ledger.known]
    started = time.perf_counter()
    for i, candidate in enumerate(new):
        joint_audit([(f"new-{i}", candidate)], released, Policy())
    return compared_ms, 1000 * (time.perf_counter() - started) / len(new)


def joint_slices(audit=joint_audit) -> float:
    """Milliseconds to audit jointly a table of 2 (or 1) dimensions against 1,000 released
    tables over 100 classifications, half of them of 3 dimensions: each released table sharing
    its labels with more dimensions is tried slice by slice (one category of each dimension it
    leaves out). Half the new tables are a layer (or one row of a layer) of a released table,
    the others other people with the same labels. AUDIT: the joint audit to time."""
    rng = np.random.default_rng(4)
    classes = [[f"c{c}-{i}" for i in range(int(rng.integers(3, 8)))] for c in range(100)]

    def margins(inner: dict[tuple[str, ...], float]) -> dict[tuple[str, ...], float | None]:
        found: dict[tuple[str, ...], float | None] = {}
        for key, value in inner.items():  # every cell and every margin of it
            for summed in product([False, True], repeat=len(key)):
                total = tuple("Total" if s else k for k, s in zip(key, summed, strict=True))
                found[total] = (found.get(total) or 0.0) + value
        return found

    released, inners = [], []
    for i in range(1000):
        dims = [classes[i % 100], classes[(i * 7 + 3) % 100]]
        if i % 2:
            dims.append(classes[(i * 11 + 5) % 100])
        inner = {key: float(rng.integers(4, 60)) for key in product(*dims)}
        names = ["rows", "columns", "year"][: len(dims)]
        released.append((f"t{i}", Table(names, margins(inner), "Total", "counts")))
        inners.append(inner)
    new = []
    for i in range(20):
        cube = inners[2 * i + 1]
        category = next(iter(cube))[2]
        layer = {k[:2]: v for k, v in cube.items() if k[2] == category}
        if i % 4 == 1:  # one row of the layer, as a table of one dimension
            row = next(iter(layer))[0]
            layer = {k[1:]: v for k, v in layer.items() if k[0] == row}
        if i % 2:  # other people with the same labels
            layer = {k: v + 1.0 for k, v in layer.items()}
        names = ["rows", "columns"][: len(next(iter(layer)))]
        new.append(Table(names, margins(layer), "Total", "counts"))
    started = time.perf_counter()
    for i, candidate in enumerate(new):
        audit([(f"new-{i}", candidate)], released, Policy())
    return 1000 * (time.perf_counter() - started) / len(new)


def joint_groupings(audit=joint_audit) -> float:
    """Milliseconds to audit jointly a table by sex × agency against 50 released tables of the
    same 5,000 people by 50 other classifications × agency (4 to 11 categories, the same agency
    totals): each is searched for a grouping of its categories into the two sexes (none fits).
    AUDIT: the joint audit to time."""
    rng = np.random.default_rng(5)
    agencies = ["police", "fire", "school", "health", "housing"]

    def table(categories: list[str], name: str) -> Table:
        inner: dict[tuple[str, ...], float | None] = {}
        left = np.full(len(agencies), 1000)
        for k, category in enumerate(categories):
            share = left if k == len(categories) - 1 else rng.integers(5, left // 2 + 6)
            share = np.minimum(share, left)
            left = left - share
            inner |= {(category, g): float(v) for g, v in zip(agencies, share, strict=True)}
        cells = dict(inner)
        for c in categories:
            cells[(c, "Total")] = sum(inner[(c, g)] or 0.0 for g in agencies)
        for g in agencies:
            cells[("Total", g)] = sum(inner[(c, g)] or 0.0 for c in categories)
        cells[("Total", "Total")] = sum(v or 0.0 for v in inner.values())
        return Table([name, "columns"], cells, "Total", "counts")

    released = [
        (f"t{k}", table([f"k{k}-{i}" for i in range(int(rng.integers(4, 12)))], f"d{k}"))
        for k in range(50)
    ]
    new = [(f"new-{i}", table([f"s{i}-a", f"s{i}-b"], "sex")) for i in range(5)]
    audit(new[:1], released, Policy(rounding_base=0))  # scipy's first import, once a process
    started = time.perf_counter()
    for candidate in new:
        audit([candidate], released, Policy(rounding_base=0))
    return 1000 * (time.perf_counter() - started) / len(new)


def joint_worst_case() -> float:
    """Seconds to audit jointly one table of 30 × 30 cells with margins against 19 others of
    the same people (every cell shared), each hiding 15 rectangles of four cells: about as
    large as the joint audit takes (19,220 cells; its cap is 20,000)."""
    rng = np.random.default_rng(3)
    rows, cols = [f"r{i}" for i in range(30)], [f"k{j}" for j in range(30)]
    truth = {(r, c): float(rng.integers(5, 40)) for r in rows for c in cols}
    tables = []
    for t in range(20):
        cells: dict[tuple[str, ...], float | None] = dict(truth)
        for r in rows:
            cells[(r, "Total")] = sum(truth[(r, c)] for c in cols)
        for c in cols:
            cells[("Total", c)] = sum(truth[(r, c)] for r in rows)
        cells[("Total", "Total")] = sum(truth.values())
        for _ in range(15):
            i, j = rng.choice(30, 2, replace=False)
            k, m = rng.choice(30, 2, replace=False)
            for a in (i, j):
                for b in (k, m):
                    cells[(rows[a], cols[b])] = None
        tables.append((f"t{t}", Table(["rows", "columns"], cells, "Total", "counts")))
    started = time.perf_counter()
    joint_audit(tables[:1], tables[1:], Policy(rounding_base=0))
    return time.perf_counter() - started


if __name__ == "__main__":
    main()
