"""The safe setting end to end over HTTP: login, the service, spawn scoping, lockdown."""

from tests.hubtools import PASSWORD, login, wait_for_lab

P = "supporting-families"


def test_an_analyst_logs_in_and_works_in_a_locked_down_workspace(hub_url):
    alex, answer = login(hub_url, "alex.analyst")
    assert answer.url.endswith("/services/tre/") and "Usable now" in answer.text
    spawn = alex.get(f"{hub_url}/hub/spawn/alex.analyst/{P}")
    assert spawn.status_code == 200
    wait_for_lab(alex, hub_url, "alex.analyst", P)
    closed = alex.get(f"{hub_url}/user/alex.analyst/{P}/files/studies/repeat_callers.ipynb")
    assert closed.status_code == 403 and "airlock" in closed.text
    for route in ("nbconvert/html/studies/repeat_callers.ipynb", "view/studies/x.png"):
        assert alex.get(f"{hub_url}/user/alex.analyst/{P}/{route}").status_code == 403
    assert alex.get(f"{hub_url}/user/alex.analyst/{P}/api/terminals").status_code == 404
    listed = alex.get(f"{hub_url}/user/alex.analyst/{P}/api/contents/studies").json()
    assert {c["name"] for c in listed["content"]} >= {"repeat_callers.ipynb"}
    # the default (unnamed) server is refused
    default = alex.get(f"{hub_url}/hub/spawn/alex.analyst")
    assert default.status_code == 403 and "default server is not used" in default.text
    alex.delete(
        f"{hub_url}/hub/api/users/alex.analyst/servers/{P}",
        headers={"X-XSRFToken": alex.cookies.get("_xsrf", path="/hub/")},
    )


def test_people_outside_the_project_and_strangers_are_refused(hub_url):
    eve, answer = login(hub_url, "eve.outsider")
    assert "You are not in any project" in answer.text
    refused = eve.get(f"{hub_url}/hub/spawn/eve.outsider/{P}")
    assert refused.status_code == 403
    assert "eve.outsider is not a member of project supporting-families" in refused.text
    _, wrong = login(hub_url, "alex.analyst", "not-the-password")
    assert "Invalid username or password" in wrong.text
    _, unknown = login(hub_url, "mallory", PASSWORD)
    assert "Invalid username or password" in unknown.text


def test_hub_groups_mirror_the_projects(hub_url):
    ops, _ = login(hub_url, "ops.operator")
    ops.get(f"{hub_url}/hub/home")
    xsrf = ops.cookies.get("_xsrf", path="/hub/")
    group = ops.get(f"{hub_url}/hub/api/groups/{P}", headers={"X-XSRFToken": xsrf})
    assert group.status_code == 200, group.text
    assert set(group.json()["users"]) == {"alex.analyst", "bea.analyst"}


def test_an_anonymous_visitor_reads_the_register_without_signing_in(hub_url):
    import requests

    page = requests.get(f"{hub_url}/services/tre/register/", allow_redirects=False)
    assert page.status_code == 200, page.headers.get("Location")
    assert "Transparency register" in page.text and "Supporting families" in page.text
    for download in ("register.csv", "register.json"):
        answer = requests.get(f"{hub_url}/services/tre/register/{download}", allow_redirects=False)
        assert answer.status_code == 200 and P in answer.text
    # every other page still sends the visitor to sign in
    home = requests.get(f"{hub_url}/services/tre/", allow_redirects=False)
    assert home.status_code == 302
