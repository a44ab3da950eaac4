import pytest

from notebooks.states import (
    EVENT_OF_STATUS,
    OWNERS,
    RUNS,
    TRANSITIONS,
    RunAction,
    RunActor,
    RunStatus,
)
from tre.states import MoveNotAllowed


def test_every_status_has_exactly_one_owner():
    for status in RunStatus:
        assert sum(status in owned for owned in OWNERS.values()) == 1, status
    assert RUNS.owner(RunStatus.RUNNING) == RunActor.RUNNER


def test_every_transition_is_allowed_by_exactly_one_rule():
    moves = [(t.source, t.action) for t in TRANSITIONS]
    assert len(moves) == len(set(moves))
    for t in TRANSITIONS:
        assert RUNS.transition(t.source, t.action) is t
    assert RUNS.transition(RunStatus.RUNNING, RunAction.SUCCEED).target == RunStatus.SUCCEEDED
    assert RUNS.transition(RunStatus.RUNNING, RunAction.FAIL).target == RunStatus.FAILED


@pytest.mark.parametrize("ended", [RunStatus.SUCCEEDED, RunStatus.FAILED])
@pytest.mark.parametrize("action", list(RunAction))
def test_an_ended_run_never_moves_again(ended, action):
    assert ended in RUNS.final()
    with pytest.raises(MoveNotAllowed, match=f"^run r1 is {ended}: '{action}' is possible only"):
        RUNS.transition(ended, action, "run r1")


def test_each_ending_is_audited_under_the_names_the_log_has_always_used():
    assert {str(EVENT_OF_STATUS[s]) for s in RUNS.final()} == {"run.succeeded", "run.failed"}
    assert [str(s) for s in RunStatus] == ["running", "succeeded", "failed"]
