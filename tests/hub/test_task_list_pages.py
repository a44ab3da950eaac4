"""The guided registration a section at a time (GOV.UK's task list): each section's status, its
question page with an error summary and inline errors, the answers kept between pages, "Check
your answers" once every section is complete, and an amendment's diff before it is made."""

import html
import re

import pytest

from hub import guided, service
from projects import drafts, registry
from projects.errors import RegistryError
from projects.models import RegistrationDraft
from tests.hub.test_registration_pages import P, digest_of, guided_answers, versions
from tests.hub.test_service import as_, token

NEW = "/projects/new/tasks"


@pytest.fixture
def site(active, serve):
    return serve(service.make_app(active, lambda h: h.get_cookie("tre-test-user")))


def answers_of(spec_data, section, **changed):
    """What SECTION's question page sends for SPEC_DATA (as a browser would)."""
    wanted = set(guided.SECTIONS[[s.name for s in guided.SECTIONS].index(section)].answers)
    wanted |= {"item"} if "items" in wanted else set()
    return [
        (k, v)
        for k, v in guided_answers(spec_data, **changed)
        if k in wanted or (k.startswith("justification.") and "items" in wanted)
    ]


def status_of(page, section):
    found = re.search(rf'id="{section}-status">(.*?)</div>', page, re.S)
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def post(session, url, fields):
    xsrf = token(session, url)
    return session.post(url, data=[("_xsrf", xsrf), *fields], allow_redirects=False)


def saved_draft(instance, who="sam.lead", amends=""):
    with instance.db.session() as session:
        return drafts.answers(session, who, amends)


def test_a_new_registration_starts_with_every_section_not_started(site):
    lead = as_("sam.lead")
    page = lead.get(site + NEW)
    assert page.status_code == 200 and 'class="govuk-task-list"' in page.text
    for s in guided.SECTIONS:
        assert status_of(page.text, s.name) == "Not started", s.name
        assert f'href="{NEW}/{s.name}"' in page.text
    assert status_of(page.text, "check") == "Cannot start yet"
    assert f'href="{NEW}/check"' not in page.text
    assert "You have completed 0 of 6 sections" in page.text
    assert 'href="/projects/new?as=yaml"' in page.text  # the advanced path stays
    home = lead.get(site + "/").text
    assert 'href="/projects/new/tasks"' in home  # the navigation's "Register a project"
    # before every section is complete, "Check your answers" sends back to the list
    early = lead.get(site + NEW + "/check", allow_redirects=False)
    assert early.status_code == 303 and early.headers["Location"] == NEW


def test_bad_answers_come_back_with_an_error_summary_and_are_kept(site, active, spec_data):
    lead = as_("sam.lead")
    bad = post(
        lead,
        site + NEW + "/about",
        answers_of(spec_data, "about", id="Bad Id", title="x", purpose=""),
    )
    assert bad.status_code == 400 and "There is a problem" in bad.text
    assert bad.text.count('class="govuk-error-summary') == 1
    for field in ("id", "title", "purpose"):
        assert f'id="{field}-error"' in bad.text and f'href="#{field}"' in bad.text
    assert "The project id must be 1 to 30 lowercase letters" in bad.text  # the form's words
    assert "The purpose must be at least 20 characters" in bad.text
    # only this page's problems: the other sections are not answered yet
    assert 'id="article_6-error"' not in bad.text and 'id="start-error"' not in bad.text
    assert 'value="Bad Id"' in bad.text and "Save and continue" in bad.text
    values, saved = saved_draft(active)
    assert values["id"] == "Bad Id" and values["lay_summary"] == spec_data["lay_summary"].strip()
    assert "about" not in saved
    listed = lead.get(site + NEW).text
    assert status_of(listed, "about") == "In progress"
    again = lead.get(site + NEW + "/about").text  # nothing typed is lost
    assert 'value="Bad Id"' in again and spec_data["public_benefit"].strip() in html.unescape(again)
    home = lead.get(site + "/").text  # the lead's home page leads back to it
    assert re.search(r'href="/projects/new/tasks">Registrations you have started</a>', home)
    assert "a new project" in home
    mended = post(lead, site + NEW + "/about", answers_of(spec_data, "about", id="family-demand"))
    assert mended.status_code == 303 and mended.headers["Location"] == NEW
    assert status_of(lead.get(site + NEW).text, "about") == "Completed"


def test_every_section_then_check_your_answers_then_saved(site, active, spec_data):
    lead = as_("sam.lead")
    for s in guided.SECTIONS:
        sent = post(
            lead, f"{site}{NEW}/{s.name}", answers_of(spec_data, s.name, id="family-demand")
        )
        assert sent.status_code == 303, (s.name, sent.text[-2000:])
    listed = lead.get(site + NEW).text
    assert all(status_of(listed, s.name) == "Completed" for s in guided.SECTIONS)
    assert "You have completed every section" in listed
    assert f'href="{NEW}/check"' in listed and status_of(listed, "check") == "Not started"
    check = lead.get(site + NEW + "/check")
    assert check.status_code == 200 and "Check your answers before saving" in check.text
    # Change: that section's page, which returns to Check your answers once saved
    assert f'href="{NEW}/legal?return=check#article_6"' in check.text
    assert f'href="{NEW}/about?return=check#onward_sharing"' in check.text
    assert f'href="{NEW}/about?return=check#commercial_use"' in check.text
    rows = check.text.split('<dl class="summary">')[1].split("</dl>")[0].split("<dt>")[1:]
    assert rows and all("Change<span" in row for row in rows)  # every row
    # names and titles, not usernames and codes
    assert "Alex" in rows[[r.split("<")[0] for r in rows].index("Team")]
    assert "alex.analyst" not in check.text.split('<dl class="summary">')[1].split("</dl>")[0]
    assert "Home fire safety visits: " in check.text and "fire_home_safety_visits:" not in (
        check.text
    )
    assert "data.0.items" not in check.text.split('name="spec"')[0]
    changing = lead.get(f"{site}{NEW}/legal?return=check").text
    assert "Back to Check your answers" in changing
    assert f'action="{NEW}/legal?return=check"' in changing
    returned = post(lead, f"{site}{NEW}/legal?return=check", answers_of(spec_data, "legal", id="x"))
    assert returned.status_code == 303 and returned.headers["Location"] == NEW + "/check"
    assert 'name="from_tasks" value="yes"' in check.text
    with active.db.session() as session:
        assert "family-demand" not in {p.id for p in registry.projects(session)}
    text = html.unescape(re.search(r'name="spec" value="([^"]*)"', check.text, re.S).group(1))
    saved = lead.post(
        site + "/projects/new",
        data={
            "_xsrf": lead.cookies["_xsrf"],
            "spec": text,
            "checked": "yes",
            "action": "register",
            "from_tasks": "yes",
        },
    )
    assert saved.status_code == 200 and "Project family-demand saved." in saved.text
    with active.db.session() as session:
        found = registry.project(session, "family-demand")
        assert found.state == "draft" and found.current.spec["lead"] == "sam.lead"
    assert 'class="govuk-panel govuk-panel--confirmation' in saved.text  # not the YAML editor
    assert "kept as a draft" in saved.text and 'id="spec"' not in saved.text
    assert saved_draft(active) is None  # the answers became the project: the draft is gone
    assert status_of(lead.get(site + NEW).text, "about") == "Not started"
    # the draft project, unchanged, is submitted from its own task list
    edit = f"{site}/projects/family-demand/edit/tasks"
    widened = post(lead, edit + "/dpia", [("dpia", "DPIA-2026-099")])
    assert widened.status_code == 303
    shown = lead.get(edit + "/check").text
    assert 'value="submit"' in shown and "Make this amendment and submit it for approval" in shown
    post(lead, edit + "/dpia", [("dpia", spec_data["legal_basis"]["dpia"])])
    unchanged = lead.get(edit + "/check").text
    assert "Nothing changes" in unchanged and "Submit it for approval" in unchanged
    spec = html.unescape(re.search(r'name="spec" value="([^"]*)"', unchanged, re.S).group(1))
    submitted = lead.post(
        f"{site}/projects/family-demand/edit",
        data={
            "_xsrf": lead.cookies["_xsrf"],
            "spec": spec,
            "action": "submit",
            "from_tasks": "yes",
        },
    )
    assert "stays at version 1, submitted." in submitted.text
    assert "has been sent to the data controller" in submitted.text
    assert "for a decision on version 1" in submitted.text and "kept as a draft" not in (
        submitted.text
    )
    with active.db.session() as session:
        assert registry.project(session, "family-demand").state == "submitted"
    assert saved_draft(active, amends="family-demand") is None


def test_a_save_that_changes_nothing_writes_nothing(site, active, spec_data):
    lead = as_("sam.lead")
    about = answers_of(spec_data, "about", id="family-demand")
    post(lead, site + NEW + "/about", about)
    with active.db.session() as session:
        first = session.query(RegistrationDraft).one().updated_at
    again = post(lead, site + NEW + "/about", about)
    assert again.status_code == 303
    with active.db.session() as session:
        assert session.query(RegistrationDraft).one().updated_at == first
    # an amendment's section saved unchanged keeps no draft at all
    same = post(lead, f"{site}/projects/{P}/edit/tasks/team", answers_of(spec_data, "team"))
    assert same.status_code == 303 and saved_draft(active, amends=P) is None
    unchanged = lead.get(f"{site}/projects/{P}/edit/tasks/check")
    assert unchanged.status_code == 200 and "Nothing changes" in unchanged.text
    assert versions(active) == 1


def test_an_amendment_through_the_task_list_is_shown_before_it_is_made(site, active, spec_data):
    lead = as_("sam.lead")
    tasks = f"{site}/projects/{P}/edit/tasks"
    listed = lead.get(tasks).text
    assert all(status_of(listed, s.name) == "Completed" for s in guided.SECTIONS)
    assert 'type="hidden" name="id"' in lead.get(tasks + "/about").text  # the id stays
    wider = answers_of(spec_data, "data") + [
        ("item", "ae_attendances.arrival_mode"),
        ("justification.ae_attendances.arrival_mode", "Whether the person came by ambulance"),
    ]
    assert post(lead, tasks + "/data", wider).status_code == 303
    assert saved_draft(active, amends=P) is not None and versions(active) == 1
    shown = lead.get(tasks + "/check")
    assert "Check your amendment before it is made" in shown.text and "arrival_mode" in shown.text
    assert 'name="from_tasks" value="yes"' in shown.text and f'href="{tasks}"' not in shown.text
    made = lead.post(
        f"{site}/projects/{P}/edit",
        data={
            "_xsrf": lead.cookies["_xsrf"],
            "spec": html.unescape(re.search(r'name="spec" value="([^"]*)"', shown.text).group(1)),
            "confirm": "yes",
            "action": "register",
            "digest": digest_of(shown.text),
            "from_tasks": "yes",
        },
    )
    assert made.status_code == 200 and f"Project {P} saved." in made.text
    assert versions(active) == 2 and saved_draft(active, amends=P) is None
    # the confirmation says what happened: back to the controllers, the terms again
    with active.db.session() as session:
        assert registry.project(session, P).state == "submitted"
    assert "kept as a draft" not in made.text and "nobody has been asked" not in made.text
    next_step = re.search(r'<p id="next">(.*?)</p>', made.text, re.S).group(1)
    assert "sent to the data controller" in next_step and "Treton Hospitals NHS Trust" in next_step
    assert "for a decision on version 2" in next_step
    terms = re.search(r'<p id="terms">(.*?)</p>', made.text, re.S).group(1)
    assert "accepts the terms of version 2" in terms and "Sam" in terms
    assert "sam.lead" not in terms  # names, not usernames


def test_the_flags_show_at_their_section(site, spec_data):
    lead = as_("sam.lead")
    purpose = "To explore the data and find any patterns in demand for family support services."
    post(lead, site + NEW + "/about", answers_of(spec_data, "about", id="open", purpose=purpose))
    listed = lead.get(site + NEW).text
    flagged = listed.split('id="about-flags"')[1].split("</ul>")[0]
    assert "The purpose is open-ended" in flagged and "Blocks submission" in flagged
    assert 'id="data-flags"' not in listed  # a section not begun raises nothing yet


def test_only_the_lead_reaches_a_draft(site, active, spec_data):
    """A draft is its lead's own: nobody else reads or writes it, whatever they post."""
    assert as_("alex.analyst").get(f"{site}/projects/{P}/edit/tasks").status_code == 403
    assert as_("pat.approver").get(site + NEW).status_code == 403
    alex = as_("alex.analyst")
    forged = post(alex, f"{site}/projects/{P}/edit/tasks/dpia", [("dpia", "DPIA-FORGED")])
    assert forged.status_code == 403
    assert saved_draft(active, amends=P) is None
    post(as_("sam.lead"), site + NEW + "/dpia", [("dpia", "DPIA-2026-001")])
    with active.db.session() as session:
        with pytest.raises(RegistryError, match="only project supporting-families.s lead"):
            drafts.answers(session, "alex.analyst", P)
    assert as_("sam.lead").get(site + NEW + "/nonsense").status_code == 400
    for page in (NEW, NEW + "/check", f"/projects/{P}/edit/tasks"):  # saving is elsewhere
        assert post(as_("sam.lead"), site + page, [("spec", "id: x")]).status_code == 405
    too_big = post(as_("sam.lead"), site + NEW + "/dpia", [("dpia", "x" * 250_000)])
    assert too_big.status_code == 400 and "more than a registration draft holds" in too_big.text


def test_a_data_items_problem_names_it_and_links_to_its_own_box(site, active, spec_data):
    """A reason too short names the item and its dataset in words and links to that item's
    box, styled as in error; a reason typed for an item not ticked is kept and asked about."""
    lead = as_("sam.lead")
    key = "fire_home_safety_visits.postcode"
    answers = [(k, v) for k, v in answers_of(spec_data, "data") if k != "justification." + key] + [
        ("justification." + key, "area"),
        ("justification.ae_attendances.arrival_mode", "Whether they came by ambulance"),
    ]
    page = post(lead, site + NEW + "/data", answers)
    assert page.status_code == 400
    summary = page.text.split('id="error-summary-title"')[1].split("</ul>")[0]
    assert (
        f'href="#justification-{key}">Say why the purpose needs postcode from Home fire safety '
        "visits (at least 10 characters)" in summary
    )
    assert "fire_home_safety_visits:" not in page.text
    assert (
        f'id="justification-{key}" name="justification.{key}" value="area" '
        f'class="govuk-input govuk-input--error input-error" '
        f'aria-describedby="justification-{key}-error"' in page.text
    )
    assert f'id="justification-{key}-error"' in page.text
    unticked = "justification-ae_attendances.arrival_mode"
    assert (
        f'href="#{unticked}">You gave a reason for arrival_mode from A&amp;E attendances but '
        "did not tick it" in summary
    )
    assert 'value="Whether they came by ambulance"' in page.text  # kept, not dropped
    values, saved = saved_draft(active)
    assert values["unticked"] == {"ae_attendances.arrival_mode": "Whether they came by ambulance"}
    assert "data" not in saved
    assert status_of(lead.get(site + NEW).text, "data") == "In progress"


def test_a_malformed_output_line_is_named_with_the_form_a_line_takes(site, spec_data):
    lead = as_("sam.lead")
    outputs = "families by area | table\n\nrepeat callers - chart\n| figure"
    page = post(lead, site + NEW + "/about", answers_of(spec_data, "about", outputs=outputs))
    assert page.status_code == 400
    error = html.unescape(re.search(r'id="outputs-error">(.*?)</p>', page.text, re.S).group(1))
    assert "Line 3 of the intended outputs (“repeat callers - chart”)" not in error  # a name
    assert "Line 4 of the intended outputs (“| figure”): it has no name" in error
    assert "table, figure, model or text" in error and "from the list" not in error
    wrong_kind = post(
        lead,
        site + NEW + "/about",
        answers_of(spec_data, "about", outputs="families by area | table\ncallers | chart"),
    )
    error = html.unescape(
        re.search(r'id="outputs-error">(.*?)</p>', wrong_kind.text, re.S).group(1)
    )
    assert "Line 2 of the intended outputs (“callers | chart”): its kind is not one" in error
    assert "its name, then | and its kind (table, figure, model or text)" in error


def test_a_flag_is_placed_in_words_with_its_datasets_title():
    spec = {"data": [{"dataset": "fire_home_safety_visits", "items": []}]}
    titles = {"fire_home_safety_visits": "Home fire safety visits"}
    assert guided.flag_place("data.0.items", spec, titles) == "Data: Home fire safety visits"
    assert guided.flag_place("data.0", spec, titles) == "Data: Home fire safety visits"
    assert guided.flag_place("purpose", spec, titles) == "Purpose"
    assert guided.flag_place("data_period", spec, titles) == "Period of the records"


def test_the_leads_home_offers_drafts_to_complete_only_when_there_are_some(site, active):
    home = as_("sam.lead").get(site + "/").text  # the lead's one project is approved
    assert "Your projects to complete and submit" not in home
    assert 'href="/projects/new/tasks"' in home  # a new one starts from the navigation
