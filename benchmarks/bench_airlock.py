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
from output_checks.tables import parse_table
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
        ledger, outcomes = Ledger(), []
        for path in paths:
            results = checks.check_file(path, policy, set(), 20 << 20, 5000, [])
            table = parse_table(path.read_bytes(), path.suffix)  # the airlock's own reading
            assert table is not None
            results.append(differencing(table, ledger, policy))
            ledger.add(path.name, table)
            outcomes.append(checks.outcome_of(results))
        checks_s = time.perf_counter() - started
    report(
        "airlock",
        tables=TABLES,
        rows=ROWS,
        checks_s=round(checks_s, 2),
        pandas_crosstabs_s=round(pandas_s, 2),
        ratio_to_pandas=round(checks_s / pandas_s, 2),
        outcomes={k: int(v) for k, v in pd.Series(outcomes).value_counts().items()},
        target="checks_s < 5",
    )


if __name__ == "__main__":
    main()
