"""A notebook run's status and what moves it: states as data (a :class:`tre.states.StateMachine`).

A run is recorded as running before papermill starts, with the process that runs it, and the
runner records how it ended. A run whose process ended first (a restart or a crash) is failed by
recovery (:mod:`notebooks.recovery`), its own actor with its own rule: nothing else fails a run.
"""

from __future__ import annotations

from enum import StrEnum

from tre.states import Rule, StateMachine


class RunStatus(StrEnum):
    """A run's status (stored in runs.status and in its run.json)."""

    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RunAction(StrEnum):
    SUCCEED = "succeed"
    FAIL = "fail"
    FAIL_INTERRUPTED = "fail interrupted"


class RunActor(StrEnum):
    RUNNER = "runner"
    RECOVERY = "recovery"
    NOBODY = "nobody (final)"


class RunEvent(StrEnum):
    """The audit events the runner (and recovery) records."""

    START = "run.start"
    SUCCEEDED = "run.succeeded"
    FAILED = "run.failed"
    SANDBOX_REMOVED = "run.sandbox_removed"
    # a run that ended after recovery had failed it: its ending is not recorded
    LATE_ENDING = "run.late_ending"


OWNERS: dict[RunActor, set[RunStatus]] = {
    RunActor.RUNNER: {RunStatus.RUNNING},
    RunActor.NOBODY: {RunStatus.SUCCEEDED, RunStatus.FAILED},
}

TRANSITIONS: tuple[Rule[RunStatus, RunAction, RunActor], ...] = (
    Rule(
        RunStatus.RUNNING,
        RunAction.SUCCEED,
        RunStatus.SUCCEEDED,
        RunActor.RUNNER,
        "every cell ran without an error",
    ),
    Rule(
        RunStatus.RUNNING,
        RunAction.FAIL,
        RunStatus.FAILED,
        RunActor.RUNNER,
        "a cell raised an error, or the kernel died or could not start",
    ),
    Rule(
        RunStatus.RUNNING,
        RunAction.FAIL_INTERRUPTED,
        RunStatus.FAILED,
        RunActor.RECOVERY,
        "the process running it ended before the run did (a restart or a crash)",
    ),
)

RUNS: StateMachine[RunStatus, RunAction, RunActor] = StateMachine(
    "run",
    RunStatus,
    TRANSITIONS,
    OWNERS,
    initial=RunStatus.RUNNING,
    description=(
        "A papermill run of a study notebook: recorded as running before it starts, "
        "then succeeded or failed, for good; failed by recovery when the process running it "
        "ended before it did."
    ),
)

# how each ending is audited
EVENT_OF_STATUS: dict[RunStatus, RunEvent] = {
    RunStatus.SUCCEEDED: RunEvent.SUCCEEDED,
    RunStatus.FAILED: RunEvent.FAILED,
}
