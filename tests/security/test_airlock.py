"""Attacks on the airlock by a careful, ill-intentioned analyst, each against the real airlock
functions (and the real checkers' pages, served by tornado, where the attack goes through them).

Every attack must fail for the attacker and, where the airlock refuses it, leave an audit event.
"""

from __future__ import annotations

import json

import pytest
import requests

from notebooks import runner, runs
from output_checks import airlock
from output_checks.airlock import AirlockError
from output_checks.events import AirlockEvent
from tests.conftest import STUDIED_TODAY
from tests.output_checks.conftest import notebook_file
from tests.output_checks.test_airlock import AUTHOR, P, outputs, rel  # noqa: F401 (fixture)
from tests.output_checks.test_web import server  # noqa: F401 (fixture: the airlock pages)
from tre import audit
from tre.errors import Refused
from tre.folders import ProjectFolders
from tre.settings import DEFAULT_TOML, parse_settings

CHECKERS = ("chris.checker", "dana.checker")
DISCLOSIVE = "# Findings\nThe only family in Ward 7 with a youth offending record is the Smiths.\n"
HARMLESS = "# Findings\nNo numbers here.\n"


def _notebook(folder, name, source):
    return notebook_file(folder, name, source)


@pytest.fixture(scope="module")
def notes(studied, tmp_path_factory):
    """A run of the author's that wrote a free-text note (the checkers must read it) and a
    hand-made count table that fails the automatic checks; a run of another analyst's."""
    folder = tmp_path_factory.mktemp("attack")
    mine = _notebook(
        folder,
        "notes.ipynb",
        "from notebooks import workspace as ws\n"
        f"ws.output('findings.md').write_text({DISCLOSIVE!r})\n"
        "ws.output('other.md').write_text('# Another note\\nNo numbers.\\n')\n"
        "ws.output('hand.csv').write_text('area,count\\nnorth,3\\nsouth,120\\n')\n",
    )
    result = runner.run(studied, mine, P, AUTHOR, at=STUDIED_TODAY)
    assert result.status == runs.SUCCEEDED, result.error
    theirs = runner.run(studied, mine, P, "bea.analyst", at=STUDIED_TODAY)
    assert theirs.status == runs.SUCCEEDED, theirs.error
    return {"mine": result, "theirs": theirs, "folder": folder}


def browser(person):
    session = requests.Session()
    session.cookies.set("tre-test-user", person, domain="127.0.0.1")
    return session


def events(studied, action, request_id=None):
    with studied.db.session() as session:
        return [
            json.loads(e.details)
            for e in audit.events(session, project=P)
            if e.action == action and (request_id is None or e.object_id == request_id)
        ]


def actors(studied, action, request_id):
    with studied.db.session() as session:
        return [
            e.actor
            for e in audit.events(session, project=P)
            if e.action == action and e.object_id == request_id
        ]


def submitted(studied, files, **kwargs):
    request_id = airlock.request(studied, P, AUTHOR, files, at=STUDIED_TODAY, **kwargs)
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    return request_id


# ---------------------------------------------------------------------------------------------
# 1. Bait and switch: a file swapped after submission, and swapped back before release


def test_a_file_swapped_after_submission_is_not_what_the_checkers_see(studied, notes, server):  # noqa: F811
    run = notes["mine"]
    original = ProjectFolders.of(studied, P).outputs / rel(run, "findings.md")
    request_id = submitted(studied, [rel(run, "findings.md")])
    # the bait: while the checkers look, the outputs folder holds a harmless note
    original.write_text(HARMLESS)
    try:
        page = browser("chris.checker").get(f"{server}/airlock/requests/{request_id}")
        assert page.status_code == 200
        assert "youth offending" in page.text and "No numbers here" not in page.text
        for checker in CHECKERS:
            airlock.review(studied, request_id, checker, "findings.md", "approve")
            airlock.submit_review(studied, request_id, checker)
    finally:
        original.write_text(DISCLOSIVE)  # the switch back, before the release
    done = airlock.release(studied, request_id, "chris.checker")
    # what was released is exactly what the checkers were shown and voted on
    assert (done.folder / "data" / "findings.md").read_text() == DISCLOSIVE
    with studied.db.session() as session:
        from output_checks.models import RequestFile, Vote

        item = session.query(RequestFile).filter_by(request_id=request_id).one()
        votes = session.query(Vote).filter_by(request_id=request_id).all()
        assert len(votes) == 2 and {v.sha256 for v in votes} == {item.sha256}


def test_the_airlock_keeps_its_own_copy_and_refuses_a_changed_one_loudly(studied, notes, server):  # noqa: F811
    run = notes["mine"]
    request_id = submitted(studied, [rel(run, "other.md")])
    store = ProjectFolders.of(studied, P).airlock / request_id
    copy = store / rel(run, "other.md")
    assert copy.read_text().startswith("# Another note")
    assert not str(store).startswith(str(ProjectFolders.of(studied, P).outputs))
    assert not str(store).startswith(str(ProjectFolders.of(studied, P).workspace))
    # the outputs folder swapped during review changes nothing the checkers see
    (ProjectFolders.of(studied, P).outputs / rel(run, "other.md")).write_text(HARMLESS)
    page = browser("chris.checker").get(f"{server}/airlock/requests/{request_id}")
    assert "Another note" in page.text and "No numbers here" not in page.text
    airlock.review(studied, request_id, "chris.checker", "other.md", "approve")
    airlock.submit_review(studied, request_id, "chris.checker")
    # the airlock's copy itself changed (by whoever could): refused loudly, audited
    copy.chmod(0o640)
    copy.write_text(HARMLESS)
    page = browser("dana.checker").get(f"{server}/airlock/requests/{request_id}")
    assert page.status_code == 409 and "does not match" in page.text
    assert "Traceback" not in page.text
    with pytest.raises(AirlockError, match="does not match the sha-256 recorded"):
        airlock.review(studied, request_id, "dana.checker", "other.md", "approve")
    assert airlock.show(studied, request_id, "chris.checker")["state"] == "partially_reviewed"
    tampered = events(studied, AirlockEvent.TAMPERED, request_id)
    assert len(tampered) >= 2 and all(e["file"] == rel(run, "other.md") for e in tampered)


def test_a_release_copies_only_the_verified_copy(studied, notes):
    run = notes["mine"]
    request_id = submitted(studied, [rel(run, "other.md")])
    for checker in CHECKERS:
        airlock.review(studied, request_id, checker, "other.md", "approve")
        airlock.submit_review(studied, request_id, checker)
    copy = ProjectFolders.of(studied, P).airlock / request_id / rel(run, "other.md")
    copy.chmod(0o640)
    copy.write_text(DISCLOSIVE)
    with pytest.raises(AirlockError, match="does not match the sha-256 recorded"):
        airlock.release(studied, request_id, "chris.checker")
    assert not (ProjectFolders.of(studied, P).releases / request_id).exists()
    assert airlock.show(studied, request_id, AUTHOR)["state"] == "approved"
    assert actors(studied, AirlockEvent.TAMPERED, request_id) == ["chris.checker"]


def test_a_vote_is_cast_on_the_hash_the_checker_saw(studied, notes):
    run = notes["mine"]
    request_id = submitted(studied, [rel(run, "other.md")])
    shown = airlock.show(studied, request_id, "chris.checker")["files"][0]
    with pytest.raises(AirlockError, match="not the file you were shown"):
        airlock.review(studied, request_id, "chris.checker", "other.md", "approve", sha256="0" * 64)
    airlock.review(
        studied, request_id, "chris.checker", "other.md", "approve", sha256=shown["sha256"]
    )
    assert events(studied, AirlockEvent.VOTE, request_id)[-1]["sha256"] == shown["sha256"]
    airlock.reject(studied, request_id, "chris.checker", "the attack was refused")


def test_a_file_added_to_a_returned_request_is_copied_too(studied, notes):
    run = notes["mine"]
    request_id = submitted(studied, [rel(run, "other.md")])
    airlock.return_request(studied, request_id, "chris.checker", "add the findings")
    airlock.add(studied, request_id, AUTHOR, [rel(run, "findings.md")])
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    copy = ProjectFolders.of(studied, P).airlock / request_id / rel(run, "findings.md")
    assert copy.read_text() == DISCLOSIVE
    airlock.withdraw(studied, request_id, AUTHOR)


# ---------------------------------------------------------------------------------------------
# 2. A file whose automatic check failed is never released on two approvals alone


def test_a_failed_file_cannot_be_released(studied, notes):
    run = notes["mine"]
    request_id = submitted(studied, [rel(run, "hand.csv")])
    assert airlock.show(studied, request_id, AUTHOR)["files"][0]["automatic"] == "fail"
    with pytest.raises(AirlockError, match="failed its automatic checks"):
        airlock.review(studied, request_id, "chris.checker", "hand.csv", "approve")
    refused = events(studied, AirlockEvent.REFUSED, request_id)
    assert refused and "failed its automatic checks" in refused[-1]["reason"]
    assert airlock.review(studied, request_id, "chris.checker", "hand.csv", "changes")
    airlock.reject(studied, request_id, "chris.checker", "the attack was refused")


def test_two_approvals_of_a_failed_file_stored_before_do_not_release_it(studied, notes):
    """Votes recorded while the operator allowed overrides (or before this rule) do not release
    a failed file once the rule is back to never."""
    run = notes["mine"]
    request_id = submitted(studied, [rel(run, "hand.csv")])
    settings = studied.settings.airlock
    settings.release_failed_with_override = True
    try:
        for checker in CHECKERS:
            airlock.review(
                studied, request_id, checker, "hand.csv", "approve", override="rounded by hand"
            )
            airlock.submit_review(studied, request_id, checker)
    finally:
        settings.release_failed_with_override = False
    with pytest.raises(AirlockError, match=r"hand\.csv failed its automatic checks.*\."):
        airlock.release(studied, request_id, "chris.checker")
    assert airlock.show(studied, request_id, AUTHOR)["state"] == "approved"
    assert not (ProjectFolders.of(studied, P).releases / request_id).exists()
    assert events(studied, AirlockEvent.REFUSED, request_id)


def test_the_operator_may_allow_a_failed_file_only_with_every_approvers_reason(studied, notes):
    run = notes["mine"]
    request_id = submitted(studied, [rel(run, "hand.csv")])
    settings = studied.settings.airlock
    settings.release_failed_with_override = True
    try:
        with pytest.raises(AirlockError, match="give the reason for overriding"):
            airlock.review(studied, request_id, "chris.checker", "hand.csv", "approve")
        with pytest.raises(AirlockError, match="give the reason for overriding"):
            airlock.review(
                studied, request_id, "chris.checker", "hand.csv", "approve", override="  "
            )
        for checker in CHECKERS:
            airlock.review(
                studied,
                request_id,
                checker,
                "hand.csv",
                "approve",
                override=f"{checker}: the cell of 3 is a count of wards, not people",
            )
            airlock.submit_review(studied, request_id, checker)
        done = airlock.release(studied, request_id, "chris.checker")
    finally:
        settings.release_failed_with_override = False
    assert "hand.csv" in done.files


def test_the_override_setting_is_documented_and_off_by_default():
    assert parse_settings(DEFAULT_TOML).airlock.release_failed_with_override is False
    assert "release_failed_with_override = false" in DEFAULT_TOML
    turned_on = DEFAULT_TOML.replace(
        "release_failed_with_override = false", "release_failed_with_override = true"
    )
    assert parse_settings(turned_on).airlock.release_failed_with_override is True


# ---------------------------------------------------------------------------------------------
# 3. Nobody fetches a requested file before release but the checkers who may review it


def test_only_the_checkers_fetch_a_requested_file_and_each_fetch_is_audited(
    studied,
    outputs,  # noqa: F811
    server,  # noqa: F811
):
    run = outputs["run"]
    request_id = submitted(studied, [rel(run, "report-no-code.html")])
    url = f"{server}/airlock/requests/{request_id}/files/{rel(run, 'report-no-code.html')}"
    refusals = {}
    for person in (AUTHOR, "bea.analyst", "eve.outsider"):
        fetched = browser(person).get(url)
        assert fetched.status_code == 403, person
        assert "Traceback" not in fetched.text
        refusals[person] = fetched.text
    served = events(studied, AirlockEvent.SERVE_FILE, request_id)
    assert served == []
    refused = actors(studied, AirlockEvent.REFUSED, request_id)
    assert AUTHOR in refused
    fetched = browser("dana.checker").get(url)
    assert fetched.status_code == 200
    # a refusal is a page that says why, never the file: no line of the file is in it
    content = [line.strip() for line in fetched.text.splitlines() if len(line.strip()) > 20]
    assert content
    for person, text in refusals.items():
        assert any(why in text for why in ("cannot", "does not have", "output checkers")), person
        assert not [line for line in content if line in text], person
    served = events(studied, AirlockEvent.SERVE_FILE, request_id)
    assert [e["file"] for e in served] == [rel(run, "report-no-code.html")]
    assert actors(studied, AirlockEvent.SERVE_FILE, request_id) == ["dana.checker"]
    # the author's own page shows the checks, never the file's content
    page = browser(AUTHOR).get(f"{server}/airlock/requests/{request_id}")
    assert page.status_code == 200 and "<iframe" not in page.text
    airlock.withdraw(studied, request_id, AUTHOR)


def test_the_author_does_not_read_a_requested_table_on_the_request_page(studied, notes, server):  # noqa: F811
    run = notes["mine"]
    request_id = submitted(studied, [rel(run, "findings.md")])
    page = browser(AUTHOR).get(f"{server}/airlock/requests/{request_id}")
    assert page.status_code == 200 and "youth offending" not in page.text
    checker = browser("chris.checker").get(f"{server}/airlock/requests/{request_id}")
    assert "youth offending" in checker.text
    assert actors(studied, AirlockEvent.SERVE_FILE, request_id) == ["chris.checker"]
    airlock.withdraw(studied, request_id, AUTHOR)


# ---------------------------------------------------------------------------------------------
# 4. A request names only outputs of the author's own runs


def test_another_analysts_run_outputs_are_refused(studied, notes):
    theirs = notes["theirs"]
    with pytest.raises(Refused, match=r"bea\.analyst's run, not alex\.analyst's.*\.$"):
        airlock.request(studied, P, AUTHOR, [rel(theirs, "findings.md")], at=STUDIED_TODAY)
    with studied.db.session() as session:
        refused = [
            e
            for e in audit.events(session, project=P, actor=AUTHOR)
            if e.action == AirlockEvent.REFUSED
        ]
    assert refused and rel(theirs, "findings.md") in refused[-1].details
    # and into an existing request of the author's own
    request_id = airlock.request(
        studied, P, AUTHOR, [rel(notes["mine"], "other.md")], at=STUDIED_TODAY
    )
    with pytest.raises(Refused, match="bea.analyst's run"):
        airlock.add(studied, request_id, AUTHOR, [rel(theirs, "other.md")])
    assert [f["path"] for f in airlock.show(studied, request_id, AUTHOR)["files"]] == [
        rel(notes["mine"], "other.md")
    ]
    airlock.withdraw(studied, request_id, AUTHOR)


# ---------------------------------------------------------------------------------------------
# 5. A symbolic link left in a run's outputs


def test_a_link_left_in_a_runs_outputs_ends_the_run_and_cannot_be_requested(studied, notes):
    path = _notebook(
        notes["folder"],
        "link.ipynb",
        "import os\nfrom notebooks import workspace as ws\n"
        "os.symlink('/etc/passwd', ws.output('passwd.csv'))\n"
        "ws.output('fine.md').write_text('# fine\\n')\n",
    )
    result = runner.run(studied, path, P, AUTHOR, at=STUDIED_TODAY)
    assert result.status == runs.FAILED
    assert "passwd.csv" in result.error and "symbolic link" in result.error
    assert runs.get_run(studied, result.id).status == runs.FAILED
    left = result.files / "passwd.csv"
    assert not left.is_symlink() and not left.exists()
    assert "passwd.csv" not in [o["file"] for o in result.outputs]
    for name in ("passwd.csv", "fine.md"):
        with pytest.raises(Refused) as refused:
            airlock.request(studied, P, AUTHOR, [rel(result, name)], at=STUDIED_TODAY)
        message = str(refused.value)
        assert message.startswith(rel(result, name)) and message.endswith(".")
        assert "Traceback" not in message


def test_a_link_placed_in_a_succeeded_runs_folder_is_refused_with_a_sentence(studied, notes):
    run = notes["mine"]
    link = ProjectFolders.of(studied, P).outputs / rel(run, "passwd.csv")
    link.symlink_to("/etc/passwd")
    try:
        with pytest.raises(Refused, match="symbolic link cannot be requested"):
            airlock.request(studied, P, AUTHOR, [rel(run, "passwd.csv")], at=STUDIED_TODAY)
    finally:
        link.unlink()
