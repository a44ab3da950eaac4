"""Analyses: the study notebooks and the papermill runner that executes them in a project's scope.

``notebooks.run(instance, notebook, project, person, parameters)`` runs a notebook with full
provenance (see :mod:`notebooks.runner`); :mod:`notebooks.runs` is what other components read of
runs; :mod:`notebooks.workspace` is what a notebook uses to read its project's extract and write
its outputs.
"""

from __future__ import annotations

from typing import Any

__all__ = ["run", "get_run", "studies"]


def __getattr__(name: str) -> Any:
    if name in ("run", "studies"):
        from notebooks import runner

        return getattr(runner, name)
    if name == "get_run":
        from notebooks import runs

        return runs.get_run
    raise AttributeError(name)
