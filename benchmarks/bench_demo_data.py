"""Synthetic town generation: 1,000,000 people in under 60 s on this 2-core machine.

Baseline, in the same process: pandas writing one CSV of 1,000,000 rows x 10 columns of random
values (`DataFrame.to_csv`), the plainest comparable job. The ratio says how many such writes the
whole generator (a town, six agencies' extracts, lookups and the ground truth) costs.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from common import peak_rss_mb, report, timed  # noqa: E402

from app.demo.data import generate  # noqa: E402


def plain_pandas_write(rows: int, folder: Path) -> None:
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.random((rows, 10)), columns=[f"c{i}" for i in range(10)])
    frame.to_csv(folder / "baseline.csv", index=False)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        baseline, _ = timed(lambda: plain_pandas_write(args.people, Path(folder)))
        seconds, town = timed(lambda: generate(args.people, 2026, Path(folder) / "town"))
        rows = sum(meta["rows"] for meta in town.files.values())
    report(
        "demo_data",
        people=args.people,
        rows_written=rows,
        seconds=round(seconds, 2),
        target_seconds=60,
        baseline="pandas to_csv 1M x 10",
        baseline_seconds=round(baseline, 2),
        ratio=round(seconds / baseline, 2),
        peak_rss_mb=round(peak_rss_mb()),
    )


if __name__ == "__main__":
    main()
