import copy
import json
import stat

import pandas as pd
import pytest
import yaml

from app.demo import projects as demo_projects
from linkage import dictionary, spine
from linkage.extract import ExtractError, extract, load_lookup
from linkage.ingest import ingest
from projects import registry
from projects.spec import parse_project
from tests.linkage.conftest import AGES_ON
from tests.projects.conftest import TODAY
from tre.errors import Refused

P = "supporting-families"


@pytest.fixture
def linked(registered, town):
    for dataset in dictionary.schemas():
        ingest(registered, dataset, town / f"{dataset}.csv", "ops")
    spine.run(registered, "ops", ages_on=AGES_ON)
    load_lookup(registered, town / "postcode_lsoa.csv", "ops")
    return registered


def test_a_refused_extract_writes_nothing(linked):
    with linked.db.session() as session:
        spec = parse_project(yaml.safe_load(demo_projects.PROJECT_FILE.read_text()))
        registry.register_project(session, spec.lead, spec, linked.settings.policy)
    with pytest.raises(Refused, match="is draft, not active") as refused:
        extract(linked, P, "ops", at=TODAY)
    assert "controller of ae_attendances (TRETON-NHS) has not approved" in str(refused.value)
    assert not (linked.folder("projects") / P).exists() or not any(
        (linked.folder("projects") / P).iterdir()
    )


def test_extracts_hold_only_approved_items_with_project_pseudonyms(linked, town):
    demo_projects.approve_project(linked)
    result = extract(linked, P, "ops", at=TODAY)
    spec = yaml.safe_load(demo_projects.PROJECT_FILE.read_text())
    people = pd.read_csv(town / "truth" / "people.csv", dtype=str)
    for requested in spec["data"]:
        frame = pd.read_parquet(result.folder / f"{requested['dataset']}.parquet")
        schema = dictionary.get(requested["dataset"])
        coarsened = {
            "Person.date_of_birth": "age_band",
            "Place.postcode": "lsoa_code",
            "Person.sex": "sex",
        }
        expected = {"person"} | {
            coarsened.get(schema.field(i["item"]).concept, i["item"]) for i in requested["items"]
        }
        assert set(frame.columns) == expected
        if requested["dataset"] == "csc_referrals":
            assert frame.age_band.dropna().isin(["0-4", "5-11", "12-17"]).all()
        if "sex" in frame:
            # one coding of sex across agencies
            assert set(frame.sex) <= {"M", "F", "U"} and {"M", "F"} <= set(frame.sex)
        for column in frame.columns:
            if column.endswith(("_date", "_at", "datetime")):
                assert frame[column].dropna().str.fullmatch(r"\d{4}-\d{2}").all()
    # no clear-text identifier reaches an extract: not as a value, nor inside one (the files'
    # decoded cells are compared, not their compressed bytes, where 3 letters occur by chance)
    frames = [pd.read_parquet(path).astype(str) for path in result.folder.glob("*.parquet")]
    cells = {v for frame in frames for column in frame for v in frame[column]}
    # (pseudonyms are hex, which a short name may spell by chance: compared whole only)
    text = "\n".join(
        v for frame in frames for column in frame if column != "person" for v in frame[column]
    ).lower()
    for value in list(people.family_name.unique()[:200]) + list(people.nhs_number[:200]):
        assert value not in cells and value.lower() not in text
    manifest = json.loads(result.manifest.read_text())
    for item in manifest["files"]:
        import hashlib

        assert (
            hashlib.sha256((result.folder / item["file"]).read_bytes()).hexdigest()
            == item["sha256"]
        )
    assert "violating_5_anonymity" in manifest["risk"]["csc_referrals"]
    mode = stat.S_IMODE((result.folder / "csc_referrals.parquet").stat().st_mode)
    assert not mode & stat.S_IWUSR and not stat.S_IMODE(result.folder.stat().st_mode) & 0o222


def test_two_projects_cannot_join_their_extracts(linked):
    demo_projects.approve_project(linked)
    data = yaml.safe_load(demo_projects.PROJECT_FILE.read_text())
    other = copy.deepcopy(data)
    other["id"] = "repeat-callers"
    other["data"] = [d for d in data["data"] if d["dataset"] == "police_incident_persons"]
    path = linked.home / "other.yaml"
    path.write_text(yaml.safe_dump(other))
    demo_projects.approve_project(linked, path)
    first = pd.read_parquet(
        extract(linked, P, "ops", at=TODAY).folder / "police_incident_persons.parquet"
    )
    second = pd.read_parquet(
        extract(linked, "repeat-callers", "ops", at=TODAY).folder
        / "police_incident_persons.parquet"
    )
    assert len(first) == len(second)
    assert not set(first.person) & set(second.person)
    # within one project a person keeps one pseudonym: records per pseudonym agree
    assert first.person.nunique() == second.person.nunique()


def test_a_new_extract_replaces_the_old_one_whole(linked):
    demo_projects.approve_project(linked)
    first = extract(linked, P, "ops", at=TODAY)
    again = extract(linked, P, "ops", at=TODAY)
    assert first.folder == again.folder
    siblings = [p.name for p in again.folder.parent.iterdir()]
    assert siblings == ["data"]


def test_the_extract_records_that_the_data_is_prepared_before_the_start_date(linked):
    from datetime import date

    from projects.policy import decide, status

    demo_projects.approve_project(linked)
    with linked.db.session() as session:
        waiting = decide(session, "alex.analyst", "run_analysis", P, at=TODAY).reasons
    assert waiting == (f"project {P} is approved; waiting for the operator to prepare the data",)
    extract(linked, P, "ops", at=date(2025, 12, 1))  # approved, not yet started: ready for it
    with linked.db.session() as session:
        found = registry.project(session, P)
        assert status(session, found, date(2025, 12, 1)) == "approved; starts on 2026-01-01"
        assert status(session, found, TODAY) == "active until 2027-12-31"
        assert decide(session, "alex.analyst", "run_analysis", P, at=TODAY).allowed


def test_extract_needs_the_lookup(registered, town):
    demo_projects.approve_project(registered)
    ingest(registered, "csc_referrals", town / "csc_referrals.csv", "ops")
    spine.run(registered, "ops", ages_on=AGES_ON)
    with pytest.raises(ExtractError, match="postcode lookup is missing"):
        extract(registered, P, "ops", at=TODAY)


def test_the_lsoa_population_goes_into_every_extract(linked, town, tmp_path):
    load_lookup(linked, town / "lsoa_population.csv", "ops")
    demo_projects.approve_project(linked)
    result = extract(linked, P, "ops", at=TODAY)
    population = pd.read_parquet(result.folder / "lsoa_population.parquet")
    assert population.population.dtype.kind in "if" and population.population.sum() > 0
    listed = {f["file"]: f for f in json.loads(result.manifest.read_text())["files"]}
    assert listed["lsoa_population.parquet"]["dataset"] == "reference:lsoa_population"
    bad = tmp_path / "population.csv"
    bad.write_text("lsoa_code,population\nE01900001,many\n")
    with pytest.raises(ExtractError, match="line 2: population must be a number"):
        load_lookup(linked, bad, "ops")
    wrong = tmp_path / "other.csv"
    wrong.write_text("code,value\nA,1\n")
    with pytest.raises(ExtractError, match="this file has code, value"):
        load_lookup(linked, wrong, "ops")
