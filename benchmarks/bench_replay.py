"""The airlock's replay of a table: a 20 x 10 count table over 1,000,000 rows, verified by the
airlock making it again in its own process (re-hash the extract, locked-down DuckDB, build,
compare) against building it in the analyst's kernel.

Baseline in the same process: ``safe.sql(...).crosstab(...)`` in-process, what the analyst's
kernel spends making the same table from the same extract (query and protection included).
Also printed: a bare ``pandas.crosstab`` of the same rows, the replay process's start-up
(importing sdc, pandas and DuckDB in a fresh interpreter), the fixed cost of every replay, and a
request of ten such tables (one replay process per request) against ten in-process builds.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from common import peak_rss_mb, report, timed

from output_checks import replay
from output_checks.checks import CheckOutcome
from sdc import safe
from sdc.policy import Policy

ROWS = 1_000_000
QUERY = "SELECT area, agency FROM contacts WHERE month >= '2025-04'"


def extract(folder: Path) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "person": [f"P{i:07d}" for i in rng.integers(0, 400_000, ROWS)],
            "area": np.char.add("E0", rng.integers(100, 120, ROWS).astype(str)),
            "agency": rng.choice([f"agency {i}" for i in range(10)], ROWS),
            "month": rng.choice([f"2025-{m:02d}" for m in range(1, 13)], ROWS),
            "cost": rng.lognormal(6, 1, ROWS),
        }
    )
    frame.loc[:2, "area"] = "E0999"  # a row category of three records: suppression happens
    path = folder / "contacts.parquet"
    frame.to_parquet(path, index=False)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = {"files": [{"file": path.name, "dataset": "contacts", "sha256": digest}]}
    (folder / "manifest.json").write_text(json.dumps(manifest))


def main() -> None:
    policy = Policy()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "data"
        folder.mkdir()
        extract(folder)
        frame = pd.read_parquet(folder / "contacts.parquet")
        rows = frame[frame.month >= "2025-04"]
        pandas_s, _ = timed(lambda: pd.crosstab(rows.area, rows.agency, margins=True), repeat=3)

        def in_process() -> safe.SafeOutput:
            return safe.sql(QUERY, policy, extract=folder).crosstab("area", "agency")

        kernel_s, output = timed(in_process, repeat=3)
        path = output.save(Path(tmp) / "out" / "table.csv")
        sidecar = replay.read_sidecar(path)

        def replayed() -> tuple:
            return replay.verify(path, sidecar, folder, policy)

        replay_s, (check, _evidence) = timed(replayed, repeat=3)
        assert check.outcome == CheckOutcome.PASS, check.explanation
        # a request of ten such tables: one replay process, the query's rows shared
        batch_s, results = timed(lambda: replay.verify_all([(path, sidecar)] * 10, folder, policy))
        assert all(c.outcome == CheckOutcome.PASS for c, _ in results)
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-I", "-c", "import duckdb, pandas, sdc.safe, sdc.query"], check=True
        )
        startup_s = time.perf_counter() - started
    report(
        "replay",
        rows=ROWS,
        cells=output.evidence["summary"]["cells"],
        suppressed=output.suppressed,
        pandas_crosstab_s=round(pandas_s, 3),
        in_process_s=round(kernel_s, 3),
        replay_s=round(replay_s, 3),
        replay_process_startup_s=round(startup_s, 3),
        ratio_to_in_process=round(replay_s / kernel_s, 2),
        request_of_10_tables_s=round(batch_s, 3),
        ratio_10_to_in_process=round(batch_s / (10 * kernel_s), 2),
        peak_rss_mb=round(peak_rss_mb()),
    )


if __name__ == "__main__":
    main()
