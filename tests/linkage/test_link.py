from datetime import date

import pandas as pd
import pytest

import linkage
from linkage import dictionary, normalise, spine
from linkage.ingest import ingest
from linkage.linker import LinkageError, Linked, evaluate, stable_ids
from linkage.normalise import address, forename, postcode, soundex
from linkage.sources import person_table
from tests.linkage.conftest import AGES_ON


def test_normalisation():
    assert forename("  Bill ") == "william" and forename("Zoë-Ann") == "zoe"
    assert postcode("tk11ab") == "TK1 1AB" and postcode("nonsense") is None
    assert soundex("Robert") == "R163" and soundex("Rupert") == "R163"
    assert soundex("Ashcraft") == "A261"
    assert address(" 12, Stanley St.") == "12 stanley street" and address("") is None


def test_person_tables_are_normalised_into_arrow_text():
    frame = pd.DataFrame(
        {
            "record_id": [1, 2, 3],
            "given_name": ["  Bill ", None, "Zoë-Ann"],
            "family_name": ["Smith", "O'Neil", ""],
            "date_of_birth": ["1980-02-03", None, "not a date"],
            "postcode": ["tk11ab", "nonsense", None],
            "nhs_number": ["943 476 5919", "9434765918", None],
        }
    )
    table = normalise.person_table(frame)
    assert all(str(dtype) == "string[pyarrow]" for dtype in table.dtypes)
    rows = table.astype(object).where(table.notna(), None).to_dict("records")
    assert rows[0] == {
        "record_id": "1",
        "given_name": "william",
        "family_name": "smith",
        "date_of_birth": "1980-02-03",
        "sex": None,
        "postcode": "TK1 1AB",
        "address": None,
        "nhs_number": "9434765919",
        "family_soundex": "S530",
        "given_initial": "w",
        "family_initial": "s",
        "birth_year": "1980",
        "dob_unordered": "1980|02|03",
        "postcode_sector": "TK1 1",
    }
    assert rows[1]["family_name"] == "o neil" and rows[1]["nhs_number"] is None  # check digit
    assert rows[2]["given_name"] == "zoe" and rows[2]["date_of_birth"] is None
    assert rows[2]["family_name"] is None and rows[2]["dob_unordered"] is None


def test_blocking_compares_people_not_whole_households(monkeypatch):
    """Where the budget of pairs is tight (as for millions of records), each family of blocking
    rules takes a tighter one: the members of one household (one postcode and surname) are not
    all paired, while a date of birth with its day and month swapped, at another address,
    still is."""
    from splink import DuckDBAPI
    from splink.blocking_analysis import count_comparisons_from_blocking_rules

    from linkage import linker, plan

    household = pd.DataFrame(
        {
            "record_id": ["anna", "ben", "carl", "dora", "ben moved"],
            "given_name": ["Anna", "Ben", "Carl", "Dora", "Ben"],
            "family_name": ["Smith"] * 5,
            "date_of_birth": ["1980-01-05", "1982-03-07", "2010-06-09", "2012-08-11", "1982-07-03"],
            "postcode": ["TK1 1AB"] * 4 + ["TK9 9ZZ"],
        }
    )
    monkeypatch.setattr(linker, "MIN_HELD", 1)
    monkeypatch.setattr(plan, "MIN_RULE_PAIRS", 1)
    monkeypatch.setattr(plan, "RULE_PAIRS_PER_RECORD", 0.2)  # one pair among five records
    combined, kinds = linker._combined({"h": household})
    people = combined.drop(columns=["record_id", "source"])
    chosen = plan.Plan(kinds).choose(linker._pair_counter(people), len(people), 1e6)
    assert ("postcode",) not in chosen.rules and ("dob_unordered",) in chosen.rules
    counts = count_comparisons_from_blocking_rules(
        DuckDBAPI().register(people.astype(object).where(people.notna(), None)),
        blocking_rules=[plan.sql(rule) for rule in chosen.rules],
        link_type="dedupe_only",
        record_sample_proportion=1.0,
    )
    assert counts[-1]["cumulative_comparison_count"] == 1  # ben and ben moved


def test_link_api_finds_the_same_person_across_sources():
    a = pd.DataFrame(
        {
            "record_id": ["a1", "a2", "a3"],
            "given_name": ["William", "Olivia", "Harry"],
            "family_name": ["Smith", "Jones", "Patel"],
            "date_of_birth": ["1980-02-03", "1975-11-30", "2001-07-07"],
            "sex": ["M", "F", "M"],
            "postcode": ["TK1 1AB", "TK2 3CD", "TK3 4EF"],
            "nhs_number": ["9434765919", None, None],
        }
    )
    b = pd.DataFrame(
        {
            "record_id": ["b1", "b2", "b3"],
            "given_name": ["Bill", "Olivia", "Zara"],
            "family_name": ["Smith", "Jones", "Khan"],
            "date_of_birth": ["1980-02-03", "1975-11-30", "1990-01-01"],
            "postcode": ["TK1 1AB", None, "TK9 9ZZ"],
        }
    )
    c = pd.DataFrame({"record_id": ["c1"], "nhs_number": ["943 476 5919"]})
    frames = {"a": a, "b": b, "c": c}
    # a small sample cannot train a model, so use a larger one made of copies with noise
    frames = _padded(frames)
    result = linkage.link(frames)
    assert list(result.columns) == ["source", "record_id", "person_id", "match_probability"]
    person = result.set_index(["source", "record_id"]).person_id
    assert person[("a", "a1")] == person[("b", "b1")] == person[("c", "c1")]  # nickname, NHS
    assert person[("a", "a2")] == person[("b", "b2")]  # a missing postcode is no obstacle
    assert person[("a", "a3")] != person[("b", "b3")]
    with pytest.raises(LinkageError, match="unknown columns shoe_size"):
        linkage.link({"a": a.assign(shoe_size=9)})


def _padded(frames):
    from app.demo.data.generate import build_town

    town = build_town(3000, 4)
    filler = pd.DataFrame(
        {
            "record_id": [f"f{i}" for i in range(town.n)],
            "given_name": town.given,
            "family_name": town.family,
            "date_of_birth": pd.to_datetime(town.dob).strftime("%Y-%m-%d"),
            "sex": town.sex,
            "postcode": town.postcodes[town.postcode[town.household]],
        }
    )
    half = town.n // 2
    return {**frames, "fill1": filler.iloc[:half], "fill2": filler.iloc[half - 800 :]}


def test_stable_ids_keep_people_across_runs():
    previous = pd.DataFrame(
        {"source": ["a", "a", "b"], "record_id": ["1", "2", "3"], "person_id": [7, 9, 7]}
    )
    clusters = pd.DataFrame(
        {"source": ["a", "a", "b", "b"], "record_id": ["1", "2", "3", "4"], "cluster": [0, 1, 0, 2]}
    )
    ids = stable_ids(clusters, previous).tolist()
    assert ids[0] == ids[2] == 7 and ids[1] == 9 and ids[3] == 10


def test_sources_without_postcodes_or_nhs_numbers_still_link(town):
    """Data unlike the town's (no postcode, no NHS number): the training sessions that block on
    the missing columns are skipped, the rest still train, and the people are found."""
    frames = {}
    for dataset in ("ae_attendances", "police_incident_persons"):
        schema = dictionary.get(dataset)
        raw = pd.read_csv(town / f"{dataset}.csv", dtype=str, keep_default_na=False)
        people = person_table(raw.assign(record_id=raw[schema.primary_key]), schema)
        frames[dataset] = people.drop(columns=["postcode", "nhs_number"], errors="ignore")
    linked = linkage.link(frames)
    truth = pd.read_csv(town / "truth" / "records.csv", dtype=str).rename(
        columns={"dataset": "source", "person_id": "true_person"}
    )
    accuracy = evaluate(linked, truth)
    assert accuracy["precision"] >= 0.95 and accuracy["recall"] >= 0.8


def test_evaluate_counts_cross_source_pairs():
    records = pd.DataFrame(
        {
            "source": ["a", "a", "b", "b", "c"],
            "record_id": ["1", "2", "1", "2", "1"],
            "person_id": [1, 1, 1, 2, 2],
        }
    )
    truth = records[["source", "record_id"]].assign(true_person=["x", "y", "x", "y", "y"])
    # predicted a1-b1, a2-b1, b2-c1; true a1-b1, a2-b2, a2-c1, b2-c1; within a source never counts
    assert evaluate(records, truth) == {
        "precision": 2 / 3,
        "recall": 2 / 4,
        "predicted_pairs": 3,
        "true_pairs": 4,
    }


def ingest_all(instance, town, names=None):
    for dataset in names or dictionary.schemas():
        ingest(instance, dataset, town / f"{dataset}.csv", "ops")


def test_the_spine_links_the_town_and_holds_no_identifier(registered, town):
    ingest_all(registered, town)
    result = spine.run(registered, "ops", ages_on=AGES_ON)
    linked = pd.read_parquet(result.spine)
    assert list(linked.columns) == ["source", "record_id", "person_id", "match_probability"]
    truth = pd.read_csv(town / "truth" / "records.csv", dtype=str).rename(
        columns={"dataset": "source", "person_id": "true_person"}
    )
    accuracy = evaluate(linked, truth)
    assert accuracy["precision"] >= 0.98 and accuracy["recall"] >= 0.95
    people = pd.read_csv(town / "truth" / "people.csv", dtype=str)
    text = result.spine.read_bytes()
    assert not any(name.encode() in text for name in people.family_name.unique()[:200])
    page = result.report.read_text()
    assert "Link rates" in page and "Do unlinked records differ?" in page
    assert "<svg" in page and "threshold 0.9" in page  # the match-weight chart
    assert "Ages are\ncounted to 2026-03-31." in page
    # the clerical sample looks at both sides of the threshold, with both records' identifiers
    sample = pd.read_csv(result.model.parent / "clerical-review.csv")
    assert set(sample.accepted) == {True, False}
    assert {"family_name_l", "family_name_r", "match_probability"} <= set(sample.columns)


def _two_records_linked() -> tuple[Linked, pd.DataFrame, pd.DataFrame]:
    records = pd.DataFrame(
        {"source": ["a", "b"], "record_id": ["1", "1"], "person_id": [1, 1]}
    ).assign(match_probability=0.99)
    described = records[["source", "record_id"]].assign(
        date_of_birth="2000-01-01", sex="F", postcode="AB1 2CD"
    )
    pairs = pd.DataFrame({"unique_id_l": [0], "unique_id_r": [1], "match_probability": [0.99]})
    linked = Linked(
        records=records,
        pairs=pairs,
        model={},
        combined=described,
        weights=pd.DataFrame({"weight": [6.0], "pairs": [1]}),
        borderline=pairs,
        seconds={},
    )
    return linked, records, described


def test_the_bias_table_counts_ages_to_the_date_the_caller_gives():
    linked, records, described = _two_records_linked()

    def bias(ages_on):
        page = spine.quality_report(
            linked, records, described, ["a", "b"], 0.01, "run", ages_on=ages_on
        )
        return page[page.index("Do unlinked records differ?") :]

    # born on 1 January 2000: 17 in June 2017, 19 in June 2019
    assert "age band: 0-17" in bias(date(2017, 6, 1))
    assert "age band: 18-34" not in bias(date(2017, 6, 1))
    assert "age band: 18-34" in bias(date(2019, 6, 1))
    assert "counted to 2019-06-01" in bias(date(2019, 6, 1))


def test_tre_data_link_counts_ages_to_the_day_given_or_today(sqlite_instance, run_cli, monkeypatch):
    seen = []

    def run(*args, ages_on, **options):
        seen.append(ages_on)
        raise spine.SpineError("no person dataset has been ingested")

    monkeypatch.setattr(spine, "run", run)
    home = str(sqlite_instance.home)
    assert run_cli("--home", home, "data", "link", "--ages-on", "2026-03-31")[0] != 0
    assert run_cli("--home", home, "data", "link")[0] != 0
    assert seen == [date(2026, 3, 31), date.today()]


def test_person_ids_are_stable_when_a_month_is_added(registered, town, tmp_path):
    police = pd.read_csv(town / "police_incident_persons.csv", dtype=str, keep_default_na=False)
    early = police.occurred_at.str[3:10].isin(
        ["04/2025", "05/2025", "06/2025", "07/2025", "08/2025", "09/2025"]
    )
    police[early].to_csv(tmp_path / "first.csv", index=False)
    police[~early].to_csv(tmp_path / "second.csv", index=False)
    ingest_all(registered, town, ["ae_attendances", "school_attendance", "csc_referrals"])
    ingest(registered, "police_incident_persons", tmp_path / "first.csv", "ops")
    first = pd.read_parquet(spine.run(registered, "ops", ages_on=AGES_ON).spine)
    ingest(registered, "police_incident_persons", tmp_path / "second.csv", "ops")
    second = pd.read_parquet(spine.run(registered, "ops", ages_on=AGES_ON).spine)
    both = first.merge(second, on=["source", "record_id"], suffixes=("_1", "_2"))
    assert len(both) == len(first)
    assert (both.person_id_1 == both.person_id_2).mean() > 0.99
    assert len(second) > len(first)


def test_person_table_splits_police_names(town):
    schema = dictionary.get("police_incident_persons")
    raw = pd.read_csv(town / "police_incident_persons.csv", dtype=str, keep_default_na=False)
    table = person_table(raw.assign(record_id=raw.involvement_ref), schema)
    assert table.given_name.notna().all() and table.family_name.str.isupper().all()


def test_hashed_tokens_link_without_clear_identifiers(town, tmp_path, run_cli):
    from linkage.tokens import link_tokens, prepare

    key = b"shared-agency-key-0123456789"
    frames = {}
    for dataset, schema in dictionary.schemas().items():
        from linkage.sources import is_person_dataset

        if is_person_dataset(schema):
            raw = pd.read_csv(town / f"{dataset}.csv", dtype=str, keep_default_na=False)
            frames[dataset] = prepare(
                person_table(raw.assign(record_id=raw[schema.primary_key]), schema), key
            )
    people = pd.read_csv(town / "truth" / "people.csv", dtype=str)
    blob = pd.concat(frames.values()).to_csv().encode()
    assert not any(v.encode() in blob for v in people.family_name.unique()[:100])
    linked = link_tokens(frames)
    records = linked.records.assign(person_id=stable_ids(linked.records, None).to_numpy())
    truth = pd.read_csv(town / "truth" / "records.csv", dtype=str).rename(
        columns={"dataset": "source", "person_id": "true_person"}
    )
    accuracy = evaluate(records, truth)
    assert accuracy["precision"] >= 0.98 and accuracy["recall"] >= 0.9
    other = prepare(
        frames_clear := person_table(
            pd.read_csv(town / "asc_clients.csv", dtype=str, keep_default_na=False).assign(
                record_id=lambda d: d.service_record
            ),
            dictionary.get("asc_clients"),
        ),
        b"another-key-0123456789abcdef",
    )
    assert not set(other.tok_family.dropna()) & set(frames["asc_clients"].tok_family.dropna())
    assert len(frames_clear) == len(other)
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(key.hex())
    code, out, err = run_cli(
        "linkage",
        "prepare",
        str(town / "csc_referrals.csv"),
        "--dataset",
        "csc_referrals",
        "--key",
        str(keyfile),
        "--out",
        str(tmp_path / "tokens.csv"),
    )
    assert code == 0, err
    assert "tok_nhs" in (tmp_path / "tokens.csv").read_text().splitlines()[0]


def test_chunked_prediction_scores_the_same_pairs(town, monkeypatch):
    """Millions of records are scored in parts (CHUNK_RECORDS); the parts make the same pairs."""
    from linkage import linker

    frames = {}
    for dataset in ("ae_attendances", "school_attendance"):
        schema = dictionary.get(dataset)
        raw = pd.read_csv(town / f"{dataset}.csv", dtype=str, keep_default_na=False)
        frames[dataset] = person_table(raw.assign(record_id=raw[schema.primary_key]), schema)
    whole = linker.link_records(frames)
    monkeypatch.setattr(linker, "CHUNK_RECORDS", 400)
    parts = linker.link_records(frames, model=whole.model, train=False)
    assert len(whole.combined) > 3 * 400  # so it ran in at least four parts
    key = ["unique_id_l", "unique_id_r"]
    pd.testing.assert_frame_equal(
        whole.pairs.sort_values(key).reset_index(drop=True)[key],
        parts.pairs.sort_values(key).reset_index(drop=True)[key],
    )


def test_training_on_a_sample_of_many_records_links_as_well(town, monkeypatch):
    """Beyond TRAIN_RECORDS records the model is trained on a random sample of them."""
    from linkage import linker

    frames = {}
    for dataset in ("ae_attendances", "school_attendance", "police_incident_persons"):
        schema = dictionary.get(dataset)
        raw = pd.read_csv(town / f"{dataset}.csv", dtype=str, keep_default_na=False)
        frames[dataset] = person_table(raw.assign(record_id=raw[schema.primary_key]), schema)
    truth = pd.read_csv(town / "truth" / "records.csv", dtype=str).rename(
        columns={"dataset": "source", "person_id": "true_person"}
    )
    monkeypatch.setattr(linker, "TRAIN_RECORDS", 1500)
    linked = linker.link_records(frames)
    assert len(linked.combined) > 1500
    records = linked.records.assign(person_id=stable_ids(linked.records, None).to_numpy())
    accuracy = evaluate(records, truth)
    assert accuracy["precision"] >= 0.97 and accuracy["recall"] >= 0.93


def test_splink_warnings_go_to_the_linkage_report_not_the_console(capsys):
    """`make demo` once printed some 20 blocks of Splink's "not observed in dataset, unable to
    train m value" among its tidy steps."""
    import logging
    import sys

    from linkage.linker import library_notes

    printing = logging.StreamHandler(sys.stderr)  # as a Linker made before may have left it
    logging.getLogger("splink").addHandler(printing)
    splink = logging.getLogger("splink.internals.m_training")
    with library_notes() as notes:
        for _ in range(3):
            splink.warning("Level gamma_sex:1 not observed in dataset, unable to train m value")
        logging.getLogger("linkage.linker").warning("EM session skipped: no pairs")
        splink.info("not a warning")
    assert capsys.readouterr().err == ""
    assert notes == [
        "EM session skipped: no pairs",
        "Level gamma_sex:1 not observed in dataset, unable to train m value (3 times)",
    ]
    assert logging.getLogger("splink").handlers == [printing]  # put back as it was
    logging.getLogger("splink").removeHandler(printing)
    linked, records, described = _two_records_linked()
    linked.notes = notes
    page = spine.quality_report(
        linked, records, described, ["a", "b"], 0.01, "run", ages_on=date(2026, 3, 31)
    )
    assert "unable to train m value (3 times)" in page
