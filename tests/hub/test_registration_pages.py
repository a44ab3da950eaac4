"""The lead's registration pages: a blank new project, each project's own Edit, a save that
changes nothing, and an amendment shown with its consequences before it is made."""

import copy
import html
import re

import pytest
import yaml

from hub import service
from hub.registration import spec_as_yaml
from projects import registry
from projects.errors import RegistryError
from projects.spec import parse_project
from tests.hub.test_service import as_

P = "supporting-families"


@pytest.fixture
def site(active, serve):
    return serve(service.make_app(active, lambda h: h.get_cookie("tre-test-user")))


def form(session, url):
    page = session.get(url)
    assert page.status_code == 200, page.text[-300:]
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    text = re.search(r'<textarea id="spec"[^>]*>(.*?)</textarea>', page.text, re.S).group(1)
    return xsrf, text


def versions(instance):
    with instance.db.session() as session:
        return registry.project(session, P).version


def test_a_new_project_starts_blank_and_an_existing_id_is_sent_to_its_edit(site, spec_data):
    lead = as_("sam.lead")
    xsrf, text = form(lead, site + "/projects/new?as=yaml")
    assert P not in text and "Supporting families" not in text
    assert "id:" in text and "purpose:" in text  # every field, empty, with hints
    taken = lead.post(
        site + "/projects/new", data={"_xsrf": xsrf, "spec": yaml.safe_dump(spec_data)}
    )
    assert taken.status_code == 400 and f"project {P} exists already" in taken.text


def test_saving_the_edit_page_unchanged_changes_nothing(site, active):
    lead = as_("sam.lead")
    xsrf, _ = form(lead, f"{site}/projects/{P}/edit?as=yaml")
    with active.db.session() as session:
        text = spec_as_yaml(registry.project(session, P).current.spec)
    saved = lead.post(f"{site}/projects/{P}/edit", data={"_xsrf": xsrf, "spec": text})
    assert saved.status_code == 200 and f"Nothing changed: project {P} stays at version 1" in (
        saved.text
    )
    assert versions(active) == 1
    alex = as_("alex.analyst").get(site + "/")
    assert "Usable now" in alex.text or "Analyses wait" in alex.text  # not locked out


def test_an_amendment_shows_its_diff_and_consequences_before_it_is_made(site, active, spec_data):
    lead = as_("sam.lead")
    xsrf, _ = form(lead, f"{site}/projects/{P}/edit?as=yaml")
    wider = copy.deepcopy(spec_data)
    ae = next(d for d in wider["data"] if d["dataset"] == "ae_attendances")
    ae["items"].append(
        {"item": "arrival_mode", "justification": "Whether the person arrived by ambulance"}
    )
    text = yaml.safe_dump(wider)
    shown = lead.post(f"{site}/projects/{P}/edit", data={"_xsrf": xsrf, "spec": text})
    assert shown.status_code == 200 and "Check your amendment before it is made" in shown.text
    assert "widening" in shown.text and "arrival_mode" in shown.text
    assert "Treton Hospitals NHS Trust (ae_attendances)" in shown.text
    # the team by name, a list as a sentence writes it
    assert "Alex Analyst, Bea Analyst and Sam Lead." in shown.text
    assert versions(active) == 1  # nothing made yet
    back = lead.post(
        f"{site}/projects/{P}/edit", data={"_xsrf": xsrf, "spec": text, "action": "back"}
    )
    assert "arrival_mode" in back.text and versions(active) == 1
    made = lead.post(
        f"{site}/projects/{P}/edit",
        data={
            "_xsrf": xsrf,
            "spec": text,
            "confirm": "yes",
            "action": "register",
            "digest": digest_of(shown.text),
        },
    )
    assert made.status_code == 200 and f"Project {P} saved." in made.text
    assert "has been sent to the data controller" in made.text  # what the save did
    assert "accepts the terms of version 2" in made.text
    assert versions(active) == 2
    with active.db.session() as session:
        assert registry.project(session, P).state == "submitted"


def digest_of(page):
    """The digest an amendment's preview carries to its confirmation."""
    return re.search(r'name="digest" value="([0-9a-f]{64})"', page).group(1)


def test_a_confirmation_holds_only_for_what_its_preview_showed(site, active, spec_data):
    """The confirm step carries the preview's digest: a confirmation without it, of other
    content than was shown, or of a project amended since, is refused and shown again, with
    nothing made and the answers kept."""
    lead = as_("sam.lead")
    xsrf, _ = form(lead, f"{site}/projects/{P}/edit?as=yaml")
    wider = copy.deepcopy(spec_data)
    ae = next(d for d in wider["data"] if d["dataset"] == "ae_attendances")
    ae["items"].append({"item": "arrival_mode", "justification": "Arrival by ambulance or not"})
    shown = lead.post(
        f"{site}/projects/{P}/edit", data={"_xsrf": xsrf, "spec": yaml.safe_dump(wider)}
    )
    digest = digest_of(shown.text)
    confirm = {"_xsrf": xsrf, "confirm": "yes", "action": "register"}
    # no digest: nothing was previewed
    bare = lead.post(f"{site}/projects/{P}/edit", data=dict(confirm, spec=yaml.safe_dump(wider)))
    assert bare.status_code == 409 and "not the amendment you were shown" in bare.text
    assert "nothing was changed" in bare.text and versions(active) == 1
    # other content than the preview showed (an extra item slipped in): refused, shown again
    ae["items"].append({"item": "chief_complaint", "justification": "The complaint's words"})
    other = lead.post(
        f"{site}/projects/{P}/edit",
        data=dict(confirm, spec=yaml.safe_dump(wider), digest=digest),
    )
    assert other.status_code == 409 and "not the amendment you were shown" in other.text
    assert "chief_complaint" in other.text and versions(active) == 1
    assert digest_of(other.text) != digest  # the page now shows what would be made
    # the project amended meanwhile (another tab): the old preview no longer holds
    ae["items"].pop()
    with active.db.session() as session:
        narrower = copy.deepcopy(spec_data)
        narrower["title"] = "Supporting families, renamed"
        registry.amend(session, "sam.lead", P, parse_project(narrower), active.settings.policy)
    late = lead.post(
        f"{site}/projects/{P}/edit",
        data=dict(confirm, spec=yaml.safe_dump(wider), digest=digest),
    )
    assert late.status_code == 409 and versions(active) == 2
    made = lead.post(
        f"{site}/projects/{P}/edit",
        data=dict(confirm, spec=yaml.safe_dump(wider), digest=digest_of(late.text)),
    )
    assert made.status_code == 200 and versions(active) == 3


def test_only_the_lead_edits(site):
    assert as_("alex.analyst").get(f"{site}/projects/{P}/edit").status_code == 403
    assert as_("pat.approver").get(f"{site}/projects/{P}/edit").status_code == 403


def test_an_unchanged_amendment_makes_no_version_and_no_event(active, spec_data):
    from projects.events import RegistryEvent
    from tre import audit

    with active.db.session() as session:
        found = registry.amend(
            session, "sam.lead", P, parse_project(spec_data), active.settings.policy
        )
        assert found.version == 1
        assert not [e for e in audit.events(session) if e.action == RegistryEvent.PROJECT_AMEND]


def guided_answers(spec_data, **changed):
    """The guided form's fields for SPEC_DATA, as a browser would send them."""
    basis = spec_data["legal_basis"]
    fields = [
        ("guided", "1"),
        ("id", spec_data["id"]),
        ("title", spec_data["title"]),
        ("lay_summary", spec_data["lay_summary"]),
        ("purpose", spec_data["purpose"]),
        ("category", spec_data["category"]),
        ("public_benefit", spec_data["public_benefit"]),
        ("article_6", basis["article_6"]),
        ("article_9", basis.get("article_9") or ""),
        ("confidentiality", basis["confidentiality"]),
        ("dpia", basis["dpia"]),
        ("data_period_start", str(spec_data["data_period"]["start"])),
        ("data_period_end", str(spec_data["data_period"]["end"])),
        ("start", str(spec_data["start"])),
        ("end", str(spec_data["end"])),
        ("retention_until", str(spec_data["retention_until"])),
        ("disclosure", '{"threshold": 10}'),
        (
            "outputs",
            "\n".join(f"{o['name']} | {o['kind']}" for o in spec_data["intended_outputs"]),
        ),
    ]
    fields += [("gateways", g) for g in basis["gateways"]]
    fields += [("team", m["person"]) for m in spec_data["team"]]
    for d in spec_data["data"]:
        for i in d["items"]:
            key = f"{d['dataset']}.{i['item']}"
            fields += [("item", key), (f"justification.{key}", i["justification"])]
    replaced = [(k, v) for k, v in fields if k not in changed]
    for k, v in changed.items():
        replaced += [(k, x) for x in (v if isinstance(v, list) else [v])]
    return replaced


def test_the_guided_form_offers_the_catalogues_and_refuses_direct_identifiers(site):
    page = as_("sam.lead").get(site + "/projects/new")
    assert page.status_code == 200 and "Register a project" in page.text
    assert 'value="supporting-families"' not in page.text  # blank
    assert "Children Act 2004 section 10" in page.text  # gateways by name, from the catalogue
    assert 'id="item-ae_attendances.nhs_number" disabled' in page.text
    assert "Cannot be asked for: a direct identifier" in page.text
    assert "accredited (Treton Accredited Researcher) until" in page.text  # the analysts'
    assert "Fill in a YAML registration file instead" in page.text


def test_guided_answers_with_errors_come_back_with_each_error_at_its_field(site, spec_data):
    lead = as_("sam.lead")
    xsrf, _ = form(lead, site + "/projects/new?as=yaml")
    empty = lead.post(site + "/projects/new", data={"_xsrf": xsrf, "guided": "1"})
    assert empty.status_code == 400 and "There is a problem" in empty.text
    for field in ("id", "title", "purpose", "category", "article_6", "gateways", "start"):
        assert f'id="{field}-error"' in empty.text, field
        # a date's link goes to its first box (GOV.UK's date input)
        assert f'href="#{field}{"-day" if field == "start" else ""}"' in empty.text, field
    assert "Enter the project&#39;s start date" in empty.text
    # an identifier posted by hand (the page never offers it) is refused with the reason
    forged = guided_answers(
        dict(spec_data, id="new-one"),
        item=["ae_attendances.nhs_number"],
        **{"justification.ae_attendances.nhs_number": "to link the records ourselves"},
    )
    answer = lead.post(site + "/projects/new", data=[("_xsrf", xsrf), *forged])
    assert answer.status_code == 400 and "nhs_number is a direct identifier" in answer.text
    assert 'id="data-error"' in answer.text


def test_guided_answers_are_checked_then_saved(site, active, spec_data):
    lead = as_("sam.lead")
    xsrf, _ = form(lead, site + "/projects/new?as=yaml")
    answers = guided_answers(dict(spec_data, id="family-demand", title="Family demand"))
    check = lead.post(site + "/projects/new", data=[("_xsrf", xsrf), *answers])
    assert check.status_code == 200 and "Check your answers before saving" in check.text
    with active.db.session() as session:
        assert "family-demand" not in {p.id for p in registry.projects(session)}
    text = re.search(r'name="spec" value="([^"]*)"', check.text, re.S).group(1)
    saved = lead.post(
        site + "/projects/new",
        data={"_xsrf": xsrf, "spec": html.unescape(text), "action": "register"},
    )
    assert saved.status_code == 200 and "Project family-demand saved." in saved.text
    with active.db.session() as session:
        found = registry.project(session, "family-demand")
        assert found.state == "draft" and found.current.spec["disclosure"] == {"threshold": 10}
    # the guided Edit, unchanged, changes nothing; a widening is shown first
    same = lead.post(
        f"{site}/projects/{P}/edit", data=[("_xsrf", xsrf), *guided_answers(spec_data)]
    )
    assert f"Nothing changed: project {P} stays at version 1" in same.text
    wider = guided_answers(spec_data)
    wider += [
        ("item", "ae_attendances.arrival_mode"),
        ("justification.ae_attendances.arrival_mode", "Whether the person came by ambulance"),
    ]
    shown = lead.post(f"{site}/projects/{P}/edit", data=[("_xsrf", xsrf), *wider])
    assert "Check your amendment before it is made" in shown.text and "arrival_mode" in shown.text
    assert versions(active) == 1


def test_the_guided_form_registers_the_signed_in_lead_whatever_is_posted(site, active, spec_data):
    lead = as_("sam.lead")
    xsrf, _ = form(lead, site + "/projects/new?as=yaml")
    answers = guided_answers(dict(spec_data, id="someone-elses"), lead="alex.analyst")
    check = lead.post(site + "/projects/new", data=[("_xsrf", xsrf), *answers])
    assert check.status_code == 200
    text = html.unescape(re.search(r'name="spec" value="([^"]*)"', check.text).group(1))
    assert yaml.safe_load(text)["lead"] == "sam.lead"


def test_every_date_problem_is_reported_at_once_each_at_its_field(site, spec_data):
    """Dates out of order are reported on the first submit, beside any other problem, each at
    its own field and naming the pair: as `tre project register` reports them (one check)."""
    lead = as_("sam.lead")
    xsrf, _ = form(lead, site + "/projects/new?as=yaml")
    answers = guided_answers(
        dict(spec_data, id="dated"),
        title="x",  # another problem, in the same round
        start="2027-01-01",
        end="2026-01-01",
        data_period_start="2026-03-01",
        data_period_end="2020-01-01",
        retention_until="2025-01-01",
    )
    page = lead.post(site + "/projects/new", data=[("_xsrf", xsrf), *answers])
    assert page.status_code == 400

    def error_at(field):
        found = re.search(rf'id="{field}-error">(.*?)</p>', page.text, re.S)
        return found.group(1) if found else ""

    assert "The project&#39;s end (1 January 2026) is before its start (1 January 2027)" in (
        error_at("end")
    )
    assert "data period&#39;s end (1 January 2020) is before its start (1 March 2026)" in (
        error_at("data_period_end")
    )
    assert "kept until (1 January 2025) is before the project&#39;s end (1 January 2026)" in (
        error_at("retention_until")
    )
    assert "at least 5 characters" in error_at("title")
    assert error_at("id") == "" and "End is before start" not in page.text
    # the command line's check says the same, from the same function
    data = dict(
        spec_data,
        title="x",
        start="2027-01-01",
        end="2026-01-01",
        retention_until="2025-01-01",
        data_period={"start": "2026-03-01", "end": "2020-01-01"},
    )
    with pytest.raises(RegistryError) as refused:
        parse_project(data, "p.yaml")
    said = str(refused.value).splitlines()
    assert (
        "p.yaml: end: the project's end (1 January 2026) is before its start (1 January 2027)"
        in said
    )
    assert any(line.startswith("p.yaml: data_period.end: the data period") for line in said)
    assert any(line.startswith("p.yaml: retention_until: the date") for line in said)
    assert any(line.startswith("p.yaml: title:") for line in said)


def test_check_your_answers_names_the_legal_bases_offers_changes_and_holds_a_blocked_submit(
    site, active, spec_data
):
    """A blocking purpose flag leaves only "Save as a draft", with the reason; a submission
    posted anyway comes back to the same page, one bullet a problem, not to the YAML editor;
    "Change" goes back to the guided form with every answer kept."""
    lead = as_("sam.lead")
    xsrf, _ = form(lead, site + "/projects/new?as=yaml")
    purpose = "To explore the data and find any patterns in demand for family support services."
    answers = guided_answers(dict(spec_data, id="open-ended", purpose=purpose))
    check = lead.post(site + "/projects/new", data=[("_xsrf", xsrf), *answers])
    assert check.status_code == 200 and "Check your answers before saving" in check.text
    assert 'value="register" class="govuk-button">Save as a draft' in check.text
    assert 'value="submit"' not in check.text
    assert "You cannot submit it for approval yet: the purpose is open-ended" in check.text
    # each code by its name, as the controller's page shows them
    assert (
        "Children Act 2004 section 10: co-operation to improve well-being (children-act-2004-s10)"
        in check.text
    )
    assert "browser&#39;s Back button" not in check.text and "Change<span" in check.text
    text = html.unescape(re.search(r'name="spec" value="([^"]*)"', check.text, re.S).group(1))
    sent = {"_xsrf": xsrf, "spec": text, "checked": "yes"}
    forced = lead.post(site + "/projects/new", data=dict(sent, action="submit"))
    assert forced.status_code == 400 and "Check your answers before saving" in forced.text
    summary = forced.text.split('id="error-summary-title"')[1].split("</div>")[0]
    assert summary.count("<li>") == 1 and "The purpose is open-ended" in summary
    assert 'id="spec"' not in forced.text  # not the YAML editor
    with active.db.session() as session:
        assert "open-ended" not in {p.id for p in registry.projects(session)}
    back = lead.post(site + "/projects/new", data=dict(sent, action="change"))
    assert back.status_code == 200 and "Fill in a YAML registration file instead" in back.text
    assert 'value="open-ended"' in back.text and "find any patterns in demand" in back.text
    assert 'value="ae_attendances.' in back.text and "checked" in back.text
    draft = lead.post(site + "/projects/new", data=dict(sent, action="register"))
    assert draft.status_code == 200 and "Project open-ended saved." in draft.text


def test_a_blocked_submission_in_the_yaml_editor_is_one_bullet_a_problem(site, spec_data):
    lead = as_("sam.lead")
    xsrf, _ = form(lead, site + "/projects/new?as=yaml")
    data = dict(spec_data, id="open-yaml", purpose="To explore the data and find any patterns.")
    page = lead.post(
        site + "/projects/new",
        data={"_xsrf": xsrf, "spec": spec_as_yaml(data), "action": "submit"},
    )
    assert page.status_code == 400
    summary = page.text.split('id="error-summary-title"')[1].split("</div>")[0]
    assert summary.count("<li>") == 1 and "purpose: the purpose is open-ended" in summary
    assert "cannot be submitted until these are mended" in page.text
    assert "1 problem(s)" in page.text


def test_an_impossible_date_in_the_yaml_editor_is_named_and_the_text_kept(site, spec_data):
    """YAML's own loader fails on 2023-02-31 (no such day): the editor says which field and
    what to do, with the lead's text as it was, not a server error."""
    lead = as_("sam.lead")
    xsrf, _ = form(lead, site + "/projects/new?as=yaml")
    text = spec_as_yaml(dict(spec_data, id="impossible")).replace(
        f"start: {spec_data['start']}", "start: 2023-02-31"
    )
    assert "start: 2023-02-31" in text
    page = lead.post(site + "/projects/new", data={"_xsrf": xsrf, "spec": text})
    assert page.status_code == 400 and "Internal Server Error" not in page.text
    assert "start: must be a real date (&#39;2023-02-31&#39; is not)" in page.text
    assert "YYYY-MM-DD" in page.text
    kept = re.search(r'<textarea id="spec"[^>]*>(.*?)</textarea>', page.text, re.S).group(1)
    assert html.unescape(kept).strip() == text.strip()


@pytest.mark.parametrize("typed", ["31/02/2027", "2027-02-31"])
def test_an_impossible_date_in_the_guided_form_is_kept_and_called_not_real(site, spec_data, typed):
    lead = as_("sam.lead")
    xsrf, _ = form(lead, site + "/projects/new?as=yaml")
    answers = guided_answers(dict(spec_data, id="impossible"), end=typed)
    page = lead.post(site + "/projects/new", data=[("_xsrf", xsrf), *answers])
    assert page.status_code == 400
    error = re.search(r'id="end-error">(.*?)</p>', page.text, re.S).group(1)
    assert "The project&#39;s end date must be a real date" in error and "Enter" not in error
    assert 'id="end-day" name="end-day" type="text" inputmode="numeric" value="31"' in page.text
    assert 'id="end-month" name="end-month" type="text" inputmode="numeric" value="2"' in page.text
    assert 'id="end-year" name="end-year" type="text" inputmode="numeric" value="2027"' in page.text
    assert 'href="#end-day">The project&#39;s end date must be a real date' in page.text


def test_the_dates_are_three_boxes_each_error_naming_its_date_in_words(site, spec_data):
    """GOV.UK's date input: Day, Month and Year, with an example; what is typed comes back as
    typed; a box left empty is named; the dates in the messages are in words, not ISO."""
    lead = as_("sam.lead")
    blank = lead.get(site + "/projects/new").text
    assert 'type="date"' not in blank
    for part in ("day", "month", "year"):
        assert f'name="start-{part}" type="text" inputmode="numeric" value=""' in blank
    assert "For example, 27 3 2027" in blank
    xsrf, _ = form(lead, site + "/projects/new?as=yaml")
    answers = [
        (k, v)
        for k, v in guided_answers(dict(spec_data, id="boxes"))
        if k not in ("start", "end", "retention_until")
    ]
    answers += [
        ("start-day", "1"),
        ("start-month", "1"),
        ("start-year", "2028"),
        ("end-day", "31"),
        ("end-month", "12"),
        ("end-year", "2027"),
        ("retention_until-day", "30"),
        ("retention_until-month", ""),
        ("retention_until-year", "2028"),
    ]
    page = lead.post(site + "/projects/new", data=[("_xsrf", xsrf), *answers])
    assert page.status_code == 400
    assert "The project&#39;s end (31 December 2027) is before its start (1 January 2028)" in (
        page.text
    )
    assert "The date the data is kept until must include a month" in page.text
    assert 'name="retention_until-day" type="text" inputmode="numeric" value="30"' in page.text
    assert 'name="retention_until-month" type="text" inputmode="numeric" value=""' in page.text
    assert "2027-12-31" not in page.text.split('id="error-summary-title"')[1].split("</ul>")[0]


def test_a_period_wholly_in_the_past_is_refused_unless_it_is_the_projects_own(
    site, active, spec_data
):
    """A new registration, or an amendment changing the dates, whose end is before today gets
    an error at the end date; an existing project's dates, unchanged, stay acceptable."""
    lead = as_("sam.lead")
    xsrf, _ = form(lead, site + "/projects/new?as=yaml")
    past = dict(spec_data, id="long-ago", start="2020-01-01", end="2020-12-31")
    page = lead.post(site + "/projects/new", data=[("_xsrf", xsrf), *guided_answers(past)])
    assert page.status_code == 400
    error = re.search(r'id="end-error">(.*?)</p>', page.text, re.S).group(1)
    assert "The end date must be today or later (31 December 2020 has passed)" in error
    yaml_page = lead.post(site + "/projects/new", data={"_xsrf": xsrf, "spec": spec_as_yaml(past)})
    assert yaml_page.status_code == 400 and "end: the end date must be today or later" in (
        yaml_page.text
    )
    with active.db.session() as session:
        assert "long-ago" not in {p.id for p in registry.projects(session)}
        # the project's own dates, even once past, stay acceptable when unchanged
        found = registry.project(session, P)
        found.current.spec = dict(found.current.spec, start="2020-01-01", end="2020-12-31")
    kept = dict(spec_data, start="2020-01-01", end="2020-12-31")
    same = lead.post(f"{site}/projects/{P}/edit", data=[("_xsrf", xsrf), *guided_answers(kept)])
    assert "must be today or later" not in same.text and "Nothing changed" in same.text
    moved = dict(kept, end="2021-06-30")
    changed = lead.post(f"{site}/projects/{P}/edit", data=[("_xsrf", xsrf), *guided_answers(moved)])
    assert changed.status_code == 400 and "The end date must be today or later" in changed.text


def test_the_command_lines_file_with_an_impossible_date_names_the_field(tmp_path, spec_data):
    from projects.spec import load_project

    path = tmp_path / "p.yaml"
    path.write_text(spec_as_yaml(spec_data).replace(f"end: {spec_data['end']}", "end: 2027-02-31"))
    with pytest.raises(RegistryError) as refused:
        load_project(path)
    assert f"{path}: end: must be a real date ('2027-02-31' is not)" in str(refused.value)
