"""The state-machine core: states as data, for every workflow of the kit.

A machine is a table. Its states are an enum; each rule says that ACTION moves a thing from one
state to another, and who makes that move; an owners table says who is expected to act next in
each state. The table is checked when the machine is built: every state has exactly one owner,
and no two rules share a state and an action, so :meth:`StateMachine.transition` never has to
choose. :meth:`StateMachine.diagram` draws the table for the docs (``tre docs states``), so the
docs cannot drift from the code.

    LIFECYCLE = StateMachine("project", State, RULES, OWNERS, initial=State.DRAFT)
    rule = LIFECYCLE.transition(State(found.state), ProjectAction.SUBMIT, f"project {found.id}")
    found.state = rule.target
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from tre.errors import TreError

S = TypeVar("S", bound=StrEnum)  # the machine's states
A = TypeVar("A", bound=StrEnum)  # the actions that move between them
W = TypeVar("W", bound=StrEnum)  # who owns a state, and who makes a move


class MachineError(Exception):
    """The table of a state machine is wrong (a programming error, found when it is built)."""


class MoveNotAllowed(TreError):
    """The thing is in a state from which that action is not possible; nothing was changed."""

    def __init__(self, message: str, state: StrEnum, action: StrEnum) -> None:
        super().__init__(message)
        self.state = state
        self.action = action


@dataclass(frozen=True)
class Rule(Generic[S, A, W]):
    """ACTION moves a thing from SOURCE to TARGET; BY makes the move; WHY says when."""

    source: S
    action: A
    target: S
    by: W
    why: str


class StateMachine(Generic[S, A, W]):
    """A checked table of states, rules and owners (see the module's docstring)."""

    def __init__(
        self,
        name: str,
        states: type[S],
        rules: Iterable[Rule[S, A, W]],
        owners: Mapping[W, Iterable[S]],
        initial: S,
        description: str = "",
    ) -> None:
        self.name = name
        self.states = states
        self.rules: tuple[Rule[S, A, W], ...] = tuple(rules)
        self.owners: dict[W, frozenset[S]] = {who: frozenset(s) for who, s in owners.items()}
        self.initial = initial
        self.description = description
        self._check()
        self._rules = {(r.source, r.action): r for r in self.rules}

    def _check(self) -> None:
        problems = []
        members = set(self.states)
        for state in self.states:
            owned_by = [who for who, owned in self.owners.items() if state in owned]
            if len(owned_by) != 1:
                names = ", ".join(map(str, owned_by)) or "nobody"
                problems.append(f"state {state} must have exactly one owner, not {names}")
        for who, owned in self.owners.items():
            for state in owned - members:
                problems.append(f"{who} owns {state!r}, which is not a {self.name} state")
        if self.initial not in members:
            problems.append(f"the initial state {self.initial!r} is not a {self.name} state")
        seen: dict[tuple[S, A], Rule[S, A, W]] = {}
        for rule in self.rules:
            for end in (rule.source, rule.target):
                if end not in members:
                    problems.append(f"rule {rule.action!r} uses {end!r}, not a {self.name} state")
            key = (rule.source, rule.action)
            if key in seen:
                problems.append(
                    f"two rules for '{rule.action}' from {rule.source} (to {seen[key].target} "
                    f"and to {rule.target}): give each its own action"
                )
            seen[key] = rule
        if problems:
            raise MachineError(f"the {self.name} state machine is wrong: " + "; ".join(problems))

    def owner(self, state: S) -> W:
        """Who is expected to act next on a thing in STATE."""
        return next(who for who, owned in self.owners.items() if state in owned)

    def can(self, state: S, action: A) -> bool:
        return (state, action) in self._rules

    def sources(self, action: A) -> list[S]:
        """The states from which ACTION is possible, in the enum's order."""
        return [s for s in self.states if (s, action) in self._rules]

    def transition(self, state: S, action: A, subject: str = "") -> Rule[S, A, W]:
        """The one rule for ACTION from STATE; MoveNotAllowed, saying from where it is possible,
        when there is none. SUBJECT names the thing in the message (default: "the <name>")."""
        rule = self._rules.get((state, action))
        if rule is None:
            subject = subject or f"the {self.name}"
            sources = self.sources(action)
            where = (
                f"'{action}' is possible only from {', '.join(sources)}"
                if sources
                else f"'{action}' is not a {self.name} action"
            )
            raise MoveNotAllowed(
                f"{subject} is {state}: {where}; nothing was changed", state, action
            )
        return rule

    def final(self) -> list[S]:
        """The states no rule leaves."""
        left = {r.source for r in self.rules}
        return [s for s in self.states if s not in left]

    def diagram(self) -> str:
        """The table as a Mermaid state diagram: one arrow per rule, labelled with its action
        and who makes it."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for r in self.rules:
            lines.append(f"    {r.source} --> {r.target}: {r.action} ({r.by})")
        lines += [f"    {state} --> [*]" for state in self.final()]
        return "\n".join(lines)
