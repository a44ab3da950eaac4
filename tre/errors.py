"""Errors a person can meet: each is a sentence saying what was wrong and what to do."""


class TreError(Exception):
    """A problem the user can fix. The CLI prints the message, never a traceback."""

    exit_code = 1
    # the HTTP status the web service answers it with
    http_status = 400


class SettingsError(TreError):
    """The instance's tre.toml (or its location) is not usable."""

    exit_code = 2


class InstanceError(TreError):
    """No instance, or an instance that cannot be created or opened."""

    exit_code = 2


class Refused(TreError):
    """The policy engine refused an action; the message lists every reason."""

    exit_code = 3
    http_status = 403
