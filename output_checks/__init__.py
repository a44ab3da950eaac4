"""The airlock: release requests, automatic checks (via sdc), two-checker review, release, ledger.

From a notebook: ``output_checks.request(instance, project, author, files, ...)``; see
:mod:`output_checks.airlock`.
"""

from __future__ import annotations

from typing import Any

from projects import register as _register

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
]


def _release_dates(session, project_id: str) -> list[str]:
    from output_checks.airlock import release_dates

    return release_dates(session, project_id)


# the transparency register counts releases per project
if _release_dates not in _register.RELEASES:
    _register.RELEASES.append(_release_dates)


def __getattr__(name: str) -> Any:
    if name in __all__:
        from output_checks import airlock

        return getattr(airlock, name)
    raise AttributeError(name)
