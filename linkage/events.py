"""The audit events the data path records: one name per event, as stored in the audit log."""

from __future__ import annotations

from enum import StrEnum


class LinkageEvent(StrEnum):
    INGEST = "data.ingest"
    LINK = "data.link"
    LOOKUP = "data.lookup"
    EXTRACT = "data.extract"
    REVIEW = "data.review"
