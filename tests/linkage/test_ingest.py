import csv
import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from linkage import dictionary
from linkage.ingest import IngestError, ingest


def stored(folder):
    return pd.concat([pq.read_table(p).to_pandas() for p in sorted(folder.glob("*.parquet"))])


def test_ingest_reconciles_and_splits_identifiers(registered, town, tmp_path):
    raw = pd.read_csv(town / "ae_attendances.csv", dtype=str, keep_default_na=False)
    with_nhs = raw.index[raw.nhs_number != ""]
    for row in with_nhs[:3]:  # mistype three NHS numbers: the check digit no longer fits
        number = raw.at[row, "nhs_number"]
        raw.at[row, "nhs_number"] = number[:9] + str((int(number[9]) + 1) % 10)
    path = tmp_path / "ae.csv"
    raw.to_csv(path, index=False)
    result = ingest(registered, "ae_attendances", path, "ops")
    assert result.rows == len(raw) == result.accepted + result.quarantined
    assert result.quarantined >= 3
    payload = stored(result.store)
    identifiers = stored(result.identifiers)
    assert len(payload) == len(identifiers) == result.accepted
    assert not {"nhs_number", "forename", "surname"} & set(payload.columns)
    assert {"nhs_number", "forename", "surname", "postcode"} <= set(identifiers.columns)
    # no clear-text identifier anywhere in the analysis store
    names = set(raw.surname) | set(raw.nhs_number[raw.nhs_number != ""])
    for path in result.store.rglob("*"):
        if path.is_file():
            text = path.read_bytes()
            assert not any(name.encode() in text for name in list(names)[:300] if len(name) > 5)
    with open(result.quarantine, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == result.quarantined
    assert all(r["field"] == "nhs_number" and "check digit" in r["reason"] for r in rows)
    fields = len(dictionary.get("ae_attendances").fields)
    assert result.report.read_text().count("<tr><th scope='row'>") == fields
    with registered.db.session() as session:
        from tre import audit

        events = [e for e in audit.events(session) if e.action == "data.ingest"]
    assert events and '"accepted":' in events[-1].details


def test_reingest_of_identical_content_is_refused_unless_forced(registered, town, tmp_path):
    ingest(registered, "csc_referrals", town / "csc_referrals.csv", "ops")
    copy = tmp_path / "again.csv"
    shutil.copy(town / "csc_referrals.csv", copy)
    with pytest.raises(IngestError, match="was already ingested as .* --force"):
        ingest(registered, "csc_referrals", copy, "ops")
    assert ingest(registered, "csc_referrals", copy, "ops", force=True).accepted > 0


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"referral_id,child_id\nR1,C1\n", "missing columns first_name"),
        (None, "unexpected columns shoe_size"),
        (b"\xff\xfe\x00b\x00a\x00d", "is not UTF-8 text"),
    ],
)
def test_bad_files_are_refused_with_their_name_and_nothing_is_stored(
    registered, town, tmp_path, content, message
):
    path = tmp_path / "agency-file.csv"
    if content is None:
        frame = pd.read_csv(town / "csc_referrals.csv", dtype=str).assign(shoe_size="9")
        frame.to_csv(path, index=False)
    else:
        path.write_bytes(content)
    with pytest.raises(IngestError, match=message) as raised:
        ingest(registered, "csc_referrals", path, "ops")
    assert "agency-file.csv" in str(raised.value)
    assert not list(registered.folder("store").rglob("*.parquet"))


def test_unregistered_dataset_and_unknown_schema(sqlite_instance, town):
    with pytest.raises(IngestError, match="not in the data asset register"):
        ingest(sqlite_instance, "csc_referrals", town / "csc_referrals.csv", "ops")
    with pytest.raises(dictionary.DictionaryError, match="no schema for dataset 'nope'"):
        ingest(sqlite_instance, "nope", town / "csc_referrals.csv", "ops")


def test_parquet_and_xlsx_inputs(registered, town, tmp_path):
    frame = pd.read_csv(town / "school_exclusions.csv", dtype=str, keep_default_na=False)
    frame.to_parquet(tmp_path / "exclusions.parquet")
    frame.to_excel(tmp_path / "exclusions.xlsx", index=False)
    first = ingest(registered, "school_exclusions", tmp_path / "exclusions.parquet", "ops")
    second = ingest(registered, "school_exclusions", tmp_path / "exclusions.xlsx", "ops")
    assert first.accepted == second.accepted == len(frame)


def test_chunks_keep_uniqueness_and_row_numbers(registered, town, tmp_path):
    frame = pd.read_csv(town / "fire_incidents.csv", dtype=str, keep_default_na=False)
    frame = pd.concat([frame, frame.iloc[:3]])  # three repeated incident numbers at the end
    path = tmp_path / "fire.csv"
    frame.to_csv(path, index=False)
    result = ingest(registered, "fire_incidents", path, "ops", chunk_rows=50)
    assert result.quarantined == 3 and result.rows == len(frame)
    rows = list(csv.DictReader(open(result.quarantine)))
    assert [int(r["row"]) for r in rows] == [len(frame) - 1, len(frame), len(frame) + 1]
    assert all("must be unique" in r["reason"] for r in rows)


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 299),
            st.integers(0, 10),
            st.sampled_from(["", "xx", "31/02/2020", "-1", "ZZ99 9ZZ", "\u00e9"]),
        ),
        max_size=40,
    )
)
def test_fuzzed_files_always_reconcile(registered, town, tmp_path_factory, edits):
    frame = pd.read_csv(town / "csc_referrals.csv", dtype=str, keep_default_na=False).head(300)
    for row, column, value in edits:
        if row < len(frame):
            frame.iat[row, column] = value
    path = tmp_path_factory.mktemp("fuzz") / "referrals.csv"
    frame.to_csv(path, index=False)
    result = ingest(registered, "csc_referrals", path, "ops", force=True)
    assert result.accepted + result.quarantined == result.rows == len(frame)
    assert len(stored(result.store)) == result.accepted


def test_dictionary_lists_every_demo_dataset_and_renders():
    known = dictionary.schemas()
    assert {"ae_attendances", "police_incident_persons", "school_attendance"} <= set(known)
    for schema in known.values():
        assert schema.primary_key in schema.names
        assert schema.field(schema.primary_key).unique
    page = dictionary.render_html(known)
    assert "NHS number with a valid check digit" in page and page.count("<section>") == len(known)
