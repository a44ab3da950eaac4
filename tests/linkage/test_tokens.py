"""Agencies that pseudonymise at source: token files prepared, ingested and linked."""

import json
import shutil

import pandas as pd
import pyarrow.parquet as pq
import pytest

from linkage import dictionary, spine
from linkage.ingest import IngestError, ingest
from linkage.linker import LinkageError, evaluate, link_records
from linkage.sources import is_person_dataset
from linkage.tokens import TOKEN_COLUMNS, prepare_file, read_key
from tests.linkage.conftest import AGES_ON

KEY = "5f1d0c2e9a8b7c6d5e4f30211203a4b5"  # the agencies' shared key, as hex


@pytest.fixture
def keyfile(tmp_path):
    path = tmp_path / "agencies.key"
    path.write_text(KEY)
    return path


def person_datasets():
    return [d for d, s in dictionary.schemas().items() if is_person_dataset(s)]


def prepared(town, folder, dataset):
    """DATASET's file as its agency would send it, pseudonymised at source."""
    out = folder / f"{dataset}.tokens.csv"
    if not out.exists():
        schema = dictionary.get(dataset)
        prepare_file(town / f"{dataset}.csv", schema, bytes.fromhex(KEY)).to_csv(out, index=False)
    return out


def truth(town):
    return pd.read_csv(town / "truth" / "records.csv", dtype=str).rename(
        columns={"dataset": "source", "person_id": "true_person"}
    )


def stored(folder):
    return pd.concat([pq.read_table(p).to_pandas() for p in sorted(folder.glob("*.parquet"))])


def test_prepare_writes_the_payload_and_tokens_without_identifiers(
    town, tmp_path, run_cli, keyfile
):
    out = tmp_path / "police.csv"
    code, printed, err = run_cli(
        "linkage",
        "prepare",
        str(town / "police_incident_persons.csv"),
        "--dataset",
        "police_incident_persons",
        "--key",
        str(keyfile),
        "--out",
        str(out),
    )
    assert code == 0, err
    assert "send it for `tre data ingest police_incident_persons`" in printed
    schema = dictionary.get("police_incident_persons")
    raw = pd.read_csv(town / "police_incident_persons.csv", dtype=str, keep_default_na=False)
    sent = pd.read_csv(out, dtype=str, keep_default_na=False)
    identifiers = [f.name for f in schema.by_role("direct_identifier")]
    assert identifiers and not set(identifiers) & set(sent.columns)
    assert set(TOKEN_COLUMNS) <= set(sent.columns)
    payload = [f.name for f in schema.fields if f.role != "direct_identifier"]
    pd.testing.assert_frame_equal(sent[payload], raw[payload])
    text = out.read_text()
    people = pd.read_csv(town / "truth" / "people.csv", dtype=str)
    assert not [n for n in people.family_name.unique() if f",{n.upper()}," in text.upper()]
    # the same person's record gets the same token in another agency's file
    ae = prepare_file(
        town / "ae_attendances.csv", dictionary.get("ae_attendances"), read_key(keyfile)
    )
    assert set(ae.tok_family.dropna()) & set(sent.tok_family.replace("", None).dropna())


def test_prepare_refuses_what_it_cannot_do(town, tmp_path, run_cli, keyfile):
    code, _, err = run_cli(
        "linkage", "prepare", str(town / "ae_attendances.csv"), "--dataset", "ae_attendances",
        "--key", str(keyfile), "--out", str(tmp_path / "x.txt"),
    )  # fmt: skip
    assert code != 0 and ".csv or .parquet" in err
    code, _, err = run_cli(
        "linkage", "prepare", str(town / "ae_attendances.csv"), "--dataset", "ae_attendances",
        "--key", str(keyfile), "--out", str(town / "ae_attendances.csv"),
    )  # fmt: skip
    assert code != 0 and "keeps its original" in err
    short = tmp_path / "short.key"
    short.write_text("abc")
    with pytest.raises(LinkageError, match="too short"):
        read_key(short)
    with pytest.raises(LinkageError, match="missing columns surname"):
        raw = pd.read_csv(town / "ae_attendances.csv", dtype=str).drop(columns="surname")
        raw.to_csv(tmp_path / "ae.csv", index=False)
        prepare_file(tmp_path / "ae.csv", dictionary.get("ae_attendances"), read_key(keyfile))
    raw = pd.read_csv(town / "ae_attendances.csv", dtype=str)
    raw.to_csv(tmp_path / "ae-semi.csv", index=False, sep=";")
    with pytest.raises(IngestError, match="ae-semi.csv looks semicolon-delimited"):
        prepare_file(tmp_path / "ae-semi.csv", dictionary.get("ae_attendances"), read_key(keyfile))
    raw.head(0).to_csv(tmp_path / "ae-none.csv", index=False)
    with pytest.raises(IngestError, match="ae-none.csv is empty: it has a header row but no"):
        prepare_file(tmp_path / "ae-none.csv", dictionary.get("ae_attendances"), read_key(keyfile))


def test_a_token_file_is_ingested_with_its_tokens_apart(registered, town, tmp_path):
    path = prepared(town, tmp_path, "ae_attendances")
    sent = pd.read_csv(path, dtype=str, keep_default_na=False)
    sent.loc[0, "tok_family"] = "not-a-token"
    sent.to_csv(tmp_path / "ae-bad.csv", index=False)
    result = ingest(registered, "ae_attendances", tmp_path / "ae-bad.csv", "ops")
    assert result.rows == len(sent) == result.accepted + result.quarantined
    assert result.quarantined >= 1
    assert "tok_family" in result.quarantine.read_text()
    payload, identifiers = stored(result.store), stored(result.identifiers)
    assert not any(c.startswith("tok_") for c in payload.columns)
    assert set(TOKEN_COLUMNS) <= set(identifiers.columns)
    assert not {"forename", "surname", "nhs_number"} & (set(payload) | set(identifiers))
    with registered.db.session() as session:
        from tre.audit import AuditEvent

        event = session.query(AuditEvent).filter_by(action="data.ingest").all()[-1]
        assert json.loads(event.details)["identifiers"] == "tokens"


def test_a_token_file_without_all_its_tokens_is_refused(registered, town, tmp_path):
    sent = pd.read_csv(prepared(town, tmp_path, "ae_attendances"), dtype=str)
    sent.drop(columns=["tok_dob", "tok_sex"]).to_csv(tmp_path / "partial.csv", index=False)
    with pytest.raises(IngestError, match="missing columns tok_dob, tok_sex"):
        ingest(registered, "ae_attendances", tmp_path / "partial.csv", "ops")
    both = sent.assign(surname="SMITH")
    both.to_csv(tmp_path / "both.csv", index=False)
    with pytest.raises(IngestError, match="unexpected columns surname"):
        ingest(registered, "ae_attendances", tmp_path / "both.csv", "ops")
    assert not list((registered.folder("store") / "ae_attendances").glob("*"))


def test_the_spine_links_agencies_that_pseudonymised_at_source(registered, town, tmp_path):
    for dataset in dictionary.schemas():
        is_person = dataset in person_datasets()
        path = prepared(town, tmp_path, dataset) if is_person else town / f"{dataset}.csv"
        ingest(registered, dataset, path, "ops")
    result = spine.run(registered, "ops", ages_on=AGES_ON)
    assert result.mode == "tokens"
    linked = pd.read_parquet(result.spine)
    accuracy = evaluate(linked, truth(town))
    assert accuracy["precision"] >= 0.98 and accuracy["recall"] >= 0.9
    page = result.report.read_text()
    assert "Do unlinked records differ?" in page and "age band: 0-17" in page
    about = json.loads((result.model.parent / "run.json").read_text())
    assert about["mode"] == "tokens" and about["model"] == "retrained"
    # the token model is reused by the next token run, never by a linkage in the clear
    again = spine.run(registered, "ops", ages_on=AGES_ON)
    assert json.loads((again.model.parent / "run.json").read_text())["model"] == "reused"
    assert spine.latest_model(registered, "clear") is None
    assert (pd.read_parquet(again.spine).person_id == linked.person_id).mean() > 0.99


def test_one_linkage_needs_one_kind_or_the_key(registered, town, tmp_path, run_cli, keyfile):
    ingest(registered, "ae_attendances", prepared(town, tmp_path, "ae_attendances"), "ops")
    ingest(registered, "school_attendance", town / "school_attendance.csv", "ops")
    with pytest.raises(spine.SpineError, match="school_attendance in the clear") as refused:
        spine.run(registered, "ops", ages_on=AGES_ON)
    assert "--key" in str(refused.value)
    assert not (registered.folder("store") / spine.SPINE / "spine.parquet").exists()
    code, out, err = run_cli("--home", str(registered.home), "data", "link", "--key", str(keyfile))
    assert code == 0, err
    assert "on hashed tokens" in out
    linked = pd.read_parquet(registered.folder("store") / spine.SPINE / "spine.parquet")
    assert set(linked.source) == {"ae_attendances", "school_attendance"}
    accuracy = evaluate(linked, truth(town))
    assert accuracy["precision"] >= 0.97 and accuracy["recall"] >= 0.85
    # the key itself is kept nowhere on the instance
    for path in registered.home.rglob("*"):
        if path.is_file() and path.stat().st_size < 5_000_000:
            assert KEY.encode() not in path.read_bytes()


def test_a_dataset_cannot_mix_token_and_clear_ingests(registered, town, tmp_path):
    police = pd.read_csv(town / "police_incident_persons.csv", dtype=str, keep_default_na=False)
    police.iloc[:100].to_csv(tmp_path / "first.csv", index=False)
    ingest(registered, "police_incident_persons", tmp_path / "first.csv", "ops")
    sent = pd.read_csv(prepared(town, tmp_path, "police_incident_persons"), dtype=str)
    sent.iloc[100:].to_csv(tmp_path / "second.csv", index=False)
    ingest(registered, "police_incident_persons", tmp_path / "second.csv", "ops")
    with pytest.raises(spine.SpineError, match="both as token files and in the clear"):
        spine.run(registered, "ops", ages_on=AGES_ON)


def test_an_unknown_engine_is_refused():
    frame = pd.DataFrame({"record_id": ["1"], "family_name": ["Smith"]})
    with pytest.raises(LinkageError, match="unknown linkage engine 'oracle'"):
        link_records({"a": frame, "b": frame}, engine="oracle")


def test_splink_on_spark_links_as_duckdb_does(town):
    """The smoke test of the scale-out engine: runs where pyspark and Java are present."""
    pytest.importorskip("pyspark", reason="the spark extra is not installed")
    if shutil.which("java") is None:
        pytest.skip("the Spark engine needs Java")
    from linkage.sources import person_table

    frames = {}
    for dataset in ("ae_attendances", "school_attendance"):
        schema = dictionary.get(dataset)
        raw = pd.read_csv(town / f"{dataset}.csv", dtype=str, keep_default_na=False)
        frames[dataset] = person_table(raw.assign(record_id=raw[schema.primary_key]), schema)
    on_duckdb = link_records(frames)
    on_spark = link_records(frames, engine="spark")
    assert len(on_spark.records) == len(on_duckdb.records)
    pairs = {tuple(p) for p in on_duckdb.pairs[["unique_id_l", "unique_id_r"]].to_numpy()}
    spark_pairs = {tuple(p) for p in on_spark.pairs[["unique_id_l", "unique_id_r"]].to_numpy()}
    assert len(pairs & spark_pairs) >= 0.98 * max(len(pairs), len(spark_pairs))
    records = on_spark.records.assign(person_id=on_spark.records.cluster)
    accuracy = evaluate(records, truth(town))
    assert accuracy["precision"] >= 0.98 and accuracy["recall"] >= 0.9


def test_the_spark_engine_says_what_it_needs(monkeypatch, registered, run_cli):
    import sys

    for name in ("pyspark", "pyspark.sql"):
        monkeypatch.setitem(sys.modules, name, None)  # as if the extra were not installed
    frame = pd.DataFrame({"record_id": ["1"], "family_name": ["Smith"]})
    with pytest.raises(LinkageError, match=r"pip install 'tre-kit\[spark\]'"):
        link_records({"a": frame, "b": frame}, engine="spark")
    code, _, err = run_cli("--home", str(registered.home), "data", "link", "--engine", "spark")
    assert code != 0 and "spark extra" in err  # refused before any data is read
