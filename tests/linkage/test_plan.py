"""Linkage from the data dictionary: the identifiers' concepts decide what is compared, and the
blocking rules and training sessions are chosen from counts of the pairs they make."""

import json

import pandas as pd
import pytest

import linkage
from linkage import dictionary, linker, normalise, plan, roles
from linkage.dictionary import SCHEMAS, load
from linkage.linker import LinkageError, _combined, evaluate
from linkage.plan import Plan, sql
from linkage.sources import other_identifiers, person_table


def test_each_concept_has_its_kind_and_column():
    assert (
        roles.kind("Person.given_name") == "name" and roles.column("Place.postcode") == "postcode"
    )
    assert roles.kind("Person.place_of_birth") == "text"
    assert roles.kind("Person.passport_number") == "identifier"
    assert roles.column("Person.passport_number") == "person_passport_number"
    assert roles.kind("Place.suburb") == "text"
    for concept in ("Person.local_id", "Place.lsoa", "Event.date", "Case.id", "Person"):
        with pytest.raises(roles.RoleError, match="not compared"):
            roles.kind(concept)
    assert roles.compared("Person.passport_number", "direct_identifier")
    assert not roles.compared("Person.passport_number", "other")  # the schema says it is not
    assert not roles.compared("Person.local_id", "direct_identifier")


def test_postcodes_of_any_country_are_kept():
    uk = normalise.person_table(
        pd.DataFrame({"record_id": [1, 2, 3], "postcode": ["tk11ab", "TK2 3CD", "typo"]})
    )
    assert uk.postcode.tolist()[:2] == ["TK1 1AB", "TK2 3CD"] and pd.isna(uk.postcode[2])
    assert uk.postcode_sector.tolist()[:2] == ["TK1 1", "TK2 3"]
    australian = normalise.person_table(
        pd.DataFrame({"record_id": [1, 2, 3], "postcode": ["2612", " 4223", "none"]})
    )
    assert australian.postcode.tolist()[:2] == ["2612", "4223"] and pd.isna(australian.postcode[2])
    assert australian.postcode_sector.isna().all()  # no UK sector of an Australian postcode


def test_other_identifiers_come_from_the_schema(tmp_path):
    schema = json.loads((SCHEMAS / "police_incident_persons.json").read_text())
    schema["fields"] += [
        {
            "name": "passport",
            "type": "string",
            "x-role": "direct_identifier",
            "x-concept": "Person.passport_number",
        },
        {
            "name": "born_in",
            "type": "string",
            "x-role": "quasi_identifier",
            "x-concept": "Person.place_of_birth",
        },
    ]
    path = tmp_path / "police.json"
    path.write_text(json.dumps(schema))
    loaded = load(path)
    # the police's own nominal id and the incident's area are not compared
    assert other_identifiers(loaded) == {"person_passport_number": "Person.passport_number"}
    raw = pd.DataFrame(
        {
            "record_id": ["1"],
            "person_name": ["SMITH, Anna"],
            "birth_date": ["03/02/1980"],
            "nominal_id": ["N1"],
            "incident_lsoa": ["E01000001"],
            "passport": ["123 456 789"],
            "born_in": ["Leeds"],
        }
    )
    table = person_table(raw, loaded)
    assert set(table.columns) == {
        "record_id",
        "given_name",
        "family_name",
        "date_of_birth",
        "person_passport_number",
        "place_of_birth",
    }


def test_link_compares_the_columns_the_records_hold(monkeypatch):
    frames = {
        "a": pd.DataFrame(
            {
                "record_id": ["1", "2"],
                "full_name": ["SMITH, Anna", "Ben Jones"],
                "ssn": ["123-45", None],
                "born_in": ["Leeds", "York"],
                "postcode": ["2612", "4223"],
            }
        )
    }
    concepts = {
        "full_name": "Person.name",
        "ssn": "Person.social_security_number",
        "born_in": "Person.place_of_birth",
    }
    # a column held by a handful of records is not compared (Splink cannot train it)
    assert _combined(frames, concepts)[1] == {}
    monkeypatch.setattr(linker, "MIN_HELD", 1)
    combined, kinds = _combined(frames, concepts)
    assert kinds == {
        "given_name": "name",
        "family_name": "name",
        "postcode": "postcode",
        "place_of_birth": "text",
        "person_social_security_number": "identifier",
    }
    assert combined.person_social_security_number.tolist()[0] == "12345"
    assert combined.given_name.tolist() == ["anna", "benjamin"]  # a nickname read in full
    with pytest.raises(LinkageError, match="column when: 'Event.date' is not compared"):
        _combined(frames, {**concepts, "when": "Event.date"})
    with pytest.raises(LinkageError, match="unknown columns shoe_size.*concepts="):
        _combined({"a": frames["a"].assign(shoe_size=9)}, concepts)


def test_link_uses_an_identifier_a_partnership_adds(town):
    """The town's A&E and police records without postcodes or NHS numbers, with a passport
    number the partnership added (the truth's person, on most records): people whose names
    and dates of birth were mistyped are found by it."""
    truth = pd.read_csv(town / "truth" / "records.csv", dtype=str).rename(
        columns={"dataset": "source", "person_id": "true_person"}
    )
    frames = {}
    for dataset in ("ae_attendances", "police_incident_persons"):
        schema = dictionary.get(dataset)
        raw = pd.read_csv(town / f"{dataset}.csv", dtype=str, keep_default_na=False)
        people = person_table(raw.assign(record_id=raw[schema.primary_key]), schema)
        people = people.drop(columns=["postcode", "nhs_number"], errors="ignore")
        known = truth[truth.source == dataset].set_index("record_id").true_person
        passport = "P" + people.record_id.astype(str).map(known).astype(str)
        frames[dataset] = people.assign(passport=passport.where(people.index % 10 != 0))
    with_passports = evaluate(
        linkage.link(frames, concepts={"passport": "Person.passport_number"}), truth
    )
    without = evaluate(
        linkage.link({k: f.drop(columns="passport") for k, f in frames.items()}), truth
    )
    assert with_passports["recall"] > without["recall"] + 0.01
    assert with_passports["precision"] >= 0.95


def test_each_family_takes_its_loosest_rule_within_the_budget():
    chosen = Plan({"given_name": "name", "family_name": "name", "date_of_birth": "date"})
    pairs = {("dob_unordered",): 5e6, ("dob_unordered", "family_initial"): 1.5e5}
    chosen.choose(lambda rule: pairs.get(rule, 10.0), 100_000, em_pairs=1e6)
    assert ("dob_unordered", "family_initial") in chosen.rules  # dob alone is over budget
    assert ("dob_unordered",) not in chosen.rules
    assert ("given_name", "family_name") in chosen.rules
    small = Plan({"given_name": "name", "family_name": "name", "date_of_birth": "date"})
    small.choose(lambda rule: pairs.get(rule, 10.0) / 1000, 5_000, em_pairs=1e6)
    assert ("dob_unordered",) in small.rules  # a few thousand records: the date alone


def test_training_never_blocks_on_a_postcode_or_a_date_of_birth_alone():
    columns = {
        "given_name": "name",
        "family_name": "name",
        "date_of_birth": "date",
        "sex": "sex",
        "postcode": "postcode",
        "address": "text",
    }
    for uk in (True, False):
        candidates = Plan(columns, uk_postcodes=uk).em_candidates()
        assert candidates and all(len(rule) >= 2 for rule in candidates)
        # the sessions chosen train every comparison
        fallback = Plan(columns, uk_postcodes=uk)
        fallback.choose(
            lambda rule: 3e6 if rule == ("given_name", "family_name") else 1e3, 10**6, 1e6
        )
        assert fallback.em and all(len(rule) >= 2 for rule in fallback.em)
        read = [plan._reads(rule) for rule in fallback.em]
        assert all(any(c not in r for r in read) for c in columns)
    assert sql(("date_of_birth", "substr(postcode, 1, 3)")) == (
        "l.date_of_birth = r.date_of_birth and substr(l.postcode, 1, 3) = substr(r.postcode, 1, 3)"
    )


def test_names_swapped_between_their_fields_have_a_level_of_their_own():
    """A record with the given and family names in each other's fields ("SURNAME, Forename"
    read the other way) agrees on a level of its own, not on neither name; Splink's DuckDB
    scores the level."""
    from splink import DuckDBAPI, Linker

    people = pd.DataFrame(
        {
            "unique_id": [0, 1, 2],
            "given_name": ["hope", "george", "hope"],
            "family_name": ["george", "hope", "smith"],
        }
    )
    settings = Plan({"given_name": "name", "family_name": "name"}, rules=[("given_name",)])
    settings = settings.settings()
    settings.blocking_rules_to_generate_predictions = ["1 = 1"]  # every pair of the three
    settings.retain_intermediate_calculation_columns = True
    settings.retain_matching_columns = True
    linker = Linker(DuckDBAPI().register(people), settings)
    pairs = linker.inference.predict().as_pandas_dataframe()
    pairs = pairs.set_index(["unique_id_l", "unique_id_r"])
    swapped = pairs.loc[(0, 1)]
    assert swapped.gamma_given_name == swapped.gamma_family_name == 4  # the reversed level
    assert pairs.loc[(0, 2)].gamma_given_name == 5  # the exact level, above it


def test_the_same_street_without_its_house_number_has_a_level_of_its_own():
    """FEBRL 3's missed pair: "11 anne clark avenue" against "anne clark avenue" agrees on the
    street, while a number at the front never makes two streets alike ("39 antill street" and
    "393 daintree crescent": FEBRL 2's false match when Jaro-Winkler went down to 0.7)."""
    from splink import DuckDBAPI, Linker

    people = pd.DataFrame(
        {
            "unique_id": [0, 1, 2, 3],
            "address": [
                "11 anne clark avenue oxley's way",
                "anne clark avenue oxley's way",
                "39 antill street key",
                "393 daintree crescent",
            ],
        }
    )
    settings = Plan({"address": "text"}, rules=[("address",)]).settings()
    settings.blocking_rules_to_generate_predictions = ["1 = 1"]
    settings.retain_intermediate_calculation_columns = True
    settings.retain_matching_columns = True
    linker = Linker(DuckDBAPI().register(people), settings)
    pairs = linker.inference.predict().as_pandas_dataframe()
    gamma = pairs.set_index(["unique_id_l", "unique_id_r"]).gamma_address
    street = 1  # levels from the top: exact 4, Jaro-Winkler 0.95 3 and 0.85 2, the street 1
    assert gamma[(0, 1)] == street
    assert gamma[(2, 3)] == 0
    assert gamma[(0, 2)] == gamma[(1, 3)] == 0
