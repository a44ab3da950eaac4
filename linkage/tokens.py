"""Linkage on keyed hashes, for agencies that will only send identifiers pseudonymised at source.

``prepare`` runs on the agency's side with a key shared by the agencies (never by the analysis
environment): it normalises each record's identifiers and replaces them by HMAC-SHA256 tokens of
the whole values and of derived tokens (ONS's "derive and conquer"): the nickname-normalised
forename, the surname and its Soundex, the date of birth, its year and a day/month-order-free
form, the postcode and its sector, the NHS number. ``link_tokens`` links on exact agreement of
those tokens with Splink. It cannot see typos inside a value, so it loses some recall against
linkage in the clear; ``benchmarks/bench_linkage.py`` measures how much.

On an instance, ``prepare_file`` turns an agency's file into the file it sends: its schema's
payload (every field but the direct identifiers) and the ``tok_*`` columns. Ingest recognises such
a file by its tokens (``token_schema`` is the schema it is checked against) and keeps the tokens
in the operator's identifier area; the spine links on them (``linkage.spine``).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import hmac
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from linkage.dictionary import Field, Schema
from linkage.linker import LinkageError, Linked, Training, run_splink
from linkage.normalise import compact, each, person_table
from linkage.readers import read_agency_file, refuse_other_delimiter
from linkage.sources import person_table as agency_person_table

TOKENS = (
    "nhs",
    "given",
    "family",
    "family_soundex",
    "dob",
    "birth_year",
    "dob_unordered",
    "postcode",
    "postcode_sector",
    "sex",
)


TOKEN_PATTERN = "^[0-9a-f]{32}$"
TOKEN_COLUMNS = tuple(f"tok_{t}" for t in TOKENS)


def is_token_file(header: list[str]) -> bool:
    """Whether a file's columns are those of a prepared token file (it has tok_* columns)."""
    return any(name.startswith("tok_") for name in header)


def token_schema(schema: Schema) -> Schema:
    """SCHEMA as a token file follows it: the direct identifiers replaced by the tokens (still
    identifiers: they go to the operator's area, never to the analysis store)."""
    tokens = tuple(
        Field(
            name=name,
            type="string",
            role="direct_identifier",
            concept="Person.token",
            description=f"HMAC-SHA256 token ({name[4:].replace('_', ' ')})",
            pattern=TOKEN_PATTERN,
        )
        for name in TOKEN_COLUMNS
    )
    payload = tuple(f for f in schema.fields if f.role != "direct_identifier")
    return dataclasses.replace(schema, fields=payload + tokens)


def prepare_file(path: Path, schema: Schema, key: bytes) -> pd.DataFrame:
    """The file an agency sends instead of PATH: SCHEMA's payload fields, unchanged, and the
    tokens of its identifiers in place of the direct identifiers."""
    raw = read_agency_file(path)
    missing = [name for name in schema.names if name not in raw.columns]
    if missing:
        refuse_other_delimiter(Path(path), schema.names, schema.id)
        raise LinkageError(
            f"{Path(path).name} does not follow the schema of {schema.id}: missing columns "
            f"{', '.join(missing)}; nothing was written"
        )
    people = agency_person_table(raw.assign(record_id=raw[schema.primary_key]), schema)
    tokens = prepare(people, key).drop(columns="record_id")
    payload = raw[[f.name for f in schema.fields if f.role != "direct_identifier"]]
    return pd.concat([payload.reset_index(drop=True), tokens], axis=1)


def read_key(path: Path) -> bytes:
    try:
        text = Path(path).read_text().strip()
    except FileNotFoundError:
        raise LinkageError(f"the key file {path} does not exist") from None
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = text.encode()
    if len(key) < 16:
        raise LinkageError(f"the key in {path} is too short: use at least 16 random bytes")
    return key


def _token(key: bytes, kind: str, value: str) -> str | None:
    if value == "":
        return None
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def prepare(frame: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """Tokens of a person table (record_id and any of the person columns): no clear identifier
    is left in the result."""
    people = person_table(frame)
    dob = people.date_of_birth
    derived = {
        "nhs": people.nhs_number,
        "given": people.given_name,
        "family": people.family_name,
        "family_soundex": people.family_soundex,
        "dob": dob,
        "birth_year": people.birth_year,
        "dob_unordered": people.dob_unordered,
        "postcode": people.postcode,
        "postcode_sector": people.postcode_sector,
        "sex": people.sex,
    }
    out = pd.DataFrame({"record_id": people.record_id})
    for kind, values in derived.items():  # each distinct value is hashed once
        out[f"tok_{kind}"] = each(functools.partial(_token, key, kind), values)
    return out


def _settings():
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator, block_on

    def levels(name, *columns):
        return cl.CustomComparison(
            output_column_name=name,
            comparison_levels=[cll.NullLevel(columns[0])]
            + [cll.ExactMatchLevel(c) for c in columns]
            + [cll.ElseLevel()],
        )

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="unique_id",
        comparisons=[
            levels("nhs", "tok_nhs"),
            levels("given", "tok_given"),
            levels("family", "tok_family", "tok_family_soundex"),
            levels("dob", "tok_dob", "tok_dob_unordered", "tok_birth_year"),
            levels("sex", "tok_sex"),
            levels("postcode", "tok_postcode", "tok_postcode_sector"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("tok_nhs"),
            block_on("tok_dob", "tok_family_soundex"),
            block_on("tok_dob_unordered", "tok_given"),
            block_on("tok_family", "tok_given", "tok_birth_year"),
            block_on("tok_postcode", "tok_given"),
        ],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


def link_tokens(
    frames: Mapping[str, pd.DataFrame],
    threshold: float = 0.9,
    model: dict | None = None,
    train: bool = True,
    engine: str = "duckdb",
) -> Linked:
    """Link token tables (from ``prepare``) across and within sources; MODEL (a saved model of
    an earlier token linkage) is reused without training unless TRAIN."""
    from splink import block_on

    parts = []
    for source, frame in frames.items():
        missing = [f"tok_{t}" for t in TOKENS if f"tok_{t}" not in frame]
        if "record_id" not in frame or missing:
            raise LinkageError(f"{source}: not a token table (missing {', '.join(missing)})")
        parts.append(frame.assign(source=source))
    combined = pd.concat(parts, ignore_index=True)
    combined.insert(0, "unique_id", range(len(combined)))
    combined = compact(
        combined.rename(columns={"tok_nhs": "nhs_number"}).assign(tok_nhs=lambda d: d.nhs_number)
    )
    training = None
    if model is None or train:
        training = Training(
            deterministic=[block_on("tok_nhs"), block_on("tok_given", "tok_family", "tok_dob")],
            # never on date of birth alone (the pairs grow with n squared); with forename and
            # date of birth first, recall is 0.980 at 100,000 people (0.969 with date of birth
            # and postcode sector first)
            em=[
                block_on("tok_given", "tok_dob"),
                block_on("tok_given", "tok_family", "tok_postcode_sector"),
                block_on("tok_given", "tok_family", "tok_birth_year"),
            ],
        )
    return run_splink(combined, model or _settings(), training, threshold, engine)
