"""Release-request states and who may move a request between them: states as data.

The request's workflow is a :class:`tre.states.StateMachine`: every state has exactly one owner
(who is expected to act next) and every (state, action) exactly one rule, checked when it is
built; ``tre docs states`` draws it. The shape follows OpenSAFELY Airlock's workflow. The states,
moves and owners themselves (and the airlock's other vocabularies) are :mod:`output_checks.enums`.
"""

from __future__ import annotations

from output_checks.enums import Actor, FileDecision, RequestAction, RequestState, VoteChoice
from tre.states import Rule, StateMachine

# the vocabularies live in output_checks.enums; named here too, where they were first defined
__all__ = [
    "EDITABLE",
    "OWNERS",
    "TRANSITIONS",
    "UNDER_REVIEW",
    "WORKFLOW",
    "Actor",
    "FileDecision",
    "RequestAction",
    "RequestState",
    "Transition",
    "VoteChoice",
]


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
# submitted and not yet released, rejected or withdrawn: their tables are compared with new ones
IN_FLIGHT = UNDER_REVIEW | {RequestState.APPROVED, RequestState.RETURNED}


Transition = Rule[RequestState, RequestAction, Actor]
S, A = RequestState, RequestAction
TRANSITIONS: tuple[Transition, ...] = (
    Rule(S.PENDING, A.SUBMIT, S.SUBMITTED, Actor.AUTHOR, "the author submits; checks run"),
    Rule(S.RETURNED, A.RESUBMIT, S.SUBMITTED, Actor.AUTHOR, "the author resubmits: a new turn"),
    Rule(S.PENDING, A.WITHDRAW, S.WITHDRAWN, Actor.AUTHOR, "the author withdraws a draft"),
    Rule(S.RETURNED, A.WITHDRAW, S.WITHDRAWN, Actor.AUTHOR, "the author withdraws a returned one"),
    Rule(S.SUBMITTED, A.WITHDRAW, S.WITHDRAWN, Actor.AUTHOR, "the author withdraws before review"),
    Rule(
        S.SUBMITTED,
        A.REVIEW_PARTLY,
        S.PARTIALLY_REVIEWED,
        Actor.SYSTEM,
        "a checker submitted a review of every file, but fewer checkers than required have",
    ),
    Rule(
        S.SUBMITTED,
        A.REVIEW,
        S.REVIEWED,
        Actor.SYSTEM,
        "the required number of checkers (one) submitted a review of every file",
    ),
    Rule(
        S.PARTIALLY_REVIEWED,
        A.REVIEW,
        S.REVIEWED,
        Actor.SYSTEM,
        "the required number of checkers submitted a review of every file",
    ),
    Rule(
        S.REVIEWED,
        A.APPROVE,
        S.APPROVED,
        Actor.SYSTEM,
        "every file's decision is approved (no conflict, no change requested)",
    ),
    *(
        Rule(
            source,
            A.RETURN,
            S.RETURNED,
            Actor.CHECKER,
            "a checker returns it to the author with a reason (a new turn follows)",
        )
        for source in (S.SUBMITTED, S.PARTIALLY_REVIEWED, S.REVIEWED, S.APPROVED)
    ),
    *(
        Rule(source, A.REJECT, S.REJECTED, Actor.CHECKER, "a checker rejects it, saying why")
        for source in (S.SUBMITTED, S.PARTIALLY_REVIEWED, S.REVIEWED, S.APPROVED)
    ),
    Rule(S.APPROVED, A.RELEASE, S.RELEASED, Actor.CHECKER, "a checker releases the approved files"),
)
del S, A

WORKFLOW: StateMachine[RequestState, RequestAction, Actor] = StateMachine(
    "release request",
    RequestState,
    TRANSITIONS,
    OWNERS,
    initial=RequestState.PENDING,
    description=(
        "A release request in the airlock, from the author's draft through the automatic "
        "checks and the output checkers' votes to release, return, rejection or withdrawal."
    ),
)
