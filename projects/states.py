"""Project states and who may move a project between them: states as data.

The lifecycle is a :class:`tre.states.StateMachine`: every state has exactly one owner (who is
expected to act next) and every (state, action) exactly one rule, checked when it is built;
``tre docs states`` draws it into docs/states.md, so docs cannot drift.
"""

from __future__ import annotations

from enum import StrEnum

from tre.states import Rule, StateMachine


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    CLOSED = "closed"
    EXPIRED = "expired"


class Actor(StrEnum):
    LEAD = "project lead"
    CONTROLLERS = "data controllers' approvers"
    OPERATOR = "operator"
    SYSTEM = "system (dates)"
    NOBODY = "nobody (final)"


class ProjectAction(StrEnum):
    """The moves of a project's lifecycle. An amendment is two moves: one that changes no data
    item (the state stays) and one that does (the changed items need their controllers again)."""

    SUBMIT = "submit"
    APPROVE = "approve"
    REFUSE = "refuse"
    AMEND = "amend"
    AMEND_DATA_ITEMS = "amend data items"
    ACTIVATE = "activate"
    EXPIRE = "expire"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    CLOSE = "close"


OWNERS: dict[Actor, set[State]] = {
    Actor.LEAD: {State.DRAFT},
    Actor.CONTROLLERS: {State.SUBMITTED},
    Actor.SYSTEM: {State.APPROVED, State.ACTIVE},
    Actor.OPERATOR: {State.SUSPENDED},
    Actor.NOBODY: {State.CLOSED, State.EXPIRED},
}

Transition = Rule[State, ProjectAction, Actor]
A = ProjectAction
TRANSITIONS: tuple[Transition, ...] = (
    Rule(
        State.DRAFT,
        A.SUBMIT,
        State.SUBMITTED,
        Actor.LEAD,
        "the lead submits a complete draft for approval",
    ),
    Rule(
        State.SUBMITTED,
        A.APPROVE,
        State.APPROVED,
        Actor.CONTROLLERS,
        "the last controller whose data is requested approves",
    ),
    Rule(
        State.SUBMITTED,
        A.REFUSE,
        State.DRAFT,
        Actor.CONTROLLERS,
        "a controller refuses, with a reason; the lead may amend and resubmit",
    ),
    Rule(State.DRAFT, A.AMEND, State.DRAFT, Actor.LEAD, "the lead changes a draft (a new version)"),
    Rule(
        State.DRAFT,
        A.AMEND_DATA_ITEMS,
        State.DRAFT,
        Actor.LEAD,
        "the lead changes a draft's data items (a new version)",
    ),
    Rule(
        State.SUBMITTED,
        A.AMEND,
        State.SUBMITTED,
        Actor.LEAD,
        "the lead changes a submitted project; it waits for its controllers as before",
    ),
    Rule(
        State.SUBMITTED,
        A.AMEND_DATA_ITEMS,
        State.SUBMITTED,
        Actor.LEAD,
        "the lead changes a submitted project's data items; changed items need approval again",
    ),
    Rule(
        State.APPROVED,
        A.AMEND,
        State.APPROVED,
        Actor.LEAD,
        "an amendment that changes no data item keeps the controllers' approvals",
    ),
    Rule(
        State.ACTIVE,
        A.AMEND,
        State.ACTIVE,
        Actor.LEAD,
        "an amendment of an active project that changes no data item",
    ),
    Rule(
        State.APPROVED,
        A.AMEND_DATA_ITEMS,
        State.SUBMITTED,
        Actor.LEAD,
        "an amendment that changes data items needs those controllers again",
    ),
    Rule(
        State.ACTIVE,
        A.AMEND_DATA_ITEMS,
        State.SUBMITTED,
        Actor.LEAD,
        "an amendment that changes data items of an active project needs approval again",
    ),
    Rule(State.APPROVED, A.ACTIVATE, State.ACTIVE, Actor.SYSTEM, "the start date is reached"),
    Rule(State.ACTIVE, A.EXPIRE, State.EXPIRED, Actor.SYSTEM, "the end date has passed"),
    Rule(
        State.APPROVED,
        A.EXPIRE,
        State.EXPIRED,
        Actor.SYSTEM,
        "the end date passed before the project became active",
    ),
    Rule(
        State.ACTIVE,
        A.SUSPEND,
        State.SUSPENDED,
        Actor.OPERATOR,
        "an operator suspends the project, with a reason",
    ),
    Rule(
        State.SUSPENDED,
        A.REINSTATE,
        State.ACTIVE,
        Actor.OPERATOR,
        "an operator lifts the suspension",
    ),
    Rule(State.ACTIVE, A.CLOSE, State.CLOSED, Actor.LEAD, "the lead closes the project"),
    Rule(
        State.SUSPENDED,
        A.CLOSE,
        State.CLOSED,
        Actor.OPERATOR,
        "an operator closes a suspended project",
    ),
)
del A

LIFECYCLE: StateMachine[State, ProjectAction, Actor] = StateMachine(
    "project",
    State,
    TRANSITIONS,
    OWNERS,
    initial=State.DRAFT,
    description=(
        "A project's lifecycle, from the lead's draft through the data controllers' approval "
        "to its active period, suspension, closure or expiry."
    ),
)
