"""An analyst must not mint JupyterHub API tokens: a token of their own would outlive their
workspace (it never expires), start and reach their servers from any machine, and carry every
scope they hold, so it is a way to act as them from outside the workspace. Neither their sign-in
cookie, nor their password, nor their workspace's own token may create one, and the hub offers no
page to ask for one.

Attacks made as an analyst would make them, against a real hub with a running workspace."""

from pathlib import Path

import pytest
import requests

from tests.hubtools import PASSWORD, login, stop_server, wait_for_lab

P = "supporting-families"
USER = "alex.analyst"


def server_token(user: str, project: str) -> str:
    """The token the hub gave USER's running PROJECT workspace (what its Jupyter server, and so
    code in the workspace that reads it, holds), read from the server process's environment."""
    wanted = {f"JUPYTERHUB_USER={user}".encode(), f"JUPYTERHUB_SERVER_NAME={project}".encode()}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if wanted <= set(environ):
            for item in environ:
                if item.startswith(b"JUPYTERHUB_API_TOKEN="):
                    return item.split(b"=", 1)[1].decode()
    raise AssertionError(f"no running server of {user}/{project} found")


@pytest.fixture(scope="module")
def workspace(hub_url):
    session, _ = login(hub_url, USER)
    assert session.get(f"{hub_url}/hub/spawn/{USER}/{P}").status_code == 200
    wait_for_lab(session, hub_url, USER, P)
    yield session
    stop_server(session, hub_url, USER, P)


def xsrf(session, hub_url) -> dict[str, str]:
    session.get(f"{hub_url}/hub/home")
    return {"X-XSRFToken": session.cookies.get("_xsrf", path="/hub/") or ""}


def test_the_sign_in_cookie_creates_no_token(workspace, hub_url):
    answer = workspace.post(
        f"{hub_url}/hub/api/users/{USER}/tokens",
        json={"note": "from my laptop"},
        headers=xsrf(workspace, hub_url),
    )
    assert answer.status_code == 403, answer.text


def test_the_password_creates_no_token(workspace, hub_url):
    """JupyterHub accepts a username and password in the request's body instead of a cookie."""
    answer = requests.post(
        f"{hub_url}/hub/api/users/{USER}/tokens",
        json={"auth": {"username": USER, "password": PASSWORD}, "note": "scripted"},
    )
    assert answer.status_code == 403, answer.text


def test_the_workspaces_own_token_creates_no_token(workspace, hub_url):
    token = server_token(USER, P)
    for name in (USER, "bea.analyst"):
        answer = requests.post(
            f"{hub_url}/hub/api/users/{name}/tokens",
            json={"note": "kept"},
            headers={"Authorization": f"token {token}"},
        )
        assert answer.status_code == 403, answer.text


def test_the_workspaces_own_token_reaches_only_its_own_server_and_the_tre_service(
    workspace, hub_url
):
    """What the workspace's token may still do: its own server (the relay's reason to hold it);
    not the hub's list of people, another person, nor starting servers."""
    auth = {"Authorization": f"token {server_token(USER, P)}"}
    assert requests.get(f"{hub_url}/hub/api/users", headers=auth).status_code == 403
    # refused either way: 404 where the token holds a filtered users scope that excludes her,
    # 403 where it holds none for the route (the two CI runs saw each)
    other = requests.get(f"{hub_url}/hub/api/users/bea.analyst", headers=auth)
    assert other.status_code in (403, 404), other.text
    assert "bea.analyst" not in other.text or "name" not in other.json()
    started = requests.post(f"{hub_url}/hub/api/users/{USER}/servers/other", headers=auth)
    assert started.status_code in (403, 404), started.text


def test_the_token_page_is_refused_and_not_offered(workspace, hub_url):
    page = workspace.get(f"{hub_url}/hub/token")
    assert page.status_code == 403
    assert "Request new API token" not in page.text and "api/users" not in page.text
    assert "API tokens are not issued" in page.text
    # no page of the hub links to it
    for path in ("/hub/home", "/hub/change-password"):
        shown = workspace.get(f"{hub_url}{path}")
        assert shown.status_code == 200, path
        assert 'hub/token"' not in shown.text, path


def test_the_workspace_still_works_with_its_token(workspace, hub_url):
    """The analyst's own journey is untouched: their workspace answers their cookie."""
    lab = workspace.get(f"{hub_url}/user/{USER}/{P}/api/status")
    assert lab.status_code == 200, lab.text


def test_the_operator_keeps_the_token_page(hub_url):
    """Operators are the hub's admins: their role manages tokens, and their bar offers the page."""
    session, _ = login(hub_url, "ops.operator")
    assert session.get(f"{hub_url}/hub/token").status_code == 200
    assert 'hub/token"' in session.get(f"{hub_url}/hub/change-password").text


def test_an_operators_token_expires(hub_url):
    """Operators may mint API tokens, but none that never expires: one with no expiry given
    gets the maximum, and a longer one is refused."""
    from hub.config import TOKEN_MAX_SECONDS

    session, _ = login(hub_url, "ops.operator")
    url = f"{hub_url}/hub/api/users/ops.operator/tokens"
    made = session.post(url, json={"note": "audit"}, headers=xsrf(session, hub_url))
    assert made.status_code == 201, made.text
    assert made.json()["expires_at"] is not None
    longer = session.post(
        url,
        json={"note": "for ever", "expires_in": TOKEN_MAX_SECONDS * 2},
        headers=xsrf(session, hub_url),
    )
    assert longer.status_code == 400, longer.text
