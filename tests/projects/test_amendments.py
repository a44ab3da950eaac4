"""Amendments: a change that widens an approved or active project goes back to its data
controllers, and the project is not usable until they approve the new version; a change that
narrows it takes effect at once. Attacks first: each of these was possible before."""

import copy
import json

import pytest
import yaml

from projects import registry
from projects.policy import DATA_ACTIONS, decide
from projects.spec import parse_project
from tests.projects.conftest import TODAY
from tre import audit
from tre.settings import RegistrationSettings

P = "supporting-families"
DATASETS = {
    "ae_attendances",
    "csc_referrals",
    "fire_home_safety_visits",
    "police_incident_persons",
    "school_attendance",
}
APPROVER_OF = {
    "ae_attendances": "nia.approver",
    "asc_clients": "ash.approver",
    "csc_referrals": "ash.approver",
    "fire_home_safety_visits": "fin.approver",
    "police_incident_persons": "pat.approver",
    "school_attendance": "sol.approver",
}


def amend(instance, data, actor="sam.lead"):
    with instance.db.session() as session:
        found = registry.amend(session, actor, P, parse_project(data), instance.settings.policy)
        return found.state, found.version


def accept_terms(instance, *people):
    with instance.db.session() as session:
        for who in people:
            registry.accept_terms(session, who, P)


def reasons(instance, who, action="work_in_workspace"):
    with instance.db.session() as session:
        return decide(session, who, action, P, at=TODAY).reasons


def carried(instance):
    """The datasets whose approval the current version holds."""
    with instance.db.session() as session:
        found = registry.project(session, P)
        return {
            d for d, a in registry.approvals(session, found).items() if a.decision == "approved"
        }


def last_amendment(instance):
    with instance.db.session() as session:
        amended = [e for e in audit.events(session, project=P) if e.action == "project.amend"]
        return json.loads(amended[-1].details)


def item(name, why="Needed for the purpose of the project, as registered", **more):
    return {"item": name, "justification": why, **more}


def police(data):
    return next(d for d in data["data"] if d["dataset"] == "police_incident_persons")


def csc(data):
    return next(d for d in data["data"] if d["dataset"] == "csc_referrals")


# ---------------------------------------------------------------------------------------------
# the incident


def test_the_lead_alone_cannot_widen_an_active_project_to_an_outsider(active, spec_data):
    """The incident: the lead re-saved the active project with an outsider in the team, an end
    in 2099 and a new purpose; it stayed active and the outsider got a workspace."""
    data = copy.deepcopy(spec_data)
    data["team"].append({"person": "eve.outsider", "role": "analyst"})
    data["end"], data["retention_until"] = "2099-12-31", "2099-12-31"
    data["purpose"] = "Anything the team finds interesting in the linked records of Treton."
    state, version = amend(active, data)
    accept_terms(active, "eve.outsider", "alex.analyst", "bea.analyst")

    assert (state, version) == ("submitted", 2)
    assert carried(active) == set()  # version 1's approvals do not carry over
    for who in ("eve.outsider", "alex.analyst", "bea.analyst"):
        for action in DATA_ACTIONS:
            found = reasons(active, who, action)
            assert any("awaiting its data controllers" in r for r in found), (who, action, found)
    amendment = last_amendment(active)
    assert amendment["kind"] == "widening"
    assert amendment["widened"] == ["end", "purpose", "retention_until", "team"]
    assert sorted(amendment["needs_approval"]) == sorted(DATASETS)

    # only when every controller has approved the new version is it usable, by the new team
    with active.db.session() as session:
        for dataset_id in sorted(DATASETS):
            registry.decide_data_use(session, APPROVER_OF[dataset_id], P, dataset_id, True)
        assert registry.project(session, P).state == "approved"
        registry.refresh(session, P, TODAY)
        assert registry.project(session, P).state == "active"
    assert reasons(active, "eve.outsider") == ()


# ---------------------------------------------------------------------------------------------
# every kind of widening


ALL = sorted(DATASETS)
WIDENINGS = [
    (
        "a person added to the team",
        lambda d: d["team"].append({"person": "eve.outsider", "role": "analyst"}),
        ["team"],
        ALL,
    ),
    (
        "a member given another role",
        lambda d: d["team"].append({"person": "alex.analyst", "role": "lead"}),
        ["team"],
        ALL,
    ),
    (
        "a data item added",
        lambda d: police(d)["items"].append(item("incident_lsoa")),
        ["data.police_incident_persons"],
        ["police_incident_persons"],
    ),
    (
        "a dataset added",
        lambda d: d["data"].append({"dataset": "asc_clients", "items": [item("service_type")]}),
        ["data.asc_clients"],
        ["asc_clients"],
    ),
    (
        "a date item given to the day",
        lambda d: csc(d)["items"][3].update(precision="day"),
        ["data.csc_referrals.referral_date.precision"],
        ["csc_referrals"],
    ),
    (
        "an item's justification rewritten",
        lambda d: csc(d)["items"][0].update(justification="Exact ages for a new question"),
        ["data.csc_referrals.dob.justification"],
        ["csc_referrals"],
    ),
    ("the end moved later", lambda d: d.update(end="2028-06-30"), ["end"], ALL),
    ("the start moved earlier", lambda d: d.update(start="2025-06-01"), ["start"], ALL),
    (
        "retention extended",
        lambda d: d.update(retention_until="2030-01-01"),
        ["retention_until"],
        ALL,
    ),
    (
        "the purpose changed",
        lambda d: d.update(purpose=d["purpose"] + " And predict which families will offend."),
        ["purpose"],
        ALL,
    ),
    (
        "the public benefit changed",
        lambda d: d.update(public_benefit="Commercial insight into families' service use."),
        ["public_benefit"],
        ALL,
    ),
    ("the category changed", lambda d: d.update(category="research"), ["category"], ALL),
    (
        "the lawful basis changed",
        lambda d: d["legal_basis"].update(article_6="uk-gdpr-6-1-c"),
        ["legal_basis.article_6"],
        ALL,
    ),
    (
        "a gateway added",
        lambda d: d["legal_basis"]["gateways"].append("children-act-2004-s11"),
        ["legal_basis.gateways"],
        ALL,
    ),
    (
        "a gateway removed",
        lambda d: d["legal_basis"]["gateways"].remove("dea-2017-part-5"),
        ["legal_basis.gateways"],
        ALL,
    ),
    (
        "the DPIA reference changed",
        lambda d: d["legal_basis"].update(dpia="DPIA-2026-099"),
        ["legal_basis.dpia"],
        ALL,
    ),
    ("onward sharing allowed", lambda d: d.update(onward_sharing=True), ["onward_sharing"], ALL),
    ("commercial use allowed", lambda d: d.update(commercial_use=True), ["commercial_use"], ALL),
    (
        "the data period moved earlier",
        lambda d: d["data_period"].update(start="2020-04-01"),
        ["data_period"],
        ALL,
    ),
    (
        "an intended output added",
        lambda d: d["intended_outputs"].append({"name": "risk scores", "kind": "model"}),
        ["intended_outputs"],
        ALL,
    ),
]


@pytest.mark.parametrize(
    ("change", "widened", "needs_approval"),
    [pytest.param(c, w, n, id=name) for name, c, w, n in WIDENINGS],
)
def test_a_widening_amendment_goes_back_to_the_controllers_concerned(
    active, spec_data, change, widened, needs_approval
):
    data = copy.deepcopy(spec_data)
    change(data)
    assert amend(active, data) == ("submitted", 2)
    accept_terms(active, "alex.analyst")
    assert any("awaiting its data controllers" in r for r in reasons(active, "alex.analyst"))
    amendment = last_amendment(active)
    assert amendment["kind"] == "widening"
    assert amendment["widened"] == widened
    assert amendment["needs_approval"] == needs_approval
    # the others' approvals carry over; the concerned controllers decide afresh
    assert carried(active) == DATASETS - set(needs_approval)
    with active.db.session() as session:
        for dataset_id in needs_approval:
            registry.decide_data_use(session, APPROVER_OF[dataset_id], P, dataset_id, True)
        assert registry.project(session, P).state == "approved"
    assert reasons(active, "alex.analyst") == ()


def test_a_looser_disclosure_setting_widens_and_a_stricter_one_narrows(active, spec_data):
    data = copy.deepcopy(spec_data)
    data["disclosure"] = {"threshold": 20}
    assert amend(active, data) == ("active", 2)
    assert last_amendment(active)["kind"] == "narrowing"
    data["disclosure"] = {"threshold": 10}
    assert amend(active, data) == ("submitted", 3)
    assert last_amendment(active)["widened"] == ["disclosure"]


def test_a_refusal_of_the_widened_version_leaves_the_project_unusable(active, spec_data):
    data = copy.deepcopy(spec_data)
    data["team"].append({"person": "eve.outsider", "role": "analyst"})
    amend(active, data)
    with active.db.session() as session:
        registry.decide_data_use(
            session, "pat.approver", P, "police_incident_persons", False, "Not for outsiders"
        )
        assert registry.project(session, P).state == "draft"
    accept_terms(active, "eve.outsider")
    assert any("is draft" in r for r in reasons(active, "eve.outsider"))


def test_approvals_given_to_a_submitted_version_do_not_carry_over_a_widening(populated, spec_data):
    with populated.db.session() as session:
        registry.register_project(
            session, "sam.lead", parse_project(spec_data), populated.settings.policy
        )
        registry.submit(session, "sam.lead", P, RegistrationSettings())
        registry.decide_data_use(session, "pat.approver", P, "police_incident_persons", True)
    data = copy.deepcopy(spec_data)
    data["purpose"] += " Also for a second, unrelated question."
    assert amend(populated, data) == ("submitted", 2)
    assert carried(populated) == set()
    # a narrowing one keeps what the controllers already approved
    with populated.db.session() as session:
        registry.decide_data_use(session, "pat.approver", P, "police_incident_persons", True)
    data["team"] = data["team"][:1]
    assert amend(populated, data) == ("submitted", 3)
    assert carried(populated) == {"police_incident_persons"}


# ---------------------------------------------------------------------------------------------
# narrowing and descriptive changes take effect at once


NARROWINGS = [
    ("a person removed", lambda d: d.update(team=d["team"][:1]), ["team"]),
    (
        "a data item removed",
        lambda d: police(d).update(items=police(d)["items"][:-1]),
        ["data.police_incident_persons"],
    ),
    (
        "a dataset removed",
        lambda d: d.update(data=[x for x in d["data"] if x["dataset"] != "school_attendance"]),
        ["data.school_attendance"],
    ),
    ("an earlier end", lambda d: d.update(end="2027-06-30"), ["end"]),
    ("a later start", lambda d: d.update(start="2026-02-01"), ["start"]),
    ("a shorter retention", lambda d: d.update(retention_until="2028-01-31"), ["retention_until"]),
    (
        "a stricter disclosure setting",
        lambda d: d.update(disclosure={"threshold": 15}),
        ["disclosure"],
    ),
    (
        "a shorter data period",
        lambda d: d["data_period"].update(start="2025-06-01"),
        ["data_period"],
    ),
    (
        "an intended output dropped",
        lambda d: d.update(intended_outputs=d["intended_outputs"][:-1]),
        ["intended_outputs"],
    ),
]


@pytest.mark.parametrize(
    ("change", "narrowed"), [pytest.param(c, n, id=name) for name, c, n in NARROWINGS]
)
def test_a_narrowing_amendment_takes_effect_at_once(active, spec_data, change, narrowed):
    data = copy.deepcopy(spec_data)
    change(data)
    assert amend(active, data) == ("active", 2)
    amendment = last_amendment(active)
    assert amendment["kind"] == "narrowing"
    assert amendment["widened"] == [] and amendment["needs_approval"] == []
    assert [c["field"] for c in amendment["changes"]] == narrowed
    with active.db.session() as session:
        found = registry.project(session, P)
        assert all(a.carried_from == 1 for a in registry.approvals(session, found).values())
        requested = set(registry.requested_datasets(found))
    assert carried(active) == requested
    accept_terms(active, "alex.analyst")
    assert reasons(active, "alex.analyst") == ()


def test_a_narrowing_and_a_widening_together_are_a_widening(active, spec_data):
    data = copy.deepcopy(spec_data)
    data["team"] = [{"person": "eve.outsider", "role": "analyst"}]  # bea out, eve in
    assert amend(active, data) == ("submitted", 2)
    amendment = last_amendment(active)
    assert amendment["kind"] == "widening" and amendment["widened"] == ["team"]
    (team,) = amendment["changes"]
    assert team["before"] == ["alex.analyst (analyst)", "bea.analyst (analyst)", "sam.lead (lead)"]
    assert team["after"] == ["eve.outsider (analyst)", "sam.lead (lead)"]


def test_a_descriptive_change_keeps_the_project_active(active, spec_data):
    data = copy.deepcopy(spec_data)
    data["lay_summary"] += " Reworded for the public register."
    data["title"] = "Supporting families: what helps"
    assert amend(active, data) == ("active", 2)
    amendment = last_amendment(active)
    assert amendment["kind"] == "descriptive" and amendment["widened"] == []
    assert [c["field"] for c in amendment["changes"]] == ["lay_summary", "title"]


# ---------------------------------------------------------------------------------------------
# the diff, and what controllers see


def test_the_diff_names_each_field_with_before_and_after(spec_data):
    from projects.amendments import AmendmentKind, diff
    from sdc.policy import Policy

    before = parse_project(spec_data).model_dump(mode="json")
    data = copy.deepcopy(spec_data)
    data["end"] = "2099-12-31"
    data["retention_until"] = "2099-12-31"
    police(data)["items"] = police(data)["items"][:2]
    after = parse_project(data).model_dump(mode="json")
    found = diff(before, after, Policy())
    assert found.kind == AmendmentKind.WIDENING
    assert [(c.field, c.before, c.after, c.widens) for c in found.changes] == [
        (
            "data.police_incident_persons",
            sorted(i["item"] for i in police(spec_data)["items"]),
            ["incident_type", "occurred_at"],
            False,
        ),
        ("end", "2027-12-31", "2099-12-31", True),
        ("retention_until", "2028-06-30", "2099-12-31", True),
    ]
    assert found.widened == ["end", "retention_until"]
    assert found.needs_approval(sorted(DATASETS)) == sorted(DATASETS)
    assert diff(before, before, Policy()).kind == AmendmentKind.DESCRIPTIVE
    assert diff(before, before, Policy()).changes == ()


def test_an_unknown_field_is_treated_as_widening(spec_data):
    from projects.amendments import diff
    from sdc.policy import Policy

    before = parse_project(spec_data).model_dump(mode="json")
    after = before | {"new_field": "something no rule knows"}
    assert diff(before, after, Policy()).widened == ["new_field"]


def test_project_show_tells_controllers_what_changed(active, spec_data, run_cli, tmp_path):
    data = copy.deepcopy(spec_data)
    data["end"], data["retention_until"] = "2099-12-31", "2099-12-31"
    data["team"] = data["team"][:1]
    changed = tmp_path / "changed.yaml"
    changed.write_text(yaml.safe_dump(data))
    code, out, err = run_cli(
        "project", "amend", P, str(changed), home=active.home, account="sam.lead"
    )
    assert code == 0, err
    assert "is now version 2 (submitted)" in out
    assert "widens version 1; awaiting the controllers of ae_attendances, csc_referrals" in out
    code, out, err = run_cli("project", "show", P, home=active.home)
    assert code == 0, err
    assert "version 2 widens version 1; awaiting the controllers of" in out
    assert "end (widens): 2027-12-31 → 2099-12-31" in out
    assert "team (narrows): " in out and "bea.analyst (analyst)" in out
    code, out, err = run_cli("project", "show", P, "--json", home=active.home)
    info = json.loads(out)
    assert info["amendment"]["kind"] == "widening"
    assert info["amendment"]["widened"] == ["end", "retention_until"]
    assert info["versions"][1]["amendment"] == "widening"
