"""JupyterHub's own pages (hub/hub-templates) in the tre pages' look, rendered as JupyterHub
renders them (its template paths first, then its own templates, also under ``templates/``);
the sign-in and error pages are checked in a browser against a real hub in tests/e2e."""

from pathlib import Path

import jupyterhub
import pytest
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader

from hub import config

OURS = Path(config.__file__).parent / "hub-templates"
THEIRS = Path(jupyterhub.__file__).parents[4] / "share/jupyterhub/templates"
pytestmark = pytest.mark.skipif(not THEIRS.is_dir(), reason="JupyterHub's templates not found")


class User:
    admin = False
    name = "alex.analyst"
    json_escaped_name = "alex.analyst"
    spawner = None


def render(template: str, **values) -> str:
    env = Environment(
        loader=ChoiceLoader(
            [
                PrefixLoader({"templates": FileSystemLoader([str(THEIRS)])}, "/"),
                FileSystemLoader([str(OURS), str(THEIRS)]),
            ]
        ),
        autoescape=True,
    )
    context = {
        "static_url": lambda path, **k: "/hub/static/" + path,
        "prefix": "/",
        "base_url": "/hub/",
        "logout_url": "/hub/logout",
        "xsrf": "token",
        "user": User(),
    }
    return env.get_template(template).render(**(context | values))


def test_the_spawn_pending_page_has_the_look_and_keeps_what_its_script_fills():
    page = render("spawn_pending.html", progress_url="/hub/api/progress")
    assert "/services/tre/static/govuk-frontend.min.css" in page and "tre-header" in page
    assert "css/style.min.css" not in page  # not JupyterHub's Bootstrap
    for fill in (
        "progress-bar",
        "sr-progress",
        "progress-message",
        "progress-log",
        "stop-server-btn",
    ):
        assert f'id="{fill}"' in page, fill
    assert 'new EventSource("/hub/api/progress")' in page  # JupyterHub's own script, inherited
    assert "Signed in as alex.analyst" in page and 'href="/hub/logout"' in page


def test_the_sign_in_and_error_pages_have_the_look_and_escape_what_they_show():
    login = render(
        "native-login.html",
        authenticator_login_url="/hub/login?next=",
        login_error="Invalid username or password.",
        username='"><script>alert(1)</script>',
        user=None,
        two_factor_auth=False,
        enable_signup=False,
    )
    assert "govuk-error-summary" in login and 'id="login_submit"' in login
    assert "<script>alert(1)" not in login and "&#34;&gt;&lt;script&gt;" in login
    error = render("404.html", status_code=404, status_message="Not Found")
    assert (
        "govuk-error-summary" in error
        and "Page not found" in error
        and "check it is correct" in error
    )
    refused = render("error.html", status_code=403, status_message="Forbidden", message="<b>x</b>")
    assert (
        "Forbidden" in refused and "&lt;b&gt;x&lt;/b&gt;" in refused and "<b>x</b>" not in refused
    )


def test_the_hubs_home_sends_people_to_the_tre_pages_in_the_same_look():
    page = render("home.html")
    assert "url=/services/tre/" in page and "govuk-frontend.min.css" in page


def test_other_hub_pages_keep_jupyterhubs_own_look():
    page = render("token.html", api_tokens=[], oauth_clients=[], token_page_model={})
    assert "css/style.min.css" in page and "govuk-frontend" not in page
    # with NativeAuthenticator's links, whose own page.html this one shadows
    assert 'href="/hub/change-password"' in page


def test_the_bar_offers_the_token_page_only_to_those_who_may_mint_tokens():
    analyst = render("admin.html", parsed_scopes={"servers": {"user": {"alex.analyst"}}})
    operator = render("admin.html", parsed_scopes={"tokens": {}, "admin-ui": {}})
    assert 'href="/hub/token"' not in analyst and 'href="/hub/admin"' not in analyst
    assert 'href="/hub/token"' in operator and 'href="/hub/admin"' in operator
    assert 'href="/services/tre/"' in analyst and 'href="/hub/home"' in analyst


def test_a_refused_workspace_is_not_offered_a_restart():
    """JupyterHub adds "You can try restarting your server" to a failed spawn's page: for a
    policy's refusal (403) that would be refused again, so it is left out; other failures keep
    it."""
    restart = "You can try restarting your server"
    extra = restart + " from the <a href='/hub/home'>home page</a>."
    refused = render("error.html", status_code=403, message="m", extra_error_html=extra)
    failed = render("error.html", status_code=500, message="m", extra_error_html=extra)
    assert restart not in refused and ">m</p>" in refused
    assert restart in failed
