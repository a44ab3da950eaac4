"""The demo's data step: ingest every agency file, link the person datasets, and measure the
linkage against the synthetic town's ground truth (which only a demo has)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from app.demo.data.generate import PERIOD_END
from linkage import dictionary, spine
from linkage.extract import Extract, extract, load_lookup
from linkage.ingest import ingest
from linkage.linker import evaluate
from tre.instance import Instance


@dataclass
class DataDemo:
    rows: int
    accepted: int
    quarantined: int
    linkage: spine.LinkageRun
    accuracy: dict[str, float]
    extract: Extract


def run(instance: Instance, town: Path, actor: str, project: str) -> DataDemo:
    rows = accepted = quarantined = 0
    for dataset in dictionary.schemas():
        result = ingest(instance, dataset, town / f"{dataset}.csv", actor)
        rows, accepted = rows + result.rows, accepted + result.accepted
        quarantined += result.quarantined
    linkage = spine.run(instance, actor, ages_on=PERIOD_END.astype(object))
    load_lookup(instance, town / "postcode_lsoa.csv", actor)
    load_lookup(instance, town / "lsoa_population.csv", actor)
    cut = extract(instance, project, actor)
    truth = pd.read_csv(town / "truth" / "records.csv", dtype=str).rename(
        columns={"dataset": "source", "person_id": "true_person"}
    )
    linked = pd.read_parquet(linkage.spine)
    return DataDemo(rows, accepted, quarantined, linkage, evaluate(linked, truth), cut)
