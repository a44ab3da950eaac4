import csv
import hashlib
import json
from collections import Counter, defaultdict

import pandas as pd
import pytest

from app.demo.data import generate
from app.demo.data.generate import PERIOD_END, PERIOD_START

PERSON_FILES = {
    "ae_attendances": "attendance_id",
    "police_incident_persons": "involvement_ref",
    "fire_home_safety_visits": "visit_ref",
    "csc_referrals": "referral_id",
    "asc_clients": "service_record",
    "school_attendance": "attendance_record",
}


def rows(folder, name):
    with open(folder / f"{name}.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def nhs_valid(number: str) -> bool:
    if len(number) != 10 or not number.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(number[:9], range(10, 1, -1), strict=True))
    check = (11 - total % 11) % 11
    return check != 10 and check == int(number[9])


def load_truth(folder):
    """People by id, and (dataset, record id) -> person id."""
    people = {row["person_id"]: row for row in rows(folder / "truth", "people")}
    truth = {
        (row["dataset"], row["record_id"]): row["person_id"]
        for row in rows(folder / "truth", "records")
    }
    return people, truth


@pytest.fixture(scope="module")
def town(tmp_path_factory):
    out = tmp_path_factory.mktemp("town")
    result = generate(3000, 7, out)
    return result, out


def digests(folder):
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*.csv"))
    }


def test_the_generator_is_deterministic_per_seed(tmp_path, town):
    _, out = town
    again = generate(3000, 7, tmp_path / "again")
    assert digests(tmp_path / "again") == digests(out)
    assert again.files == town[0].files
    generate(3000, 8, tmp_path / "other")
    assert digests(tmp_path / "other") != digests(out)


def test_every_person_record_is_in_the_truth_exactly_once(town):
    _, out = town
    truth = rows(out / "truth", "records")
    people = {row["person_id"] for row in rows(out / "truth", "people")}
    keyed = Counter((row["dataset"], row["record_id"]) for row in truth)
    assert max(keyed.values()) == 1
    for name, key in PERSON_FILES.items():
        ids = {row[key] for row in rows(out, name)}
        assert ids == {record for dataset, record in keyed if dataset == name}, name
    assert {row["person_id"] for row in truth} <= people


def test_truth_agrees_with_the_identifiers_agencies_hold(town):
    _, out = town
    people, truth = load_truth(out)
    ae = rows(out, "ae_attendances")
    agree = wrong = 0
    for row in ae:
        person = people[truth[("ae_attendances", row["attendance_id"])]]
        if row["nhs_number"] and nhs_valid(row["nhs_number"]):
            agree += row["nhs_number"] == person["nhs_number"]
            wrong += row["nhs_number"] != person["nhs_number"]
        if row["date_of_birth"]:
            y, m, d = row["date_of_birth"].split("-")
            ty, tm, td = person["date_of_birth"].split("-")
            assert y == ty and {m, d} == {tm, td}  # exact, or day and month swapped
    assert agree > 0.9 * len(ae) and wrong == 0
    # a pupil's UPN always belongs to one person
    owners = defaultdict(set)
    for row in rows(out, "school_attendance"):
        owners[row["upn"]].add(truth[("school_attendance", row["attendance_record"])])
    assert max(len(v) for v in owners.values()) == 1
    assert all(nhs_valid(p["nhs_number"]) for p in people.values())


def test_identifier_quality_is_realistically_imperfect(town):
    _, out = town
    people, truth = load_truth(out)
    police = rows(out, "police_incident_persons")
    missing_dob = sum(not row["birth_date"] for row in police) / len(police)
    missing_postcode = sum(not row["home_postcode"] for row in police) / len(police)
    assert 0.05 < missing_dob < 0.25 and 0.1 < missing_postcode < 0.35
    changed = 0
    for row in police:
        person = people[truth[("police_incident_persons", row["involvement_ref"])]]
        surname, forename = row["person_name"].split(", ")
        changed += forename != person["given_name"] or surname != person["family_name"].upper()
    assert 0.03 < changed / len(police) < 0.35
    # duplicate records: some people hold two child ids in children's social care
    child_ids = defaultdict(set)
    for row in rows(out, "csc_referrals"):
        child_ids[truth[("csc_referrals", row["referral_id"])]].add(row["child_id"])
    assert all(len(ids) <= 2 for ids in child_ids.values())
    nominals = defaultdict(set)
    for row in police:
        nominals[truth[("police_incident_persons", row["involvement_ref"])]].add(row["nominal_id"])
    assert all(len(ids) <= 2 for ids in nominals.values())


def test_agencies_give_some_people_a_second_local_id():
    import numpy as np

    from app.demo.data.generate import local_ids

    rng = np.random.default_rng(1)
    person = np.repeat(np.arange(200), 6)  # six records each
    ids = local_ids(rng, person, 200, "N", duplicate_rate=0.3)
    per_person = pd.Series(ids).groupby(person).nunique()
    assert set(per_person.unique()) == {1, 2}
    assert 0.1 < (per_person == 2).mean() < 0.5


def test_event_dates_lie_in_the_period(town):
    _, out = town
    for row in rows(out, "ae_attendances"):
        assert str(PERIOD_START) <= row["arrival_datetime"][:10] <= str(PERIOD_END)


def test_planted_families_meet_two_or_more_criteria_and_people_span_agencies(town):
    _, out = town
    people, truth = load_truth(out)
    planted = {row["household_id"] for row in rows(out / "truth", "planted_families")}
    assert len(planted) >= 3

    def households(dataset, key, keep=lambda row: True):
        return {
            people[truth[(dataset, row[key])]]["household_id"]
            for row in rows(out, dataset)
            if keep(row)
        }

    domestic_abuse = households(
        "police_incident_persons", "involvement_ref", lambda row: row["domestic_abuse_flag"] == "Y"
    )
    social_care = households("csc_referrals", "referral_id")
    upn_person = {
        row["upn"]: truth[("school_attendance", row["attendance_record"])]
        for row in rows(out, "school_attendance")
    }
    excluded = {
        people[upn_person[row["upn"]]]["household_id"] for row in rows(out, "school_exclusions")
    }
    for household in planted:
        assert household in domestic_abuse and household in social_care
        assert household in excluded
    # people in contact with three or more agencies exist beyond the planted families
    agencies = defaultdict(set)
    for (dataset, _), person in truth.items():
        agencies[person].add(dataset.split("_")[0])
    assert sum(len(a) >= 3 for a in agencies.values()) >= 3


def test_manifest_and_lookups(town):
    result, out = town
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 7 and manifest["people"] == 3000
    for name, meta in manifest["files"].items():
        data = (out / f"{name}.csv").read_bytes()
        assert hashlib.sha256(data).hexdigest() == meta["sha256"]
    lookup = rows(out, "postcode_lsoa")
    population = rows(out, "lsoa_population")
    assert sum(int(row["population"]) for row in population) == 3000
    assert {row["lsoa_code"] for row in lookup} == {row["lsoa_code"] for row in population}
    assert len({row["postcode"] for row in lookup}) == len(lookup)
    lsoa_of = {row["postcode"]: row["lsoa_code"] for row in lookup}
    for person in rows(out / "truth", "people"):
        assert lsoa_of[person["postcode"]] == person["lsoa_code"]
    assert "3,000 people" in result.summary()


@pytest.mark.parametrize("seed", [5, 17])
def test_lookups_hold_for_towns_with_empty_lsoas(tmp_path, seed):
    # a town this size has LSOAs without households for these seeds (their postcode still maps)
    generate(4000, seed, tmp_path)
    lookup = rows(tmp_path, "postcode_lsoa")
    codes = {row["lsoa_code"] for row in rows(tmp_path, "lsoa_population")}
    assert {row["lsoa_code"] for row in lookup} <= codes


def test_the_cli_refuses_a_folder_with_files(tmp_path, run_cli):
    (tmp_path / "keep.csv").write_text("x")
    code, _, err = run_cli("demo-data", "generate", "--people", "50", "--out", str(tmp_path))
    assert code == 1 and "is not empty" in err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.csv"]
    code, out, err = run_cli(
        "demo-data", "generate", "--people", "50", "--out", str(tmp_path / "new")
    )
    assert code == 0, err
    assert "50 people" in out
