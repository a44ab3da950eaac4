"""Purpose quality: a fishing expedition is flagged, field by field, and the operator chooses
which flags stop a submission."""

import copy

import pytest

from projects import registry
from projects.errors import RegistryError
from projects.quality import flags
from projects.spec import parse_project
from tre.settings import QUALITY_FLAGS, RegistrationSettings, SettingsError, parse_settings

# the registration the issue saw saved and submitted without a single warning
FISHING = (
    "Explore all of the linked data to find any interesting patterns; "
    "we will decide the questions later."
)
AE_ITEMS = [
    "attendance_id",
    "date_of_birth",
    "sex",
    "postcode",
    "arrival_datetime",
    "arrival_mode",
    "chief_complaint",
    "disposal",
]


def fishing(spec_data):
    data = copy.deepcopy(spec_data)
    data["id"] = "fishing-trip"
    data["purpose"] = FISHING
    for requested in data["data"]:
        for item in requested["items"]:
            item["justification"] = "might be useful"
    ae = next(d for d in data["data"] if d["dataset"] == "ae_attendances")
    ae["items"] = [{"item": i, "justification": "might be useful"} for i in AE_ITEMS]
    data["intended_outputs"] = [{"name": "results", "kind": "table"}]
    data["end"] = "2031-12-31"
    data["data_period"] = {"start": "2015-04-01", "end": "2026-03-31"}
    data["retention_until"] = "2040-01-01"
    return data


def raised(instance, data, settings=None):
    spec = parse_project(data).model_dump(mode="json")
    with instance.db.session() as session:
        return flags(session, spec, settings or RegistrationSettings())


def test_the_demo_registration_raises_no_flag(populated, spec_data):
    assert raised(populated, spec_data) == []


@pytest.mark.parametrize("kind", QUALITY_FLAGS)
def test_a_fishing_expedition_raises_every_flag(populated, spec_data, kind):
    found = [f for f in raised(populated, fishing(spec_data)) if f.kind == kind]
    assert found, kind
    assert all(f.field and f.message and "\n" not in f.message for f in found)


def test_the_flags_say_what_is_wrong_and_where(populated, spec_data):
    by_kind = {}
    for flag in raised(populated, fishing(spec_data)):
        by_kind.setdefault(flag.kind, []).append(flag)
    (purpose,) = by_kind["open_ended_purpose"]
    assert purpose.field == "purpose"
    for words in ("explore", "any interesting", "decide the questions later"):
        assert words in purpose.message
    (whole,) = by_kind["every_item_requested"]
    assert whole.field == "data.2" and "every one of its 8 items" in whole.message
    assert "“might be useful”" in by_kind["justification_repeated"][0].message
    assert {f.field for f in by_kind["period_out_of_line"]} == {"end", "data_period"}


@pytest.mark.parametrize(
    "purpose",
    [
        "Explore the data to see what turns up about families.",
        "General research into the outcomes of families in Treton, questions to be decided later.",
        "Find patterns across every agency's records of families in Treton.",
    ],
)
def test_open_ended_purposes(populated, spec_data, purpose):
    spec_data["purpose"] = purpose
    assert [f.kind for f in raised(populated, spec_data)] == ["open_ended_purpose"]


def test_a_justification_shared_by_a_few_items_of_different_datasets_is_not_flagged(
    populated, spec_data
):
    # the demo's "Contact in the study year" covers one date item in each of three datasets
    texts = [i["justification"] for d in spec_data["data"] for i in d["items"]]
    assert texts.count("Contact in the study year") == 3
    assert raised(populated, spec_data) == []


def test_blocking_flags_stop_the_submission_others_warn(populated, spec_data):
    data = fishing(spec_data)
    with populated.db.session() as session:
        registry.register_project(
            session, "sam.lead", parse_project(data), populated.settings.policy
        )
    with populated.db.session() as session:
        with pytest.raises(RegistryError, match="cannot be submitted until these are mended") as e:
            registry.submit(session, "sam.lead", "fishing-trip", RegistrationSettings())
    assert "purpose: the purpose is open-ended" in str(e.value)
    assert "might be useful" not in str(e.value)  # only the blocking flags
    with populated.db.session() as session:
        assert registry.project(session, "fishing-trip").state == "draft"
        registry.submit(
            session, "sam.lead", "fishing-trip", RegistrationSettings(block_submission=[])
        )
        assert registry.project(session, "fishing-trip").state == "submitted"


def test_the_operator_chooses_the_blocking_flags_in_tre_toml():
    settings = parse_settings('[registration]\nblock_submission = ["every_item_requested"]\n')
    assert settings.registration.block_submission == ["every_item_requested"]
    assert parse_settings("").registration.block_submission == ["open_ended_purpose"]
    with pytest.raises(SettingsError, match="unknown flag maybe_fishy"):
        parse_settings('[registration]\nblock_submission = ["maybe_fishy"]\n')


def test_the_cli_warns_on_saving_and_refuses_a_blocked_submission(
    populated, spec_data, run_cli, tmp_path
):
    import yaml

    path = tmp_path / "fishing.yaml"
    path.write_text(yaml.safe_dump(fishing(spec_data)))
    code, out, err = run_cli(
        "--actor", "sam.lead", "project", "register", str(path), home=populated.home
    )
    assert code == 0, err
    assert "warning (blocks submission): purpose: the purpose is open-ended" in out
    assert "warning: data.2: ae_attendances: every one of its 8 items is asked for" in out
    code, out, err = run_cli(
        "--actor", "sam.lead", "project", "submit", "fishing-trip", home=populated.home
    )
    assert code == 1 and "cannot be submitted until these are mended" in err
    code, out, _ = run_cli("project", "show", "fishing-trip", home=populated.home)
    assert code == 0 and "warning (blocks submission): purpose:" in out
