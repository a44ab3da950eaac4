"""local_suppression to 3-anonymity on 100,000 rows x 5 keys: target under 30 s.
Baseline: one freq_counts of the same data (the unit of work the heuristic repeats)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from common import report, timed  # noqa: E402

import sdc  # noqa: E402

KEYS = ["region", "age", "sex", "ethnicity", "tenure"]


def data(n: int = 100_000) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    return pd.DataFrame(
        {
            "region": rng.integers(0, 30, n),
            "age": np.minimum(rng.gamma(4, 10, n).astype(int) // 5, 20),
            "sex": rng.integers(0, 2, n),
            "ethnicity": rng.choice(18, n, p=np.r_[0.6, np.full(17, 0.4 / 17)]),
            "tenure": rng.integers(0, 5, n),
        }
    )


def main() -> None:
    frame = data()
    before = sdc.kanon_violations(frame, KEYS, 3)
    baseline, _ = timed(lambda: sdc.freq_counts(frame, KEYS))
    seconds, result = timed(lambda: sdc.local_suppression(frame, KEYS, k=3))
    after = sdc.kanon_violations(result.data, KEYS, 3)
    report(
        "sdc_suppression",
        rows=len(frame),
        keys=len(KEYS),
        violations_before=before,
        violations_after=after,
        suppressed=result.suppressed,
        baseline="one freq_counts",
        baseline_s=round(baseline, 3),
        seconds=round(seconds, 2),
        ratio=round(seconds / baseline, 1),
        target_s=30,
    )


if __name__ == "__main__":
    main()
