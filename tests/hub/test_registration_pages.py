"""The lead's registration pages: a blank new project, each project's own Edit, a save that
changes nothing, and an amendment shown with its consequences before it is made."""

import copy
import re

import pytest
import yaml

from hub import service
from hub.registration import spec_as_yaml
from projects import registry
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
    xsrf, text = form(lead, site + "/projects/new")
    assert P not in text and "Supporting families" not in text
    assert "id:" in text and "purpose:" in text  # every field, empty, with hints
    taken = lead.post(
        site + "/projects/new", data={"_xsrf": xsrf, "spec": yaml.safe_dump(spec_data)}
    )
    assert taken.status_code == 400 and f"project {P} exists already" in taken.text


def test_saving_the_edit_page_unchanged_changes_nothing(site, active):
    lead = as_("sam.lead")
    xsrf, _ = form(lead, f"{site}/projects/{P}/edit")
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
    xsrf, _ = form(lead, f"{site}/projects/{P}/edit")
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
    assert "alex.analyst, bea.analyst, sam.lead" in shown.text
    assert versions(active) == 1  # nothing made yet
    back = lead.post(
        f"{site}/projects/{P}/edit", data={"_xsrf": xsrf, "spec": text, "action": "back"}
    )
    assert "arrival_mode" in back.text and versions(active) == 1
    made = lead.post(
        f"{site}/projects/{P}/edit",
        data={"_xsrf": xsrf, "spec": text, "confirm": "yes", "action": "register"},
    )
    assert made.status_code == 200 and f"Project {P} saved." in made.text
    assert versions(active) == 2
    with active.db.session() as session:
        assert registry.project(session, P).state == "submitted"


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
