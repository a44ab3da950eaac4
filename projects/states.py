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
    """The moves of a project's lifecycle. An amendment is two moves (``projects.amendments``
    tells them apart): one that narrows the project or only rewords its description takes effect
    at once and the state stays; one that widens it goes back to the data controllers concerned,
    and an approved or active project is submitted again."""

    SUBMIT = "submit"
    APPROVE = "approve"
    REFUSE = "refuse"
    AMEND = "amend"
    AMEND_WIDENING = "amend, widening"
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
    Rule(
        State.DRAFT,
        A.AMEND,
        State.DRAFT,
        Actor.LEAD,
        "the lead narrows or rewords a draft (a new version)",
    ),
    Rule(
        State.DRAFT,
        A.AMEND_WIDENING,
        State.DRAFT,
        Actor.LEAD,
        "the lead widens a draft (a new version); approvals it widens past are not carried over",
    ),
    Rule(
        State.SUBMITTED,
        A.AMEND,
        State.SUBMITTED,
        Actor.LEAD,
        "the lead narrows or rewords a submitted project; the approvals given are kept",
    ),
    Rule(
        State.SUBMITTED,
        A.AMEND_WIDENING,
        State.SUBMITTED,
        Actor.LEAD,
        "the lead widens a submitted project; the controllers concerned decide afresh",
    ),
    Rule(
        State.APPROVED,
        A.AMEND,
        State.APPROVED,
        Actor.LEAD,
        "a narrowing or rewording takes effect at once and keeps the controllers' approvals",
    ),
    Rule(
        State.ACTIVE,
        A.AMEND,
        State.ACTIVE,
        Actor.LEAD,
        "a narrowing or rewording of an active project takes effect at once",
    ),
    Rule(
        State.APPROVED,
        A.AMEND_WIDENING,
        State.SUBMITTED,
        Actor.LEAD,
        "a widening needs the controllers concerned to approve the new version",
    ),
    Rule(
        State.ACTIVE,
        A.AMEND_WIDENING,
        State.SUBMITTED,
        Actor.LEAD,
        "a widening of an active project stops its use until the controllers concerned "
        "approve the new version",
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
