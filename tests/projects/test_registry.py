import copy
from datetime import date

import pytest
from sqlalchemy import func, select

from projects import registry
from projects.errors import RegistryError
from projects.models import Project
from projects.policy import effective_state
from projects.spec import parse_project
from projects.terms import terms_sha256, terms_text
from tests.projects.conftest import TODAY
from tre import audit
from tre.errors import Refused
from tre.settings import RegistrationSettings


def count_projects(instance):
    with instance.db.session() as session:
        return session.scalar(select(func.count()).select_from(Project))


def register(instance, data, actor="sam.lead"):
    with instance.db.session() as session:
        return registry.register_project(
            session, actor, parse_project(data), instance.settings.policy
        ).id


def test_the_demo_project_goes_through_approval_to_active(active):
    with active.db.session() as session:
        found = registry.project(session, "supporting-families")
        info = registry.describe(session, found)
        # active from its start date: no refresh moved the stored state
        assert found.state == "approved" and effective_state(found, TODAY) == "active"
        assert all(a["decision"] == "approved" for a in info["approvals"].values())
        assert info["approvals"]["ae_attendances"]["text"].startswith("No A&E output")
        assert info["declarations"] == ["alex.analyst", "bea.analyst"]
        actions = [e.action for e in audit.events(session, project="supporting-families")]
    assert actions[:2] == ["project.register", "project.submit"]
    assert actions.count("project.data_use.approve") == 5
    assert "project.approve" in actions and "project.activate" not in actions


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(id="Bad_Id"), "id: must be 1-30 characters"),
        (lambda d: d.update(id="a" * 31), "id: must be 1-30 characters"),
        (lambda d: d.update(id="double--hyphen"), "id: must be 1-30 characters"),
        (
            lambda d: d.update(end="2025-01-01"),
            r"end: the project's end \(1 January 2025\) is before its start \(",
        ),
        (lambda d: d.update(category="fishing"), "category: input should be"),
        (lambda d: d.update(colour="blue"), "colour: unknown field"),
        (lambda d: d["data"][0]["items"][0].update(justification="x"), "justification"),
        (lambda d: d.pop("purpose"), "purpose: field required"),
        # checks against the registry
        (lambda d: d["data"][0].update(dataset="nope"), "data.0.dataset: no dataset 'nope'"),
        (
            lambda d: d["data"][0]["items"][0].update(item="shoe_size"),
            "data.0.items.0.item: csc_referrals has no item 'shoe_size'",
        ),
        (
            lambda d: d["data"][0]["items"][0].update(item="first_name"),
            "first_name is a direct identifier",
        ),
        (
            lambda d: d["team"].append({"person": "chris.checker", "role": "analyst"}),
            "chris.checker does not have the analyst role",
        ),
        (lambda d: d["legal_basis"].update(article_6="made-up"), "'made-up' is not in the legal"),
        (
            lambda d: d["legal_basis"]["gateways"].append("uk-gdpr-6-1-e"),
            "is a lawful basis, not a statutory gateway",
        ),
        (lambda d: d.update(disclosure={"threshold": 3}), "looser than the operator's 10"),
    ],
)
def test_bad_project_files_name_the_field_and_change_nothing(populated, spec_data, change, message):
    data = copy.deepcopy(spec_data)
    change(data)
    with pytest.raises(RegistryError, match=message):
        register(populated, data)
    assert count_projects(populated) == 0


def test_duplicate_ids_are_refused(active, spec_data):
    with pytest.raises(RegistryError, match="already exists; nothing was changed"):
        register(active, spec_data)
    with active.db.session() as session:
        with pytest.raises(RegistryError, match="already exists"):
            registry.add_organisation(session, "x", "TRETON-FIRE", "Again", "fire")
        with pytest.raises(RegistryError, match="already exists"):
            registry.add_person(
                session, "x", "sam.lead", "Sam", "s@x.example", "TRETON-FIRE", ["analyst"]
            )
        with pytest.raises(RegistryError, match="unknown role wizard"):
            registry.add_person(
                session, "x", "new.one", "N", "n@x.example", "TRETON-FIRE", ["wizard"]
            )


def test_only_the_lead_submits_and_only_from_draft(populated, spec_data):
    project_id = register(populated, spec_data)
    with populated.db.session() as session:
        with pytest.raises(Refused, match="only the project's lead"):
            registry.submit(session, "alex.analyst", project_id, RegistrationSettings())
    with populated.db.session() as session:
        registry.submit(session, "sam.lead", project_id, RegistrationSettings())
    with populated.db.session() as session:
        with pytest.raises(
            RegistryError, match="is submitted: 'submit' is possible only from draft"
        ):
            registry.submit(session, "sam.lead", project_id, RegistrationSettings())


def test_a_refusal_returns_the_project_to_draft_with_its_reason(populated, spec_data):
    project_id = register(populated, spec_data)
    with populated.db.session() as session:
        registry.submit(session, "sam.lead", project_id, RegistrationSettings())
    with populated.db.session() as session:
        with pytest.raises(RegistryError, match="needs a reason"):
            registry.decide_data_use(
                session, "pat.approver", project_id, "police_incident_persons", False, ""
            )
    with populated.db.session() as session:
        registry.decide_data_use(
            session,
            "pat.approver",
            project_id,
            "police_incident_persons",
            False,
            "Roles of victims are not needed for this purpose",
        )
        found = registry.project(session, project_id)
        assert found.state == "draft" and "Roles of victims" in found.state_reason


def test_separation_of_duties_and_controller_scope_for_approvals(populated, spec_data):
    data = copy.deepcopy(spec_data)
    project_id = register(populated, data)
    with populated.db.session() as session:
        registry.submit(session, "sam.lead", project_id, RegistrationSettings())
    with populated.db.session() as session:
        with pytest.raises(Refused, match="approves for TRETON-COUNCIL, not for TRETON-POLICE"):
            registry.decide_data_use(
                session, "ash.approver", project_id, "police_incident_persons", True
            )


def test_amendments_need_fresh_approval_only_for_changed_items(active, spec_data):
    data = copy.deepcopy(spec_data)
    data["lay_summary"] += " Updated wording."
    with active.db.session() as session:
        found = registry.amend(
            session, "sam.lead", "supporting-families", parse_project(data), active.settings.policy
        )
        assert found.state == "active" and found.version == 2
        assert all(a.carried_from == 1 for a in registry.approvals(session, found).values())
    data["data"][1]["items"].append(
        {
            "item": "incident_lsoa",
            "justification": "Where the incidents happen, for demand by neighbourhood",
        }
    )
    with active.db.session() as session:
        found = registry.amend(
            session, "sam.lead", "supporting-families", parse_project(data), active.settings.policy
        )
        assert found.state == "submitted" and found.version == 3
        decided = registry.approvals(session, found)
        assert "police_incident_persons" not in decided
        assert set(decided) == set(registry.requested_datasets(found)) - {"police_incident_persons"}
    with active.db.session() as session:
        registry.decide_data_use(
            session, "pat.approver", "supporting-families", "police_incident_persons", True
        )
        found = registry.project(session, "supporting-families")
        assert found.state == "approved"
        registry.refresh(session, "supporting-families", TODAY)
        assert registry.project(session, "supporting-families").state == "active"
        versions = registry.describe(session, found)["versions"]
    assert [v["version"] for v in versions] == [1, 2, 3]


def test_expiry_by_date_and_suspension(active):
    with active.db.session() as session:
        with pytest.raises(RegistryError, match="only a person with the operator role"):
            registry.suspend(session, "sam.lead", "supporting-families", "breach")
        registry.suspend(session, "ops.operator", "supporting-families", "suspected breach")
        assert registry.project(session, "supporting-families").state == "suspended"
        registry.reinstate(session, "ops.operator", "supporting-families")
        registry.refresh(session, "supporting-families", date(2028, 1, 1))
        assert registry.project(session, "supporting-families").state == "expired"


def test_terms_record_version_and_hash(active):
    with active.db.session() as session:
        found = registry.project(session, "supporting-families")
        text = terms_text(session, found)
        assert "supporting-families" in text and found.current.spec["purpose"][:20] in text
        again = registry.accept_terms(session, "alex.analyst", "supporting-families")
        assert again.terms_sha256 == terms_sha256(session, found)
        with pytest.raises(RegistryError, match="not in project"):
            registry.accept_terms(session, "eve.outsider", "supporting-families")


def test_the_controllers_conditions_are_part_of_the_terms(active):
    """Each condition attached to an approval of the current version is a numbered term, with
    its dataset and controller; a condition attached after someone accepted (here, written into
    the approval afterwards) makes them accept again before they work."""
    from projects.approvals import approvals
    from projects.policy import decide

    p = "supporting-families"
    with active.db.session() as session:
        found = registry.project(session, p)
        text = terms_text(session, found)
        assert (
            "7. ae_attendances (Treton Hospitals NHS Trust): No A&E output below LSOA level; "
            "review after one year." in text
        )
        assert decide(session, "alex.analyst", "work_in_workspace", p, at=TODAY).allowed
        approvals(session, found)[
            "police_incident_persons"
        ].text = "Counts of fewer than 10 suppressed."
        session.flush()
        assert "Counts of fewer than 10 suppressed." in terms_text(session, found)
        refused = decide(session, "alex.analyst", "work_in_workspace", p, at=TODAY)
        assert any("changed after alex.analyst accepted them" in r for r in refused.reasons)
        registry.accept_terms(session, "alex.analyst", p)
        assert decide(session, "alex.analyst", "work_in_workspace", p, at=TODAY).allowed


@pytest.mark.parametrize(
    ("actor", "lead", "message"),
    [
        ("alex.analyst", "sam.lead", "alex.analyst does not have the project_lead role"),
        ("alex.analyst", "sam.lead", "the registration names sam.lead as the lead"),
        ("nobody", "sam.lead", "nobody is not registered"),
    ],
)
def test_only_the_lead_named_registers_a_project(populated, spec_data, actor, lead, message):
    spec_data["lead"] = lead
    with pytest.raises(Refused, match=message):
        register(populated, spec_data, actor=actor)
    assert count_projects(populated) == 0


def test_a_lead_cannot_amend_the_project_into_someone_elses(active, spec_data):
    with active.db.session() as session:
        registry.add_person(
            session, "ops", "kim.lead", "Kim", "k@treton.example", "TRETON-POLICE", ["project_lead"]
        )
    spec_data["lead"] = "kim.lead"
    with active.db.session() as session:
        with pytest.raises(Refused, match="names kim.lead as the lead"):
            registry.amend(
                session,
                "sam.lead",
                "supporting-families",
                parse_project(spec_data),
                active.settings.policy,
            )
        with pytest.raises(Refused, match=r"only the project's lead \(sam.lead\) can amend"):
            registry.amend(
                session,
                "kim.lead",
                "supporting-families",
                parse_project(spec_data),
                active.settings.policy,
            )
