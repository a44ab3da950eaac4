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


def police(town):
    return pd.read_csv(town / "police_incident_persons.csv", dtype=str, keep_default_na=False)


def test_impossible_dates_and_two_digit_years_are_quarantined_with_their_reason(
    registered, town, tmp_path
):
    frame = police(town)
    faults = {
        0: ("occurred_at", "31/02/2025 10:00", "not a real calendar datetime"),
        1: ("occurred_at", "29/02/2023 09:00", "not a real calendar datetime"),
        2: ("occurred_at", "01/03/2025 24:00", "not a real calendar datetime"),
        3: ("birth_date", "31/04/1990", "not a real calendar date"),
        4: ("birth_date", "01/02/90", "two-digit year: ambiguous for the format %d/%m/%Y"),
        5: ("occurred_at", "1/3/2025 10:00x", "not a datetime in the format"),
    }
    for row, (column, value, _) in faults.items():
        frame.at[row, column] = value
    frame.at[6, "birth_date"] = "29/02/2024"  # a leap day is a real date
    path = tmp_path / "police.csv"
    frame.to_csv(path, index=False)
    result = ingest(registered, "police_incident_persons", path, "ops")
    assert result.quarantined == len(faults)
    rows = {int(r["row"]): r for r in csv.DictReader(open(result.quarantine, encoding="utf-8"))}
    for row, (column, value, reason) in faults.items():
        assert rows[row + 2]["field"] == column and reason in rows[row + 2]["reason"]
        assert value in rows[row + 2]["values"]
    kept = stored(result.identifiers)
    assert "29/02/2024" in set(kept.birth_date)
    assert not {v for _, v, _ in faults.values()} & set(kept.birth_date)


def test_excel_csv_utf8_with_byte_order_mark_and_crlf_is_read_as_written(
    registered, town, tmp_path
):
    frame = police(town)
    path = tmp_path / "excel.csv"
    text = frame.to_csv(index=False, lineterminator="\r\n")
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    result = ingest(registered, "police_incident_persons", path, "ops")
    assert result.rows == result.accepted == len(frame)
    payload = stored(result.store).sort_values("involvement_ref")
    assert list(payload.involvement_ref) == sorted(frame.involvement_ref)
    last = frame.columns[-1]
    kept = stored(result.store if last in payload else result.identifiers)
    assert not any(value.endswith("\r") for value in kept[last])


def test_header_only_file_is_refused_as_empty_naming_it(registered, town, tmp_path):
    path = tmp_path / "no-rows.csv"
    police(town).head(0).to_csv(path, index=False)
    with pytest.raises(IngestError, match="no-rows.csv is empty: it has a header row but no"):
        ingest(registered, "police_incident_persons", path, "ops")
    assert not list(registered.folder("store").rglob("*.parquet"))
    assert not any(registered.folder("quarantine").rglob("*.csv"))


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")])
def test_another_delimiter_is_named(registered, town, tmp_path, delimiter, name):
    path = tmp_path / "continental.csv"
    police(town).to_csv(path, index=False, sep=delimiter)
    with pytest.raises(IngestError) as raised:
        ingest(registered, "police_incident_persons", path, "ops")
    message = str(raised.value)
    assert f"continental.csv looks {name}-delimited" in message
    assert "expects commas; re-save it as comma-separated CSV" in message
    assert "missing columns" not in message


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
