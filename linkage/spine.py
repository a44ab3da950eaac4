"""The trusted linkage step on an instance: the person spine.

It reads the identifiers that ingest set apart (the operator's area), links every person dataset
with :mod:`linkage.linker`, keeps person ids stable across runs, and writes:

* ``store/_spine/spine.parquet``: source, record_id, person_id, match_probability (no
  identifier: the only thing that leaves the linkage step);
* ``identifiers/_linkage/RUN/model.json``: the trained model, versioned and reused;
* ``identifiers/_linkage/RUN/clerical-review.csv``: borderline pairs for clerical review
  (operator only, since it shows identifiers);
* ``reports/linkage-RUN.html``: link rates per agency pair, the match-probability distribution,
  the estimated false-match rate, and whether unlinked records differ from linked ones.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sqlalchemy import select

from linkage import TEMPLATES, dictionary, normalise
from linkage.events import LinkageEvent
from linkage.linker import REVIEW_FLOOR, Linked, check_engine, link_records, stable_ids
from linkage.models import Ingest
from linkage.sources import is_person_dataset, other_identifiers, person_table
from linkage.tokens import TOKEN_COLUMNS, is_token_file, link_tokens, prepare
from tre import audit
from tre.audit import utc_now
from tre.errors import TreError
from tre.instance import Instance
from tre.templating import render

SPINE = "_spine"
DESCRIBED = ("date_of_birth", "sex", "postcode")  # what the bias table compares


class SpineError(TreError):
    """The linkage step cannot run."""


@dataclass
class LinkageRun:
    run: str
    records: int
    people: int
    sources: list[str]
    estimated_false_match_rate: float
    report: Path
    spine: Path
    model: Path
    mode: str = "clear"  # or "tokens"


def latest_ingests(instance: Instance) -> dict[str, Ingest]:
    with instance.db.session() as session:
        rows = session.scalars(select(Ingest).order_by(Ingest.at))
        return {row.dataset: row for row in rows}


def read_parts(folder: Path) -> pd.DataFrame:
    parts = sorted(folder.glob("*.parquet"))
    if not parts:
        return pd.DataFrame()
    return pd.concat([pq.read_table(p).to_pandas() for p in parts], ignore_index=True)


@dataclass
class PersonTables:
    """Every person dataset's identifiers: each dataset's person table (for token files, only
    the quasi-identifiers the payload also holds) and, for datasets that arrived as token
    files, their tokens."""

    people: dict[str, pd.DataFrame]
    tokens: dict[str, pd.DataFrame]
    # the other identifiers the schemas add (linker column -> concept)
    concepts: dict[str, str] = field(default_factory=dict)

    @property
    def clear(self) -> list[str]:
        return sorted(set(self.people) - set(self.tokens))


def person_tables(instance: Instance) -> PersonTables:
    """Every person dataset's identifiers, from all its ingests (a month added to a year)."""
    people, tokens, concepts = {}, {}, {}
    with instance.db.session() as session:
        ingests = list(session.scalars(select(Ingest).order_by(Ingest.at)))
    for schema in dictionary.schemas().values():
        if not is_person_dataset(schema):
            continue
        mine = [i for i in ingests if i.dataset == schema.id]
        if not mine:
            continue
        parts = [read_parts(instance.folder("identifiers") / schema.id / i.id) for i in mine]
        kinds = {is_token_file(list(part.columns)) for part in parts if not part.empty}
        if len(kinds) > 1:
            raise SpineError(
                f"{schema.id} was ingested both as token files and in the clear; its "
                "ingests must all be one or the other (ask its agency to prepare every file)"
            )
        raw = pd.concat(parts, ignore_index=True).drop_duplicates("record_id", keep="last")
        people[schema.id] = person_table(raw, schema)
        concepts |= other_identifiers(schema)
        if kinds == {True}:
            tokens[schema.id] = raw[["record_id", *TOKEN_COLUMNS]].replace("", None)
    return PersonTables(people, tokens, concepts)


def current_spine(instance: Instance) -> pd.DataFrame | None:
    path = instance.folder("store") / SPINE / "spine.parquet"
    return pq.read_table(path).to_pandas() if path.exists() else None


def latest_model(instance: Instance, mode: str = "clear") -> dict | None:
    """The model of the newest linkage run in MODE (clear or tokens), to reuse."""
    folder = instance.folder("identifiers") / "_linkage"
    for model in sorted(folder.glob("*/model.json"), reverse=True) if folder.exists() else []:
        about = model.parent / "run.json"
        made = json.loads(about.read_text()).get("mode", "clear") if about.exists() else "clear"
        if made == mode:
            return json.loads(model.read_text())
    return None


def _link(
    tables: PersonTables,
    instance: Instance,
    threshold: float,
    retrain: bool,
    key: bytes | None,
    engine: str,
) -> tuple[str, Linked, bool]:
    """The mode (clear or tokens), the linkage, and whether an earlier model was reused."""
    if not tables.tokens and key is None:
        model = None if retrain else latest_model(instance, "clear")
        linked = link_records(
            tables.people,
            threshold,
            model=model,
            train=model is None,
            engine=engine,
            concepts=tables.concepts,
        )
        return "clear", linked, model is not None
    if tables.clear and key is None:
        raise SpineError(
            f"{', '.join(sorted(tables.tokens))} arrived as token files but "
            f"{', '.join(tables.clear)} in the clear: one linkage needs one kind. Ask those "
            "agencies to send token files (`tre linkage prepare`), or give the agencies' key "
            "with --key to tokenise the clear ones for this run (the key is not kept)"
        )
    frames = dict(tables.tokens)
    for source in tables.clear:
        frames[source] = prepare(tables.people[source], key)
    model = None if retrain else latest_model(instance, "tokens")
    linked = link_tokens(
        dict(sorted(frames.items())), threshold, model=model, train=model is None, engine=engine
    )
    return "tokens", linked, model is not None


def run(
    instance: Instance,
    actor: str,
    threshold: float = 0.9,
    retrain: bool = False,
    key: bytes | None = None,
    engine: str = "duckdb",
    *,
    ages_on: date,
) -> LinkageRun:
    """Link every ingested person dataset into the spine. Datasets that arrived as token files
    are linked on their tokens (with KEY, the agencies' key, clear datasets are tokenised for
    this run to join them); otherwise in the clear. AGES_ON is the date to which the
    linkage-quality report's bias table counts ages (the operator's today, or the end of the
    period the data covers)."""
    check_engine(engine)
    tables = person_tables(instance)
    if not tables.people:
        raise SpineError("no person dataset has been ingested; run `tre data ingest` first")
    mode, linked, reused = _link(tables, instance, threshold, retrain, key, engine)
    previous = current_spine(instance)
    records = linked.records
    records["person_id"] = stable_ids(records, previous).to_numpy()
    run_id = utc_now()[:19].replace("-", "").replace(":", "").replace("T", "-")
    spine_folder = instance.folder("store") / SPINE
    spine_folder.mkdir(parents=True, exist_ok=True)
    spine = records[["source", "record_id", "person_id", "match_probability"]]
    staged = spine_folder / ".spine.parquet"
    spine.to_parquet(staged, index=False)
    staged.replace(spine_folder / "spine.parquet")
    spine.to_parquet(spine_folder / f"spine-{run_id}.parquet", index=False)
    private = instance.folder("identifiers") / "_linkage" / run_id
    private.mkdir(parents=True, exist_ok=True)
    linked.save_model(private / "model.json")
    sources = sorted(tables.people)
    details = {
        "records": len(records),
        "people": int(records.person_id.nunique()),
        "sources": sources,
        "threshold": threshold,
        "mode": mode,
        "engine": engine,
        "model": "reused" if reused else "retrained",
    }
    _clerical_sample(linked, threshold).to_csv(private / "clerical-review.csv", index=False)
    false_match = _false_match_rate(linked)
    details["estimated_false_match_rate"] = round(false_match, 5)
    (private / "run.json").write_text(json.dumps(details, indent=1), encoding="utf-8")
    if mode == "clear":  # the linkage normalised them already
        described = linked.combined[["source", "record_id", *DESCRIBED]].astype(object)
    else:
        described = normalised(
            pd.concat(
                [
                    frame.reindex(columns=["record_id", *DESCRIBED])
                    .astype(object)
                    .assign(source=source)
                    for source, frame in tables.people.items()
                ],
                ignore_index=True,
            )
        )
    report = instance.folder("reports") / f"linkage-{run_id}.html"
    report.write_text(
        quality_report(
            linked, records, described, sources, false_match, run_id, threshold, ages_on=ages_on
        ),
        encoding="utf-8",
    )
    with instance.db.session() as session:
        audit.record(session, actor, LinkageEvent.LINK, "spine", run_id, details=details)
    return LinkageRun(
        run_id,
        len(records),
        details["people"],
        sources,
        false_match,
        report,
        spine_folder / "spine.parquet",
        private / "model.json",
        mode,
    )


def normalised(described: pd.DataFrame) -> pd.DataFrame:
    """The normalised person columns of DESCRIBED (source, record_id and person columns)."""
    table = normalise.person_table(described.astype(object).where(described.notna(), None))
    table.insert(0, "source", described.source.to_numpy())
    return table.astype(object)


def _false_match_rate(linked: Linked) -> float:
    """Splink's mean (1 - match probability) of the accepted pairs: an estimate of the share of
    accepted links that are false (it tracked true precision closely in tests)."""
    if linked.pairs.empty:
        return 0.0
    return float((1 - linked.pairs.match_probability).mean())


def _clerical_sample(linked: Linked, threshold: float) -> pd.DataFrame:
    """Borderline pairs, accepted or not (match probability nearest the threshold, from both
    sides), with both records' identifiers, for the operator's clerical review."""
    combined = linked.combined
    pairs = linked.borderline.assign(accepted=linked.borderline.match_probability >= threshold)
    left = combined.add_suffix("_l")
    right = combined.add_suffix("_r")
    return (
        pairs.merge(left, left_on="unique_id_l", right_on="unique_id_l")
        .merge(right, left_on="unique_id_r", right_on="unique_id_r")
        .drop(columns=["unique_id_l", "unique_id_r"])
        .sort_values("match_probability")
    )


def weight_chart(weights: pd.DataFrame, threshold: float) -> dict | None:
    """What the report's SVG histogram of the scored pairs' match weights (log2 of the Bayes
    factor; WEIGHTS has the pairs per unit of weight) draws, with the threshold marked: a chart
    that needs no script. None when no pair was scored."""
    weights = weights[np.isfinite(weights.weight.astype(float))]
    if weights.empty:
        return None
    low, high = int(weights.weight.min()), int(weights.weight.max()) + 1
    counts = (
        weights.set_index(weights.weight.astype(int))
        .pairs.reindex(range(low, high), fill_value=0)
        .astype(int)
    )
    width, height, bar = 640, 200, 640 / len(counts)
    tallest = max(int(counts.max()), 1)
    cut = np.log2(threshold / (1 - threshold)) if threshold < 1 else high
    bars = [
        {
            "x": f"{i * bar:.1f}",
            "y": f"{height - height * c / tallest:.1f}",
            "width": f"{max(bar - 1, 1):.1f}",
            "height": f"{height * c / tallest:.1f}",
            "fill": "#2b6cb0" if weight >= cut else "#a0aec0",
            "weight": weight,
            "pairs": f"{c:,}",
        }
        for i, (weight, c) in enumerate(counts.items())
    ]
    x = width * (cut - low) / (high - low)
    return {
        "width": width,
        "height": height,
        "pairs": f"{int(counts.sum()):,}",
        "bars": bars,
        "cut": f"{x:.1f}",
        "label": f"{x + 4:.1f}",
        "low": low,
        "high": high,
    }


def _age_band(dates: pd.Series, ages_on: date) -> pd.Series:
    """Broad age bands of people born on DATES, their ages counted to AGES_ON."""
    born = pd.to_datetime(dates, errors="coerce")
    age = (pd.Timestamp(ages_on) - born).dt.days // 365
    return (
        pd.cut(age, [-1, 17, 34, 64, 200], labels=["0-17", "18-34", "35-64", "65+"])
        .astype(object)
        .where(born.notna(), "unknown")
    )


def quality_report(
    linked: Linked,
    records: pd.DataFrame,
    described: pd.DataFrame,
    sources: list[str],
    false_match: float,
    run_id: str,
    threshold: float = 0.9,
    *,
    ages_on: date,
) -> str:
    """The linkage-quality page; DESCRIBED holds every record's normalised date of birth, sex and
    postcode (for the bias table, ages counted to AGES_ON), whether it was linked in the clear or
    on tokens."""
    member = records.groupby(["person_id", "source"]).size().unstack(fill_value=0) > 0
    rates = []
    for a in sources:
        in_a = member[member[a]] if a in member else member.iloc[:0]
        cells = [
            "—" if a == b else f"{100 * (in_a[b].mean() if len(in_a) and b in in_a else 0.0):.1f} %"
            for b in sources
        ]
        rates.append((a, cells))
    accepted = linked.pairs.match_probability
    edges = [threshold, *[b for b in (0.95, 0.99, 0.999) if b > threshold], 1.0001]
    counts = np.histogram(accepted, bins=edges)[0] if len(accepted) else [0] * (len(edges) - 1)
    histogram = [
        (f"{low:g} to {min(high, 1):g}", f"{count:,}")
        for low, high, count in zip(edges[:-1], edges[1:], counts, strict=True)
    ]
    # bias: do records that linked to another agency differ from those that did not?
    combined = described.merge(
        records[["source", "record_id", "person_id"]], on=["source", "record_id"]
    )
    sizes = combined.groupby("person_id").source.transform("nunique")
    combined["linked"] = np.where(sizes > 1, "linked", "not linked")
    combined["age band"] = _age_band(combined.date_of_birth, ages_on)
    combined["sex"] = combined.sex.fillna("unknown")
    combined["area"] = combined.postcode.str.split().str[0].fillna("unknown")
    bias = []
    for column in ("age band", "sex", "area"):
        table = pd.crosstab(combined[column], combined.linked, normalize="columns") * 100
        for value, row in table.iterrows():
            shares = [f"{row.get(c, 0):.1f} %" for c in ("linked", "not linked")]
            bias.append((f"{column}: {value}", shares))
    return render(
        TEMPLATES,
        "linkage_quality.html",
        run_id=run_id,
        records=f"{len(records):,}",
        people=f"{records.person_id.nunique():,}",
        sources=sources,
        false_match=f"{100 * false_match:.2f}",
        rates=rates,
        floor=min(threshold, REVIEW_FLOOR),
        chart=weight_chart(linked.weights, threshold),
        threshold=threshold,
        histogram=histogram,
        bias=bias,
        ages_on=ages_on,
        notes=linked.notes,
    )
