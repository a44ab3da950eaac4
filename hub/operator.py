"""The operator's page of the tre service: the instance at a glance, and its reports.

    /operator/                   status, audit head, pending approvals, the airlock queue,
                                 running workspaces, recent refusals, the reports
    /operator/reports/NAME.html  a data-quality (ingest) or linkage report, as linkage wrote it

Only a registered person with the operator role reads them (the policy engine's
``administer_registry``): the reports describe every agency's records.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from datetime import date
from pathlib import Path
from typing import Any

import tornado.web

from output_checks import airlock
from output_checks.states import UNDER_REVIEW
from projects import registry
from projects.approvals import approvals, requested_datasets
from projects.policy import PREPARABLE, PolicyAction, decide, effective_state, status
from projects.prepared import prepared_extract
from projects.states import State
from tre import audit
from tre.db import current_revision
from tre.errors import Refused
from tre.web import Page

REPORT_NAME = re.compile(r"^(?:quality|linkage)-[A-Za-z0-9_.-]+\.html$")
# how long the page waits for the hub's list of running servers
HUB_TIMEOUT_SECONDS = 5


class OperatorOnly(Page):
    def prepare(self) -> None:
        super().prepare()
        if self._finished:
            return
        with self.instance.db.session() as session:
            allowed = decide(session, self.person, PolicyAction.ADMINISTER_REGISTRY).allowed
        if not allowed:
            raise Refused(f"this page is for operators, and {self.person} is not one")


def reports(instance) -> list[dict[str, Any]]:
    """The HTML reports linkage wrote (data quality of each ingest, each linkage run), newest
    first."""
    folder = instance.folder("reports")
    if not folder.is_dir():
        return []
    found = [
        path
        for path in folder.iterdir()
        if REPORT_NAME.match(path.name) and path.is_file() and not path.is_symlink()
    ]
    found.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    return [
        {
            "name": path.name,
            "kind": "Data quality of an ingest"
            if path.name.startswith("quality-")
            else "Record linkage run",
            "modified": date.fromtimestamp(path.stat().st_mtime),
            "size": path.stat().st_size,
        }
        for path in found
    ]


def running_workspaces() -> list[dict[str, str]] | None:
    """The workspaces the hub runs now (person, project, since), or None where the service
    does not run under the hub (no API to ask)."""
    import requests

    url, token = os.environ.get("JUPYTERHUB_API_URL"), os.environ.get("JUPYTERHUB_API_TOKEN")
    if not url or not token:
        return None
    answer = requests.get(
        f"{url}/users",
        params={"state": "active"},
        headers={"Authorization": f"token {token}"},
        timeout=HUB_TIMEOUT_SECONDS,
    )
    answer.raise_for_status()
    return sorted(
        (
            {"person": user["name"], "project": name, "since": server.get("started") or ""}
            for user in answer.json()
            for name, server in (user.get("servers") or {}).items()
            if server.get("ready")
        ),
        key=lambda s: (s["project"], s["person"]),
    )


class OperatorPage(OperatorOnly):
    async def get(self) -> None:
        try:
            workspaces = await asyncio.get_running_loop().run_in_executor(None, running_workspaces)
            hub_problem = None
        except Exception as exc:  # the hub restarting: the rest of the page still answers
            workspaces, hub_problem = None, f"the hub did not answer ({exc.__class__.__name__})"
        self.page("operator.html", **self._status(), workspaces=workspaces, hub_problem=hub_problem)

    def _status(self) -> dict[str, Any]:
        instance = self.instance
        today = date.today()
        with instance.db.session() as session:
            projects = registry.projects(session)
            by_state: dict[str, int] = {}
            pending, unprepared = [], []
            for found in projects:
                state = effective_state(found, today)
                by_state[state.value] = by_state.get(state.value, 0) + 1
                if state == State.SUBMITTED:
                    decided = approvals(session, found)
                    for dataset_id in requested_datasets(found):
                        if dataset_id not in decided:
                            pending.append(
                                {
                                    "project": found.id,
                                    "dataset": dataset_id,
                                    "controller": registry.dataset(
                                        session, dataset_id
                                    ).controller.name,
                                }
                            )
                if state in PREPARABLE and prepared_extract(session, found) is None:
                    unprepared.append(
                        {"project": found.id, "status": status(session, found, today)}
                    )
            head = next(
                (
                    {"seq": e.seq, "action": e.action, "actor": e.actor, "at": e.at, "hash": e.hash}
                    for e in audit.events(session, limit=1)
                ),
                None,
            )
            refusals = [
                {
                    "at": event.at,
                    "who": event.actor,
                    "what": event.action,
                    "where": event.object_id,
                    "reason": _refusal_reason(event.details),
                }
                for event in audit.events(session, limit=200)
                if is_refusal(event.action)
            ][-10:][::-1]
            events = audit.count(session)
        anchored = instance.audit_anchor().read_head()
        queue = [r for r in airlock.requests(instance) if r["state"] in UNDER_REVIEW]
        return {
            "name": instance.settings.instance.name,
            "home": str(instance.home),
            "database": instance.db.engine.dialect.name,
            "revision": current_revision(instance.db.engine),
            "by_state": dict(sorted(by_state.items())),
            "pending": pending,
            "unprepared": unprepared,
            "events": events,
            "head": head,
            "anchored": anchored,
            "refusals": refusals,
            "queue": queue,
            "reports": reports(instance),
        }


class ReportPage(OperatorOnly):
    """One report, as linkage wrote it: only a name of the reports folder's own listing, never
    a path; served in a sandbox (no script, nothing fetched, no form)."""

    def get(self, name: str) -> None:
        folder: Path = self.instance.folder("reports")
        if name not in {r["name"] for r in reports(self.instance)}:
            raise tornado.web.HTTPError(
                404, reason="there is no such report; the operator's page lists them"
            )
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header(
            "Content-Security-Policy",
            "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:",
        )
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("X-Frame-Options", "SAMEORIGIN")
        self.finish((folder / name).read_bytes())


def routes() -> list[tuple[str, type[Page]]]:
    return [
        (r"/operator/?", OperatorPage),
        (r"/operator/reports/([^/]+)", ReportPage),
    ]


def is_refusal(action: str) -> bool:
    """Every refusal the audit log holds, whichever part refused: ``access.refused``,
    ``airlock.refused``, ``workspace.refused``, ``hub.login_refused`` and any later one."""
    return action.endswith((".refused", "_refused"))


def _refusal_reason(details: str) -> str:
    """The reason a refusal event gives (``reason``, or ``reasons`` as the hub records them)."""
    found = json.loads(details or "{}")
    reason = found.get("reason") or found.get("reasons") or ""
    return reason if isinstance(reason, str) else "; ".join(map(str, reason))
