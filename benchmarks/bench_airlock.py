"""The airlock's automatic checks of a request of 50 tables built from 1,000,000-row data.

Target: under 5 s for all 50 files (evidence re-check, file verification, content sniffing,
microdata scan, and differencing by content against a ledger that grows to 49 tables).
Baseline in the same process: making the same 50 tables with `pandas.crosstab` (what an
analyst's kernel spends on them).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import report

from output_checks import checks
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
    ledger_ms = _against_a_long_ledger()
    report(
        "airlock",
        tables=TABLES,
        rows=ROWS,
        checks_s=round(checks_s, 2),
        differencing_s=round(differencing_s, 2),
        ms_per_table_against_1000_released=round(ledger_ms, 1),
        pandas_crosstabs_s=round(pandas_s, 2),
        ratio_to_pandas=round(checks_s / pandas_s, 2),
        outcomes={k: int(v) for k, v in pd.Series(outcomes).value_counts().items()},
        target="checks_s < 5",
    )


def _against_a_long_ledger() -> float:
    """Milliseconds to compare one new table with a ledger of 1,000 released tables over 100
    classifications (ten tables each): the signature index offers it only the few it could
    match."""
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
    return 1000 * (time.perf_counter() - started) / len(new)


if __name__ == "__main__":
    main()
