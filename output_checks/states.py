"""Release-request states and who may move a request between them: states as data.

Every state has exactly one owner (who is expected to act next) and every transition exactly one
rule; tests prove both. The shape follows OpenSAFELY Airlock's workflow.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class RequestState(StrEnum):
    PENDING = "pending"
    SUBMITTED = "submitted"
    PARTIALLY_REVIEWED = "partially_reviewed"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    RELEASED = "released"
    RETURNED = "returned"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Actor(StrEnum):
    AUTHOR = "author"
    CHECKER = "output checker"
    SYSTEM = "system"
    NOBODY = "nobody (final)"


OWNERS: dict[Actor, set[RequestState]] = {
    Actor.AUTHOR: {RequestState.PENDING, RequestState.RETURNED},
    Actor.CHECKER: {
        RequestState.SUBMITTED,
        RequestState.PARTIALLY_REVIEWED,
        RequestState.REVIEWED,
        RequestState.APPROVED,
    },
    Actor.NOBODY: {RequestState.RELEASED, RequestState.REJECTED, RequestState.WITHDRAWN},
}

EDITABLE = {RequestState.PENDING, RequestState.RETURNED}
UNDER_REVIEW = {RequestState.SUBMITTED, RequestState.PARTIALLY_REVIEWED, RequestState.REVIEWED}


@dataclass(frozen=True)
class Transition:
    action: str
    source: RequestState
    target: RequestState
    by: Actor
    rule: str


S = RequestState
TRANSITIONS: tuple[Transition, ...] = (
    Transition("submit", S.PENDING, S.SUBMITTED, Actor.AUTHOR, "the author submits; checks run"),
    Transition(
        "resubmit", S.RETURNED, S.SUBMITTED, Actor.AUTHOR, "the author resubmits: a new turn"
    ),
    Transition("withdraw", S.PENDING, S.WITHDRAWN, Actor.AUTHOR, "the author withdraws a draft"),
    Transition(
        "withdraw", S.RETURNED, S.WITHDRAWN, Actor.AUTHOR, "the author withdraws a returned one"
    ),
    Transition(
        "withdraw", S.SUBMITTED, S.WITHDRAWN, Actor.AUTHOR, "the author withdraws before review"
    ),
    Transition(
        "review",
        S.SUBMITTED,
        S.PARTIALLY_REVIEWED,
        Actor.SYSTEM,
        "a checker has voted on every file, but fewer checkers than required have",
    ),
    Transition(
        "review",
        S.SUBMITTED,
        S.REVIEWED,
        Actor.SYSTEM,
        "the required number of checkers (one) has voted on every file",
    ),
    Transition(
        "review",
        S.PARTIALLY_REVIEWED,
        S.REVIEWED,
        Actor.SYSTEM,
        "the required number of checkers has voted on every file",
    ),
    Transition(
        "approve",
        S.REVIEWED,
        S.APPROVED,
        Actor.SYSTEM,
        "every file's decision is approved (no conflict, no change requested)",
    ),
    *(
        Transition(
            "return",
            source,
            S.RETURNED,
            Actor.CHECKER,
            "a checker returns it to the author with a reason (a new turn follows)",
        )
        for source in (S.SUBMITTED, S.PARTIALLY_REVIEWED, S.REVIEWED, S.APPROVED)
    ),
    *(
        Transition("reject", source, S.REJECTED, Actor.CHECKER, "a checker rejects it, saying why")
        for source in (S.SUBMITTED, S.PARTIALLY_REVIEWED, S.REVIEWED, S.APPROVED)
    ),
    Transition(
        "release", S.APPROVED, S.RELEASED, Actor.CHECKER, "a checker releases the approved files"
    ),
)


def owner(state: RequestState) -> Actor:
    return next(actor for actor, states in OWNERS.items() if state in states)


def transition(
    action: str, source: RequestState, target: RequestState | None = None
) -> Transition | None:
    """The one rule for ACTION from SOURCE (to TARGET), or None when it is not allowed."""
    matches = [
        t
        for t in TRANSITIONS
        if t.action == action and t.source == source and (target is None or t.target == target)
    ]
    return matches[0] if matches else None
