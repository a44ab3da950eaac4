"""The task-list registration attacked (a security review): a blocked purpose brought in by an
amendment, a preview confirmed after the project's state changed, a draft outliving an amendment
made another way."""

import copy
import html
import re

import pytest
import yaml

from app.demo.projects import APPROVER_OF, PROJECT_FILE, load_project
from hub import service
from projects import registry
from projects.quality import flags
from tests.hub.test_registration_pages import P, digest_of, form
from tests.hub.test_service import as_
from tests.hub.test_task_list_pages import answers_of, post

OPEN = "To explore the data and find any patterns in demand for family support services."


def blocking_flags(instance, spec):
    settings = instance.settings.registration
    with instance.db.session() as session:
        return [f for f in flags(session, spec, settings) if f.kind in settings.block_submission]


@pytest.fixture
def site(active, serve):
    return serve(service.make_app(active, lambda h: h.get_cookie("tre-test-user")))


@pytest.fixture
def draft_site(populated, serve):
    """The demo project registered as a draft (nobody asked yet)."""
    spec = load_project(PROJECT_FILE)
    with populated.db.session() as session:
        registry.register_project(session, spec.lead, spec, populated.settings.policy)
    return serve(service.make_app(populated, lambda h: h.get_cookie("tre-test-user")))


def test_an_amendment_puts_a_blocked_purpose_before_the_controllers(site, active, spec_data):
    """block_submission says an open-ended purpose stops the submission; a lead whose project is
    approved (or submitted) amends the purpose to one through the task list, and the widening
    sends it to the controllers anyway: submitted, with the blocking flag."""
    lead = as_("sam.lead")
    tasks = f"{site}/projects/{P}/edit/tasks"
    saved = post(lead, tasks + "/about", answers_of(spec_data, "about", purpose=OPEN))
    assert saved.status_code == 303
    shown = lead.get(tasks + "/check").text
    # the preview says so, and offers no button to make it
    assert 'id="refused-for"' in shown and "Make this amendment</button>" not in shown
    made = lead.post(
        f"{site}/projects/{P}/edit",
        data={
            "_xsrf": lead.cookies["_xsrf"],
            "spec": html.unescape(re.search(r'name="spec" value="([^"]*)"', shown).group(1)),
            "confirm": "yes",
            "action": "register",
            "digest": digest_of(shown),
            "from_tasks": "yes",
        },
    )
    # refused, nothing changed: the project keeps its version and state, and says why
    assert made.status_code == 400, made.status_code
    assert "open-ended" in made.text or "open ended" in made.text, made.text[-2000:]
    with active.db.session() as session:
        found = registry.project(session, P)
        kept = (found.version, found.state, found.current.spec)
    assert kept[:2] == (1, "approved")
    assert not blocking_flags(active, kept[2])


def test_a_preview_of_a_draft_confirmed_once_it_is_approved(draft_site, populated, spec_data):
    """The digest binds the registration and the version, not the project's state: a widening
    previewed while the project is a draft (nothing goes back to anyone) is confirmed after the
    controllers approved it, and pulls the approved project back to them, which the preview
    never said. The confirmation should be refused as stale (409)."""
    lead = as_("sam.lead")
    xsrf, _ = form(lead, f"{draft_site}/projects/{P}/edit?as=yaml")
    wider = copy.deepcopy(spec_data)
    ae = next(d for d in wider["data"] if d["dataset"] == "ae_attendances")
    ae["items"].append({"item": "arrival_mode", "justification": "Arrival by ambulance or not"})
    shown = lead.post(
        f"{draft_site}/projects/{P}/edit", data={"_xsrf": xsrf, "spec": yaml.safe_dump(wider)}
    )
    assert shown.status_code == 200 and "nobody can work in it" not in shown.text
    with populated.db.session() as session:  # meanwhile: submitted, and approved
        registry.submit(session, "sam.lead", P, populated.settings.registration)
        found = registry.project(session, P)
        for dataset_id in registry.requested_datasets(found):
            code = registry.dataset(session, dataset_id).controller.code
            registry.decide_data_use(session, APPROVER_OF[code], P, dataset_id, True, "")
        assert registry.project(session, P).state == "approved"
    made = lead.post(
        f"{draft_site}/projects/{P}/edit",
        data={
            "_xsrf": xsrf,
            "spec": yaml.safe_dump(wider),
            "confirm": "yes",
            "action": "register",
            "digest": digest_of(shown.text),
        },
    )
    with populated.db.session() as session:
        state = registry.project(session, P).state
    assert made.status_code == 409, (made.status_code, state)


def test_a_draft_outlives_an_amendment_made_another_way(site, active, spec_data):
    """The lead's amendment draft is forgotten only when the task list's own confirmation makes
    it: an amendment made from the one-page form, the YAML editor or the CLI leaves it, built on
    the old version, every section "Completed"; its check then proposes undoing that amendment
    (here: re-adding the item the lead had just removed)."""
    from projects.spec import parse_project

    lead = as_("sam.lead")
    tasks = f"{site}/projects/{P}/edit/tasks"
    assert post(lead, tasks + "/dpia", [("dpia", "DPIA-2026-777")]).status_code == 303
    narrower = copy.deepcopy(spec_data)
    ae = next(d for d in narrower["data"] if d["dataset"] == "ae_attendances")
    dropped = ae["items"].pop()["item"]
    with active.db.session() as session:  # e.g. `tre project amend` or the YAML Edit
        registry.amend(session, "sam.lead", P, parse_project(narrower), active.settings.policy)
    shown = lead.get(tasks + "/check").text
    assert dropped not in shown, f"the stale draft re-adds {dropped}"
    # the task list says the project moved on, the sections to be saved again, the answers kept
    assert 'id="moved-on"' in shown and "now version 2" in shown
    assert "DPIA-2026-777" in lead.get(tasks + "/dpia").text
