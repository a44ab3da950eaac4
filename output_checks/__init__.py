"""The airlock: release requests, automatic checks (via sdc), two-checker review, release, ledger.

From a notebook: ``output_checks.request(instance, project, author, files, ...)``; see
:mod:`output_checks.airlock`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "request",
    "from_notebook",
    "add",
    "submit",
    "review",
    "release",
    "show",
    "queue",
    "stats",
    "release_dates",
]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from output_checks import airlock

        return getattr(airlock, name)
    raise AttributeError(name)
