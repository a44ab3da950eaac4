"""The governance pages, served for real on a loopback port: the data controllers' decisions,
the project's page where the lead and the team read them, the role-aware home and navigation,
and the operator's page."""

import re

import pytest

from hub import service
from hub.events import HubEvent
from output_checks.enums import AirlockEvent
from projects import registry
from projects.policy import PolicyAction, decide
from projects.spec import parse_project
from tests.hub.test_service import as_
from tre import audit

P = "supporting-families"


@pytest.fixture
def submitted(populated, spec_data):
    """The demo project submitted to its five controllers, and a draft nobody submitted."""
    draft = dict(spec_data, id="quiet-draft", title="A draft nobody submitted")
    with populated.db.session() as session:
        for data in (spec_data, draft):
            registry.register_project(
                session, "sam.lead", parse_project(data), populated.settings.policy
            )
        registry.submit(session, "sam.lead", P, populated.settings.registration)
    return populated


@pytest.fixture
def site(submitted, serve):
    return serve(service.make_app(submitted, lambda h: h.get_cookie("tre-test-user")))


def form_token(page):
    return re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)


def test_controllers_see_waiting_decisions_first_with_a_count_and_no_drafts(site):
    page = as_("pat.approver").get(site + "/approvals/")
    assert page.status_code == 200
    waiting = page.text.split('id="waiting"')[1].split('id="decided-list"')[0]
    assert '<span class="count">1</span>' in waiting
    assert f'href="/approvals/{P}/police_incident_persons"' in waiting
    assert "quiet-draft" not in page.text and "A draft nobody submitted" not in page.text
    assert "No decision yet." in page.text


def test_the_decision_page_shows_the_whole_registration_in_words(site, spec_data):
    page = as_("pat.approver").get(f"{site}/approvals/{P}/police_incident_persons")
    assert page.status_code == 200
    text = page.text
    for shown in (
        spec_data["public_benefit"].strip(),
        spec_data["legal_basis"]["dpia"],
        "Data kept until",
        "Common-law confidentiality",
        "Alex Analyst",
        "accredited (",  # the team's accreditation, in words
        "Sam Lead",
        "The project's other datasets",
    ):
        assert shown in text, shown
    for code in spec_data["legal_basis"]["gateways"]:  # named from the catalogue
        assert f"({code})</li>" in text or f"({code})</dd>" in text, code
    assert "The extract has not been cut yet" in text  # the risk in words, not a dict
    assert "{&#39;" not in text and "{'" not in text
    assert "No purpose-quality warnings." in text or "Purpose-quality warnings" in text
    # another controller's dataset is not this approver's to open
    other = as_("pat.approver").get(f"{site}/approvals/{P}/ae_attendances")
    assert other.status_code == 403 and "its own approvers decide" in other.text


def test_a_refusal_without_a_reason_is_shown_again_with_an_inline_error(site, submitted):
    pat = as_("pat.approver")
    url = f"{site}/approvals/{P}/police_incident_persons"
    xsrf = form_token(pat.get(url))
    answer = pat.post(url, data={"_xsrf": xsrf, "decision": "refuse", "conditions": "kept"})
    assert answer.status_code == 400
    assert "There is a problem" in answer.text and 'href="#reason"' in answer.text
    assert 'id="reason-error"' in answer.text and "--reason" not in answer.text
    assert ">kept</textarea>" in answer.text  # what was typed is kept
    assert 'value="refuse" checked' in answer.text
    none = pat.post(url, data={"_xsrf": xsrf})
    assert none.status_code == 400 and "Choose whether you approve or refuse" in none.text
    with submitted.db.session() as session:
        assert registry.approvals(session, registry.project(session, P)) == {}


def test_decisions_reach_the_lead_and_the_team_and_conditions_the_terms(site, submitted):
    from app.demo.projects import APPROVER_OF

    with submitted.db.session() as session:
        found = registry.project(session, P)
        by_approver = {
            APPROVER_OF[registry.dataset(session, d).controller.code]: d
            for d in registry.requested_datasets(found)
        }
    for approver, dataset in by_approver.items():
        session_ = as_(approver)
        url = f"{site}/approvals/{P}/{dataset}"
        xsrf = form_token(session_.get(url))
        conditions = (
            "No <b>output</b> below LSOA level.\r\n\r\n  Publish   in aggregate only. \n"
            if approver == "pat.approver"
            else ""
        )
        done = session_.post(
            url, data={"_xsrf": xsrf, "decision": "approve", "conditions": conditions}
        )
        assert done.status_code == 200 and "Decision recorded" in done.text, done.text[-500:]
        assert "You approved the use of" in done.text
        if conditions:
            assert "No &lt;b&gt;output&lt;/b&gt; below LSOA level." in done.text
        assert '<span class="count">0</span>' in done.text
    lead = as_("sam.lead").get(f"{site}/projects/{P}")
    assert lead.status_code == 200
    assert "on condition: No &lt;b&gt;output&lt;/b&gt; below LSOA level." in lead.text
    assert lead.text.count("Approved</span>") == len(by_approver)
    terms = as_("alex.analyst").get(f"{site}/projects/{P}/terms")
    # each line of the conditions is a term of its own, numbered after the standard ones
    pats = by_approver["pat.approver"]
    assert (
        f"7. {pats} (" in terms.text
        and "): No &lt;b&gt;output&lt;/b&gt; below LSOA level." in terms.text
    )
    assert f"8. {pats} (" in terms.text and "): Publish in aggregate only." in terms.text
    assert "9. " not in terms.text
    assert as_("eve.outsider").get(f"{site}/projects/{P}").status_code == 403


def test_a_refusal_reaches_the_lead_with_its_reason(site):
    pat = as_("pat.approver")
    url = f"{site}/approvals/{P}/police_incident_persons"
    done = pat.post(
        url,
        data={
            "_xsrf": form_token(pat.get(url)),
            "decision": "refuse",
            "reason": "Incident narratives are not needed for this purpose.",
        },
    )
    assert done.status_code == 200 and "You refused the use of" in done.text
    page = as_("sam.lead").get(f"{site}/projects/{P}")
    assert "Refused</span>" in page.text
    assert "Incident narratives are not needed for this purpose." in page.text
    team = as_("bea.analyst").get(f"{site}/projects/{P}")
    assert "Incident narratives are not needed for this purpose." in team.text


# role -> (what the nav offers, what it must not)
NAV = {
    "alex.analyst": ({"Home", "Transparency register"}, {"Airlock queue", "Operator"}),
    "chris.checker": ({"Airlock queue"}, {"Decisions on your data", "Operator"}),
    "pat.approver": ({"Decisions on your data"}, {"Airlock queue", "Register a project"}),
    "sam.lead": ({"Register a project"}, {"Airlock queue", "Decisions on your data"}),
    "ops.operator": ({"Operator"}, {"Airlock queue", "Decisions on your data"}),
}


@pytest.mark.parametrize("person", list(NAV))
def test_the_navigation_offers_only_what_the_person_may_use(site, person):
    page = as_(person).get(site + "/")
    assert page.status_code == 200
    nav = page.text.split('aria-label="Main"')[1].split("</nav>")[0]
    offered = set(re.findall(r">([^<>]+)</a>", nav))
    shown, hidden = NAV[person]
    assert shown <= offered and not (hidden & offered), offered
    assert "Sign out" in page.text and "/hub/logout" in page.text
    assert "custom:tre" not in page.text


def test_each_role_lands_on_its_own_tasks_with_counts(site):
    pat = as_("pat.approver").get(site + "/")
    assert "Your tasks" in pat.text and "You are not in any project" not in pat.text
    assert re.search(r"Decisions waiting for you</a> <span class=\"count count-due\">1<", pat.text)
    lead = as_("sam.lead").get(site + "/")
    assert "does not have the analyst role" not in lead.text
    assert re.search(r"Your projects to complete and submit</a> <span[^>]*>1<", lead.text)
    # the one draft is finished through its own task list
    link = re.search(r'href="([^"]+)"[^>]*>Your projects to complete and submit<', lead.text)
    assert link and re.fullmatch(r".*/projects/[a-z0-9-]+/edit/tasks", link[1]), link
    assert as_("sam.lead").get(site + link[1].split("/services/tre", 1)[-1]).status_code == 200
    ops = as_("ops.operator").get(site + "/")
    assert "Projects waiting for you to prepare their data" in ops.text
    assert re.search(r"have not made</a> <span class=\"count count-due\">5<", ops.text)
    refused = as_("alex.analyst").get(site + "/airlock/")
    assert refused.status_code == 403
    assert "this page is for output checkers, and alex.analyst is not one" in refused.text


def test_the_operators_page_and_reports(site, submitted):
    reports = submitted.folder("reports")
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "linkage-run1.html").write_text("<html><body><h1>Linkage run 1</h1></body></html>")
    (reports / "secret.txt").write_text("not a report")
    ops = as_("ops.operator")
    page = ops.get(site + "/operator/")
    assert page.status_code == 200
    for shown in (
        "Audit log",
        "sealed with the audit key",
        "Running workspaces",
        "not running under the hub",
        "linkage-run1.html",
        "Recent refusals",
    ):
        assert shown in page.text, shown
    pending = page.text.split('id="pending"')[1].split("</table>")[0]
    assert pending.count("<tr") == 1 + 5  # header and the five datasets undecided
    report = ops.get(site + "/operator/reports/linkage-run1.html")
    assert report.status_code == 200 and "Linkage run 1" in report.text
    assert "sandbox" in report.headers["Content-Security-Policy"]
    for name in ("secret.txt", "..%2Fkeys%2Faudit.key", "quality-..html"):
        assert ops.get(site + "/operator/reports/" + name).status_code in (403, 404)
    for person in ("alex.analyst", "pat.approver", "chris.checker"):
        assert as_(person).get(site + "/operator/").status_code == 403
        assert as_(person).get(site + "/operator/reports/linkage-run1.html").status_code == 403
    refusal = ops.get(site + "/operator/").text
    assert "this page is for operators, and chris.checker is not one" in refusal


def test_an_approver_cannot_decide_on_another_controllers_dataset(site, submitted):
    """The page refuses to show it; a decision posted by hand is refused by the policy engine
    (the approver's organisation does not control the dataset) and records nothing."""
    pat = as_("pat.approver")
    xsrf = form_token(pat.get(f"{site}/approvals/{P}/police_incident_persons"))
    forged = pat.post(
        f"{site}/approvals/{P}/ae_attendances",
        data={"_xsrf": xsrf, "decision": "approve", "conditions": ""},
        allow_redirects=False,
    )
    assert forged.status_code == 403
    with submitted.db.session() as session:
        assert "ae_attendances" not in registry.approvals(session, registry.project(session, P))


def test_the_operators_recent_refusals_include_every_kind_of_refusal(site, submitted):
    """Not only the pages' ``access.refused``: the airlock's, the workspaces' and the logins'."""
    with submitted.db.session() as session:
        audit.record(
            session,
            "alex.analyst",
            AirlockEvent.REFUSED,
            "release_request",
            "req-1",
            details={"file": "x.csv", "reason": "x.csv is not yours to request"},
        )
        audit.record(
            session,
            "eve.outsider",
            HubEvent.WORKSPACE_REFUSED,
            "workspace",
            P,
            details={"reasons": "eve.outsider is not a member of project " + P},
        )
        audit.record(
            session,
            "mallory",
            HubEvent.LOGIN_REFUSED,
            "login",
            "mallory",
            details={"reason": "mallory is suspended"},
        )
    page = as_("ops.operator").get(site + "/operator/").text
    shown = page.split('id="refusals"')[1].split("</table>")[0]
    for expected in (
        "airlock.refused",
        "x.csv is not yours to request",
        "workspace.refused",
        "eve.outsider is not a member of project",
        "hub.login_refused",
        "mallory is suspended",
    ):
        assert expected in shown, expected


def test_the_home_page_gives_the_web_action_for_terms_not_the_command(site, submitted):
    """The reason a project is not usable yet names the web page to accept the terms on, and
    not the command line's `tre project accept-terms` (which the CLI's refusal still gives)."""
    home = as_("alex.analyst").get(site + "/").text
    # submitted, not approved: the terms are not offered yet (the controllers' conditions
    # become part of them), and the project's state is the reason it is not usable
    assert "has not accepted the terms" not in home and f"/projects/{P}/terms" not in home
    assert "accept-terms" not in home
    lead = as_("sam.lead").get(site + "/").text
    assert "Read and accept the terms" not in lead
    assert "Read and accept the terms" not in as_("sam.lead").get(f"{site}/projects/{P}").text
    with submitted.db.session() as session:
        decision = decide(session, "alex.analyst", PolicyAction.WORK_IN_WORKSPACE, P)
        assert decision.needs_terms
        assert f"(`tre project accept-terms {P}`)" in decision.message()
        found = registry.project(session, P)
        found.state = "approved"  # once approved, the page offers the terms, not the command
    home = as_("alex.analyst").get(site + "/").text
    assert "has not accepted the terms of version 1" in home
    assert f'href="/projects/{P}/terms"' in home and "accept-terms" not in home
