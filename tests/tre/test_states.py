from enum import StrEnum

import pytest

from tre.errors import TreError
from tre.states import MachineError, MoveNotAllowed, Rule, StateMachine


class Door(StrEnum):
    OPEN = "open"
    SHUT = "shut"
    LOCKED = "locked"


class Push(StrEnum):
    CLOSE = "close"
    LOCK = "lock"
    OPEN = "open"


class Who(StrEnum):
    ANYONE = "anyone"
    KEEPER = "key holder"


RULES = (
    Rule(Door.OPEN, Push.CLOSE, Door.SHUT, Who.ANYONE, "someone closes it"),
    Rule(Door.SHUT, Push.OPEN, Door.OPEN, Who.ANYONE, "someone opens it"),
    Rule(Door.SHUT, Push.LOCK, Door.LOCKED, Who.KEEPER, "the key holder locks it"),
)
OWNERS = {Who.ANYONE: {Door.OPEN, Door.SHUT}, Who.KEEPER: {Door.LOCKED}}


def door(rules=RULES, owners=OWNERS):
    return StateMachine("door", Door, rules, owners, initial=Door.OPEN)


def test_two_rules_for_the_same_move_are_refused_when_the_machine_is_built():
    twice = (*RULES, Rule(Door.SHUT, Push.LOCK, Door.OPEN, Who.KEEPER, "a second, clashing rule"))
    with pytest.raises(MachineError, match="two rules for 'lock' from shut .to locked and to open"):
        door(twice)


def test_a_state_without_an_owner_or_with_two_is_refused():
    with pytest.raises(MachineError, match="state locked must have exactly one owner, not nobody"):
        door(owners={Who.ANYONE: {Door.OPEN, Door.SHUT}})
    with pytest.raises(MachineError, match="state shut must have exactly one owner"):
        door(owners={Who.ANYONE: {Door.OPEN, Door.SHUT}, Who.KEEPER: {Door.SHUT, Door.LOCKED}})


def test_a_rule_over_another_machines_states_is_refused():
    class Window(StrEnum):
        AJAR = "ajar"

    stray = (*RULES, Rule(Window.AJAR, Push.CLOSE, Door.SHUT, Who.ANYONE, "not a door"))
    with pytest.raises(MachineError, match="not a door state"):
        door(stray)


def test_transition_returns_the_one_rule_and_refuses_any_other_move():
    machine = door()
    assert machine.transition(Door.SHUT, Push.LOCK) is RULES[2]
    with pytest.raises(MoveNotAllowed) as refused:
        machine.transition(Door.LOCKED, Push.OPEN, "the front door")
    assert str(refused.value) == (
        "the front door is locked: 'open' is possible only from shut; nothing was changed"
    )
    assert isinstance(refused.value, TreError)  # the CLI prints it as a sentence
    assert (refused.value.state, refused.value.action) == (Door.LOCKED, Push.OPEN)
    with pytest.raises(MoveNotAllowed, match="^the door is open: 'lock' is possible only from"):
        machine.transition(Door.OPEN, Push.LOCK)
    assert machine.can(Door.OPEN, Push.CLOSE) and not machine.can(Door.OPEN, Push.OPEN)


def test_owner_final_states_and_diagram_come_from_the_table():
    machine = door()
    assert machine.owner(Door.LOCKED) == Who.KEEPER
    assert machine.final() == [Door.LOCKED]
    assert machine.diagram() == "\n".join(
        [
            "stateDiagram-v2",
            "    [*] --> open",
            "    open --> shut: close (anyone)",
            "    shut --> open: open (anyone)",
            "    shut --> locked: lock (key holder)",
            "    locked --> [*]",
        ]
    )
