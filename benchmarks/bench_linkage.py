"""Linkage accuracy and speed on the synthetic town's agency files with their ground truth.

Targets (issue): at 100,000 people, cross-agency pairwise precision >= 0.99 and recall >= 0.95
at the default threshold; 1,000,000 records per source end to end in under 3 minutes and 6 GB.
Baseline in the same process: deterministic linkage on NHS number alone (what a kit without
probabilistic linkage would do), on the same records.

``--people N`` links the town's own agency files (about 1.2 records per person over six sources,
most of them A&E and school records). ``--per-source N --sources K`` measures the issue's size
target: K sources of N records each, drawn from a town of N people with each agency's own
identifier quality (the town's corruption of names, dates and postcodes), with their ground truth.
``--engine spark`` runs Splink on Spark instead of DuckDB (the spark extra).
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
from app.demo.data.generate import QUALITY, build_town, identifiers  # noqa: E402
from linkage import dictionary  # noqa: E402
from linkage.linker import _cluster, _combined, evaluate, link_records, stable_ids  # noqa: E402
from linkage.normalise import compact  # noqa: E402
from linkage.sources import is_person_dataset, person_table  # noqa: E402
from linkage.tokens import link_tokens, prepare  # noqa: E402


def town_files(people: int) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The person tables of the town's agency files, and their ground truth."""
    with tempfile.TemporaryDirectory() as folder:
        town = Path(folder)
        generate(people, 3, town)
        frames = {}
        for dataset, schema in dictionary.schemas().items():
            if is_person_dataset(schema):
                raw = pd.read_csv(town / f"{dataset}.csv", dtype=str, keep_default_na=False)
                frames[dataset] = person_table(
                    raw.assign(record_id=raw[schema.primary_key]), schema
                )
        truth = pd.read_csv(town / "truth" / "records.csv", dtype=str).rename(
            columns={"dataset": "source", "person_id": "true_person"}
        )
    return frames, truth


def per_source(records: int, sources: int) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """SOURCES sources of RECORDS records each, drawn (with repeats: an agency sees some people
    more than once) from a town of RECORDS people, each with its agency's identifier quality."""
    town = build_town(records, 3)
    rng = np.random.default_rng(5)
    frames, truths = {}, []
    for source in list(QUALITY)[:sources]:
        person = rng.integers(0, town.n, records)
        day = rng.integers(0, 365, records)
        ids = identifiers(town, person, day, QUALITY[source], rng)
        record_id = np.char.add(f"{source[:3]}-", np.arange(records).astype(str)).astype(object)
        dob = pd.Series(ids.dob.astype("datetime64[D]")).dt.strftime("%Y-%m-%d")
        frames[source] = compact(  # as the spine holds them: Arrow text
            pd.DataFrame(
                {
                    "record_id": record_id,
                    "given_name": ids.given,
                    "family_name": ids.family,
                    "date_of_birth": dob.where(pd.notna(ids.dob), None).to_numpy(),
                    "sex": ids.sex,
                    "postcode": ids.postcode,
                    "nhs_number": ids.nhs,
                }
            )
        )
        truths.append(
            pd.DataFrame({"source": source, "record_id": record_id, "true_person": person})
        )
    return frames, compact(pd.concat(truths, ignore_index=True).astype({"true_person": str}))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--per-source", type=int, help="Records in each source instead.")
    parser.add_argument("--sources", type=int, default=2, help="With --per-source: how many.")
    parser.add_argument("--engine", choices=["duckdb", "spark"], default="duckdb")
    parser.add_argument("--no-tokens", action="store_true", help="Skip the hashed-token mode.")
    args = parser.parse_args()
    if args.per_source:
        frames, truth = per_source(args.per_source, args.sources)
    else:
        frames, truth = town_files(args.people)
    ready_mb = peak_rss_mb()
    seconds, linked = timed(lambda: link_records(frames, engine=args.engine))
    linked_mb = peak_rss_mb()  # before the evaluation and the baseline add their own
    records = linked.records.assign(person_id=stable_ids(linked.records, None).to_numpy())
    accuracy = evaluate(records, truth)
    combined, _ = _combined(frames)
    empty = linked.pairs.iloc[:0]
    nhs_only = _cluster(combined, empty)
    nhs_only = nhs_only.assign(person_id=stable_ids(nhs_only, None).to_numpy())
    baseline = evaluate(nhs_only, truth)
    token_figures = {}
    if not args.no_tokens:
        key = b"benchmark-linkage-key-0123"
        tokens = {source: prepare(frame, key) for source, frame in frames.items()}
        token_seconds, by_tokens = timed(lambda: link_tokens(tokens))
        token_records = by_tokens.records.assign(
            person_id=stable_ids(by_tokens.records, None).to_numpy()
        )
        token_accuracy = evaluate(token_records, truth)
        token_figures = {
            "hashed_tokens_seconds": round(token_seconds, 1),
            "hashed_tokens_precision": round(token_accuracy["precision"], 4),
            "hashed_tokens_recall": round(token_accuracy["recall"], 4),
        }
    name = f"linkage-{args.per_source}x{args.sources}" if args.per_source else "linkage"
    report(
        name + ("-spark" if args.engine == "spark" else ""),
        people=args.per_source or args.people,
        records=len(records),
        sources=len(frames),
        engine=args.engine,
        seconds=round(seconds, 1),
        phases=linked.seconds,
        peak_rss_mb_before_linkage=round(ready_mb),
        peak_rss_mb=round(linked_mb),
        peak_rss_mb_with_evaluation=round(peak_rss_mb()),
        precision=round(accuracy["precision"], 4),
        recall=round(accuracy["recall"], 4),
        baseline="deterministic on NHS number only",
        baseline_precision=round(baseline["precision"], 4),
        baseline_recall=round(baseline["recall"], 4),
        estimated_false_match_rate=round(float((1 - linked.pairs.match_probability).mean()), 5),
        **token_figures,
    )


if __name__ == "__main__":
    main()
