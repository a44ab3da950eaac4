"""The audit events the airlock records, and the event each move of a request is recorded as.

The event names themselves are :class:`output_checks.enums.AirlockEvent`, named here too (where
they were first defined)."""

from __future__ import annotations

from output_checks.enums import AirlockEvent, RequestAction

__all__ = ["EVENT_OF_MOVE", "AirlockEvent"]


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
