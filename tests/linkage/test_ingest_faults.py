"""Agency files with random faults: ingest loses no row and lets no value through that means
something other than its source text.

Each accepted value is judged again here, independently of the kit's validator, by Python's
own reading of the schema (``datetime.strptime``, which refuses 31 February and reads ``%Y``
as four digits only, ``int``, ``float``, the enum), and compared with the text it came from.
"""

import csv
from datetime import datetime

import pandas as pd
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage import dictionary
from linkage.ingest import RECORD_ID, ingest

DATASET = "police_incident_persons"
SCHEMA = dictionary.get(DATASET)
ROWS = 120


def dates(fmt: str) -> st.SearchStrategy[str]:
    """Dates in FMT's shape, real or not: any day 0-32 of any month 0-13, hours to 25, minutes
    to 61, years of two or four digits."""
    parts = st.fixed_dictionaries(
        {
            "d": st.integers(0, 32),
            "m": st.integers(0, 13),
            "Y": st.one_of(
                st.integers(1890, 2030).map(str), st.integers(0, 99).map("{:02d}".format)
            ),
            "H": st.integers(0, 25),
            "M": st.integers(0, 61),
            "pad": st.booleans(),
        }
    )

    def text(p: dict) -> str:
        width = "{:02d}" if p["pad"] else "{}"
        return (
            fmt.replace("%d", width.format(p["d"]))
            .replace("%m", width.format(p["m"]))
            .replace("%Y", p["Y"])
            .replace("%H", "{:02d}".format(p["H"]))
            .replace("%M", "{:02d}".format(p["M"]))
        )

    return parts.map(text)


def faults(field: dictionary.Field) -> st.SearchStrategy[str]:
    """A value that may be wrong for FIELD in the ways agencies' files are."""
    options = [
        st.just(""),
        # a bare carriage return is a line break to every CSV reader unless quoted, and
        # Python's writer quotes it only when it is part of the line ending: left to the CRLF
        # files and the quoted "two\r\nlines"
        st.text(
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"), max_size=12
        ),
        st.sampled_from(
            [" 1", "x,y", 'say "hi"', "two\nlines", "two\r\nlines", "O'Neill", "Zoë", "\ufeffa"]
        ),
    ]
    if field.format:
        options += [dates(field.format), dates(field.format).map(lambda v: f" {v} ")]
    if field.enum:
        options += [st.sampled_from(field.enum), st.sampled_from(field.enum).map(str.lower)]
    return st.one_of(options)


edits = st.lists(
    st.sampled_from(SCHEMA.fields).flatmap(
        lambda field: st.tuples(st.integers(0, ROWS - 1), st.just(field.name), faults(field))
    ),
    max_size=30,
)


def means_what_it_says(text: str, field: dictionary.Field) -> bool:
    """Python's own reading of TEXT under FIELD's schema (independent of ingest's)."""
    if text == "":
        return not field.required
    try:
        if field.type in ("date", "datetime"):
            datetime.strptime(text, field.format)
        elif field.type == "integer":
            int(text)
        elif field.type == "number":
            float(text)
    except ValueError:
        return False
    return field.enum is None or text in field.enum


def stored(folder) -> pd.DataFrame:
    return pd.concat([pq.read_table(p).to_pandas() for p in sorted(folder.glob("*.parquet"))])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    edits=edits,
    bom=st.booleans(),
    crlf=st.booleans(),
    chunk_rows=st.sampled_from([7, 50, 10_000]),
)
def test_faulty_agency_files_reconcile_and_keep_their_meaning(
    registered, town, tmp_path_factory, edits, bom, crlf, chunk_rows
):
    source = pd.read_csv(town / f"{DATASET}.csv", dtype=str, keep_default_na=False).head(ROWS)
    for row, name, value in edits:
        source.at[row, name] = value
    text = source.to_csv(index=False, lineterminator="\r\n" if crlf else "\n")
    path = tmp_path_factory.mktemp("faults") / "police.csv"
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8"))

    result = ingest(registered, DATASET, path, "ops", force=True, chunk_rows=chunk_rows)

    assert result.accepted + result.quarantined == result.rows == len(source)
    if result.quarantined:
        with open(result.quarantine, newline="", encoding="utf-8") as handle:
            rows = {int(r["row"]) for r in csv.DictReader(handle)}
        assert len(rows) == result.quarantined and rows <= set(range(2, len(source) + 2))
    payload, identifiers = stored(result.store), stored(result.identifiers)
    assert len(payload) == len(identifiers) == result.accepted
    accepted = payload.merge(identifiers, on=RECORD_ID, suffixes=("", "_id"))
    assert len(accepted) == result.accepted
    # an accepted record is the first with its key (a repeat is quarantined)
    first = source.drop_duplicates(SCHEMA.primary_key).set_index(SCHEMA.primary_key, drop=False)
    for record in accepted.to_dict("records"):
        original = first.loc[record[RECORD_ID]]
        for field in SCHEMA.fields:
            if field.name in record:
                assert record[field.name] == original[field.name], (field.name, record)
                assert means_what_it_says(record[field.name], field), (field.name, record)
