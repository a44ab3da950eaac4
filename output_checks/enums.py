"""The airlock's vocabularies, in one place: every value it stores or shows is one of these.

A request's state, the moves between states and who owns each state; a checker's vote on a file
and the decision that votes make; what an automatic check says; the names of the events the
airlock writes to the audit log. The table that joins them (who may move a request from which
state to which) is :mod:`output_checks.states`; the mapping from moves to events is
:mod:`output_checks.events`. Both re-export what they used to define here, so
``from output_checks.states import RequestState`` keeps working.
"""

from __future__ import annotations

from enum import StrEnum


class RequestState(StrEnum):
    """Where a release request is (stored in release_requests.state)."""

    PENDING = "pending"
    SUBMITTED = "submitted"
    PARTIALLY_REVIEWED = "partially_reviewed"
    REVIEWED = "reviewed"
    APPROVED = "approved"
    RELEASED = "released"
    RETURNED = "returned"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Actor(StrEnum):
    """Who is expected to act next on a request in a state (its owner)."""

    AUTHOR = "author"
    CHECKER = "output checker"
    SYSTEM = "system"
    NOBODY = "nobody (final)"


class RequestAction(StrEnum):
    """The moves of a release request. A review is two moves: by fewer checkers than required
    (partly reviewed) and by as many as required (reviewed)."""

    SUBMIT = "submit"
    RESUBMIT = "resubmit"
    WITHDRAW = "withdraw"
    REVIEW_PARTLY = "review partly"
    REVIEW = "review"
    APPROVE = "approve"
    RETURN = "return"
    REJECT = "reject"
    RELEASE = "release"


class VoteChoice(StrEnum):
    """A checker's vote on one file (stored in release_votes)."""

    APPROVE = "approve"
    CHANGES = "changes"


class FileDecision(StrEnum):
    """What the votes on one file decide (shown to the checkers and the author)."""

    APPROVED = "approved"
    CHANGES_REQUESTED = "changes_requested"
    CONFLICTED = "conflicted"
    INCOMPLETE = "incomplete"


class CheckOutcome(StrEnum):
    """What one automatic check says about a file (stored in request_files and its checks)."""

    PASS = "pass"
    FAIL = "fail"
    REVIEW = "review"


class AirlockEvent(StrEnum):
    """The audit events the airlock records: one name per event, as stored in the audit log."""

    CREATE = "airlock.create"
    ADD_FILE = "airlock.add_file"
    WITHDRAW_FILE = "airlock.withdraw_file"
    # the author put a new version of a file in place of one of the request's (votes start afresh)
    REPLACE_FILE = "airlock.replace_file"
    CHECKS = "airlock.checks"
    VOTE = "airlock.vote"
    # a requested file's bytes shown or sent to a checker (before release, only checkers see them)
    SERVE_FILE = "airlock.serve_file"
    # an attempt the airlock refused (a file not the author's to request, a fetch by someone who
    # may not review, the approval or release of a file that failed its checks)
    REFUSED = "airlock.refused"
    # the airlock's copy of a file no longer matches the sha-256 recorded at submission
    TAMPERED = "airlock.tampered"
    # the workflow's moves (output_checks.states); both kinds of review are recorded as review
    SUBMIT = "airlock.submit"
    RESUBMIT = "airlock.resubmit"
    WITHDRAW = "airlock.withdraw"
    REVIEW = "airlock.review"
    # a checker submits their review of a turn: their draft votes count from then on, once
    SUBMIT_REVIEW = "airlock.submit_review"
    # a released file sent to one of the request's recipients
    DOWNLOAD = "airlock.download"
    APPROVE = "airlock.approve"
    RETURN = "airlock.return"
    REJECT = "airlock.reject"
    RELEASE = "airlock.release"


# Every stored value above that a person reads, in plain words, by kind: the pages, the CLI and
# the notifications show these, never the stored value (``partially_reviewed``,
# ``changes_requested``). A test proves every member of each kind has its words.
PLAIN_WORDS: dict[str, dict[str, str]] = {
    "state": {
        RequestState.PENDING: "draft (not yet submitted)",
        RequestState.SUBMITTED: "waiting for checkers",
        RequestState.PARTIALLY_REVIEWED: "reviewed by some checkers, waiting for more",
        RequestState.REVIEWED: "reviewed: checkers asked for changes or disagree",
        RequestState.APPROVED: "approved, ready to release",
        RequestState.RELEASED: "released",
        RequestState.RETURNED: "returned to the author for changes",
        RequestState.REJECTED: "rejected",
        RequestState.WITHDRAWN: "withdrawn by the author",
    },
    "decision": {
        FileDecision.APPROVED: "approved",
        FileDecision.CHANGES_REQUESTED: "changes asked for",
        FileDecision.CONFLICTED: "checkers disagree",
        FileDecision.INCOMPLETE: "not decided yet",
    },
    "check": {
        CheckOutcome.PASS: "passed",
        CheckOutcome.FAIL: "failed",
        CheckOutcome.REVIEW: "needs a checker's judgement",
    },
    "vote": {VoteChoice.APPROVE: "approve", VoteChoice.CHANGES: "ask for changes"},
}
KINDS: dict[str, type[StrEnum]] = {
    "state": RequestState,
    "decision": FileDecision,
    "check": CheckOutcome,
    "vote": VoteChoice,
}


def plain(kind: str, value: str | None) -> str:
    """VALUE of KIND (state, decision, check or vote) in the words people read. A check outcome
    not yet given is said as such; a value of no kind is an error, never shown raw."""
    if kind == "check" and not value:
        return "not checked yet"
    return PLAIN_WORDS[kind][str(value)]
