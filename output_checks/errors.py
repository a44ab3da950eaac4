"""The airlock's refusals: each says what was wrong and what to do; nothing was changed."""

from __future__ import annotations

from output_checks.enums import AirlockEvent
from tre.errors import Refused, TreError


class AirlockError(TreError):
    """The request cannot be changed that way; nothing was changed."""


class AuditedRefusal(TreError):
    """A refusal the airlock records in the audit log (:func:`output_checks.history.audited`
    writes the event once the refused transaction has rolled back, so the refusal and its record
    never part)."""

    event = AirlockEvent.REFUSED
    audited = True  # the edges (web, CLI) do not record it again

    def __init__(self, message: str, file: str = "") -> None:
        super().__init__(message)
        self.file = file


class RefusedFile(AuditedRefusal, Refused):
    """A file that is not the author's to request, or not the asker's to see."""


class FailedFileRefused(AuditedRefusal, AirlockError):
    """The approval or release of a file whose automatic checks failed."""


class TamperedFile(AuditedRefusal, AirlockError):
    """The airlock's copy of a file no longer holds the bytes recorded at submission."""

    event = AirlockEvent.TAMPERED
    http_status = 409


class NotReleasedToYou(AuditedRefusal):
    """A released file (or release) asked for by someone the request does not name as a
    recipient, or one that does not exist: the same answer for both, so that nobody learns
    what was released to others."""

    http_status = 404
