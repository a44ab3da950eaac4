"""Linkage accuracy and speed on the synthetic town's agency files with their ground truth.

Targets (issue): at 100,000 people, cross-agency pairwise precision >= 0.99 and recall >= 0.95
at the default threshold; 1,000,000 records per source end to end in under 3 minutes and 6 GB.
Baseline in the same process: deterministic linkage on NHS number alone (what a kit without
probabilistic linkage would do), on the same records.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from common import peak_rss_mb, report, timed  # noqa: E402

from linkage import dictionary  # noqa: E402
from linkage.linker import _cluster, _combined, evaluate, link_records, stable_ids  # noqa: E402
from linkage.sources import is_person_dataset, person_table  # noqa: E402
from tre.demo_data import generate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--no-tokens", action="store_true", help="Skip the hashed-token mode.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        town = Path(folder)
        generate(args.people, 3, town)
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
    seconds, linked = timed(lambda: link_records(frames))
    records = linked.records.assign(person_id=stable_ids(linked.records, None).to_numpy())
    accuracy = evaluate(records, truth)
    combined = _combined(frames)
    empty = linked.pairs.iloc[:0]
    nhs_only = _cluster(combined, empty)
    nhs_only = nhs_only.assign(person_id=stable_ids(nhs_only, None).to_numpy())
    baseline = evaluate(nhs_only, truth)
    from linkage.tokens import link_tokens, prepare

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
    report(
        "linkage",
        people=args.people,
        records=len(records),
        sources=len(frames),
        seconds=round(seconds, 1),
        peak_rss_mb=round(peak_rss_mb()),
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
