"""sdc.safe.crosstab against pandas.crosstab: 1,000,000 rows, a 20 x 10 table of the mean of a
lognormal value with margins, rare categories and dominant contributors (so suppression and
secondary suppression happen). Target: at most 2x pandas. ACRO 1.0.2 is a second baseline when
it is installed beside the kit (pip install acro==1.0.2)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from common import report, timed  # noqa: E402

from sdc import safe  # noqa: E402


def data(n: int = 1_000_000) -> pd.DataFrame:
    rng = np.random.default_rng(42)
    rows = rng.integers(0, 19, n)
    rows[rng.random(n) < 0.00003] = 19  # a rare row category: ~30 records spread thin
    cols = rng.integers(0, 10, n)
    value = rng.lognormal(3, 1, n)
    value[rng.choice(n, 5, replace=False)] = 5e7  # dominant contributors
    return pd.DataFrame({"row": rows, "col": cols, "value": value})


def main() -> None:
    frame = data()
    plain, _ = timed(
        lambda: pd.crosstab(frame.row, frame.col, frame.value, aggfunc="mean", margins=True),
        repeat=3,
    )
    ours, out = timed(
        lambda: safe.crosstab(frame.row, frame.col, frame.value, aggfunc="mean"), repeat=3
    )
    figures = {
        "rows": len(frame),
        "cells": out.evidence["summary"]["cells"],
        "suppressed": out.suppressed,
        "baseline": "pandas.crosstab(aggfunc='mean', margins=True)",
        "pandas_s": round(plain, 3),
        "sdc_s": round(ours, 3),
        "ratio": round(ours / plain, 2),
        "target_ratio": 2.0,
    }
    try:
        import acro  # noqa: F401

        session = acro.ACRO(suppress=True)
        acro_s, _ = timed(
            lambda: session.crosstab(frame.row, frame.col, values=frame.value, aggfunc="mean")
        )
        figures.update(acro_s=round(acro_s, 3), acro_ratio=round(acro_s / plain, 2))
    except ImportError:
        figures["acro"] = "not installed beside the kit"
    report("sdc_crosstab", **figures)


if __name__ == "__main__":
    main()
