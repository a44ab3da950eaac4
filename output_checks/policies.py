"""What a request's state (and a file's own record) allows, whoever asks.

Policies answer "does the request's state allow…": files change only while the author holds the
request, votes are cast only while it is under review, a supporting file is read and never voted
on, the votes on a file make its decision. They take rows already fetched and never touch the
database; who may act is :mod:`output_checks.permissions`, which calls these. Each ``check_…``
raises an :class:`~output_checks.errors.AirlockError` with a sentence; each ``can_…`` (or
``is_…``) answers the same question with a bool, for pages and templates.
"""

from __future__ import annotations

from collections import Counter

from output_checks.data import ReleaseRequest, RequestFile
from output_checks.enums import CheckOutcome, FileDecision, RequestState, VoteChoice, plain
from output_checks.errors import AirlockError
from output_checks.states import EDITABLE, UNDER_REVIEW


def check_can_edit(found: ReleaseRequest) -> None:
    """Files are added or withdrawn only while the author holds the request."""
    if RequestState(found.state) not in EDITABLE:
        raise AirlockError(
            f"request {found.id} is {plain('state', found.state)}: files can be added or "
            "withdrawn only while it is a draft or returned"
        )


def can_edit(found: ReleaseRequest) -> bool:
    return RequestState(found.state) in EDITABLE


def check_under_review(found: ReleaseRequest) -> None:
    """Votes are cast only while the request is under review."""
    if not is_under_review(found):
        raise AirlockError(
            f"request {found.id} is {plain('state', found.state)}: it is not under review"
        )


def is_under_review(found: ReleaseRequest) -> bool:
    return RequestState(found.state) in UNDER_REVIEW


def check_releasable(found: ReleaseRequest) -> None:
    """Only an approved request is released, once."""
    if found.state == RequestState.RELEASED.value:
        raise AirlockError(f"request {found.id} was released on {found.released}")
    if found.state != RequestState.APPROVED.value:
        raise AirlockError(f"request {found.id} is {plain('state', found.state)}, not approved")


def is_releasable(found: ReleaseRequest) -> bool:
    return found.state == RequestState.APPROVED.value


def check_votable(item: RequestFile) -> None:
    """A supporting file is for the checkers to read: it is never voted on, nor released."""
    if item.supporting:
        raise AirlockError(f"{item.path} is a supporting file: it is read, not voted on")


def failed(item: RequestFile) -> bool:
    """Did ITEM fail its automatic checks?"""
    return item.check_outcome == CheckOutcome.FAIL


def failed_checks(item: RequestFile) -> str:
    """The failed automatic checks of ITEM, as a phrase."""
    return "; ".join(
        f"{c['name']}: {c['explanation']}" for c in item.checks if c["outcome"] == CheckOutcome.FAIL
    )


def file_decision(votes: list[str], required: int) -> FileDecision:
    """What VOTES (this turn's, on the file's bytes) decide when REQUIRED checkers must vote:
    unanimous votes decide; a split among the required number is a conflict, which a further
    checker's vote settles by majority."""
    if len(votes) < required:
        return FileDecision.INCOMPLETE
    counts = Counter(votes)
    approve, changes = counts[VoteChoice.APPROVE], counts[VoteChoice.CHANGES]
    if approve > changes:
        return (
            FileDecision.APPROVED
            if changes == 0 or len(votes) > required
            else FileDecision.CONFLICTED
        )
    if changes > approve:
        return (
            FileDecision.CHANGES_REQUESTED
            if approve == 0 or len(votes) > required
            else FileDecision.CONFLICTED
        )
    return FileDecision.CONFLICTED
