"""The airlock: release requests, automatic checks (via sdc), two-checker review, release, ledger.

From a notebook in a project's workspace: ``notebooks.workspace.request_release(files, ...)``,
through the workspace's relay to the tre service; see :mod:`output_checks.airlock`.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "request",
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
