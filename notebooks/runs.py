"""Runs, as other components may know them: ids, statuses, a run's folder and the names of its
records, reading a run's record, and the files of a run that may be requested for release.

The runner (:mod:`notebooks.runner`) makes runs; the airlock, the web service and the CLI read
them through this module only.

A run's folder, ``projects/<id>/outputs/<run-id>/``, is a BagIt bag: its files are in the bag's
payload, ``<run-id>/data/``. Paths of a run's files are given relative to the project's outputs
folder (``<run-id>/data/<file>``), as release requests name them.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notebooks.models import Run
from notebooks.states import RunStatus
from tre.audit import utc_now
from tre.errors import TreError
from tre.instance import Instance

SUCCEEDED, FAILED, RUNNING = RunStatus.SUCCEEDED, RunStatus.FAILED, RunStatus.RUNNING

PAYLOAD = "data"
NOTEBOOK = "notebook.ipynb"
REPORT = "report.html"
REPORT_NO_CODE = "report-no-code.html"
RECORD = "run.json"
SOURCE = "source.ipynb"
ERROR = "error.txt"
CRATE = "ro-crate-metadata.json"
# a run's own records: they stay inside (the airlock refuses them); the reports may be requested
RECORDS = (SOURCE, NOTEBOOK, RECORD, CRATE, ERROR)
RUN_FILES = RECORDS + (REPORT, REPORT_NO_CODE)


# how a notebook of the person's own workspace is named when run (``workspace/PATH``)
WORKSPACE_PREFIX = "workspace/"


class RunError(TreError):
    """The notebook or its parameters are not usable; nothing was run."""


# what new_run_id makes: run-YYYYMMDD-HHMMSS-xxxx
RUN_ID = r"run-\d{8}-\d{6}-[0-9a-f]{4}"
# a run's sandbox: a folder of the system's tempdir named SANDBOX_PREFIX<run id>-<random>
SANDBOX_PREFIX = "tre-run-"
SANDBOX_NAME = re.compile(rf"{SANDBOX_PREFIX}({RUN_ID})-[A-Za-z0-9_]+")


def new_run_id() -> str:
    stamp = utc_now()[:19].replace("-", "").replace(":", "").replace("T", "-")
    return f"run-{stamp}-{secrets.token_hex(2)}"


def sandbox_prefix(run_id: str) -> str:
    """The start of the name of RUN_ID's sandbox folder in the system's tempdir."""
    return f"{SANDBOX_PREFIX}{run_id}-"


# ---------------------------------------------------------------------------------------------
# A run's files


def files_folder(run_folder: Path) -> Path:
    """Where a run's files are: the payload of the run's bag."""
    return run_folder / PAYLOAD


def output_path(run_id: str, file: str) -> str:
    """FILE of run RUN_ID, relative to the project's outputs folder."""
    return f"{run_id}/{PAYLOAD}/{file}"


def run_of_output(relative: PurePath) -> str | None:
    """The id of the run whose file RELATIVE (to the outputs folder) is, or None when RELATIVE
    is not a file of a run."""
    parts = relative.parts
    if len(parts) < 3 or parts[1] != PAYLOAD:
        return None
    return parts[0]


def is_record(name: str) -> bool:
    """Whether NAME is one of a run's own records, which never leave (the notebook, its source,
    the provenance record, the crate, the error)."""
    return name in RECORDS


@dataclass(frozen=True)
class RunFile:
    path: str  # relative to the project's outputs folder
    file: str  # relative to the run's files
    has_evidence: bool


def requestable_files(found: Run) -> list[RunFile]:
    """The files of a succeeded run an analyst may ask to release: its outputs (not their
    evidence, which stays in the airlock) and its report without code."""
    if found.status != SUCCEEDED:
        return []
    files = [
        RunFile(output_path(found.id, o["file"]), o["file"], bool(o["has_evidence"]))
        for o in found.outputs
        if o["evidence_of"] is None
    ]
    return files + [RunFile(output_path(found.id, REPORT_NO_CODE), REPORT_NO_CODE, False)]


# ---------------------------------------------------------------------------------------------
# Reading runs


def runs(instance: Instance, project_id: str | None = None) -> list[Run]:
    """Every run (or PROJECT_ID's), newest first."""
    with instance.db.session() as session:
        query = select(Run).order_by(Run.started.desc())
        if project_id:
            query = query.where(Run.project_id == project_id)
        found = list(session.scalars(query))
        session.expunge_all()
    return found


def run_record(session: Session, run_id: str) -> Run | None:
    """The run's record in the caller's transaction (for other components' checks)."""
    return session.get(Run, run_id)


def get_run(instance: Instance, run_id: str) -> Run:
    with instance.db.session() as session:
        found = session.get(Run, run_id)
        if found is None:
            raise RunError(f"there is no run {run_id} (`tre runs list` lists them)")
        session.expunge(found)
    return found


def describe_run(found: Run) -> dict[str, Any]:
    return {column.name: getattr(found, column.name) for column in Run.__table__.columns}
