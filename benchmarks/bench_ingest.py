"""Ingest: at least 200,000 rows a second validated and stored for a typical agency CSV.

Data: the A&E attendances of a synthetic town of 1,000,000 people (about 350,000 rows, 11
columns, dates, enums, NHS numbers with check digits, postcodes). Baseline in the same process:
Frictionless 5 validating the same file against the same schema (rows a second on a sample,
since it validates row by row in Python).
"""

from __future__ import annotations

import sys
import tempfile
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import report, timed  # noqa: E402

from app.demo import projects as demo_projects  # noqa: E402
from app.demo.data import generate  # noqa: E402
from app.schema import init_instance  # noqa: E402
from linkage import dictionary  # noqa: E402
from linkage.ingest import ingest  # noqa: E402


def frictionless_rate(path: Path, rows: int = 20_000) -> float | None:
    try:
        import frictionless
    except ImportError:
        return None
    sample = path.with_name("sample.csv")
    with open(path, encoding="utf-8") as source, open(sample, "w", encoding="utf-8") as out:
        for number, line in enumerate(source):
            if number > rows:
                break
            out.write(line)
    schema = dictionary.get("ae_attendances")
    descriptor = {
        "fields": [
            {k: v for k, v in f.items() if not k.startswith("x-")}
            for f in __import__("json").loads(schema.path.read_text())["fields"]
        ]
    }
    resource = frictionless.Resource(
        path=sample.name,
        basepath=str(sample.parent),
        schema=frictionless.Schema.from_descriptor(descriptor),
    )
    seconds, checked = timed(lambda: resource.validate(limit_errors=10**9))
    stats = checked.tasks[0].stats
    if not stats.get("rows"):
        raise RuntimeError(f"frictionless did not validate the sample: {checked.tasks[0].errors}")
    return stats["rows"] / seconds


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        generate(1_000_000, 5, folder / "town")
        path = folder / "town" / "ae_attendances.csv"
        instance = init_instance(folder / "instance")
        demo_projects.populate(instance, "bench", date(2026, 6, 1))
        seconds, result = timed(lambda: ingest(instance, "ae_attendances", path, "bench"))
        baseline = frictionless_rate(path)
    rate = result.rows / seconds
    figures = {
        "rows": result.rows,
        "accepted": result.accepted,
        "quarantined": result.quarantined,
        "seconds": round(seconds, 2),
        "rows_per_second": round(rate),
        "target_rows_per_second": 200_000,
    }
    if baseline:
        figures.update(
            baseline="frictionless 5 validate (rows/s on a 20,000-row sample)",
            frictionless_rows_per_second=round(baseline),
            ratio=round(rate / baseline, 1),
        )
    else:
        figures["baseline"] = "frictionless not installed (make bench installs it)"
    report("ingest", **figures)


if __name__ == "__main__":
    main()
