"""Errors of the registry: sentences that say what was wrong and what to do."""

from tre.errors import TreError


class RegistryError(TreError):
    """Bad input or a request the registry cannot carry out; nothing was changed."""
