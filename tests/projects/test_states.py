import itertools

import pytest

from projects import states
from projects.states import TRANSITIONS, Actor, State


def test_every_state_has_exactly_one_owner():
    for state in State:
        owners = [actor for actor, owned in states.OWNERS.items() if state in owned]
        assert len(owners) == 1, state


def test_every_transition_has_exactly_one_rule():
    pairs = [(t.action, t.source, t.target) for t in TRANSITIONS]
    assert len(pairs) == len(set(pairs))
    for source, target in itertools.product(State, State):
        rules = [
            t
            for t in TRANSITIONS
            if t.source == source and t.target == target and t.action != "amend"
        ]
        assert len(rules) <= 1, (source, target)


def test_only_closed_and_expired_are_final():
    sources = {t.source for t in TRANSITIONS}
    assert set(State) - sources == {State.CLOSED, State.EXPIRED}
    assert states.OWNERS[Actor.NOBODY] == {State.CLOSED, State.EXPIRED}


@pytest.mark.parametrize("action", sorted({t.action for t in TRANSITIONS}))
@pytest.mark.parametrize("source", list(State))
def test_transition_lookup_allows_exactly_the_table(action, source):
    rule = states.transition(action, source)
    expected = [t for t in TRANSITIONS if t.action == action and t.source == source]
    assert (rule is None) == (not expected)


def test_diagram_lists_every_transition():
    text = states.diagram()
    for t in TRANSITIONS:
        assert f"{t.source} --> {t.target}: {t.action}" in text
