from datetime import date

import pytest

from projects import registry
from projects.policy import ACTIONS, decide
from tests.projects.conftest import TODAY

P = "supporting-families"


def reasons(instance, who, action, project=P, **options):
    options.setdefault("at", TODAY)
    with instance.db.session() as session:
        return decide(session, who, action, project, **options).reasons


# the full matrix on an active project: who may do what (everyone else is refused)
ALLOWED = {
    "alex.analyst": {
        "work_in_workspace",
        "read_extract",
        "run_analysis",
        "request_release",
        "receive_release",
    },
    "bea.analyst": {
        "work_in_workspace",
        "read_extract",
        "run_analysis",
        "request_release",
        "receive_release",
    },
    "chris.checker": {"review_release"},
    "dana.checker": {"review_release"},
    "sam.lead": {"register_project", "amend_project", "submit_project"},
    "ops.operator": {"administer_registry"},
}
EVERYONE = (
    "sam.lead",
    "alex.analyst",
    "bea.analyst",
    "chris.checker",
    "dana.checker",
    "ash.approver",
    "pat.approver",
    "fin.approver",
    "nia.approver",
    "sol.approver",
    "ops.operator",
    "eve.outsider",
)


@pytest.mark.parametrize("who", EVERYONE)
def test_roles_by_actions_on_an_active_project(active, who):
    with active.db.session() as session:
        for action in ACTIONS:
            decision = decide(session, who, action, P, at=TODAY)
            expected = action in ALLOWED.get(who, set())
            assert decision.allowed == expected, (who, action, decision.reasons)
            if not decision.allowed:
                assert decision.reasons and all(isinstance(r, str) for r in decision.reasons)


def test_unknown_person_and_action(active):
    assert reasons(active, "nobody", "run_analysis") == ("nobody is not registered",)
    assert "unknown action 'dance'" in reasons(active, "alex.analyst", "dance")[0]


def test_not_a_team_member(active):
    assert "eve.outsider is not a member of project supporting-families" in reasons(
        active, "eve.outsider", "run_analysis"
    )


def test_receiving_a_release_needs_an_accredited_team_member_of_an_active_project(active):
    assert reasons(active, "eve.outsider", "receive_release") == (
        "eve.outsider is not a member of project supporting-families's team",
    )
    assert "sam.lead holds no accreditation" in reasons(active, "sam.lead", "receive_release")
    assert any(
        "accreditation expired" in r
        for r in reasons(active, "alex.analyst", "receive_release", at=date(2028, 6, 1))
    )
    with active.db.session() as session:
        registry.set_suspended(session, "ops.operator", "alex.analyst", True)
    try:
        assert reasons(active, "alex.analyst", "receive_release") == (
            "alex.analyst's account is suspended",
        )
    finally:
        with active.db.session() as session:
            registry.set_suspended(session, "ops.operator", "alex.analyst", False)


def test_role_lacks_the_action(active):
    assert any(
        "does not have the analyst role" in r
        for r in reasons(active, "chris.checker", "read_extract")
    )


def test_accreditation_expired(active):
    found = reasons(active, "alex.analyst", "run_analysis", at=date(2028, 6, 1))
    assert any("accreditation expired on 2028-03-31" in r for r in found)
    with active.db.session() as session:
        registry.add_person(
            session, "op", "new.analyst", "New", "n@treton.example", "TRETON-COUNCIL", ["analyst"]
        )
    assert any(
        "holds no accreditation" in r for r in reasons(active, "new.analyst", "run_analysis")
    )


def test_terms_not_accepted_for_the_current_version(active, spec_data):
    from projects.spec import parse_project

    spec_data["lay_summary"] += " A new version."
    with active.db.session() as session:
        registry.amend(session, "sam.lead", P, parse_project(spec_data), active.settings.policy)
    assert any(
        "has not accepted the terms of version 2" in r
        for r in reasons(active, "alex.analyst", "run_analysis")
    )


@pytest.mark.parametrize(
    ("at", "message"),
    [
        (date(2025, 12, 1), "is approved but starts on 2026-01-01"),
        (date(2028, 1, 1), "ended on 2027-12-31"),
    ],
)
def test_project_not_active_by_dates(active, at, message):
    assert any(message in r for r in reasons(active, "alex.analyst", "run_analysis", at=at))


def test_suspended_project(active):
    with active.db.session() as session:
        registry.suspend(session, "ops.operator", P, "audit in progress")
    assert any(
        "is suspended: audit in progress" in r
        for r in reasons(active, "alex.analyst", "work_in_workspace")
    )
    assert any(
        "cannot be reviewed now" in r for r in reasons(active, "chris.checker", "review_release")
    )


def test_controller_has_not_approved(populated, spec_data):
    from app.demo import projects as demo_projects

    demo_projects.approve_project(populated)
    with populated.db.session() as session:
        registry.suspend(session, "ops.operator", P, "check")
        registry.reinstate(session, "ops.operator", P)
    from projects.spec import parse_project

    spec_data["data"][1]["items"].append(
        {"item": "incident_lsoa", "justification": "Where incidents happen, for demand by area"}
    )
    with populated.db.session() as session:
        registry.amend(session, "sam.lead", P, parse_project(spec_data), populated.settings.policy)
    found = reasons(populated, "alex.analyst", "read_extract", dataset="police_incident_persons")
    assert any(
        "controller of police_incident_persons (TRETON-POLICE) has not approved" in r for r in found
    )


def test_item_not_requested(active):
    found = reasons(
        active, "alex.analyst", "read_extract", dataset="ae_attendances", item="disposal"
    )
    assert found == ("item disposal of ae_attendances was not requested by supporting-families",)
    assert (
        reasons(
            active, "alex.analyst", "read_extract", dataset="ae_attendances", item="chief_complaint"
        )
        == ()
    )
    assert (
        "did not request dataset asc_clients"
        in reasons(active, "alex.analyst", "read_extract", dataset="asc_clients")[0]
    )


def test_separation_of_duties(active):
    with active.db.session() as session:
        registry.add_person(
            session,
            "op",
            "both.roles",
            "Both",
            "b@treton.example",
            "TRETON-COUNCIL",
            ["analyst", "output_checker", "approver"],
        )
        registry.accredit(session, "op", "both.roles", "TAR", "TAR-1", date(2030, 1, 1))
    from projects.spec import parse_project

    data = __import__("yaml").safe_load(
        __import__("app.demo.projects", fromlist=["x"]).PROJECT_FILE.read_text()
    )
    data["team"].append({"person": "both.roles", "role": "analyst"})
    data["lay_summary"] += " Wider team."
    with active.db.session() as session:
        registry.amend(session, "sam.lead", P, parse_project(data), active.settings.policy)
    assert any("separation of duties" in r for r in reasons(active, "both.roles", "review_release"))
    assert any(
        "separation of duties" in r for r in reasons(active, "both.roles", "approve_data_use")
    )


def test_suspended_person(active):
    with active.db.session() as session:
        registry.set_suspended(session, "op", "alex.analyst", True)
    assert "alex.analyst's account is suspended" in reasons(active, "alex.analyst", "run_analysis")


# ---------------------------------------------------------------------------------------------
# states without a refresh: the dates take effect in every decision, page and command


def test_a_project_past_its_start_date_is_suspended_without_a_refresh(approved):
    from projects.errors import RegistryError
    from projects.policy import effective_state, status
    from tre import audit

    before_start = date(2025, 12, 1)
    with approved.db.session() as session:
        found = registry.project(session, P)
        assert found.state == "approved"  # stored: nobody ran `tre project refresh`
        assert effective_state(found, TODAY) == "active"
        assert effective_state(found, before_start) == "approved"
        with pytest.raises(RegistryError, match="'suspend' is possible only from active"):
            registry.suspend(session, "ops.operator", P, "too early", at=before_start)
    with approved.db.session() as session:
        registry.suspend(session, "ops.operator", P, "suspected breach", at=TODAY)
        found = registry.project(session, P)
        assert found.state == "suspended"
        assert status(session, found, TODAY) == "suspended: suspected breach"
        moves = [
            (e.actor, e.action)
            for e in audit.events(session, project=P)
            if e.action in ("project.activate", "project.suspend")
        ]
    # the dates' own move is recorded first, by the system, then the operator's
    assert moves == [("system", "project.activate"), ("ops.operator", "project.suspend")]
    assert any(
        "is suspended: suspected breach" in r
        for r in reasons(approved, "alex.analyst", "work_in_workspace")
    )


def test_the_end_date_takes_effect_without_a_refresh(active, spec_data):
    from projects.errors import RegistryError
    from projects.spec import parse_project

    after = date(2028, 1, 1)
    assert any(
        "ended on 2027-12-31" in r
        for r in reasons(active, "alex.analyst", "run_analysis", at=after)
    )
    spec_data["lay_summary"] += " Reworded."
    with active.db.session() as session:
        with pytest.raises(RegistryError, match="project supporting-families is expired"):
            registry.amend(
                session, "sam.lead", P, parse_project(spec_data), active.settings.policy, at=after
            )


def test_an_approved_project_waits_for_its_data(approved):
    from projects.policy import status

    waiting = (
        "project supporting-families is approved; waiting for the operator to prepare the data"
    )
    assert reasons(approved, "alex.analyst", "run_analysis") == (waiting,)
    assert reasons(approved, "alex.analyst", "read_extract") == (waiting,)
    # the workspace opens (to write code in); releases need runs, which need the data
    assert reasons(approved, "alex.analyst", "work_in_workspace") == ()
    with approved.db.session() as session:
        found = registry.project(session, P)
        assert (
            status(session, found, TODAY)
            == "approved; waiting for the operator to prepare the data"
        )
        assert registry.describe(session, found)["status"] == status(session, found)
        registry.record_prepared_data(session, "ops.operator", P, 1, [])
        assert status(session, found, TODAY) == "active until 2027-12-31"
    assert reasons(approved, "alex.analyst", "run_analysis") == ()


def test_a_change_of_data_needs_the_data_prepared_again_a_rewording_does_not(active, spec_data):
    from projects.spec import parse_project

    spec_data["lay_summary"] += " Reworded."
    with active.db.session() as session:
        registry.amend(session, "sam.lead", P, parse_project(spec_data), active.settings.policy)
    with active.db.session() as session:
        for who in ("alex.analyst", "bea.analyst"):
            registry.accept_terms(session, who, P)
    assert reasons(active, "alex.analyst", "run_analysis") == ()
    spec_data["data"][0]["items"].pop()  # a narrowing: the cut extract holds an item too many
    with active.db.session() as session:
        registry.amend(session, "sam.lead", P, parse_project(spec_data), active.settings.policy)
        for who in ("alex.analyst", "bea.analyst"):
            registry.accept_terms(session, who, P)
    assert any(
        "waiting for the operator to prepare the data" in r
        for r in reasons(active, "alex.analyst", "run_analysis")
    )
