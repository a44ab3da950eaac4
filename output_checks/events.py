"""The audit events the airlock records: one name per event, as stored in the audit log."""

from __future__ import annotations

from enum import StrEnum

from output_checks.states import RequestAction


class AirlockEvent(StrEnum):
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


EVENT_OF_MOVE: dict[RequestAction, AirlockEvent] = {
    RequestAction.SUBMIT: AirlockEvent.SUBMIT,
    RequestAction.RESUBMIT: AirlockEvent.RESUBMIT,
    RequestAction.WITHDRAW: AirlockEvent.WITHDRAW,
    RequestAction.REVIEW_PARTLY: AirlockEvent.REVIEW,
    RequestAction.REVIEW: AirlockEvent.REVIEW,
    RequestAction.APPROVE: AirlockEvent.APPROVE,
    RequestAction.RETURN: AirlockEvent.RETURN,
    RequestAction.REJECT: AirlockEvent.REJECT,
    RequestAction.RELEASE: AirlockEvent.RELEASE,
}
