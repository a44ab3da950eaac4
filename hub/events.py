"""The audit events the safe setting records: one name per event, as stored in the audit log."""

from __future__ import annotations

from enum import StrEnum


class HubEvent(StrEnum):
    LOGIN = "hub.login"
    LOGIN_FAILED = "hub.login_failed"
    LOGIN_REFUSED = "hub.login_refused"
    WORKSPACE_START = "workspace.start"
    WORKSPACE_REFUSED = "workspace.refused"
    WORKSPACE_STOP = "workspace.stop"
