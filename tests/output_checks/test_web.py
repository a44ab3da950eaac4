"""The checkers' pages, served for real (tornado on a loopback port) and fetched over HTTP."""

import re

import pytest
import requests

from output_checks import airlock, web
from tests.conftest import STUDIED_TODAY
from tests.output_checks.test_airlock import AUTHOR, P, outputs, rel  # noqa: F401 (fixture)
from tre.web import application

PAYLOAD = "<script>alert('x')</script>"


@pytest.fixture(scope="module")
def server(studied, serve):
    from hub.service import scopes_of

    return serve(
        application(
            studied,
            web.routes(),
            lambda h: h.get_cookie("tre-test-user"),
            templates=[web.TEMPLATES],
            scopes_of=scopes_of(studied),
        )
    )


def browser(base, person):
    session = requests.Session()
    session.cookies.set("tre-test-user", person, domain="127.0.0.1")
    return session


@pytest.fixture(scope="module")
def submitted(studied, outputs):  # noqa: F811
    run = outputs["run"]
    request_id = airlock.request(
        studied,
        P,
        AUTHOR,
        [rel(run, "suppressed.csv"), rel(run, "note.md")],
        group=PAYLOAD,
        context=f"context {PAYLOAD}",
        controls=f"controls {PAYLOAD}",
        at=STUDIED_TODAY,
    )
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    return request_id


def test_the_queue_and_the_request_page_escape_every_user_text(server, submitted):
    checker = browser(server, "chris.checker")
    queue = checker.get(f"{server}/airlock/")
    assert queue.status_code == 200 and submitted in queue.text, queue.text[-300:]
    page = checker.get(f"{server}/airlock/requests/{submitted}")
    assert page.status_code == 200
    assert PAYLOAD not in page.text and "&lt;script&gt;" in page.text
    assert "context &lt;script&gt;" in page.text and "controls &lt;script&gt;" in page.text
    assert 'class="flag-suppressed"' in page.text  # the suppressed cell is marked
    assert "Automatic checks" in page.text and "evidence not verified: " in page.text
    assert "the analyst&#39;s claim" in page.text
    assert "cell marks from the analyst&#39;s evidence file: unverified claims" in page.text
    assert page.headers["Content-Security-Policy"].startswith("default-src 'self'")


def test_votes_need_the_csrf_token_and_comments_are_escaped(server, submitted, studied):
    checker = browser(server, "chris.checker")
    page = checker.get(f"{server}/airlock/requests/{submitted}")
    token = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    path = next(
        f["path"]
        for f in airlock.show(studied, submitted, "chris.checker")["files"]
        if f["path"].endswith("note.md")
    )
    form = {"file": path, "vote": "approve", "comment": PAYLOAD}
    forged = requests.post(
        f"{server}/airlock/requests/{submitted}/vote",
        data=form,
        cookies={"tre-test-user": "chris.checker"},
    )
    assert forged.status_code == 403  # no token: a cross-site form is refused
    posted = checker.post(
        f"{server}/airlock/requests/{submitted}/vote",
        data=form | {"_xsrf": token},
        allow_redirects=False,
    )
    assert posted.status_code == 303
    shown = airlock.show(studied, submitted, "chris.checker")
    voted = next(f for f in shown["files"] if f["path"] == path)
    # a draft: the checker sees it; it counts for nothing until the review is submitted
    assert voted["my_vote"] == "approve" and voted["votes_in"] == 0
    page = checker.get(f"{server}/airlock/requests/{submitted}")
    assert PAYLOAD not in page.text and "&lt;script&gt;alert" in page.text


def test_the_team_and_strangers_see_a_sentence_not_the_request(server, submitted):
    for person, reason in [
        ("bea.analyst", "separation of duties"),
        ("eve.outsider", "output_checker role"),
    ]:
        page = browser(server, person).get(f"{server}/airlock/requests/{submitted}")
        assert page.status_code == 403 and reason in page.text
        assert "Traceback" not in page.text
    author = browser(server, AUTHOR).get(f"{server}/airlock/requests/{submitted}")
    assert author.status_code == 200 and "Record my draft vote" not in author.text
    anonymous = requests.get(f"{server}/airlock/")
    assert anonymous.status_code == 403 and "sign in through the hub" in anonymous.text


def test_reports_are_served_sandboxed(server, studied, outputs):  # noqa: F811
    run = outputs["run"]
    request_id = airlock.request(
        studied, P, AUTHOR, [rel(run, "report-no-code.html")], at=STUDIED_TODAY
    )
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    checker = browser(server, "dana.checker")
    page = checker.get(f"{server}/airlock/requests/{request_id}")
    assert "<iframe sandbox" in page.text
    shown = checker.get(
        f"{server}/airlock/requests/{request_id}/files/{rel(run, 'report-no-code.html')}"
    )
    assert shown.status_code == 200 and shown.headers["Content-Security-Policy"].startswith(
        "sandbox"
    )
    missing = checker.get(f"{server}/airlock/requests/{request_id}/files/{rel(run, 'base.csv')}")
    assert missing.status_code == 404
