"""Person tables from agency records: each schema's person fields, by their core concept."""

from __future__ import annotations

import pandas as pd

from linkage import roles
from linkage.dictionary import Schema
from linkage.normalise import compact


def other_identifiers(schema: Schema) -> dict[str, str]:
    """The identifiers a partnership added to SCHEMA beyond the linker's own columns, as the
    linker's column -> concept (``linkage.link``'s concepts)."""
    return {
        roles.column(f.concept): f.concept
        for f in schema.fields
        if f.concept not in roles.CONCEPT_COLUMNS and roles.compared(f.concept, f.role)
    }


def is_person_dataset(schema: Schema) -> bool:
    concepts = {f.concept for f in schema.fields}
    return "Person.date_of_birth" in concepts and (
        "Person.name" in concepts or "Person.family_name" in concepts
    )


def _split(name) -> tuple[str | None, str | None]:
    text = "" if name is None or pd.isna(name) else str(name).strip()
    if not text:
        return None, None
    if "," in text:
        family, _, given = text.partition(",")
        return given.strip() or None, family.strip() or None
    words = text.split()
    return words[0], (words[-1] if len(words) > 1 else None)


def split_name(names: pd.Series) -> tuple[pd.Series, pd.Series]:
    """'SURNAME, Forename' or 'Forename Surname' into forename and surname."""
    pairs = [_split(name) for name in names]
    return (
        pd.Series([p[0] for p in pairs], index=names.index),
        pd.Series([p[1] for p in pairs], index=names.index),
    )


def person_table(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    """The person columns of an agency's records (dates as ISO text), keyed by record_id, held
    as Arrow text: the linker's own columns and the other identifiers the schema names
    (:func:`other_identifiers`); the schema's fields that FRAME lacks are left out."""
    out = pd.DataFrame({"record_id": frame["record_id"].astype(str)})
    for f in schema.fields:
        if f.name not in frame:  # a token file holds no direct identifier
            continue
        column = roles.CONCEPT_COLUMNS.get(f.concept) or (
            roles.column(f.concept) if roles.compared(f.concept, f.role) else None
        )
        if f.concept == "Person.name":
            out["given_name"], out["family_name"] = split_name(frame[f.name])
        elif column == "date_of_birth":
            parsed = pd.to_datetime(
                frame[f.name].replace("", None), format=f.format, errors="coerce"
            )
            out[column] = parsed.dt.strftime("%Y-%m-%d").where(parsed.notna(), None)
        elif column:
            out[column] = frame[f.name].replace("", None)
    return compact(out)
