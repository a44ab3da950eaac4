"""Helpers for the benchmark scripts: timing, peak memory, and one line of results each."""

from __future__ import annotations

import json
import resource
import time
from collections.abc import Callable
from pathlib import Path

OUT = Path(__file__).parent / "out"


def timed(function: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    """Best wall-clock time of `repeat` runs, and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(name: str, **figures: object) -> None:
    """Print the figures and keep them in benchmarks/out/NAME.json for the record."""
    OUT.mkdir(exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
    print(f"{name}: " + ", ".join(f"{key}={value}" for key, value in figures.items()))
