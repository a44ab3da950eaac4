"""The cost of the airlock's check *counts from sums* (``output_checks/derived.py``) on a large
project ledger, against the differencing check run beside it on the same tables (baseline,
``output_checks.ledger.differencing``, same process).

A ledger of TABLES released tables of sums over 200 areas × 10 age bands (2,000 cells each, with
the true counts the airlock's replay computed), and one requested table of sums: once where every
table counts one population (the usual case: one extract, several variables) and once where each
table counts a population of its own (the worst case: every table's counts are tried). Built by
code with a fixed seed.

Run: ``.venv/bin/python benchmarks/bench_derived.py [TABLES]``
"""

from __future__ import annotations

import functools
import sys

import numpy as np
from common import report, timed

from output_checks.derived import derived_counts
from output_checks.ledger import Ledger, differencing
from output_checks.tables import Table
from sdc.policy import Policy

SEED = 23
AREAS = [f"E0100{i:04d}" for i in range(200)]
BANDS = [f"band{j}" for j in range(10)]


def tables(count: int, own_population: bool) -> list[tuple[str, Table]]:
    rng = np.random.default_rng(SEED)
    keys = [(a, b) for a in AREAS for b in BANDS]
    shared = rng.integers(10, 100, len(keys)).astype(float)
    made = []
    for i in range(count + 1):
        counts = rng.integers(10, 100, len(keys)).astype(float) if own_population else shared
        sums = counts * rng.uniform(50, 500, len(keys))
        made.append(
            (
                f"t{i}.csv",
                Table(
                    dims=["area", "band"],
                    cells=dict(zip(keys, sums.tolist(), strict=True)),
                    kind="values",
                    counts=dict(zip(keys, counts.tolist(), strict=True)),
                    statistic="sum",
                ),
            )
        )
    return made


def main(count: int = 100) -> None:
    policy = Policy()
    figures: dict[str, object] = {"tables": count, "cells_each": len(AREAS) * len(BANDS)}
    for case, own in (("one_population", False), ("own_populations", True)):
        made = tables(count, own)
        request, others = made[0], made[1:]
        ledger = Ledger(others)
        base, _ = timed(functools.partial(differencing, request[1], ledger, policy), repeat=3)
        ours, checks = timed(functools.partial(derived_counts, [request], others, policy), repeat=3)
        assert checks[request[0]].outcome == "pass"
        figures[f"{case}_seconds"] = round(ours, 3)
        figures[f"{case}_differencing_seconds"] = round(base, 3)
        figures[f"{case}_ratio_to_differencing"] = round(ours / base, 2)
    report("derived", **figures)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
