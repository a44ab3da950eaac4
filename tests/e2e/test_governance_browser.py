"""The controllers' and the operator's journeys in a real browser (Playwright driving Debian's
chromium) against the tre service on a loopback port; who is signed in comes from a test
cookie, as in tests/hub. Every page is saved as a screenshot, wide and at 390 px (a phone),
into $TRE_SCREENSHOTS when it is set (a test artefact), else the test's own folder."""

import os
from pathlib import Path

import pytest

from hub import service
from projects import registry
from projects.spec import parse_project
from tests.e2e.conftest import assert_accessible, needs_chromium, signed_in

P = "supporting-families"
pytestmark = needs_chromium


@pytest.fixture
def site(populated, spec_data, serve):
    with populated.db.session() as session:
        registry.register_project(
            session, "sam.lead", parse_project(spec_data), populated.settings.policy
        )
        registry.submit(session, "sam.lead", P, populated.settings.registration)
    return populated, serve(service.make_app(populated, lambda h: h.get_cookie("tre-test-user")))


@pytest.fixture
def shots(tmp_path):
    folder = Path(os.environ.get("TRE_SCREENSHOTS") or tmp_path / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def snap(page, shots, name):
    """The page wide and at 390 px, with no serious or critical accessibility problem (axe-core);
    nothing may be wider than the phone's screen."""
    assert_accessible(page, name)
    page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(shots / f"{name}-390.png"), full_page=True)
    overflow = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(
        "[...document.querySelectorAll('body, body *')]"
        ".filter(e => e.getBoundingClientRect().right > 391 && !e.closest('table'))"
        ".slice(0, 6).map(e => e.tagName + '#' + e.id + '.' + e.className)"
    )
    page.set_viewport_size({"width": 1280, "height": 900})
    assert overflow <= 390, f"{name} is {overflow} px wide on a phone: {wide}"


def test_the_controllers_journey(browser, site, shots):
    instance, base = site
    pat = signed_in(browser, base, "pat.approver")
    pat.goto(base + "/")
    assert pat.locator("h1").inner_text() == "Your tasks"
    assert pat.locator("nav.main").inner_text().count("Airlock") == 0
    snap(pat, shots, "approver-home")
    pat.click("text=Decisions waiting for you")
    assert pat.locator("#waiting .count").inner_text() == "1"
    snap(pat, shots, "approver-decisions")
    pat.click("#waiting ~ ul a")
    assert "Police" in pat.locator(".caption").first.inner_text()
    assert pat.locator("dt:text-is('Data protection impact assessment')").count() == 1
    snap(pat, shots, "approver-decide")
    # a refusal without a reason: the same page, an error summary and the error at the field
    pat.check("#decision-refuse")
    pat.fill("#conditions", "typed and kept")
    pat.click("button:text-is('Record my decision')")
    assert pat.locator(".error-summary").is_visible()
    assert pat.locator("#reason-error").is_visible()
    assert pat.locator("#conditions").input_value() == "typed and kept"
    assert pat.title().startswith("Error:")
    snap(pat, shots, "approver-decide-error")
    pat.click(".error-summary a")
    assert pat.evaluate("document.activeElement.id") == "reason"
    # approve with conditions: a confirmation
    pat.check("#decision-approve")
    pat.fill("#conditions", "No output below LSOA level.")
    pat.click("button:text-is('Record my decision')")
    assert pat.locator(".panel-success h1").inner_text() == "Decision recorded"
    assert "No output below LSOA level." in pat.locator(".panel-success").inner_text()
    snap(pat, shots, "approver-confirmation")
    # three more approve (as the CLI would); the NHS's approver refuses with a reason
    with instance.db.session() as session:
        for who, dataset in [
            ("ash.approver", "csc_referrals"),
            ("fin.approver", "fire_home_safety_visits"),
            ("sol.approver", "school_attendance"),
        ]:
            registry.decide_data_use(session, who, P, dataset, True, "")
    nia = signed_in(browser, base, "nia.approver")
    nia.goto(f"{base}/approvals/{P}/ae_attendances")
    nia.check("#decision-refuse")
    nia.fill("#reason", "Chief complaint text is not needed to count repeat attendances.")
    nia.click("button:text-is('Record my decision')")
    assert "You refused" in nia.locator(".panel-success").inner_text()
    # the lead reads both on the project's page; the analyst's terms hold the condition
    lead = signed_in(browser, base, "sam.lead")
    lead.goto(base + "/")
    assert "analyst role" not in lead.content()
    snap(lead, shots, "lead-home")
    lead.click("text=The project's page")
    decisions = lead.locator("#decisions + .scroll table").inner_text()
    assert "No output below LSOA level." in decisions
    assert "Chief complaint text is not needed" in decisions
    snap(lead, shots, "lead-project")
    alex = signed_in(browser, base, "alex.analyst")
    alex.goto(f"{base}/projects/{P}/terms")
    assert "No output below LSOA level." in alex.locator("pre").inner_text()
    snap(alex, shots, "analyst-terms")
    alex.goto(base + "/airlock/")
    assert "this page is for output checkers" in alex.content()
    assert "custom:tre" not in alex.content()
    snap(alex, shots, "analyst-refused")


def test_the_operators_journey(browser, site, shots):
    instance, base = site
    reports = instance.folder("reports")
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "linkage-demo.html").write_text(
        "<!doctype html><title>Linkage</title><h1>Linkage run demo</h1>"
    )
    ops = signed_in(browser, base, "ops.operator")
    ops.goto(base + "/")
    snap(ops, shots, "operator-home")
    ops.click("nav.main >> text=Operator")
    assert ops.locator("h1").inner_text() == "The instance"
    assert ops.locator("#pending + .scroll tbody tr").count() == 5
    assert "sealed with the audit key" in ops.content()
    snap(ops, shots, "operator")
    ops.click("text=linkage-demo.html")
    assert ops.locator("h1").inner_text() == "Linkage run demo"
    chris = signed_in(browser, base, "chris.checker")
    chris.goto(base + "/operator/")
    assert "this page is for operators" in chris.content()
    chris.goto(base + "/")
    snap(chris, shots, "checker-home")
    chris.click("nav.main >> text=Airlock queue")
    snap(chris, shots, "checker-airlock-queue")
    chris.click("nav.main >> text=Transparency register")
    snap(chris, shots, "register")


def about(lead, purpose="Count families known to two or more services, by neighbourhood."):
    lead.fill("#id", "family-demand")
    lead.fill("#title", "Family demand by neighbourhood")
    lead.fill("#lay_summary", "How many families call on several services, by neighbourhood.")
    lead.fill("#purpose", purpose)
    lead.check("input[name=category][value='service planning']")
    lead.fill("#public_benefit", "Services planned where families need them most.")
    lead.fill("#outputs", "families by neighbourhood | table")


def data(lead):
    postcode = lead.locator("#item-fire_home_safety_visits\\.postcode")
    if not postcode.is_visible():  # its dataset's details are closed
        lead.locator("details", has=postcode).locator("summary").click()
    postcode.check()
    lead.fill("[id='justification-fire_home_safety_visits.postcode']", "Neighbourhood of the visit")
    fill_date(lead, "data_period_start", "1 4 2025")
    fill_date(lead, "data_period_end", "31 3 2026")


def fill_date(lead, name, typed):
    """A date typed into GOV.UK's three boxes, TYPED as the hint says ("27 3 2027")."""
    for part, value in zip(("day", "month", "year"), typed.split(), strict=True):
        lead.fill(f"#{name}-{part}", value)


def legal(lead):
    lead.select_option("#article_6", "uk-gdpr-6-1-e")
    lead.check("input[name=gateways][value='dea-2017-part-5']")
    lead.select_option("#confidentiality", "common-law-not-confidential")


def dates(lead):
    fill_date(lead, "start", "1 7 2026")
    fill_date(lead, "end", "30 6 2027")
    fill_date(lead, "retention_until", "31 12 2027")


# each section's answers, by the task list's name of it
ANSWERS = {
    "About the project": about,
    "Datasets and data items": data,
    "Legal basis and gateways": legal,
    "Team": lambda lead: lead.check("input[name=team][value='alex.analyst']"),
    "Dates and retention": dates,
    "DPIA": lambda lead: lead.fill("#dpia", "DPIA-2026-020"),
}


def test_the_leads_registration_journey(browser, site, shots):
    instance, base = site
    lead = signed_in(browser, base, "sam.lead")
    lead.goto(base + "/")
    lead.click("nav.main >> text=Register a project")  # the task list; one page from it
    assert lead.locator("h1").inner_text() == "Register a project"
    lead.click("text=Answer every question on one page")
    assert lead.locator("h1").inner_text() == "Register a project"
    assert lead.locator("#item-ae_attendances\\.nhs_number").is_disabled()
    snap(lead, shots, "lead-register")
    lead.fill("#id", "Bad Id")
    lead.click("button:text-is('Continue')")
    assert lead.locator(".error-summary").is_visible()
    assert lead.locator("#id-error").is_visible() and lead.locator("#purpose-error").is_visible()
    snap(lead, shots, "lead-register-errors")
    for section in ANSWERS.values():  # every section's answers on the one page
        section(lead)
    lead.click("button:text-is('Continue')")
    assert lead.locator("h1").inner_text() == "Check your answers before saving", lead.locator(
        ".error-summary"
    ).inner_text()
    snap(lead, shots, "lead-check-answers")
    lead.click("button:text-is('Save as a draft')")
    assert "Project family-demand saved." in lead.content()
    with instance.db.session() as session:
        assert registry.project(session, "family-demand").state == "draft"
    # the demo project's Edit: a widening shown with its consequences first
    lead.click("text=Go to the project's page")
    lead.click("text=Edit the registration")
    lead.click("text=Edit it as a YAML file instead")
    assert "family-demand" in lead.locator("#spec").input_value()
    snap(lead, shots, "lead-edit-yaml")
    lead.goto(f"{base}/projects/{P}/edit")
    lead.check("#item-ae_attendances\\.arrival_mode")
    lead.fill("[id='justification-ae_attendances.arrival_mode']", "Arrival by ambulance or not")
    lead.click("button:text-is('Continue')")
    assert lead.locator("h1").inner_text() == "Check your amendment before it is made"
    snap(lead, shots, "lead-amendment")


def test_the_leads_task_list_journey(browser, site, shots):
    """A section at a time: bad input on a question page comes back with the error summary,
    is mended, every section is completed, the answers checked and the project submitted."""
    instance, base = site
    lead = signed_in(browser, base, "sam.lead")
    lead.goto(base + "/")
    lead.click("nav.main >> text=Register a project")
    tasks = lead.locator(".govuk-task-list")
    assert tasks.locator(".govuk-task-list__status").first.inner_text() == "Not started"
    assert lead.locator("#check-status").inner_text() == "Cannot start yet"
    snap(lead, shots, "lead-tasks")

    def section(title, name):
        lead.click(f".govuk-task-list >> text={title}")
        assert lead.locator("h1").inner_text() == title
        snap(lead, shots, f"lead-task-{name}")

    def save():
        lead.click("button:text-is('Save and continue')")

    section("About the project", "about")
    lead.fill("#id", "Bad Id")
    lead.fill("#title", "Family demand by neighbourhood")
    lead.fill("#purpose", "Count families")
    save()
    assert lead.title().startswith("Error:")
    assert lead.locator(".error-summary").is_visible()
    assert lead.locator("#id-error").is_visible() and lead.locator("#purpose-error").is_visible()
    assert lead.locator("#title").input_value() == "Family demand by neighbourhood"
    snap(lead, shots, "lead-task-about-errors")
    lead.click(".error-summary a >> nth=0")
    assert lead.evaluate("document.activeElement.id") == "id"
    about(lead, "Explore all of the linked data to find any interesting patterns.")
    save()
    assert lead.locator("h1").inner_text() == "Register a project"
    assert "open-ended" in lead.locator("#about-flags").inner_text()  # the purpose's flag
    snap(lead, shots, "lead-tasks-flagged")
    lead.click(".govuk-task-list >> text=About the project")
    lead.fill("#purpose", "Count families known to two or more services, by neighbourhood.")
    save()
    assert lead.locator("#about-flags").count() == 0
    assert lead.locator("#about-status").inner_text() == "Completed"
    assert lead.locator("#data-status").inner_text() == "Not started"
    for title, answer in list(ANSWERS.items())[1:]:
        section(title, title.split()[0].lower())
        answer(lead)
        if title == "Datasets and data items":  # a reason too short: at that item's own box
            reason = "[id='justification-fire_home_safety_visits.postcode']"
            lead.fill(reason, "area")
            save()
            lead.click(".error-summary a >> nth=0")
            assert lead.evaluate("document.activeElement.id") == reason[5:-2]
            assert (
                "postcode from Home fire safety visits"
                in lead.locator(".error-summary").inner_text()
            )
            snap(lead, shots, "lead-task-data-errors")
            lead.fill(reason, "Neighbourhood of the visit")
        if title == "Dates and retention":  # a day that does not exist: kept, and said so
            fill_date(lead, "end", "31 2 2027")
            save()
            assert "must be a real date" in lead.locator("#end-error").inner_text()
            assert lead.locator("#end-day").input_value() == "31"
            snap(lead, shots, "lead-task-dates-errors")
            fill_date(lead, "end", "30 6 2027")
        save()
        assert lead.locator("h1").inner_text() == "Register a project"
    statuses = lead.locator(".govuk-task-list__status").all_inner_texts()
    assert statuses == ["Completed"] * 6 + ["Not started"]
    snap(lead, shots, "lead-tasks-complete")
    lead.click("text=Check your answers")
    assert lead.locator("h1").inner_text() == "Check your answers before saving"
    snap(lead, shots, "lead-tasks-check")
    lead.click("button:text-is('Save and submit for approval')")
    assert lead.locator(".govuk-panel h1").inner_text() == "Project family-demand submitted."
    snap(lead, shots, "lead-tasks-done")
    with instance.db.session() as session:
        found = registry.project(session, "family-demand")
        assert found.state == "submitted" and found.current.spec["legal_basis"]["dpia"] == (
            "DPIA-2026-020"
        )
    lead.click("nav.main >> text=Register a project")  # the draft became the project
    assert lead.locator("#about-status").inner_text() == "Not started"
    # the demo project's Edit: its task list, every section complete; a widening shown first
    lead.goto(f"{base}/projects/{P}")
    lead.click("text=Edit the registration")
    assert lead.locator("h1").inner_text() == f"Amend project {P}"
    statuses = lead.locator(".govuk-task-list__status").all_inner_texts()
    assert statuses == ["Completed"] * 6 + ["Not started"]
    snap(lead, shots, "lead-amend-tasks")
    lead.click(".govuk-task-list >> text=Datasets and data items")
    arrival = lead.locator("#item-ae_attendances\\.arrival_mode")
    assert arrival.is_visible()  # the datasets asked for are open
    arrival.check()
    lead.fill("[id='justification-ae_attendances.arrival_mode']", "Arrival by ambulance or not")
    lead.click("button:text-is('Save and continue')")
    lead.click("text=Check your answers")
    assert lead.locator("h1").inner_text() == "Check your amendment before it is made"
    assert "arrival_mode" in lead.locator("#changes + .scroll").inner_text()
    snap(lead, shots, "lead-amend-check")
    lead.click("button:text-is('Make this amendment')")
    assert lead.locator(".govuk-panel h1").inner_text() == f"Project {P} saved."
    assert "sent to the data controller" in lead.locator("#next").inner_text()
    assert "kept as a draft" not in lead.content()
    snap(lead, shots, "lead-amend-done")
    with instance.db.session() as session:
        assert registry.project(session, P).version == 2
