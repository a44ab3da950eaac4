"""sdc.tables.protect of a 40 x 30 x 5 count table with margins (7,626 cells, 26 unsafe cells
of 2 to 9 records), with and without the clean-up.

Each variant runs in a child process forked from this one (so each has its own peak memory,
read from the child's resource usage) and the ratios compare them in the same run: "before"
is the heuristic without the clean-up (what tables of more than 2,000 cells got before the
clean-up's points and insiders were decided by algebra), "after" the default. The seed
(1 unless given) draws the counts; with 11 the repairs did not converge before a point still
exposed after one widening was opened by the cheapest move through it (docs/sdc.md).
Usage: bench_sdc_large.py [repeat] [seed]."""

from __future__ import annotations

import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from common import report  # noqa: E402

from sdc import Policy, tables  # noqa: E402
from sdc.tables import secondary  # noqa: E402

UNSAFE = 26


SEED = 1  # the command line's second argument, when run as a script (imported: 1)


def data() -> pd.DataFrame:
    """Records whose 40 x 30 x 5 counts are about 40 each, except 26 cells of 2 to 9."""
    rng = np.random.default_rng(SEED)
    counts = rng.poisson(40, (40, 30, 5))
    counts = np.maximum(counts, 10)
    rare = rng.choice(counts.size, UNSAFE, replace=False)
    counts.flat[rare] = rng.integers(2, 10, UNSAFE)
    a, b, c = np.indices(counts.shape).reshape(3, -1)
    repeat = counts.reshape(-1)
    return pd.DataFrame(
        {"a": np.repeat(a, repeat), "b": np.repeat(b, repeat), "c": np.repeat(c, repeat)}
    )


def run(cleanup: bool) -> dict:
    """Protect the table in a forked child, with or without the clean-up: suppressed cells,
    seconds and the child's peak RSS."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read)
        if not cleanup:
            secondary.clean_up = lambda values, suppressed, *rest, **named: suppressed.copy()
        table = tables.build(data(), ["a"], ["b", "c"])
        started = time.perf_counter()
        protected = tables.protect(table, Policy(zeros_disclosive=False, rounding_base=1))
        seconds = time.perf_counter() - started
        figures = {
            "cells": len(table.cells),
            "unsafe": int((protected.cells.status == "u").sum()),
            "suppressed": protected.suppressed,
            "s": round(seconds, 2),
            "note": protected.method["note"],
        }
        with os.fdopen(write, "wb") as out:
            pickle.dump(figures, out)
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as got:
        figures = pickle.load(got)
    _, status, usage = os.wait4(pid, 0)
    if status:
        raise SystemExit(f"the child failed: status {status}")
    figures["peak_mib"] = round(usage.ru_maxrss / 1024, 1)
    return figures


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    before = min((run(False) for _ in range(repeat)), key=lambda f: f["s"])
    after = min((run(True) for _ in range(repeat)), key=lambda f: f["s"])
    figures = (
        {"seed": SEED}
        | {f"before_{k}": v for k, v in before.items()}
        | {f"after_{k}": v for k, v in after.items()}
    )
    figures["suppressed_ratio"] = round(after["suppressed"] / before["suppressed"], 3)
    figures["time_ratio"] = round(after["s"] / before["s"], 2)
    figures["memory_ratio"] = round(after["peak_mib"] / before["peak_mib"], 2)
    report("sdc_large", **figures)


if __name__ == "__main__":
    SEED = int(sys.argv[2]) if len(sys.argv) > 2 else SEED
    main()
