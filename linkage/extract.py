"""Project extracts: only approved data items, project-specific pseudonyms, coarsened
quasi-identifiers, read-only Parquet with a manifest and a disclosure-risk summary.

* The policy engine is asked first; a refusal lists what is missing and writes nothing.
* The registry records that the version's data is prepared: its analysts wait for this, not for
  a missing folder.
* Each record carries ``person`` (an HMAC of the spine's person id under a key derived for this
  project alone), so two projects' extracts cannot be joined.
* Dates of birth become age bands at the end of the data period; postcodes become LSOAs; event
  dates become months unless the project asked for (and justified) days.
* Files are written to a staging folder and swapped in whole; they are made read-only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from linkage import dictionary, spine
from linkage.dictionary import Field
from linkage.events import LinkageEvent
from linkage.ingest import RECORD_ID
from projects import registry
from projects.policy import extract_reasons
from tre import audit
from tre.audit import utc_now
from tre.errors import Refused, TreError
from tre.folders import ProjectFolders, publish
from tre.hashing import file_sha256
from tre.instance import Instance

REFERENCE = "_reference"
LOOKUP = "postcode_lsoa.parquet"
POPULATION = "lsoa_population.parquet"
AGE_BANDS = [-1, 4, 11, 17, 24, 34, 44, 54, 64, 74, 84, 200]
SEX_CODES = {"1": "M", "m": "M", "male": "M", "2": "F", "f": "F", "female": "F"}
AGE_LABELS = [
    "0-4",
    "5-11",
    "12-17",
    "18-24",
    "25-34",
    "35-44",
    "45-54",
    "55-64",
    "65-74",
    "75-84",
    "85+",
]


class ExtractError(TreError):
    """The extract cannot be made; nothing was written."""


@dataclass
class Extract:
    project: str
    folder: Path
    files: list[dict]
    manifest: Path
    risk: dict[str, dict]


# public reference tables: the postcode -> LSOA lookup coarsens postcodes; the LSOA population
# (published aggregate statistics, no person in it) goes into every extract as a denominator
LOOKUPS = {
    "postcode_lsoa": ({"postcode", "lsoa_code"}, set(), LOOKUP),
    "lsoa_population": (
        {"lsoa_code", "population"},
        {"lsoa_name", "deprivation_index"},
        POPULATION,
    ),
}


def load_lookup(instance: Instance, path: Path, actor: str) -> Path:
    """Store a public reference table: the postcode -> LSOA lookup (columns postcode,
    lsoa_code) used to coarsen postcodes, or the LSOA population (lsoa_code, population and
    optionally lsoa_name, deprivation_index) that extracts carry as denominators."""
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ExtractError(f"{path.name}: cannot be read as CSV: {exc}") from None
    columns = set(frame.columns)
    matching = [
        (name, file)
        for name, (required, optional, file) in LOOKUPS.items()
        if required <= columns <= required | optional
    ]
    if not matching:
        raise ExtractError(
            f"{path.name}: a postcode lookup has the columns postcode and lsoa_code; an LSOA "
            f"population has lsoa_code, population (and optionally lsoa_name, "
            f"deprivation_index); this file has {', '.join(frame.columns)}"
        )
    name, file = matching[0]
    if name == "lsoa_population":
        for column in ("population", "deprivation_index"):
            if column in frame:
                numbers = pd.to_numeric(frame[column], errors="coerce")
                if numbers.isna().any():
                    row = int(numbers.isna().to_numpy().argmax()) + 2
                    raise ExtractError(
                        f"{path.name}: line {row}: {column} must be a number; nothing was loaded"
                    )
                frame[column] = numbers
    folder = instance.folder("store") / REFERENCE
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / file, index=False)
    with instance.db.session() as session:
        audit.record(
            session, actor, LinkageEvent.LOOKUP, "reference", name, details={"rows": len(frame)}
        )
    return folder / file


PSEUDONYM_LENGTH = 20
# what a per-person pseudonym looks like, wherever it turns up (the airlock's microdata check)
PSEUDONYM = re.compile(rf"^[0-9a-f]{{{PSEUDONYM_LENGTH}}}$")


def project_key(instance: Instance, project_id: str) -> bytes:
    return hmac.new(instance.read_key(), f"project:{project_id}".encode(), hashlib.sha256).digest()


def pseudonym(key: bytes, person_id: int) -> str:
    """A person's pseudonym in one project: the first PSEUDONYM_LENGTH hex digits of the keyed
    hash (HMAC-SHA-256, under the project's key) of the person's id on the spine. The one place
    the format is made; the airlock recognises pseudonyms in outputs by :data:`PSEUDONYM`."""
    digest = hmac.new(key, str(int(person_id)).encode(), hashlib.sha256).hexdigest()
    return digest[:PSEUDONYM_LENGTH]


def pseudonyms(key: bytes, person_ids: pd.Series) -> pd.Series:
    return person_ids.map(lambda p: pseudonym(key, p))


def _coarsen(
    values: pd.Series,
    field: Field,
    precision: str | None,
    reference: pd.Timestamp,
    lookup: dict[str, str],
) -> tuple[str, pd.Series]:
    if field.concept == "Person.date_of_birth":
        born = pd.to_datetime(values.replace("", None), format=field.format, errors="coerce")
        age = (reference - born).dt.days // 365
        bands = pd.cut(age, AGE_BANDS, labels=AGE_LABELS).astype(object)
        return "age_band", bands.where(born.notna(), None)
    if field.concept == "Person.sex":
        # one coding across agencies (NHS 1/2/9, M/F/U, Male/Female): M, F or U
        return "sex", values.map(lambda v: SEX_CODES.get(str(v).strip().lower(), "U"))
    if field.concept == "Place.postcode":
        return "lsoa_code", values.map(lambda v: lookup.get(" ".join(str(v).upper().split())))
    if field.type in ("date", "datetime"):
        parsed = pd.to_datetime(values.replace("", None), format=field.format, errors="coerce")
        pattern = "%Y-%m-%d" if precision == "day" else "%Y-%m"
        return field.name, parsed.dt.strftime(pattern).where(parsed.notna(), None)
    return field.name, values.replace("", None)


def extract(instance: Instance, project_id: str, actor: str, at: date | None = None) -> Extract:
    with instance.db.session() as session:
        reasons = extract_reasons(session, project_id, at)
        if reasons:
            raise Refused(f"no extract for {project_id}:\n  - " + "\n  - ".join(reasons))
        found = registry.project(session, project_id)
        version = found.version
        spec = found.current.spec
    lookup_path = instance.folder("store") / REFERENCE / LOOKUP
    if not lookup_path.exists():
        raise ExtractError(
            "the postcode lookup is missing; load it with `tre data lookup postcode_lsoa.csv`"
        )
    lookup = dict(pd.read_parquet(lookup_path).itertuples(index=False))
    linked = spine.current_spine(instance)
    if linked is None:
        raise ExtractError("there is no person spine yet; run `tre data link` first")
    reference = pd.Timestamp(spec["data_period"]["end"])
    key = project_key(instance, project_id)
    ingests = spine.latest_ingests(instance)
    target = ProjectFolders.of(instance, project_id).data
    files, risk = [], {}
    with publish(target, read_only=True, replace=True) as staged:
        staging = staged.folder
        for requested in spec["data"]:
            dataset = requested["dataset"]
            if dataset not in ingests:
                raise ExtractError(f"{dataset} has not been ingested yet")
            schema = dictionary.get(dataset)
            payload = _payload(instance, dataset)
            frame = pd.DataFrame(index=payload.index)
            persons = payload[[RECORD_ID]].merge(
                linked[linked.source == dataset][["record_id", "person_id"]],
                left_on=RECORD_ID,
                right_on="record_id",
                how="left",
            )
            if persons.person_id.notna().all():
                frame["person"] = pseudonyms(key, persons.person_id).to_numpy()
            for item in requested["items"]:
                name, values = _coarsen(
                    payload[item["item"]],
                    schema.field(item["item"]),
                    item.get("precision"),
                    reference,
                    lookup,
                )
                frame[name] = values.to_numpy()
            path = staging / f"{dataset}.parquet"
            frame.to_parquet(path, index=False)
            files.append(
                {
                    "file": path.name,
                    "dataset": dataset,
                    "rows": len(frame),
                    "columns": list(frame.columns),
                    "sha256": file_sha256(path),
                }
            )
            risk[dataset] = _risk(frame, schema, requested)
        population = instance.folder("store") / REFERENCE / POPULATION
        if population.exists():
            shutil.copyfile(population, staging / POPULATION)
            files.append(
                {
                    "file": POPULATION,
                    "dataset": "reference:lsoa_population",
                    "rows": pq.ParquetFile(population).metadata.num_rows,
                    "columns": pq.ParquetFile(population).schema_arrow.names,
                    "sha256": file_sha256(staging / POPULATION),
                }
            )
        manifest = {
            "project": project_id,
            "version": version,
            "made": utc_now(),
            "reference_date": spec["data_period"]["end"],
            "files": files,
            "risk": risk,
        }
        (staging / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    with instance.db.session() as session:
        registry.record_prepared_data(
            session,
            actor,
            project_id,
            version,
            [{k: f[k] for k in ("file", "rows", "sha256")} for f in files],
        )
        audit.record(
            session,
            actor,
            LinkageEvent.EXTRACT,
            "project",
            project_id,
            project=project_id,
            details={
                "version": version,
                "files": [{k: f[k] for k in ("file", "rows", "sha256")} for f in files],
            },
        )
    return Extract(project_id, target, files, target / "manifest.json", risk)


def _payload(instance: Instance, dataset: str) -> pd.DataFrame:
    folder = instance.folder("store") / dataset
    parts = sorted(
        p
        for ingest in sorted(folder.iterdir())
        if not ingest.name.startswith(".")
        for p in ingest.glob("*.parquet")
    )
    frame = pd.concat([pq.read_table(p).to_pandas() for p in parts], ignore_index=True)
    return frame.drop_duplicates(RECORD_ID, keep="last").reset_index(drop=True)


def _risk(frame: pd.DataFrame, schema, requested) -> dict:
    """k-anonymity violations and expected re-identifications on the extract's
    quasi-identifiers (after coarsening), for the approvers."""
    import sdc

    quasi = [
        c
        for c in frame.columns
        if c in ("age_band", "lsoa_code")
        or (c in schema.names and schema.field(c).role == "quasi_identifier")
    ]
    if not quasi or frame.empty:
        return {"quasi_identifiers": quasi, "records": len(frame)}
    keys = frame[quasi].astype(object).where(frame[quasi].notna(), np.nan)
    return {
        "quasi_identifiers": quasi,
        "records": len(frame),
        "violating_3_anonymity": sdc.kanon_violations(keys, quasi, 3),
        "violating_5_anonymity": sdc.kanon_violations(keys, quasi, 5),
        "expected_reidentifications": round(
            sdc.global_risk(keys, quasi).expected_reidentifications, 2
        ),
    }
