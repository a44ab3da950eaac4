"""The airlock's data access: the one module of the workflow that reads and writes its tables.

Requests, their groups and files, votes, comments: fetched, created and listed here, in the
caller's session (the caller owns the transaction, so a refusal rolls everything back). The rows
handed out are the tables' own rows: the workflow (:mod:`output_checks.airlock`) changes their
fields in place, and the session writes them when it commits. Nothing here decides anything:
who may act is :mod:`output_checks.permissions`, what a state allows :mod:`output_checks.policies`.

An import-linter contract (pyproject.toml) keeps :mod:`output_checks.models` out of every other
module of the airlock and of the hub, and a test finds any query of these tables made elsewhere;
the row classes are named here for the others' type hints. The release ledger's rows are read
and written here too (:mod:`output_checks.ledger` decides what they mean).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from output_checks.enums import RequestState
from output_checks.errors import AirlockError
from output_checks.models import (
    Comment,
    LedgerEntry,
    Notification,
    Recipient,
    ReleaseRequest,
    RequestFile,
    RequestGroup,
    Review,
    Vote,
)
from output_checks.states import IN_FLIGHT
from projects.policy import PolicyAction, can

__all__ = [
    "Comment",
    "LedgerEntry",
    "Notification",
    "ReleaseRequest",
    "RequestFile",
    "Vote",
    "add_comment",
    "add_file",
    "add_group",
    "add_ledger_entry",
    "add_notification",
    "add_review",
    "drafts_of",
    "notifications_of",
    "read_notifications",
    "recipients_of",
    "reviews_of",
    "set_recipients",
    "comments_of",
    "find_request",
    "get_request",
    "ledger_of",
    "new_request",
    "record_vote",
    "released_requests",
    "requests_in",
    "requests_in_flight",
    "requests_of",
    "votes_of",
]


# ---------------------------------------------------------------------------------------------
# Requests


def find_request(session: Session, request_id: str) -> ReleaseRequest | None:
    return session.get(ReleaseRequest, request_id)


def get_request(session: Session, request_id: str, lock: bool = False) -> ReleaseRequest:
    """The request REQUEST_ID (its row locked for update when LOCK), or an error that says how
    to find the right one."""
    found = session.get(ReleaseRequest, request_id, with_for_update=lock)
    if found is None:
        raise AirlockError(f"there is no release request {request_id} (`tre outputs list`)")
    return found


def new_request(
    session: Session, request_id: str, project_id: str, author: str, created: str
) -> ReleaseRequest:
    """A new, empty request of AUTHOR's in PROJECT_ID, pending at its first turn."""
    found = ReleaseRequest(
        id=request_id,
        project_id=project_id,
        author=author,
        state=RequestState.PENDING.value,
        turn=1,
        recipient="",
        reason="",
        created=created,
    )
    session.add(found)
    session.flush()
    return found


def requests_of(session: Session, project_id: str | None = None) -> list[ReleaseRequest]:
    """Every request (of PROJECT_ID, when given), oldest first."""
    query = select(ReleaseRequest).order_by(ReleaseRequest.created)
    if project_id:
        query = query.where(ReleaseRequest.project_id == project_id)
    return list(session.scalars(query))


def requests_in(session: Session, states: Iterable[RequestState]) -> list[ReleaseRequest]:
    """The requests in one of STATES, in the order they were submitted."""
    return list(
        session.scalars(
            select(ReleaseRequest)
            .where(ReleaseRequest.state.in_([s.value for s in states]))
            .order_by(ReleaseRequest.submitted)
        )
    )


def released_requests(session: Session, project_id: str) -> list[ReleaseRequest]:
    return list(
        session.scalars(
            select(ReleaseRequest).where(
                ReleaseRequest.project_id == project_id,
                ReleaseRequest.state == RequestState.RELEASED.value,
            )
        )
    )


def requests_in_flight(session: Session, found: ReleaseRequest) -> list[ReleaseRequest]:
    """The project's other requests that were submitted and are not yet released, rejected or
    withdrawn (their tables are compared with FOUND's)."""
    return list(
        session.scalars(
            select(ReleaseRequest)
            .where(
                ReleaseRequest.project_id == found.project_id,
                ReleaseRequest.id != found.id,
                ReleaseRequest.state.in_([s.value for s in IN_FLIGHT]),
            )
            .order_by(ReleaseRequest.submitted)
        )
    )


# ---------------------------------------------------------------------------------------------
# The release ledger


def ledger_of(session: Session, project_id: str) -> list[LedgerEntry]:
    """The project's released tables, in the order they were released."""
    return list(
        session.scalars(
            select(LedgerEntry).where(LedgerEntry.project_id == project_id).order_by(LedgerEntry.id)
        )
    )


def add_ledger_entry(
    session: Session, found: ReleaseRequest, file: str, table: dict, at: str
) -> None:
    session.add(
        LedgerEntry(project_id=found.project_id, request_id=found.id, file=file, table=table, at=at)
    )


# ---------------------------------------------------------------------------------------------
# Groups and files (rows of the request, written with it)


def add_group(found: ReleaseRequest, name: str, context: str, controls: str) -> None:
    found.groups.append(RequestGroup(name=name, context=context, controls=controls))


def add_file(
    found: ReleaseRequest,
    group: str,
    path: str,
    run_id: str,
    sha256: str,
    size: int,
    supporting: bool,
) -> RequestFile:
    """A new file of FOUND, not yet checked."""
    item = RequestFile(
        group=group,
        path=path,
        run_id=run_id,
        sha256=sha256,
        bytes=size,
        supporting=supporting,
        withdrawn=False,
        check_outcome="",
        checks=[],
    )
    found.files.append(item)
    return item


# ---------------------------------------------------------------------------------------------
# Votes and comments


def votes_of(session: Session, found: ReleaseRequest) -> dict[int, list[Vote]]:
    """This turn's votes that count, on each file: those of checkers who submitted their review
    of the turn and may still review it (:func:`reviews_of`), cast on the bytes the file holds
    (a draft vote never counts)."""
    submitted = set(reviews_of(session, found))
    votes: dict[int, list[Vote]] = {}
    for vote in _bound_votes(session, found):
        if vote.checker in submitted:
            votes.setdefault(vote.file_id, []).append(vote)
    return votes


def drafts_of(session: Session, found: ReleaseRequest, checker: str) -> dict[int, Vote]:
    """CHECKER's own votes of this turn on each file (submitted or still drafts), cast on the
    bytes the file holds: what their page shows them."""
    return {v.file_id: v for v in _bound_votes(session, found) if v.checker == checker}


def _bound_votes(session: Session, found: ReleaseRequest) -> list[Vote]:
    bytes_of = {f.id: f.sha256 for f in found.files}
    return [
        vote
        for vote in session.scalars(
            select(Vote).where(Vote.request_id == found.id, Vote.turn == found.turn)
        )
        if vote.sha256 == bytes_of.get(vote.file_id)
    ]


def reviews_of(session: Session, found: ReleaseRequest) -> dict[str, str]:
    """The checkers who submitted their review of this turn, and when: only those the policy
    engine still allows to review the request (a checker whose role, accreditation or account
    was withdrawn since no longer counts, nor do their votes)."""
    return {
        r.checker: r.submitted
        for r in session.scalars(
            select(Review).where(Review.request_id == found.id, Review.turn == found.turn)
        )
        if r.checker != found.author
        and can(session, r.checker, PolicyAction.REVIEW_RELEASE, found.project_id)
    }


def add_review(session: Session, found: ReleaseRequest, checker: str, at: str) -> None:
    session.add(Review(request_id=found.id, checker=checker, turn=found.turn, submitted=at))
    session.flush()


def record_vote(
    session: Session,
    found: ReleaseRequest,
    item: RequestFile,
    checker: str,
    vote: str,
    override: str,
    at: str,
) -> None:
    """CHECKER's vote on ITEM in this turn, bound to ITEM's bytes: a second vote in the same
    turn replaces the first."""
    existing = session.scalar(
        select(Vote).where(
            Vote.file_id == item.id, Vote.checker == checker, Vote.turn == found.turn
        )
    )
    if existing is not None:
        existing.vote, existing.at = vote, at
        existing.sha256, existing.override = item.sha256, override
    else:
        session.add(
            Vote(
                request_id=found.id,
                file_id=item.id,
                checker=checker,
                turn=found.turn,
                vote=vote,
                sha256=item.sha256,
                override=override,
                at=at,
            )
        )


def add_comment(
    session: Session,
    found: ReleaseRequest,
    author: str,
    text: str,
    private: bool,
    at: str,
    file_id: int | None = None,
) -> None:
    """A comment in this turn, on the request or on one of its files (FILE_ID)."""
    session.add(
        Comment(
            request_id=found.id,
            file_id=file_id,
            author=author,
            turn=found.turn,
            private=private,
            text=text,
            at=at,
        )
    )


def comments_of(session: Session, found: ReleaseRequest) -> list[Comment]:
    """Every comment on FOUND, in every turn, in the order they were made."""
    return list(
        session.scalars(select(Comment).where(Comment.request_id == found.id).order_by(Comment.id))
    )


# ---------------------------------------------------------------------------------------------
# Recipients and notifications


def recipients_of(session: Session, found: ReleaseRequest) -> list[str]:
    """The people FOUND names to receive its released files."""
    return list(
        session.scalars(
            select(Recipient.person)
            .where(Recipient.request_id == found.id)
            .order_by(Recipient.person)
        )
    )


def set_recipients(session: Session, found: ReleaseRequest, people: Iterable[str]) -> None:
    for row in session.scalars(select(Recipient).where(Recipient.request_id == found.id)):
        session.delete(row)
    session.flush()
    for person in sorted(set(people)):
        session.add(Recipient(request_id=found.id, person=person))


def add_notification(
    session: Session, person: str, found: ReleaseRequest, step: str, text: str, at: str
) -> None:
    session.add(
        Notification(person=person, request_id=found.id, step=step, text=text, at=at, read=False)
    )


def notifications_of(session: Session, person: str, unread: bool = False) -> list[Notification]:
    """PERSON's notifications, newest first (only the unread ones when UNREAD)."""
    query = select(Notification).where(Notification.person == person)
    if unread:
        query = query.where(Notification.read.is_(False))
    return list(session.scalars(query.order_by(Notification.id.desc())))


def read_notifications(session: Session, person: str) -> None:
    for note in notifications_of(session, person, unread=True):
        note.read = True
