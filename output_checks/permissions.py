"""Who may do what to a release request.

Permissions answer "may this person…": the author alone changes, submits and withdraws a
request; output checkers of its project, never its author, see its files before release, vote,
return, reject and release; a file that failed its automatic checks is approved only with a
checker's reason, and only where the operator allows it. Who is an output checker of a project
is the policy engine's answer (:mod:`projects.policy`, the only place that decides access); what
the request's state allows is :mod:`output_checks.policies`, called from here.

Each ``check_…`` raises a refusal with a sentence (the workflow calls these before it changes
anything); each ``can_…`` answers the same question with a bool and never raises, for pages and
templates that decide which buttons to show. Nothing here reads the airlock's tables.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import ParamSpec

from sqlalchemy.orm import Session

from output_checks import policies
from output_checks.data import ReleaseRequest, RequestFile, Vote
from output_checks.enums import VoteChoice
from output_checks.errors import AirlockError, FailedFileRefused, RefusedFile
from projects.policy import PolicyAction, decide
from projects.policy import check as policy_check
from tre.errors import Refused
from tre.instance import Instance

P = ParamSpec("P")


def _answer(check: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> bool:
    """CHECK's answer as a bool: False when it refuses."""
    try:
        check(*args, **kwargs)
    except (Refused, AirlockError):
        return False
    return True


# ---------------------------------------------------------------------------------------------
# The author's side


def check_is_author(found: ReleaseRequest, person: str) -> None:
    """Only its author changes a request (adds, withdraws, submits)."""
    if person != found.author:
        raise Refused(f"only {found.author}, its author, may change request {found.id}")


def is_author(found: ReleaseRequest, person: str) -> bool:
    return person == found.author


def check_can_comment(session: Session, found: ReleaseRequest, person: str, private: bool) -> None:
    """The author and the request's checkers comment; only checkers comment privately."""
    if person != found.author:
        check_can_review(session, found, person)
    elif private:
        raise AirlockError("private comments are for checkers; the author's are public")


def can_comment(session: Session, found: ReleaseRequest, person: str, private: bool) -> bool:
    return _answer(check_can_comment, session, found, person, private)


def check_can_receive(
    session: Session, project_id: str, people: list[str], at: date | None = None
) -> None:
    """Each of PEOPLE may receive the project's released files: an accredited, unsuspended
    member of its team who has accepted its current terms, while it is active (the policy
    engine's ``receive_release``). Asked when a request names its recipients and again at each
    download; one refusal naming every person refused and why."""
    refused = [
        decision.message()
        for decision in (
            decide(session, person, PolicyAction.RECEIVE_RELEASE, project_id, at=at)
            for person in people
        )
        if not decision.allowed
    ]
    if refused:
        raise Refused(
            "a release goes only to accredited members of the project's team who have accepted "
            "its terms; " + "\n".join(refused)
        )


# ---------------------------------------------------------------------------------------------
# The checkers' side


def check_can_review(session: Session, found: ReleaseRequest, checker: str) -> None:
    """An output checker of the request's project, never its author."""
    if checker == found.author:
        raise Refused(f"{checker} is the author of request {found.id} and cannot review it")
    policy_check(session, checker, PolicyAction.REVIEW_RELEASE, found.project_id)


def can_review(session: Session, found: ReleaseRequest, checker: str) -> bool:
    return _answer(check_can_review, session, found, checker)


def check_can_see_file(session: Session, found: ReleaseRequest, viewer: str, path: str) -> None:
    """Before release nobody but the checkers who may review a request sees its files: its
    author included (a :class:`~output_checks.errors.RefusedFile`, which the airlock audits)."""
    if viewer == found.author:
        raise RefusedFile(
            f"{viewer} wrote request {found.id}: its files are shown only to the output "
            "checkers who review it, and leave only when they are released.",
            path,
        )
    try:
        check_can_review(session, found, viewer)
    except Refused as exc:
        raise RefusedFile(str(exc), path) from None


def can_see_file(session: Session, found: ReleaseRequest, viewer: str, path: str) -> bool:
    return _answer(check_can_see_file, session, found, viewer, path)


def check_can_vote(session: Session, found: ReleaseRequest, checker: str) -> None:
    """A checker who may review the request, while it is under review."""
    check_can_review(session, found, checker)
    policies.check_under_review(found)


def can_vote(session: Session, found: ReleaseRequest, checker: str) -> bool:
    return _answer(check_can_vote, session, found, checker)


def check_can_approve(instance: Instance, item: RequestFile, override: str) -> None:
    """May a checker approve ITEM, with OVERRIDE as their reason? A file that failed its
    automatic checks only where the operator allows it (``[airlock]
    release_failed_with_override``), and only with a reason for overriding them."""
    if not policies.failed(item):
        return
    if not instance.settings.airlock.release_failed_with_override:
        raise FailedFileRefused(
            f"{item.path} failed its automatic checks ({policies.failed_checks(item)}), and a "
            "file that failed them is never released here; vote for changes, or return the "
            "request.",
            item.path,
        )
    if not override:
        raise FailedFileRefused(
            f"{item.path} failed its automatic checks ({policies.failed_checks(item)}); to "
            "approve it anyway, give the reason for overriding them.",
            item.path,
        )


def can_approve(instance: Instance, item: RequestFile, override: str = "") -> bool:
    return _answer(check_can_approve, instance, item, override)


def check_can_release(instance: Instance, item: RequestFile, votes: list[Vote]) -> None:
    """May ITEM be released on VOTES (its votes bound to its bytes)? A file that failed its
    automatic checks only where the operator allows it, and only when every checker who
    approved it gave a reason for overriding them."""
    if not policies.failed(item):
        return
    if not instance.settings.airlock.release_failed_with_override:
        raise FailedFileRefused(
            f"{item.path} failed its automatic checks ({policies.failed_checks(item)}), and a "
            "file that failed them is never released here; nothing was released. Return the "
            "request to its author.",
            item.path,
        )
    silent = [v.checker for v in votes if v.vote == VoteChoice.APPROVE and not v.override]
    if silent:
        raise FailedFileRefused(
            f"{item.path} failed its automatic checks, and {', '.join(silent)} approved it "
            "without a reason for overriding them; nothing was released.",
            item.path,
        )


def can_release(instance: Instance, item: RequestFile, votes: list[Vote]) -> bool:
    return _answer(check_can_release, instance, item, votes)


def check_can_release_request(session: Session, found: ReleaseRequest, checker: str) -> None:
    """A checker who may review the request, once it is approved (and not yet released)."""
    check_can_review(session, found, checker)
    policies.check_releasable(found)


def can_release_request(session: Session, found: ReleaseRequest, checker: str) -> bool:
    return _answer(check_can_release_request, session, found, checker)
