"""Who may act on a release request (permissions) and what its state allows (policies).

Every ``can_…`` is its ``check_…`` as a bool: True exactly when the check lets the person
through, False exactly when it refuses with a sentence; the pages show their buttons from these.
The rows here are built in memory (never added to the database): permissions and policies read
only the row they are given, and the project's policy engine for who is a checker.
"""

import re
import tomllib
from pathlib import Path

import pytest

from output_checks import airlock, permissions, policies
from output_checks.data import ReleaseRequest, RequestFile, Vote
from output_checks.enums import Actor, CheckOutcome, FileDecision, RequestState, VoteChoice
from output_checks.errors import AirlockError
from output_checks.states import EDITABLE, OWNERS, UNDER_REVIEW
from tests.conftest import STUDIED_TODAY
from tests.output_checks.test_airlock import AUTHOR, P, outputs, rel  # noqa: F401 (fixture)
from tre.errors import Refused

ROOT = Path(__file__).resolve().parents[2]
CHECKERS = {"chris.checker", "dana.checker"}
# the author; a member of the project's team (separation of duties); an analyst without the
# output checker's role; the two output checkers
PEOPLE = [AUTHOR, "bea.analyst", "eve.outsider", *sorted(CHECKERS)]


def a_request(state: RequestState) -> ReleaseRequest:
    return ReleaseRequest(
        id="req-in-memory",
        project_id=P,
        author=AUTHOR,
        state=state.value,
        turn=1,
        released="2026-06-02T10:00:00+00:00" if state == RequestState.RELEASED else None,
    )


def a_file(outcome: CheckOutcome, supporting: bool = False) -> RequestFile:
    return RequestFile(
        path="run-1/data/table.csv",
        supporting=supporting,
        check_outcome=outcome.value,
        checks=[
            {"name": "small counts", "outcome": outcome.value, "explanation": "a cell of 3"},
            {"name": "file type", "outcome": "pass", "explanation": ".csv content"},
        ],
    )


def refusal(check, *args) -> str | None:
    """The sentence CHECK refuses with, or None when it lets the person through."""
    try:
        check(*args)
    except (Refused, AirlockError) as exc:
        return str(exc)
    return None


def assert_agree(check, can, *args) -> bool:
    """CAN answers exactly as CHECK decides, and a refusal is a sentence that names what it is
    about (the request, its file or its project). Returns the answer."""
    said = refusal(check, *args)
    assert can(*args) is (said is None), (check.__name__, args, said)
    if said is not None:
        named = ("req-in-memory", "table.csv", P, "private comments")
        assert any(name in said for name in named), (check.__name__, said)
    return said is None


@pytest.mark.parametrize("state", list(RequestState))
def test_who_may_review_vote_see_comment_and_release_in_every_state(studied, state):
    found = a_request(state)
    with studied.db.session() as session:
        for person in PEOPLE:
            checker = person in CHECKERS
            assert permissions.is_author(found, person) is (person == AUTHOR)
            assert assert_agree(
                permissions.check_is_author, permissions.is_author, found, person
            ) is (person == AUTHOR)
            reviews = assert_agree(
                permissions.check_can_review, permissions.can_review, session, found, person
            )
            assert reviews is checker, person
            sees = assert_agree(
                permissions.check_can_see_file,
                permissions.can_see_file,
                session,
                found,
                person,
                "run-1/data/table.csv",
            )
            assert sees is checker, person
            votes = assert_agree(
                permissions.check_can_vote, permissions.can_vote, session, found, person
            )
            assert votes is (checker and state in UNDER_REVIEW), person
            releases = assert_agree(
                permissions.check_can_release_request,
                permissions.can_release_request,
                session,
                found,
                person,
            )
            assert releases is (checker and state == RequestState.APPROVED), person
            for private in (False, True):
                comments = assert_agree(
                    permissions.check_can_comment,
                    permissions.can_comment,
                    session,
                    found,
                    person,
                    private,
                )
                assert comments is (checker or (person == AUTHOR and not private)), person


def test_a_refused_person_is_told_why(studied):
    found = a_request(RequestState.SUBMITTED)
    with studied.db.session() as session:
        reasons = {
            person: refusal(permissions.check_can_review, session, found, person)
            for person in PEOPLE
        }
        assert "is the author" in reasons[AUTHOR]
        assert "separation of duties" in reasons["bea.analyst"]
        assert "output_checker role" in reasons["eve.outsider"]
        assert "shown only to the output checkers" in refusal(
            permissions.check_can_see_file, session, found, AUTHOR, "table.csv"
        )
        assert "only alex.analyst, its author" in refusal(
            permissions.check_is_author, found, "chris.checker"
        )
    released = a_request(RequestState.RELEASED)
    assert "was released on 2026-06-02" in refusal(policies.check_releasable, released)


def test_a_failed_file_is_approved_and_released_only_with_leave_and_every_reason(studied):
    passed, failed = a_file(CheckOutcome.PASS), a_file(CheckOutcome.FAIL)
    approve, changes = VoteChoice.APPROVE.value, VoteChoice.CHANGES.value
    silent = [Vote(checker="chris.checker", vote=approve, override="")]
    reasoned = [
        Vote(checker="chris.checker", vote=approve, override="wards, not people"),
        Vote(checker="dana.checker", vote=changes, override=""),
    ]
    settings = studied.settings.airlock
    assert settings.release_failed_with_override is False
    for override in ("", "wards, not people"):
        assert assert_agree(
            permissions.check_can_approve, permissions.can_approve, studied, passed, override
        )
        assert not assert_agree(
            permissions.check_can_approve, permissions.can_approve, studied, failed, override
        )
    for votes in (silent, reasoned):
        assert assert_agree(
            permissions.check_can_release, permissions.can_release, studied, passed, votes
        )
        assert not assert_agree(
            permissions.check_can_release, permissions.can_release, studied, failed, votes
        )
    assert "never released here" in refusal(permissions.check_can_approve, studied, failed, "why")
    settings.release_failed_with_override = True
    try:
        assert not permissions.can_approve(studied, failed, "")
        assert "give the reason" in refusal(permissions.check_can_approve, studied, failed, "")
        assert permissions.can_approve(studied, failed, "wards, not people")
        assert not permissions.can_release(studied, failed, silent)
        assert "chris.checker approved it without a reason" in refusal(
            permissions.check_can_release, studied, failed, silent
        )
        assert permissions.can_release(studied, failed, reasoned)
    finally:
        settings.release_failed_with_override = False


@pytest.mark.parametrize("state", list(RequestState))
def test_what_each_state_allows(state):
    found = a_request(state)
    assert policies.can_edit(found) is (state in EDITABLE)
    assert (refusal(policies.check_can_edit, found) is None) is (state in EDITABLE)
    assert policies.is_under_review(found) is (state in UNDER_REVIEW)
    assert (refusal(policies.check_under_review, found) is None) is (state in UNDER_REVIEW)
    assert policies.is_releasable(found) is (state == RequestState.APPROVED)
    assert (refusal(policies.check_releasable, found) is None) is (state == RequestState.APPROVED)


def test_the_author_edits_exactly_the_states_the_author_owns_and_checkers_vote_in_theirs():
    """The policies' state sets agree with the workflow's table of owners (states.py)."""
    assert EDITABLE == OWNERS[Actor.AUTHOR]
    assert UNDER_REVIEW < OWNERS[Actor.CHECKER]
    assert OWNERS[Actor.CHECKER] - UNDER_REVIEW == {RequestState.APPROVED}  # released, not voted


def test_a_supporting_file_is_read_never_voted_on():
    assert refusal(policies.check_votable, a_file(CheckOutcome.PASS)) is None
    assert "supporting file" in refusal(policies.check_votable, a_file(CheckOutcome.PASS, True))
    failed = a_file(CheckOutcome.FAIL)
    assert policies.failed(failed) and not policies.failed(a_file(CheckOutcome.REVIEW))
    assert policies.failed_checks(failed) == "small counts: a cell of 3"


@pytest.mark.parametrize(
    ("votes", "decision"),
    [
        (["approve"], FileDecision.INCOMPLETE),
        (["approve", "approve"], FileDecision.APPROVED),
        (["changes", "changes"], FileDecision.CHANGES_REQUESTED),
        (["approve", "changes"], FileDecision.CONFLICTED),
        (["approve", "changes", "approve"], FileDecision.APPROVED),  # a third checker settles it
        (["approve", "changes", "changes"], FileDecision.CHANGES_REQUESTED),
        (["approve", "changes", "approve", "changes"], FileDecision.CONFLICTED),
    ],
)
def test_the_votes_on_a_file_decide_it(votes, decision):
    assert policies.file_decision(votes, required=2) == decision


def test_the_request_page_shows_the_buttons_each_person_may_use(studied, outputs):  # noqa: F811
    request_id = airlock.request(
        studied, P, AUTHOR, [rel(outputs["run"], "base.csv")], at=STUDIED_TODAY
    )
    assert airlock.permitted(studied, request_id, "chris.checker") == airlock.Permitted(
        vote=False, submit_review=False, release=False
    )
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    for person in PEOPLE:
        may = airlock.permitted(studied, request_id, person)
        assert may == airlock.Permitted(
            vote=person in CHECKERS, submit_review=person in CHECKERS, release=False
        ), person
    for checker in sorted(CHECKERS):
        airlock.review(studied, request_id, checker, "base.csv", "approve")
        assert airlock.permitted(studied, request_id, checker).submit_review
        airlock.submit_review(studied, request_id, checker)
        # a submitted review is final: no more votes, no second submission
        assert airlock.permitted(studied, request_id, checker) == airlock.Permitted(
            vote=False, submit_review=False, release=checker == max(CHECKERS)
        )
    assert airlock.permitted(studied, request_id, "dana.checker").release
    assert not airlock.permitted(studied, request_id, AUTHOR).release


# ---------------------------------------------------------------------------------------------
# The data access is one module


def test_only_the_data_module_queries_the_airlocks_tables():
    """output_checks.data is the one module that queries the airlock's tables; import-linter
    keeps output_checks.models out of the others (pyproject.toml), and this finds a query made
    through the row classes data.py names for type hints. The contract's exceptions are this
    test's too."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contract = next(
        c
        for c in config["tool"]["importlinter"]["contracts"]
        if c["name"] == "only output_checks.data reaches the airlock's tables"
    )
    exempt = {rule.split(" -> ")[0] for rule in contract["ignore_imports"]}
    assert "output_checks.data" in exempt
    tables = "ReleaseRequest|RequestFile|RequestGroup|Vote|Comment|LedgerEntry"
    query = re.compile(rf"(select|\.get|\.query)\(\s*(data\.|models\.)?({tables})\b")
    found = []
    for package in ("output_checks", "hub", "notebooks", "projects"):
        for path in sorted((ROOT / package).rglob("*.py")):
            module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            if module in exempt:
                continue
            text = path.read_text(encoding="utf-8")
            found += [f"{module}: {m.group(0)}" for m in query.finditer(text)]
    assert not found, "query the airlock's tables through output_checks.data: " + ", ".join(found)
    assert query.search("session.scalars(select(Vote).where(Vote.turn == 1))")
    assert query.search("session.get(data.ReleaseRequest, request_id)")
