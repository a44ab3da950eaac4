"""The tre web service's access matrix: every role against every page and action, served for
real on a loopback port (who is asking comes from a test cookie; in the hub, from its OAuth)."""

import re

import pytest
import requests

from hub import service
from output_checks import airlock
from projects.policy import decide
from tests.conftest import STUDIED_TODAY
from tests.output_checks.test_airlock import AUTHOR, P, outputs, rel  # noqa: F401 (fixture)

PEOPLE = {
    "author": "alex.analyst",
    "team": "bea.analyst",
    "checker": "chris.checker",
    "approver": "pat.approver",
    "lead": "sam.lead",
    "outsider": "eve.outsider",
    "anonymous": None,
}


@pytest.fixture(scope="module")
def site(studied, serve, outputs):  # noqa: F811
    base = serve(service.make_app(studied, lambda h: h.get_cookie("tre-test-user")))
    request_id = airlock.request(
        studied, P, AUTHOR, [rel(outputs["run"], "note.md")], at=STUDIED_TODAY
    )
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    return base, request_id


def as_(person):
    session = requests.Session()
    if person:
        session.cookies.set("tre-test-user", person, domain="127.0.0.1")
    return session


def token(session, url):
    """A CSRF token of the session's own (the cookie every rendered page sets)."""
    session.get(url)
    return session.cookies["_xsrf"]


# page -> the roles that get it (everyone else: 403)
PAGES = {
    "/": {"author", "team", "checker", "approver", "lead", "outsider"},
    "/airlock/": {"checker"},
    "/airlock/requests/{r}": {"author", "checker"},
    "/approvals/": {"approver"},
    "/projects/new": {"lead"},
    "/projects/new/tasks": {"lead"},
    f"/projects/{P}/requests/new": {"author", "team", "checker", "approver", "lead", "outsider"},
    "/register/": set(PEOPLE),  # public
}


@pytest.mark.parametrize("page", list(PAGES))
@pytest.mark.parametrize("role", list(PEOPLE))
def test_every_role_against_every_page(site, role, page):
    base, request_id = site
    answer = as_(PEOPLE[role]).get(base + page.format(r=request_id))
    expected = 200 if role in PAGES[page] else 403
    assert answer.status_code == expected, answer.text[-400:]
    if expected == 403:
        assert ">That did not work</h1>" in answer.text and "Traceback" not in answer.text


@pytest.mark.parametrize("role", ["author", "team", "approver", "lead", "outsider"])
def test_reviewer_actions_are_refused_to_everyone_but_checkers(site, studied, role):
    base, request_id = site
    session = as_(PEOPLE[role])
    # a token of the person's own (any page that renders gives one)
    xsrf = token(session, base + "/register/")
    shown = airlock.show(studied, request_id, "chris.checker")
    path = shown["files"][0]["path"]
    for action, data in [
        ("vote", {"file": path, "vote": "approve"}),
        ("decide", {"action": "reject", "reason": "no"}),
    ]:
        answer = session.post(
            f"{base}/airlock/requests/{request_id}/{action}",
            data=data | {"_xsrf": xsrf},
            allow_redirects=False,
        )
        assert answer.status_code == 403, (role, action)
    assert airlock.show(studied, request_id, "chris.checker")["files"][0]["votes_in"] == 0


def test_a_checker_on_their_own_project_may_not_review(active):
    """The policy engine refuses the review_release action to a member of the team."""
    import yaml

    from app.demo import projects as demo_projects
    from projects import registry
    from projects.spec import parse_project

    data = yaml.safe_load(demo_projects.PROJECT_FILE.read_text())
    data["team"].append({"person": "chris.checker", "role": "analyst"})
    from projects.models import PersonRole

    with active.db.session() as session:
        checker = registry.person(session, "chris.checker")
        session.add(PersonRole(person_id=checker.id, role="analyst"))  # a checker who analyses
    with active.db.session() as session:
        registry.amend(session, "sam.lead", P, parse_project(data), active.settings.policy)
        decision = decide(session, "chris.checker", "review_release", P)
    assert not decision.allowed
    assert any("separation of duties" in r for r in decision.reasons)


def test_analysts_see_their_projects_accept_terms_and_request_a_release(site, studied, outputs):  # noqa: F811
    base, _ = site
    alex = as_("alex.analyst")
    home = alex.get(base + "/")
    assert "Usable now" in home.text and f"/hub/spawn/alex.analyst/{P}" in home.text
    outsider = as_("eve.outsider").get(base + "/")
    assert "You are not in any project" in outsider.text
    form = alex.get(f"{base}/projects/{P}/requests/new")
    assert rel(outputs["run"], "base.csv") in form.text
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
    made = alex.post(
        f"{base}/projects/{P}/requests/new",
        allow_redirects=False,
        data={
            "_xsrf": xsrf,
            "file": [rel(outputs["run"], "base.csv")],
            f"group-{outputs['run'].id}": "tables",
            f"context-{outputs['run'].id}": "<b>counts</b>",
            f"controls-{outputs['run'].id}": "sdc.safe",
            "recipients": "alex.analyst, bea.analyst",
        },
    )
    assert made.status_code == 303
    request_id = made.headers["Location"].rsplit("/", 1)[1].split("?")[0]
    shown = airlock.show(studied, request_id, AUTHOR)
    assert shown["state"] == "submitted" and shown["recipients"] == ["alex.analyst", "bea.analyst"]
    assert 'id="recipients" name="recipients" value="alex.analyst"' in form.text
    page = alex.get(base + made.headers["Location"])
    assert "&lt;b&gt;counts&lt;/b&gt;" in page.text


def test_the_home_page_offers_the_workspaces_notebooks_and_explains_drafts(site, studied):
    """The Run form lists the person's own workspace notebooks beside the studies (no link, no
    one else's); a file made interactively is shown as a draft, not requestable, with the one
    step that makes it requestable: running the notebook that names it."""
    from hub.spawn import drafts_folder
    from tests.notebooks.test_runner import small_notebook
    from tre.folders import ProjectFolders

    base, _ = site
    folders = ProjectFolders.of(studied, P)
    own, theirs = folders.workspace / "alex.analyst", folders.workspace / "bea.analyst"
    for folder in (own / "work", theirs):
        folder.mkdir(parents=True, exist_ok=True)
    small_notebook(own / "work" / "tables.ipynb", "ws.output('by-area.csv')")
    small_notebook(theirs / "hers.ipynb", "ws.output('by-area.csv')")
    (own / "elsewhere.ipynb").unlink(missing_ok=True)
    (own / "elsewhere.ipynb").symlink_to(theirs / "hers.ipynb")
    drafts = drafts_folder(folders, "alex.analyst")
    drafts.mkdir(parents=True, exist_ok=True)
    (drafts / "by-area.csv").write_text("area,n\nA,12\n")
    (drafts / "orphan.csv").write_text("x\n")
    home = as_("alex.analyst").get(base + "/").text
    assert '<option value="workspace/work/tables.ipynb">work/tables.ipynb</option>' in home
    assert "hers.ipynb" not in home and "elsewhere.ipynb" not in home
    assert '<option value="repeat-callers">' in home
    section = home.split("Drafts made interactively")[1]
    assert "by-area.csv" in section and "cannot be requested for release" in section
    assert 'name="study" value="workspace/work/tables.ipynb"' in section
    assert "orphan.csv" in section and "No notebook of your workspace names it" in section
    form = as_("alex.analyst").get(f"{base}/projects/{P}/requests/new").text
    assert "by-area.csv" not in form and "orphan.csv" not in form


def test_the_lead_registers_with_the_same_validation_as_the_yaml_route(site):
    base, _ = site
    lead = as_("sam.lead")
    form = lead.get(base + "/projects/new")
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', form.text).group(1)
    bad = lead.post(base + "/projects/new", data={"_xsrf": xsrf, "spec": "id: Bad Id\n"})
    assert bad.status_code == 400 and "nothing was changed" in bad.text
    assert "the form:" in bad.text


def test_the_request_api_takes_the_person_from_the_sign_in(site, studied, outputs):  # noqa: F811
    """JSON in, JSON out; who asks is the signed-in person, whatever the body says."""
    base, _ = site
    alex = as_("alex.analyst")
    xsrf = token(alex, base + "/register/")
    url = f"{base}/api/projects/{P}/requests"
    headers = {"X-XSRFToken": xsrf}
    made = alex.post(
        url,
        json={"files": [rel(outputs["run"], "note.md")], "author": "bea.analyst", "context": "c"},
        headers=headers,
    )
    assert made.status_code == 201, made.text
    shown = airlock.show(studied, made.json()["id"], "alex.analyst")
    assert shown["author"] == "alex.analyst" and made.json()["state"] == shown["state"]
    bad = alex.post(url, data="not json", headers=headers)
    assert bad.status_code == 400 and "files" in bad.json()["error"]
    # recipients named by the API, checked as registered people
    named = alex.post(
        url,
        json={"files": [rel(outputs["run"], "note.md")], "recipients": ["bea.analyst"]},
        headers=headers,
    )
    assert airlock.show(studied, named.json()["id"], "alex.analyst")["recipients"] == [
        "bea.analyst"
    ]
    for recipients, said in (
        ("bea.analyst", "a list of user names"),
        (["x.y"], "not registered"),
        (["eve.outsider"], "accredited members of the project's team"),
    ):
        wrong = alex.post(
            url,
            json={"files": [rel(outputs["run"], "note.md")], "recipients": recipients},
            headers=headers,
        )
        assert wrong.status_code == 400 and said in wrong.json()["error"], wrong.text
    # a stranger is refused by the policy, with its sentence
    eve = as_("eve.outsider")
    refused = eve.post(
        url,
        json={"files": [rel(outputs["run"], "note.md")]},
        headers={"X-XSRFToken": token(eve, base + "/register/")},
    )
    assert refused.status_code == 403 and "eve.outsider" in refused.json()["error"]


def test_a_signed_in_persons_refusals_are_audit_events(site, studied):
    """Every page or action refused to a signed-in person leaves an event; an airlock refusal
    (recorded by the airlock itself) is not recorded twice."""
    from tre import audit

    base, request_id = site

    def refusals():
        with studied.db.session() as session:
            return [e for e in audit.events(session) if e.action == "access.refused"]

    before = len(refusals())
    assert as_("eve.outsider").get(base + "/airlock/").status_code == 403
    assert as_(None).get(base + "/airlock/").status_code == 403  # anonymous: not logged one by one
    new = refusals()[before:]
    assert [(e.actor, e.object_id) for e in new] == [("eve.outsider", "GET /airlock/")]
    assert "this page is for output checkers, and eve.outsider is not one" in new[0].details


def test_the_register_is_read_without_signing_in_and_is_always_live(active, serve, tmp_path):
    """As the hub runs it (anonymous visitors sent to the login page), the register alone
    answers them: no redirect followed, the published file's content, CSV and JSON, a filter,
    and a change shown at once (nobody republishes)."""
    import csv
    import io
    import json

    from markupsafe import escape

    from projects import registry
    from projects.register import publish

    base = serve(
        service.make_app(active, lambda h: None, login_redirect=True, login_url="/hub/login")
    )
    anonymous = requests.Session()
    assert anonymous.get(base + "/", allow_redirects=False).status_code == 302
    page = anonymous.get(base + "/register/", allow_redirects=False)
    assert page.status_code == 200, page.headers.get("Location")
    with active.db.session() as session:
        published = publish(session, tmp_path, "x", releases=lambda s, p: [])
    (row,) = json.loads(published["json"].read_text())["projects"]
    for field in ("title", "purpose", "public_benefit", "lay_summary", "lead_organisation"):
        assert str(escape(row[field])) in page.text, field
    for name in row["controllers"] + [d["dataset"] for d in row["datasets"]]:
        assert str(escape(name)) in page.text
    assert "chief_complaint" in page.text  # a data item, by its class
    assert "<dt>Onward sharing</dt><dd>no</dd>" in page.text
    assert "<dt>Releases</dt><dd>0</dd>" in page.text
    assert "sam.lead" not in page.text and "Sam Lead" not in page.text  # no names by default
    answer = anonymous.get(base + "/register/register.csv", allow_redirects=False)
    assert answer.status_code == 200 and answer.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    assert [r["id"] for r in rows] == [P] and rows[0]["releases"] == "0"
    answer = anonymous.get(base + "/register/register.json", allow_redirects=False)
    assert answer.status_code == 200 and answer.json()["projects"][0]["purpose"] == row["purpose"]
    # the filter, without JavaScript
    missing = anonymous.get(base + "/register/", params={"q": "no-such-word"})
    assert "0 of 1 project(s)" in missing.text and row["title"] not in missing.text
    found = anonymous.get(base + "/register/", params={"q": "A&E " + P})
    assert "1 of 1 project(s)" in found.text
    assert anonymous.get(base + "/register/register.json?q=nothing-here").json()["projects"] == []
    # live: a suspension shows at once
    with active.db.session() as session:
        registry.suspend(session, "ops.operator", P, "an audit")
    assert "<dt>Status</dt><dd>suspended" in anonymous.get(base + "/register/").text


def test_the_lead_is_warned_on_saving_and_the_controllers_see_the_same_flags(
    populated, serve, spec_data
):
    import yaml

    from tests.projects.test_quality import fishing

    base = serve(service.make_app(populated, lambda h: h.get_cookie("tre-test-user")))
    lead = as_("sam.lead")
    xsrf = token(lead, base + "/projects/new")
    text = yaml.safe_dump(fishing(spec_data))
    saved = lead.post(
        base + "/projects/new", data={"spec": text, "action": "register", "_xsrf": xsrf}
    )
    assert saved.status_code == 200 and "Project fishing-trip saved." in saved.text
    assert "Check the purpose before you submit" in saved.text
    assert "<strong>Blocks submission.</strong> <code>purpose</code>" in saved.text
    assert "every one of its 8 items is asked for" in saved.text
    refused = lead.post(
        base + "/projects/fishing-trip/edit", data={"spec": text, "action": "submit", "_xsrf": xsrf}
    )
    assert (
        refused.status_code == 400 and "cannot be submitted until these are mended" in refused.text
    )
    nia = as_("nia.approver")
    page = nia.get(base + "/approvals/")
    assert page.status_code == 200 and "fishing-trip" not in page.text  # a draft: not theirs yet
    # submitted where the operator lets every flag through: the controllers see the same flags
    from projects import registry
    from tre.settings import RegistrationSettings

    with populated.db.session() as session:
        registry.submit(
            session, "sam.lead", "fishing-trip", RegistrationSettings(block_submission=[])
        )
    page = nia.get(base + "/approvals/fishing-trip/ae_attendances")
    assert page.status_code == 200
    assert "Purpose-quality warnings" in page.text and "every one of its 8 items" in page.text


def test_the_home_page_shows_an_interrupted_run_as_failed_with_its_reason(site, studied):
    """A run whose process ended before it did (the service restarted mid-run) reads failed,
    with what happened and what to do, on the home page and on its own page."""
    from notebooks.recovery import INTERRUPTED, recover
    from tests.notebooks.test_recovery import dead_process, record_run

    base, _ = site
    interrupted = record_run(studied, dead_process(), project=P)
    alex = as_("alex.analyst")
    before = alex.get(base + "/").text
    row = before.split(interrupted.id)[2].split("</tr>")[0]
    assert "running" in row
    assert interrupted.id in recover(studied).failed
    row = alex.get(base + "/").text.split(interrupted.id)[2].split("</tr>")[0]
    assert ">failed<br>" in row and INTERRUPTED in row
    page = alex.get(f"{base}/projects/{P}/runs/{interrupted.id}").text
    assert "<strong>failed</strong>" in page and "run it again" in page


def test_the_service_fails_the_runs_its_earlier_self_left_running_when_it_starts(
    instance, tmp_path
):
    """The real service (python -m hub.service, as the hub starts it) recovers before serving."""
    import os
    import socket
    import subprocess
    import sys
    import time

    from notebooks.runs import FAILED, get_run
    from tests.notebooks.test_recovery import dead_process, failed_events, record_run

    left = record_run(instance, dead_process())
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "TRE_"))} | {
        "TRE_HOME": str(instance.home),
        "JUPYTERHUB_SERVICE_URL": f"http://127.0.0.1:{port}",
    }
    log = tmp_path / "service.log"
    with log.open("w") as out:
        service_process = subprocess.Popen(
            [sys.executable, "-m", "hub.service"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while get_run(instance, left.id).status != FAILED:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
    finally:
        service_process.terminate()
        service_process.wait(timeout=30)
    (event,) = failed_events(instance, left.id)
    assert event.actor == "system" and event.content()["details"]["interrupted"] is True
    assert f"tre service: run recovery: run {left.id} failed: interrupted" in log.read_text()
