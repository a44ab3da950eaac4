"""Ingest: an agency file in, validated against its schema, nothing lost, identifiers apart.

The file is streamed in chunks (CSV, Parquet, XLSX), every row checked; rows that fail go to
quarantine with their row number, field and reason (and their values, so nothing is lost), valid
rows are stored as Parquet. At once the direct identifiers are split from the payload: the
analysis store never holds one; they go to the operator's identifier area for the linkage step.
``accepted + quarantined = rows read`` always, and is recorded and audited. Nothing is written in
place until the whole file has been read: a file that fails half-way leaves nothing behind.
"""

from __future__ import annotations

import csv
import json
import uuid
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from sqlalchemy import select

from linkage import TEMPLATES, dictionary
from linkage.dictionary import Schema
from linkage.events import LinkageEvent
from linkage.models import Ingest
from linkage.readers import FORMATS, IngestError, read_chunks, read_header, refuse_other_delimiter
from linkage.tokens import is_token_file, token_schema
from linkage.validate import check_chunk
from tre import audit
from tre.audit import utc_now
from tre.folders import publish
from tre.hashing import file_sha256
from tre.instance import Instance
from tre.templating import render

RECORD_ID = "record_id"


@dataclass
class FieldQuality:
    present: int = 0
    invalid: int = 0
    low: str | None = None
    high: str | None = None


@dataclass
class IngestResult:
    ingest_id: str
    dataset: str
    file: str
    sha256: str
    rows: int
    accepted: int
    quarantined: int
    store: Path
    identifiers: Path
    quarantine: Path | None
    report: Path
    quality: dict[str, FieldQuality] = field(default_factory=dict)
    duplicate_rows: int = 0

    def summary(self) -> str:
        return (
            f"{self.dataset}: {self.rows:,} rows read, {self.accepted:,} accepted, "
            f"{self.quarantined:,} quarantined"
        )


def check_file(path: Path, schema: Schema) -> list[str]:
    """Refuse a file that is missing, of another format or empty; its header row otherwise."""
    if not path.is_file():
        raise IngestError(f"{path} does not exist")
    if path.suffix.lower() not in FORMATS:
        raise IngestError(f"{path.name}: ingest takes CSV, Parquet or XLSX files")
    if path.stat().st_size == 0:
        raise IngestError(f"{path.name} is empty; ask {schema.controller} for the extract again")
    return read_header(path)


def check_header(path: Path, header: list[str], schema: Schema) -> None:
    if not header:
        raise IngestError(f"{path.name} has no header row")
    missing = [n for n in schema.names if n not in header]
    unexpected = [n for n in header if n not in schema.names]
    if missing or unexpected:
        refuse_other_delimiter(path, schema.names, schema.id)
        parts = []
        if missing:
            parts.append(f"missing columns {', '.join(missing)}")
        if unexpected:
            parts.append(f"unexpected columns {', '.join(unexpected)}")
        raise IngestError(
            f"{path.name} does not match the schema of {schema.id} (version {schema.version}): "
            + "; ".join(parts)
            + "; nothing was stored"
        )


def ingest(
    instance: Instance,
    dataset: str,
    path: Path,
    actor: str,
    force: bool = False,
    chunk_rows: int = 250_000,
    progress: bool = False,
) -> IngestResult:
    schema = dictionary.get(dataset)
    path = Path(path)
    header = check_file(path, schema)
    tokens = is_token_file(header)
    if tokens:  # pseudonymised at source: the tokens stand where the identifiers were
        schema = token_schema(schema)
    check_header(path, header, schema)
    digest = file_sha256(path)
    with instance.db.session() as session:
        from projects.models import Dataset

        if session.get(Dataset, dataset) is None:
            raise IngestError(
                f"dataset {dataset} is not in the data asset register; register it "
                f"with `tre dataset register {schema.path}` first"
            )
        earlier = session.scalar(
            select(Ingest).where(Ingest.dataset == dataset, Ingest.sha256 == digest)
        )
    if earlier and not force:
        raise IngestError(
            f"{path.name} was already ingested as {earlier.id} on {earlier.at[:10]} (identical "
            "content); nothing was stored (use --force to ingest it again)"
        )

    ingest_id = f"{utc_now()[:10].replace('-', '')}-{uuid.uuid4().hex[:8]}"
    final = {
        area: instance.folder(area) / dataset / ingest_id
        for area in ("store", "identifiers", "quarantine")
    }
    identifier_fields = [f.name for f in schema.fields if f.role == "direct_identifier"]
    linkage_fields = identifier_fields + [
        f.name for f in schema.fields if f.role == "quasi_identifier"
    ]
    payload_fields = [f.name for f in schema.fields if f.role != "direct_identifier"]
    quality = {f.name: FieldQuality() for f in schema.fields}
    seen: dict[str, list] = {}
    rows = accepted = quarantined = duplicates = 0
    with ExitStack() as published:
        # published together, once the whole file is read (in this order: the last entered is
        # renamed first); a failure anywhere removes all three staging folders
        staged = {
            area: published.enter_context(publish(final[area]))
            for area in ("quarantine", "identifiers", "store")
        }
        staging = {area: s.folder for area, s in staged.items()}
        quarantine_path = staging["quarantine"] / "rows.csv"
        with (
            open(quarantine_path, "w", newline="", encoding="utf-8") as handle,
            _progress(progress, path) as bar,
        ):
            writer = csv.writer(handle)
            writer.writerow(["row", "field", "reason", "values"])
            task = bar.add_task(path.name, total=None)
            for part, chunk in enumerate(read_chunks(path, chunk_rows)):
                chunk = chunk.select(schema.names)
                dates: dict[str, pa.Array] = {}
                problems = check_chunk(chunk, schema, seen, dates)
                bad = np.zeros(chunk.num_rows, bool)
                for position, name, _ in problems:
                    bad[position] = True
                    quality[name].invalid += 1
                if problems:
                    bad_rows = chunk.take(pa.array(sorted({p for p, _, _ in problems})))
                    values = {
                        row: record
                        for row, record in zip(
                            sorted({p for p, _, _ in problems}), bad_rows.to_pylist(), strict=True
                        )
                    }
                    for position, name, reason in problems:
                        writer.writerow(
                            [
                                rows + position + 2,
                                name,
                                reason,
                                json.dumps(values[position], ensure_ascii=False),
                            ]
                        )
                duplicates += sum(
                    1 for _, name, why in problems if name == schema.primary_key and "unique" in why
                )
                keep = pa.array(~bad)
                good = chunk.filter(keep)
                _quality(quality, chunk, schema, {n: d.filter(keep) for n, d in dates.items()})
                record_ids = good.column(schema.primary_key)
                _write(
                    staging["store"] / f"part-{part:05d}.parquet",
                    good.select(payload_fields),
                    record_ids,
                )
                _write(
                    staging["identifiers"] / f"part-{part:05d}.parquet",
                    good.select(linkage_fields),
                    record_ids,
                )
                rows += chunk.num_rows
                accepted += good.num_rows
                quarantined += int(bad.sum())
                bar.update(task, advance=chunk.num_rows)
        if not rows:
            raise IngestError(
                f"{path.name} is empty: it has a header row but no records; ask "
                f"{schema.controller} for the extract again; nothing was stored"
            )
        if accepted + quarantined != rows:  # pragma: no cover - a bug, never bad input
            raise IngestError(f"counts do not reconcile for {path.name}; nothing was stored")
        if not quarantined:
            staged["quarantine"].discard()
    report = instance.folder("reports") / f"quality-{dataset}-{ingest_id}.html"
    result = IngestResult(
        ingest_id,
        dataset,
        path.name,
        digest,
        rows,
        accepted,
        quarantined,
        final["store"],
        final["identifiers"],
        final["quarantine"] / "rows.csv" if quarantined else None,
        report,
        quality,
        duplicates,
    )
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(quality_report(result, schema), encoding="utf-8")
    with instance.db.session() as session:
        session.add(
            Ingest(
                id=ingest_id,
                dataset=dataset,
                file=path.name,
                sha256=digest,
                schema_version=schema.version,
                rows=rows,
                accepted=accepted,
                quarantined=quarantined,
                at=utc_now(),
                by=actor,
            )
        )
        audit.record(
            session,
            actor,
            LinkageEvent.INGEST,
            "dataset",
            dataset,
            details={
                "ingest": ingest_id,
                "file": path.name,
                "sha256": digest,
                "rows": rows,
                "accepted": accepted,
                "quarantined": quarantined,
                "forced": bool(earlier),
                "identifiers": "tokens" if tokens else "clear",
            },
        )
    return result


def _write(path: Path, table: pa.Table, record_ids: pa.ChunkedArray) -> None:
    pq.write_table(
        table.append_column(RECORD_ID, record_ids), path, compression="lz4", use_dictionary=False
    )


def _quality(
    quality: dict[str, FieldQuality], chunk: pa.Table, schema: Schema, dates: dict[str, pa.Array]
) -> None:
    """Count each field's values present in CHUNK and widen its date range by the DATES (as
    read, of the accepted rows)."""
    for f in schema.fields:
        quality[f.name].present += (
            chunk.num_rows - pc.sum(pc.equal(chunk.column(f.name), "")).as_py()
            if chunk.num_rows
            else 0
        )
        if f.name in dates and len(dates[f.name]):
            bounds = pc.min_max(dates[f.name]).as_py()
            if bounds["min"] is not None:
                low, high = str(bounds["min"])[:10], str(bounds["max"])[:10]
                q = quality[f.name]
                q.low = low if q.low is None else min(q.low, low)
                q.high = high if q.high is None else max(q.high, high)


class _Quiet:
    def __enter__(self):
        return self

    def __exit__(self, *_):
        return False

    def add_task(self, *_, **__):
        return 0

    def update(self, *_, **__):
        return None


def _progress(show: bool, path: Path):
    if not show:
        return _Quiet()
    # the number of rows is unknown until the end: show rows read so far, not a percentage
    return Progress(
        SpinnerColumn(),
        TextColumn("ingest {task.description}"),
        TextColumn("{task.completed:,} rows read"),
        TimeElapsedColumn(),
    )


def quality_report(result: IngestResult, schema: Schema) -> str:
    rows = []
    for f in schema.fields:
        q = result.quality[f.name]
        rows.append(
            {
                "name": f.name,
                "role": f.role.replace("_", " "),
                "complete": 100.0 * q.present / result.rows if result.rows else 0.0,
                "valid": 100.0 * (q.present - q.invalid) / q.present if q.present else 100.0,
                "invalid": q.invalid,
                "dates": f"{q.low} to {q.high}" if q.low else "",
            }
        )
    return render(TEMPLATES, "ingest_quality.html", result=result, schema=schema, rows=rows)
