"""A request's history in the audit log: its moves, and the refusals it met.

Every move of a request is made here, by :func:`move` (a person's, refused with a sentence when
the workflow has no such move from its state) or :func:`move_by_airlock` (the moves the system
owns), and recorded with the turn it happened in, so the audit log reads as the request's story.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session

from output_checks import data
from output_checks.data import ReleaseRequest
from output_checks.enums import RequestAction, RequestState, plain
from output_checks.errors import AirlockError, AuditedRefusal
from output_checks.events import EVENT_OF_MOVE
from output_checks.states import WORKFLOW
from tre import audit
from tre.instance import Instance
from tre.states import MoveNotAllowed

# each move in the words of a refusal ("it cannot be submitted now")
PAST = {
    RequestAction.SUBMIT: "submitted",
    RequestAction.RESUBMIT: "resubmitted",
    RequestAction.WITHDRAW: "withdrawn",
    RequestAction.REVIEW_PARTLY: "partly reviewed",
    RequestAction.REVIEW: "reviewed",
    RequestAction.APPROVE: "approved",
    RequestAction.RETURN: "returned",
    RequestAction.REJECT: "rejected",
    RequestAction.RELEASE: "released",
}


@contextmanager
def audited(
    instance: Instance, actor: str, request_id: str | None, project_id: str | None = None
) -> Iterator[None]:
    """Record an :class:`~output_checks.errors.AuditedRefusal` raised in the block (after its
    own transaction rolled back), then let it go on to the caller."""
    try:
        yield
    except AuditedRefusal as refusal:
        with instance.db.session() as session:
            found = data.find_request(session, request_id) if request_id else None
            audit.record(
                session,
                actor,
                refusal.event,
                "release_request",
                request_id or "",
                project=found.project_id if found is not None else project_id,
                details={"file": refusal.file, "reason": str(refusal)},
            )
        raise


def move(
    session: Session, found: ReleaseRequest, action: RequestAction, actor: str, **details
) -> None:
    """ACTOR's move of FOUND by ACTION, or an error saying it cannot be made from its state."""
    source = RequestState(found.state)
    try:
        rule = WORKFLOW.transition(source, action, f"request {found.id}")
    except MoveNotAllowed:
        raise AirlockError(
            f"request {found.id} is {plain('state', source)}: it cannot be {PAST[action]} now"
        ) from None
    found.state = rule.target.value
    audit.record(
        session,
        actor,
        EVENT_OF_MOVE[action],
        "release_request",
        found.id,
        project=found.project_id,
        details={"from": source.value, "to": rule.target.value, "turn": found.turn} | details,
    )


def move_by_airlock(session: Session, found: ReleaseRequest, action: RequestAction) -> None:
    """A move the airlock itself makes (the system owns it): audited as the actor airlock."""
    source = found.state
    target = WORKFLOW.transition(RequestState(source), action, f"request {found.id}").target
    found.state = target.value
    audit.record(
        session,
        "airlock",
        EVENT_OF_MOVE[action],
        "release_request",
        found.id,
        project=found.project_id,
        details={"from": source, "to": target.value, "turn": found.turn},
    )
