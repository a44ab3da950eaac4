"""A run started from the tre pages: it runs in the background while a page shows its progress
(refreshing itself every two seconds, no script), then says what happened, with links to the
run's page (its report) and to the request form for its outputs.

The run is :func:`notebooks.runner.run_runnable`'s, in a thread of the service (which answers
others meanwhile); it decides what may run. What a run in progress has done so far is kept in
the service's memory only (the run's record is written by the runner): a page of a run the
service no longer remembers (it restarted) says so and points to the runs on the home page.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tornado.web

from tre.errors import TreError
from tre.web import Page

# the runs in progress (and lately ended) the service remembers, at most
REMEMBERED = 200
# how often the progress page asks again, in seconds
REFRESH = 2


@dataclass
class RunInProgress:
    """A run started from the pages, as far as it got."""

    project: str
    person: str
    notebook: str
    started: float = field(default_factory=time.monotonic)
    cell: int = 0
    cells: int = 0
    source: str = ""
    ended: float | None = None
    run_id: str = ""
    status: str = ""
    error: str = ""
    refused: str = ""  # why it did not start

    def step(self, cell: int, cells: int, source: str) -> None:
        self.cell, self.cells, self.source = cell, cells, source

    @property
    def seconds(self) -> int:
        return round((self.ended or time.monotonic()) - self.started)

    @property
    def stage(self) -> str:
        """Where the run is now, in words."""
        if self.ended is not None:
            return "ended"
        if not self.cells:
            return "checking the extract and starting the kernel in the workspace's sandbox"
        # the runner tells each code cell as it starts; the reports are written after the last
        return f"running code cell {self.cell} of {self.cells}"


_runs: OrderedDict[str, RunInProgress] = OrderedDict()
_lock = threading.Lock()


def start(instance, project_id: str, person: str, notebook: str) -> str:
    """Start NOTEBOOK for PERSON in PROJECT_ID in a thread; the token of its progress page."""
    from notebooks.runner import run_runnable

    token = secrets.token_urlsafe(12)
    progress = RunInProgress(project_id, person, notebook)
    with _lock:
        _runs[token] = progress
        while len(_runs) > REMEMBERED:
            _runs.popitem(last=False)

    def work() -> None:
        try:
            result = run_runnable(instance, project_id, person, notebook, progress=progress.step)
            progress.run_id, progress.status, progress.error = (
                result.id,
                result.status,
                result.error,
            )
        except TreError as problem:  # refused, or not runnable: nothing was run
            progress.refused = str(problem)
        except Exception as exc:  # the page says so rather than waiting for ever
            progress.refused = f"the run could not be made ({type(exc).__name__}: {exc})"
        finally:
            progress.ended = time.monotonic()

    threading.Thread(target=work, name=f"tre-run-{token}", daemon=True).start()
    return token


def remembered(token: str, person: str) -> RunInProgress | None:
    """The run in progress TOKEN names when PERSON started it (anyone else: None)."""
    with _lock:
        found = _runs.get(token)
    return found if found is not None and found.person == person else None


class StartRun(Page):
    """Run a study, or a notebook of the person's own workspace, in the project's scope (papermill,
    with provenance, in the workspace's sandbox as the person): started, and answered at once
    with the page of its progress."""

    def post(self, project_id: str) -> None:
        from notebooks.runner import check_runnable

        notebook = self.get_body_argument("study")
        # a refusal (the policy, or a name that is not runnable) answers at once, with its reasons
        check_runnable(self.instance, project_id, self.person, notebook)
        token = start(self.instance, project_id, self.person, notebook)
        self.redirect(f"{self.prefix()}/projects/{project_id}/runs/progress/{token}", status=303)


class RunProgress(Page):
    """The progress of a run started from the pages; when it ends, what happened."""

    def get(self, project_id: str, token: str) -> None:
        found = remembered(token, self.person)
        if found is None or found.project != project_id:
            raise tornado.web.HTTPError(
                404,
                reason="this service does not remember that run (it may have restarted): your "
                "runs are listed on the home page",
            )
        outputs: list[Any] = []
        if found.run_id:
            from notebooks.runs import get_run, requestable_files

            outputs = requestable_files(get_run(self.instance, found.run_id))
        if found.ended is None:
            self.set_header("Refresh", str(REFRESH))
        self.page(
            "run_progress.html",
            run=found,
            project=project_id,
            outputs=outputs,
            refresh=REFRESH if found.ended is None else None,
        )


class RunPage(Page):
    """A run of the person's own: its record (notebook, parameters, times, status, error, files)
    and its report, shown in a frame without scripts."""

    def get(self, project_id: str, run_id: str) -> None:
        from notebooks.runs import REPORT, files_folder, requestable_files
        from output_checks.requestable import human_time

        found = own_run(self, project_id, run_id)
        self.page(
            "run.html",
            run=found,
            project=project_id,
            started=human_time(found.started),
            ended=human_time(found.ended) if found.ended else "",
            outputs=requestable_files(found),
            has_report=(files_folder(Path(found.folder)) / REPORT).is_file(),
        )


class RunReport(Page):
    """The report (with code) of a run of the person's own, for the frame of its page only: no
    script runs, nothing is fetched (``Content-Security-Policy: sandbox; default-src 'none'``)."""

    def get(self, project_id: str, run_id: str) -> None:
        from notebooks.runs import REPORT, files_folder
        from output_checks.store import read_regular

        found = own_run(self, project_id, run_id)
        content = read_regular(files_folder(Path(found.folder)) / REPORT)
        if content is None:
            raise tornado.web.HTTPError(404, reason=f"run {run_id} has no report")
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header(
            "Content-Security-Policy",
            "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
        )
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.finish(content)


def own_run(page: Page, project_id: str, run_id: str):
    """The run RUN_ID of PROJECT_ID when it is the signed-in person's; else the same 404."""
    from notebooks.runs import RunError, get_run

    try:
        found = get_run(page.instance, run_id)
    except RunError:
        found = None
    if found is None or found.project_id != project_id or found.person != page.person:
        raise tornado.web.HTTPError(404, reason=f"you have no run {run_id} in {project_id}")
    return found


def routes() -> list[tuple[str, type[Page]]]:
    return [
        (r"/projects/([a-z0-9-]+)/runs", StartRun),
        (r"/projects/([a-z0-9-]+)/runs/progress/([\w-]+)", RunProgress),
        (r"/projects/([a-z0-9-]+)/runs/(run-[\w-]+)/report", RunReport),
        (r"/projects/([a-z0-9-]+)/runs/(run-[\w-]+)/?", RunPage),
    ]
