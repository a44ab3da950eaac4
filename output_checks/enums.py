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
    APPROVE = "airlock.approve"
    RETURN = "airlock.return"
    REJECT = "airlock.reject"
    RELEASE = "airlock.release"
