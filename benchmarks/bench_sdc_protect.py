"""sdc.tables.protect of a 3-D table with margins (12 x 8 x 3 cells, 468 with margins): counts
with a sparse diagonal of rare cells, and sums with 20 dominant records, so that protection
levels and insider (singleton) protection are exercised. And a protected crosstab of the mean
over 1,000,000 rows with each record's person (300,000 people) as the holding, against the same
by records. No target yet: the figures are kept to see what protection costs."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_sdc_crosstab import data as million  # noqa: E402
from common import report, timed  # noqa: E402

from sdc import Policy, safe, tables  # noqa: E402


def data(n: int = 20_000) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    frame = pd.DataFrame(
        {"a": rng.integers(0, 12, n), "b": rng.integers(0, 8, n), "c": rng.integers(0, 3, n)}
    )
    rare = (frame.a * 7 + frame.b * 3 + frame.c) % 13 == 0
    frame = frame[rng.random(n) < np.where(rare, 0.02, 1.0)].copy()
    frame["v"] = rng.lognormal(3, 1, len(frame))
    frame.loc[frame.index[:20], "v"] = 1e6
    return frame


def main() -> None:
    frame = data()
    policy = Policy(zeros_disclosive=False, rounding_base=1)
    figures: dict[str, object] = {}
    for name, values, aggfunc in (("count", None, "count"), ("sum", "v", "sum")):
        table = tables.build(frame, ["a"], ["b", "c"], values=values, aggfunc=aggfunc)
        seconds, protected = timed(lambda t=table: tables.protect(t, policy), repeat=2)
        figures[f"{name}_cells"] = len(table.cells)
        figures[f"{name}_primary"] = int((protected.cells.status == "u").sum())
        figures[f"{name}_suppressed"] = protected.suppressed
        figures[f"{name}_s"] = round(seconds, 3)
    rows = million()
    person = np.random.default_rng(1).integers(0, 300_000, len(rows))

    def crosstab(holding):
        return safe.crosstab(rows.row, rows.col, rows.value, aggfunc="mean", holding=holding)

    figures["crosstab_by_records_s"] = round(timed(lambda: crosstab(None), repeat=3)[0], 3)
    figures["crosstab_by_person_s"] = round(timed(lambda: crosstab(person), repeat=3)[0], 3)
    report("sdc_protect", **figures)


if __name__ == "__main__":
    main()
