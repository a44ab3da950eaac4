"""Review as checkers work (draft votes, one submitted review each), and releases that reach
their recipients (downloads for them alone, notifications in the service and by e-mail).

Served for real: the tre service's application on a loopback port, fetched over HTTP."""

import json
import re
import socket

import pytest
import requests

from output_checks import airlock
from output_checks.airlock import AirlockError
from output_checks.enums import KINDS, PLAIN_WORDS, AirlockEvent, plain
from tests.conftest import STUDIED_TODAY
from tests.output_checks.test_airlock import AUTHOR, P, outputs, rel  # noqa: F401 (fixture)
from tre import audit
from tre.errors import Refused

CHECKERS = ("chris.checker", "dana.checker")
RECIPIENT = "bea.analyst"
RAW_STATES = ("partially_reviewed", "changes_requested")


@pytest.fixture(scope="module")
def service(studied, serve):
    from hub.service import make_app

    return serve(make_app(studied, identify=lambda h: h.get_cookie("tre-test-user")))


class Person:
    """A signed-in browser: GET and POST (with the form's CSRF token) as PERSON."""

    def __init__(self, base: str, person: str) -> None:
        self.base, self.session = base, requests.Session()
        self.session.cookies.set("tre-test-user", person, domain="127.0.0.1")

    def get(self, path: str) -> requests.Response:
        return self.session.get(f"{self.base}{path}")

    def post(self, path: str, form: dict | None = None) -> requests.Response:
        self.session.get(f"{self.base}/notifications/")  # every page sets the CSRF cookie
        form = dict(form or {}) | {"_xsrf": self.session.cookies["_xsrf"]}
        return self.session.post(f"{self.base}{path}", data=form, allow_redirects=False)


def submitted_request(studied, run, recipients=None, files=("note.md", "base.csv")):
    request_id = airlock.request(
        studied,
        P,
        AUTHOR,
        [rel(run, f) for f in files],
        context="a note and a table",
        controls="sdc.safe",
        at=STUDIED_TODAY,
        recipients=recipients,
    )
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    return request_id


def paths(studied, request_id):
    return [f["path"] for f in airlock.show(studied, request_id, CHECKERS[0])["files"]]


def events(studied, action, request_id):
    """(actor, details) of each ACTION event on REQUEST_ID, oldest first."""
    with studied.db.session() as session:
        return [
            (e.actor, json.loads(e.details))
            for e in audit.events(session)
            if e.action == action and e.object_id == request_id
        ]


def test_every_state_decision_outcome_and_vote_has_plain_words():
    for kind, enum in KINDS.items():
        assert set(PLAIN_WORDS[kind]) == {m.value for m in enum}, kind
        for member in enum:
            assert "_" not in plain(kind, member), (kind, member)
    assert plain("check", "") == "not checked yet"


def test_a_checker_drafts_every_vote_then_submits_the_review_once(studied, outputs, service):  # noqa: F811
    request_id = submitted_request(studied, outputs["run"])
    note, table = paths(studied, request_id)
    chris, dana = Person(service, "chris.checker"), Person(service, "dana.checker")
    queue = chris.get("/airlock/")
    row = re.search(rf"<tr[^>]*>\s*<td[^>]*><a[^>]*>{request_id}.*?</tr>", queue.text, re.S).group(
        0
    )
    assert "under an hour" in row and "2 to release" in row
    assert "needs a checker&#39;s judgement: 2" in row
    assert "0 of 2" in row and "0 of 2 files voted" in row

    voted = chris.post(
        f"/airlock/requests/{request_id}/vote",
        {"file": note, "vote": "approve", "anchor": "file-0"},
    )
    assert voted.status_code == 303 and voted.headers["Location"].endswith("#file-0")
    page = chris.get(f"/airlock/requests/{request_id}")
    assert "Your vote (draft): <strong>approve</strong>" in page.text
    assert "waiting for checkers" in page.text and "1 still to vote" in page.text
    # the draft is the checker's own: it counts for nothing, and nobody else sees it
    assert airlock.show(studied, request_id, "dana.checker")["files"][0]["votes_in"] == 0
    seen = dana.get(f"/airlock/requests/{request_id}").text
    assert "Your vote (draft)" not in seen and "2 still to vote" in seen
    # the confirmation says what is missing, and submitting early is refused with a sentence
    confirm = chris.get(f"/airlock/requests/{request_id}/review")
    assert "not voted on 1 file" in confirm.text and "Submit my review" not in confirm.text
    early = chris.post(f"/airlock/requests/{request_id}/review")
    assert early.status_code == 400 and "vote on every file" in early.text

    chris.post(f"/airlock/requests/{request_id}/vote", {"file": table, "vote": "approve"})
    confirm = chris.get(f"/airlock/requests/{request_id}/review")
    assert "Submit my review" in confirm.text and "final" in confirm.text
    done = chris.post(f"/airlock/requests/{request_id}/review")
    assert done.status_code == 303 and done.headers["Location"].endswith("?done=review")
    page = chris.get(f"/airlock/requests/{request_id}?done=review")
    assert "Your review is submitted" in page.text
    assert "reviewed by some checkers, waiting for more" in page.text
    assert "Record my draft vote" not in page.text and "Change my draft vote" not in page.text
    assert "Your vote: <strong>approve</strong>" in page.text  # own votes stay visible
    assert "submitted" in chris.get("/airlock/").text
    # once: a second submission and a changed vote are refused
    again = chris.post(f"/airlock/requests/{request_id}/review")
    assert again.status_code == 400 and "a review is submitted once" in again.text
    changed = chris.post(f"/airlock/requests/{request_id}/vote", {"file": note, "vote": "changes"})
    assert changed.status_code == 400 and "submitted their review" in changed.text
    with pytest.raises(AirlockError, match="submitted once"):
        airlock.submit_review(studied, request_id, "chris.checker")
    assert [d["turn"] for _, d in events(studied, AirlockEvent.SUBMIT_REVIEW, request_id)] == [1]
    row = re.search(
        rf"<tr[^>]*>\s*<td[^>]*><a[^>]*>{request_id}.*?</tr>", dana.get("/airlock/").text, re.S
    )
    assert "1 of 2" in row.group(0)
    for person in (chris, dana):
        for shown in (person.get("/airlock/"), person.get(f"/airlock/requests/{request_id}")):
            assert not any(raw in shown.text for raw in RAW_STATES)
    airlock.reject(studied, request_id, "chris.checker", "done with this review test")


def test_a_draft_vote_never_counts(studied, outputs):  # noqa: F811
    request_id = submitted_request(studied, outputs["run"])
    for checker in CHECKERS:
        for path in paths(studied, request_id):
            assert airlock.review(studied, request_id, checker, path, "approve") == "submitted"
    assert airlock.submit_review(studied, request_id, "chris.checker") == "partially_reviewed"
    # dana's votes are all in, as drafts: the request is not approved, nothing can be released
    shown = airlock.show(studied, request_id, "chris.checker")
    assert all(f["votes_in"] == 1 and f["decision"] == "incomplete" for f in shown["files"])
    with pytest.raises(AirlockError, match="not approved"):
        airlock.release(studied, request_id, "chris.checker")
    assert airlock.submit_review(studied, request_id, "dana.checker") == "approved"
    airlock.reject(studied, request_id, "chris.checker", "done with this review test")


def test_changes_asked_for_are_explained_before_the_review_is_submitted(studied, outputs, service):  # noqa: F811
    request_id = submitted_request(studied, outputs["run"], files=("note.md",))
    note = paths(studied, request_id)[0]
    airlock.review(studied, request_id, "chris.checker", note, "changes")
    with pytest.raises(AirlockError, match=r"say what should change: .*note\.md"):
        airlock.submit_review(studied, request_id, "chris.checker")
    confirm = Person(service, "chris.checker").get(f"/airlock/requests/{request_id}/review")
    assert "without saying what should change" in confirm.text
    assert "Submit my review" not in confirm.text
    airlock.review(studied, request_id, "chris.checker", note, "changes", comment="say why")
    assert airlock.submit_review(studied, request_id, "chris.checker") == "partially_reviewed"
    airlock.reject(studied, request_id, "chris.checker", "done with this review test")


def test_a_checker_cannot_vote_on_or_review_their_own_request(studied, outputs, service):  # noqa: F811
    request_id = submitted_request(studied, outputs["run"])
    note = paths(studied, request_id)[0]
    with pytest.raises(Refused, match="is the author"):
        airlock.review(studied, request_id, AUTHOR, note, "approve")
    with pytest.raises(Refused, match="is the author"):
        airlock.submit_review(studied, request_id, AUTHOR)
    author = Person(service, AUTHOR)
    for path, form in (
        ("vote", {"file": note, "vote": "approve"}),
        ("review", {}),
    ):
        refused = author.post(f"/airlock/requests/{request_id}/{path}", form)
        assert refused.status_code == 403, path
    assert not events(studied, AirlockEvent.VOTE, request_id)
    airlock.withdraw(studied, request_id, AUTHOR)


def test_recipients_are_registered_people(studied, outputs):  # noqa: F811
    with pytest.raises(AirlockError, match="nobody.here: not registered people"):
        airlock.request(
            studied,
            P,
            AUTHOR,
            [rel(outputs["run"], "note.md")],
            at=STUDIED_TODAY,
            recipients=[RECIPIENT, "nobody.here"],
        )


def released_request(studied, run, recipients):
    request_id = submitted_request(studied, run, recipients=recipients)
    for checker in CHECKERS:
        for path in paths(studied, request_id):
            airlock.review(studied, request_id, checker, path, "approve")
        airlock.submit_review(studied, request_id, checker)
    return request_id


def test_released_files_reach_their_recipients_and_nobody_else(studied, outputs, service):  # noqa: F811
    request_id = released_request(studied, outputs["run"], [RECIPIENT])
    chris = Person(service, "chris.checker")
    page = chris.get(f"/airlock/requests/{request_id}")
    assert "The approved files go to bea.analyst" in page.text
    released = chris.post(f"/airlock/requests/{request_id}/release")
    assert released.status_code == 303
    assert released.headers["Location"].endswith(f"/airlock/releases/{request_id}")
    shown = chris.get(f"/airlock/releases/{request_id}")
    assert shown.status_code == 200 and "<strong>bea.analyst</strong>" in shown.text
    assert "note.md" in shown.text and "base.csv" in shown.text and "crate" in shown.text
    assert "You are not one of them" in shown.text and "download>" not in shown.text

    lead = Person(service, RECIPIENT)
    page = lead.get(f"/airlock/releases/{request_id}")
    assert page.status_code == 200 and f'href="/airlock/releases/{request_id}/note.md"' in page.text
    got = lead.get(f"/airlock/releases/{request_id}/note.md")
    assert got.status_code == 200 and got.content.startswith(b"# A note")
    assert got.headers["Content-Disposition"] == 'attachment; filename="note.md"'
    assert lead.get(f"/airlock/releases/{request_id}/ro-crate-metadata.json").status_code == 200
    downloads = events(studied, AirlockEvent.DOWNLOAD, request_id)
    assert [(actor, d["file"]) for actor, d in downloads] == [
        (RECIPIENT, "note.md"),
        (RECIPIENT, "ro-crate-metadata.json"),
    ]

    # the author (not named), a fellow analyst, both checkers and an outsider: the same 404,
    # whether the file, or the release, exists or not
    for person in (AUTHOR, "sam.lead", "chris.checker", "dana.checker", "eve.outsider"):
        who, refusals = Person(service, person), set()
        for path in (
            f"/airlock/releases/{request_id}/note.md",
            f"/airlock/releases/{request_id}/no-such.csv",
            "/airlock/releases/req-20260101-000000/note.md",
        ):
            answer = who.get(path)
            assert answer.status_code == 404 and "# A note" not in answer.text, (person, path)
            refusals.add(re.sub(r"(req-[\w-]+|note\.md|no-such\.csv)", "X", answer.text))
        assert len(refusals) == 1, person  # one answer, whatever exists
    for person in ("sam.lead", "eve.outsider"):
        assert Person(service, person).get(f"/airlock/releases/{request_id}").status_code == 404
    # nor a recipient, past the manifest
    for sneaky in ("..%2F..%2Fmanifest-sha512.txt", "..", "bagit.txt"):
        assert lead.get(f"/airlock/releases/{request_id}/{sneaky}").status_code == 404, sneaky
    refused = events(studied, AirlockEvent.REFUSED, request_id)
    assert {actor for actor, _ in refused} >= {AUTHOR, "sam.lead", "chris.checker"}
    assert len(events(studied, AirlockEvent.DOWNLOAD, request_id)) == 2


def free_port() -> int:
    """A loopback port nothing listens on (now)."""
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        return unused.getsockname()[1]


def test_each_step_is_told_in_the_service_and_by_e_mail(studied, outputs, service):  # noqa: F811
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    received = []

    class Inbox(Message):
        def handle_message(self, message):
            received.append(message)

    smtp = Controller(Inbox(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    settings = studied.settings.notify
    settings.smtp_host, settings.smtp_port = "127.0.0.1", smtp.port
    try:
        request_id = released_request(studied, outputs["run"], [RECIPIENT, AUTHOR])
        airlock.release(studied, request_id, "chris.checker")
    finally:
        settings.smtp_host = ""
        smtp.stop()
    told = {(m["To"], m["Subject"].rsplit(" ", 1)[-1]) for m in received}
    assert {
        ("chris.checker@treton.example", "submitted"),
        ("dana.checker@treton.example", "submitted"),
        ("alex.analyst@treton.example", "approved"),
        ("alex.analyst@treton.example", "released"),
        ("bea.analyst@treton.example", "released"),
        ("dana.checker@treton.example", "released"),
    } <= told
    # the checker who released it is not told of their own step
    assert ("chris.checker@treton.example", "released") not in told
    assert all(m["From"] == "tre-kit@localhost" for m in received)

    lead = Person(service, RECIPIENT)
    home = lead.get("/notifications/")
    assert "new)</strong>" in home.text and f"released request {request_id}" in home.text
    assert f'href="/airlock/releases/{request_id}"' in home.text
    read = lead.post("/notifications/")
    assert read.status_code == 303
    assert "new)</strong>" not in lead.get("/notifications/").text
    alex = Person(service, AUTHOR).get("/")
    assert "notifications" in alex.text and "new)</strong>" in alex.text


def test_an_unreachable_smtp_server_costs_the_e_mail_not_the_step(studied, outputs, caplog):  # noqa: F811
    settings = studied.settings.notify
    settings.smtp_host, settings.smtp_port = "127.0.0.1", free_port()
    try:
        request_id = submitted_request(studied, outputs["run"])
    finally:
        settings.smtp_host = ""
    assert airlock.show(studied, request_id, AUTHOR)["state"] == "submitted"
    assert "notification e-mails not sent" in caplog.text
    airlock.withdraw(studied, request_id, AUTHOR)


def test_a_return_and_a_rejection_are_told_to_the_author_and_the_other_checkers(studied, outputs):  # noqa: F811
    from output_checks import notify

    def latest(person):
        return notify.notifications(studied, person)[0]

    request_id = submitted_request(
        studied, outputs["run"], recipients=[RECIPIENT], files=("note.md",)
    )
    assert latest("dana.checker")["step"] == "submitted"
    airlock.return_request(studied, request_id, "chris.checker", "say what the note is for")
    told = latest(AUTHOR)
    assert (told["request"], told["step"]) == (request_id, "returned")
    assert "say what the note is for" in told["text"]
    assert latest("dana.checker")["step"] == "returned"
    assert latest("chris.checker")["step"] == "submitted"  # not told of their own step
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    assert latest("chris.checker")["text"].endswith("(turn 2) for checking.")
    airlock.reject(studied, request_id, "dana.checker", "not needed")
    assert (latest(AUTHOR)["step"], latest("chris.checker")["step"]) == ("rejected", "rejected")
    # the request's recipients hear of its release only
    assert all(n["request"] != request_id for n in notify.notifications(studied, RECIPIENT))
