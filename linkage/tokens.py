"""Linkage on keyed hashes, for agencies that will only send identifiers pseudonymised at source.

``prepare`` runs on the agency's side with a key shared by the agencies (never by the analysis
environment): it normalises each record's identifiers and replaces them by HMAC-SHA256 tokens of
the whole values and of derived tokens (ONS's "derive and conquer"): the nickname-normalised
forename, the surname and its Soundex, the date of birth, its year and a day/month-order-free
form, the postcode and its sector, the NHS number. ``link_tokens`` links on exact agreement of
those tokens with Splink. It cannot see typos inside a value, so it loses some recall against
linkage in the clear; ``benchmarks/bench_linkage.py --tokens`` measures how much.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from linkage.linker import LinkageError, Linked, Training, run_splink
from linkage.normalise import person_table

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


def _token(key: bytes, kind: str, value) -> str | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return None
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()[:32]


def prepare(frame: pd.DataFrame, key: bytes) -> pd.DataFrame:
    """Tokens of a person table (record_id and any of the person columns): no clear identifier
    is left in the result."""
    people = person_table(frame)
    dob = people.date_of_birth

    def unordered(text):
        if not isinstance(text, str):
            return None
        year, month, day = text.split("-")
        return f"{year}|{min(month, day)}|{max(month, day)}"

    derived = {
        "nhs": people.nhs_number,
        "given": people.given_name,
        "family": people.family_name,
        "family_soundex": people.family_soundex,
        "dob": dob,
        "birth_year": people.birth_year,
        "dob_unordered": dob.map(unordered),
        "postcode": people.postcode,
        "postcode_sector": people.postcode_sector,
        "sex": people.sex,
    }
    out = pd.DataFrame({"record_id": people.record_id})
    for kind, values in derived.items():
        out[f"tok_{kind}"] = [_token(key, kind, v) for v in values] if values is not None else None
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
    )


def link_tokens(frames: Mapping[str, pd.DataFrame], threshold: float = 0.9) -> Linked:
    """Link token tables (from ``prepare``) across and within sources."""
    from splink import block_on

    parts = []
    for source, frame in frames.items():
        missing = [f"tok_{t}" for t in TOKENS if f"tok_{t}" not in frame]
        if "record_id" not in frame or missing:
            raise LinkageError(f"{source}: not a token table (missing {', '.join(missing)})")
        parts.append(frame.assign(source=source))
    combined = pd.concat(parts, ignore_index=True)
    combined.insert(0, "unique_id", range(len(combined)))
    combined = combined.rename(columns={"tok_nhs": "nhs_number"}).assign(
        tok_nhs=lambda d: d.nhs_number
    )
    training = Training(
        deterministic=[block_on("tok_nhs"), block_on("tok_given", "tok_family", "tok_dob")],
        em=[block_on("tok_dob"), block_on("tok_given", "tok_family")],
    )
    return run_splink(combined, _settings(), training, threshold)
