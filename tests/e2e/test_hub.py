"""The safe setting end to end over HTTP: login, the service, spawn scoping, lockdown."""

import re
import time

import requests

from tests.e2e.conftest import PASSWORD

P = "supporting-families"


def login(base, user, password=PASSWORD):
    session = requests.Session()
    page = session.get(f"{base}/hub/login")
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{base}/hub/login?next=", data={"username": user, "password": password, "_xsrf": xsrf}
    )
    return session, answer


def wait_for_lab(session, base, user):
    for _ in range(90):
        page = session.get(f"{base}/user/{user}/{P}/lab")
        if page.status_code == 200 and "JupyterLab" in page.text:
            return page
        time.sleep(1)
    raise AssertionError(f"{user}'s workspace did not start: {page.status_code}")


def test_an_analyst_logs_in_and_works_in_a_locked_down_workspace(hub_url):
    alex, answer = login(hub_url, "alex.analyst")
    assert answer.url.endswith("/services/tre/") and "Usable now" in answer.text
    spawn = alex.get(f"{hub_url}/hub/spawn/alex.analyst/{P}")
    assert spawn.status_code == 200
    wait_for_lab(alex, hub_url, "alex.analyst")
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
