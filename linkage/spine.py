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

import html
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from sqlalchemy import select

from linkage import dictionary, normalise
from linkage.linker import Linked, link_records, stable_ids
from linkage.models import Ingest
from linkage.sources import is_person_dataset, person_table
from linkage.tokens import TOKEN_COLUMNS, is_token_file, link_tokens, prepare
from tre import audit
from tre.audit import utc_now
from tre.errors import TreError
from tre.instance import Instance

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

    @property
    def clear(self) -> list[str]:
        return sorted(set(self.people) - set(self.tokens))


def person_tables(instance: Instance) -> PersonTables:
    """Every person dataset's identifiers, from all its ingests (a month added to a year)."""
    people, tokens = {}, {}
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
        if kinds == {True}:
            tokens[schema.id] = raw[["record_id", *TOKEN_COLUMNS]].replace("", None)
    return PersonTables(people, tokens)


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
) -> tuple[str, Linked]:
    if not tables.tokens and key is None:
        model = None if retrain else latest_model(instance, "clear")
        return "clear", link_records(
            tables.people, threshold, model=model, train=model is None, engine=engine
        )
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
    return "tokens", linked


def run(
    instance: Instance,
    actor: str,
    threshold: float = 0.9,
    retrain: bool = False,
    key: bytes | None = None,
    engine: str = "duckdb",
) -> LinkageRun:
    """Link every ingested person dataset into the spine. Datasets that arrived as token files
    are linked on their tokens (with KEY, the agencies' key, clear datasets are tokenised for
    this run to join them); otherwise in the clear."""
    tables = person_tables(instance)
    if not tables.people:
        raise SpineError("no person dataset has been ingested; run `tre data ingest` first")
    mode, linked = _link(tables, instance, threshold, retrain, key, engine)
    reused = not retrain and latest_model(instance, mode) is not None
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
    _clerical_sample(linked).to_csv(private / "clerical-review.csv", index=False)
    false_match = _false_match_rate(linked)
    details["estimated_false_match_rate"] = round(false_match, 5)
    (private / "run.json").write_text(json.dumps(details, indent=1), encoding="utf-8")
    described = pd.concat(
        [
            frame.reindex(columns=["record_id", *DESCRIBED]).assign(source=source)
            for source, frame in tables.people.items()
        ],
        ignore_index=True,
    )
    report = instance.folder("reports") / f"linkage-{run_id}.html"
    report.write_text(
        quality_report(linked, records, normalised(described), sources, false_match, run_id),
        encoding="utf-8",
    )
    with instance.db.session() as session:
        audit.record(session, actor, "data.link", "spine", run_id, details=details)
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
    return table


def _false_match_rate(linked: Linked) -> float:
    """Splink's mean (1 - match probability) of the accepted pairs: an estimate of the share of
    accepted links that are false (it tracked true precision closely in tests)."""
    if linked.pairs.empty:
        return 0.0
    return float((1 - linked.pairs.match_probability).mean())


def _clerical_sample(linked: Linked, size: int = 50) -> pd.DataFrame:
    """Borderline pairs (probability nearest the threshold), with both records' identifiers."""
    combined = linked.combined
    pairs = linked.pairs.sort_values("match_probability").head(size)
    left = combined.add_suffix("_l")
    right = combined.add_suffix("_r")
    return (
        pairs.merge(left, left_on="unique_id_l", right_on="unique_id_l")
        .merge(right, left_on="unique_id_r", right_on="unique_id_r")
        .drop(columns=["unique_id_l", "unique_id_r"])
    )


def _age_band(dates: pd.Series) -> pd.Series:
    born = pd.to_datetime(dates, errors="coerce")
    age = (pd.Timestamp("2026-03-31") - born).dt.days // 365
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
) -> str:
    """The linkage-quality page; DESCRIBED holds every record's normalised date of birth, sex and
    postcode (for the bias table), whether it was linked in the clear or on tokens."""
    e = html.escape
    people = records.groupby("person_id").source.agg(set)
    rates = []
    for a in sources:
        cells = []
        in_a = people[people.map(lambda s, a=a: a in s)]
        for b in sources:
            share = in_a.map(lambda s, b=b: b in s).mean() if len(in_a) else 0.0
            cells.append(f"<td>{'—' if a == b else f'{100 * share:.1f} %'}</td>")
        rates.append(f"<tr><th scope='row'>{e(a)}</th>{''.join(cells)}</tr>")
    bins = (
        np.histogram(linked.pairs.match_probability, bins=[0.9, 0.95, 0.99, 0.999, 1.0001])[0]
        if len(linked.pairs)
        else [0, 0, 0, 0]
    )
    histogram = "".join(
        f"<tr><th scope='row'>{label}</th><td>{count:,}</td></tr>"
        for label, count in zip(
            ["0.90-0.95", "0.95-0.99", "0.99-0.999", "0.999-1"], bins, strict=True
        )
    )
    # bias: do records that linked to another agency differ from those that did not?
    combined = described.merge(
        records[["source", "record_id", "person_id"]], on=["source", "record_id"]
    )
    sizes = combined.groupby("person_id").source.transform("nunique")
    combined["linked"] = np.where(sizes > 1, "linked", "not linked")
    combined["age band"] = _age_band(combined.date_of_birth)
    combined["sex"] = combined.sex.fillna("unknown")
    combined["area"] = combined.postcode.str.split().str[0].fillna("unknown")
    bias = []
    for column in ("age band", "sex", "area"):
        table = pd.crosstab(combined[column], combined.linked, normalize="columns") * 100
        for value, row in table.iterrows():
            bias.append(
                f"<tr><th scope='row'>{e(column)}: {e(str(value))}</th>"
                + "".join(f"<td>{row.get(c, 0):.1f} %</td>" for c in ("linked", "not linked"))
                + "</tr>"
            )
    header = "".join(f"<th scope='col'>{e(s)}</th>" for s in sources)
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Linkage quality {e(run_id)}</title><style>body{{font-family:system-ui,sans-serif;
max-width:70rem;margin:2rem auto;padding:0 1rem}}table{{border-collapse:collapse;margin:.5rem 0}}
td,th{{border:1px solid #999;padding:.2rem .5rem;text-align:left}}</style></head><body>
<h1>Linkage quality, run {e(run_id)}</h1>
<p>{len(records):,} records from {len(sources)} agencies' datasets linked into
{records.person_id.nunique():,} people. Estimated false-match rate of accepted links (mean of
1 − match probability): <strong>{100 * false_match:.2f} %</strong>.</p>
<h2>Link rates</h2><p>Of the people in the row's dataset, the share also found in the column's.</p>
<table><thead><tr><th scope="col">people in</th>{header}</tr></thead><tbody>{"".join(rates)}
</tbody></table>
<h2>Match probability of accepted pairs</h2><table><tbody>{histogram}</tbody></table>
<h2>Do unlinked records differ?</h2><p>The make-up of records linked to another agency and of
those that were not: a large difference means analyses of linked data may be biased.</p>
<table><thead><tr><th scope="col">group</th><th scope="col">linked</th>
<th scope="col">not linked</th></tr></thead><tbody>{"".join(bias)}</tbody></table>
<p>A clerical-review sample of borderline pairs, with identifiers, is in the operator's
identifier area (never in this report).</p></body></html>
"""
