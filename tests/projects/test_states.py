import pytest

from projects.events import EVENT_OF_MOVE
from projects.states import LIFECYCLE, OWNERS, TRANSITIONS, Actor, ProjectAction, State
from tre.states import MoveNotAllowed


def test_every_state_has_exactly_one_owner():
    for state in State:
        owners = [actor for actor, owned in OWNERS.items() if state in owned]
        assert len(owners) == 1, state
        assert LIFECYCLE.owner(state) == owners[0]


def test_every_transition_is_allowed_by_exactly_one_rule_amend_included():
    moves = [(t.source, t.action) for t in TRANSITIONS]
    assert len(moves) == len(set(moves))
    for t in TRANSITIONS:
        assert LIFECYCLE.transition(t.source, t.action) is t
    # an amendment goes where its kind (narrowing or widening) says, never where the first
    # rule happens to lead
    amended = {
        (source, action): LIFECYCLE.transition(source, action).target
        for source in (State.DRAFT, State.SUBMITTED, State.APPROVED, State.ACTIVE)
        for action in (ProjectAction.AMEND, ProjectAction.AMEND_WIDENING)
    }
    assert amended == {
        (State.DRAFT, ProjectAction.AMEND): State.DRAFT,
        (State.DRAFT, ProjectAction.AMEND_WIDENING): State.DRAFT,
        (State.SUBMITTED, ProjectAction.AMEND): State.SUBMITTED,
        (State.SUBMITTED, ProjectAction.AMEND_WIDENING): State.SUBMITTED,
        (State.APPROVED, ProjectAction.AMEND): State.APPROVED,
        (State.APPROVED, ProjectAction.AMEND_WIDENING): State.SUBMITTED,
        (State.ACTIVE, ProjectAction.AMEND): State.ACTIVE,
        (State.ACTIVE, ProjectAction.AMEND_WIDENING): State.SUBMITTED,
    }


def test_only_closed_and_expired_are_final():
    assert LIFECYCLE.final() == [State.CLOSED, State.EXPIRED]
    assert OWNERS[Actor.NOBODY] == {State.CLOSED, State.EXPIRED}


@pytest.mark.parametrize(
    ("source", "action", "sentence"),
    [
        (
            State.SUBMITTED,
            ProjectAction.SUBMIT,
            "is submitted: 'submit' is possible only from draft",
        ),
        (
            State.DRAFT,
            ProjectAction.CLOSE,
            "is draft: 'close' is possible only from active, suspended",
        ),
        (
            State.SUSPENDED,
            ProjectAction.AMEND,
            "is suspended: 'amend' is possible only from draft, submitted, approved, active",
        ),
        (State.CLOSED, ProjectAction.REINSTATE, "is closed: 'reinstate' is possible only from"),
        (State.EXPIRED, ProjectAction.ACTIVATE, "is expired: 'activate' is possible only from"),
    ],
)
def test_a_move_outside_the_table_is_refused_with_a_sentence(source, action, sentence):
    with pytest.raises(MoveNotAllowed, match=sentence) as refused:
        LIFECYCLE.transition(source, action, "project p1")
    assert str(refused.value).startswith("project p1 ")
    assert str(refused.value).endswith("nothing was changed")
    assert not LIFECYCLE.can(source, action)


def test_diagram_lists_every_transition():
    text = LIFECYCLE.diagram()
    for t in TRANSITIONS:
        assert f"{t.source} --> {t.target}: {t.action} ({t.by})" in text
    assert "    closed --> [*]" in text and "    [*] --> draft" in text


def test_every_move_is_audited_under_its_own_name():
    assert set(EVENT_OF_MOVE) == set(ProjectAction)
    for action, event in EVENT_OF_MOVE.items():
        expected = "amend" if action == ProjectAction.AMEND_WIDENING else action.value
        assert event == f"project.{expected}"
