"""Project states and who may move a project between them: states as data.

Every state has exactly one owner (who is expected to act next) and every transition exactly one
rule; tests prove both, and :func:`diagram` draws the table for the docs, so docs cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


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


OWNERS: dict[Actor, set[State]] = {
    Actor.LEAD: {State.DRAFT},
    Actor.CONTROLLERS: {State.SUBMITTED},
    Actor.SYSTEM: {State.APPROVED, State.ACTIVE},
    Actor.OPERATOR: {State.SUSPENDED},
    Actor.NOBODY: {State.CLOSED, State.EXPIRED},
}


@dataclass(frozen=True)
class Transition:
    action: str
    source: State
    target: State
    by: Actor
    rule: str


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "submit",
        State.DRAFT,
        State.SUBMITTED,
        Actor.LEAD,
        "the lead submits a complete draft for approval",
    ),
    Transition(
        "approve",
        State.SUBMITTED,
        State.APPROVED,
        Actor.CONTROLLERS,
        "the last controller whose data is requested approves",
    ),
    Transition(
        "refuse",
        State.SUBMITTED,
        State.DRAFT,
        Actor.CONTROLLERS,
        "a controller refuses, with a reason; the lead may amend and resubmit",
    ),
    Transition(
        "amend", State.DRAFT, State.DRAFT, Actor.LEAD, "the lead changes a draft (a new version)"
    ),
    Transition(
        "amend",
        State.SUBMITTED,
        State.SUBMITTED,
        Actor.LEAD,
        "the lead changes a submitted project; changed data items need approval again",
    ),
    Transition(
        "amend",
        State.APPROVED,
        State.APPROVED,
        Actor.LEAD,
        "an amendment that changes no data item keeps the controllers' approvals",
    ),
    Transition(
        "amend",
        State.ACTIVE,
        State.ACTIVE,
        Actor.LEAD,
        "an amendment of an active project that changes no data item",
    ),
    Transition(
        "amend",
        State.APPROVED,
        State.SUBMITTED,
        Actor.LEAD,
        "an amendment that changes data items needs those controllers again",
    ),
    Transition(
        "amend",
        State.ACTIVE,
        State.SUBMITTED,
        Actor.LEAD,
        "an amendment that changes data items of an active project needs approval again",
    ),
    Transition("activate", State.APPROVED, State.ACTIVE, Actor.SYSTEM, "the start date is reached"),
    Transition("expire", State.ACTIVE, State.EXPIRED, Actor.SYSTEM, "the end date has passed"),
    Transition(
        "expire",
        State.APPROVED,
        State.EXPIRED,
        Actor.SYSTEM,
        "the end date passed before the project became active",
    ),
    Transition(
        "suspend",
        State.ACTIVE,
        State.SUSPENDED,
        Actor.OPERATOR,
        "an operator suspends the project, with a reason",
    ),
    Transition(
        "reinstate",
        State.SUSPENDED,
        State.ACTIVE,
        Actor.OPERATOR,
        "an operator lifts the suspension",
    ),
    Transition("close", State.ACTIVE, State.CLOSED, Actor.LEAD, "the lead closes the project"),
    Transition(
        "close",
        State.SUSPENDED,
        State.CLOSED,
        Actor.OPERATOR,
        "an operator closes a suspended project",
    ),
)


def owner(state: State) -> Actor:
    return next(actor for actor, states in OWNERS.items() if state in states)


def transition(action: str, source: State, target: State | None = None) -> Transition | None:
    """The one rule for ACTION from SOURCE (to TARGET), or None when it is not allowed."""
    matches = [
        t
        for t in TRANSITIONS
        if t.action == action and t.source == source and (target is None or t.target == target)
    ]
    return matches[0] if matches else None


def diagram() -> str:
    """The state table as a Mermaid diagram (for the docs)."""
    lines = ["stateDiagram-v2", "    [*] --> draft"]
    for t in TRANSITIONS:
        lines.append(f"    {t.source} --> {t.target}: {t.action} ({t.by})")
    lines += ["    closed --> [*]", "    expired --> [*]"]
    return "\n".join(lines)
