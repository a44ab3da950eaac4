"""What each person sees first: the navigation of every page (only what they may use, in plain
words, with sign-out) and the tasks of their home page, by role, with counts.

The roles come from the registry (the hub's scopes are granted from the same roles, see
:mod:`hub.config`); the counts from the workflows that own them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from typing import Any

from output_checks import airlock
from projects import registry
from projects.approvals import approvals, requested_datasets
from projects.drafts import started
from projects.errors import RegistryError
from projects.policy import PREPARABLE, Role, effective_state, status
from projects.prepared import prepared_extract
from projects.states import State


def hub_prefix() -> str:
    """The hub's own pages (login, logout, spawn), as the browser reaches them."""
    return os.environ.get("JUPYTERHUB_BASE_URL", "/").rstrip("/") + "/hub"


def roles_of(instance, username: str | None) -> set[str]:
    if not username:
        return set()
    with instance.db.session() as session:
        try:
            return set(registry.person(session, username).role_names)
        except RegistryError:
            return set()


def frame(instance):
    """The ``frame`` setting of :func:`tre.web.application`: every page's navigation."""

    def values(handler) -> dict[str, Any]:
        username = handler.username
        scopes = handler.scopes
        roles = roles_of(instance, username)
        prefix = handler.prefix()
        links = []
        if username:
            links.append(("Home", f"{prefix}/"))
        if "custom:tre:lead" in scopes:
            links.append(("Register a project", f"{prefix}/projects/new/tasks"))
        if "custom:tre:approve" in scopes:
            links.append(("Decisions on your data", f"{prefix}/approvals/"))
        if "custom:tre:review" in scopes:
            links.append(("Airlock queue", f"{prefix}/airlock/"))
        if Role.OPERATOR in roles:
            links.append(("Operator", f"{prefix}/operator/"))
        links.append(("Transparency register", f"{prefix}/register/"))
        here = handler.request.path
        return {
            "nav": [
                {
                    "label": label,
                    "href": href,
                    "current": here == href or (href != f"{prefix}/" and here.startswith(href)),
                }
                for label, href in links
            ],
            "hub": hub_prefix(),
        }

    return values


@dataclass
class Task:
    title: str
    count: int | None  # None: a link without a count
    href: str
    detail: str = ""


def tasks(instance, username: str, scopes: set[str], prefix: str) -> list[Task]:
    """The home page's tasks of USERNAME, one group per role they hold, most pressing first."""
    from hub.governance import controller_requests

    today = date.today()
    roles = roles_of(instance, username)
    out: list[Task] = []
    with instance.db.session() as session:
        if "custom:tre:approve" in scopes:
            waiting, _ = controller_requests(session, username, today)
            out.append(
                Task(
                    "Decisions waiting for you",
                    len(waiting),
                    f"{prefix}/approvals/",
                    "requests to use your organisation's datasets",
                )
            )
        if "custom:tre:lead" in scopes:
            me = registry.person(session, username)
            led = [p for p in registry.projects(session) if p.current.lead_id == me.id]
            drafts = [p for p in led if effective_state(p, today) == State.DRAFT]
            if drafts:  # a draft is finished through its own task list
                out.append(
                    Task(
                        "Your projects to complete and submit",
                        len(drafts),
                        f"{prefix}/projects/{drafts[0].id}/edit/tasks",
                        "; ".join(f"{p.id}: {status(session, p, today)}" for p in drafts),
                    )
                )
            begun = started(session, username)
            if begun:  # the task list's answers kept so far
                out.append(
                    Task(
                        "Registrations you have started",
                        len(begun),
                        f"{prefix}/projects/{begun[0] + '/edit' if begun[0] else 'new'}/tasks",
                        "; ".join(f"amendment of {b}" if b else "a new project" for b in begun),
                    )
                )
        if Role.OPERATOR in roles:
            undecided = sum(
                len(set(requested_datasets(p)) - set(approvals(session, p)))
                for p in registry.projects(session)
                if effective_state(p, today) == State.SUBMITTED
            )
            out.append(
                Task(
                    "Decisions the data controllers have not made",
                    undecided,
                    f"{prefix}/operator/#pending",
                )
            )
            waiting_data = [
                p
                for p in registry.projects(session)
                if effective_state(p, today) in PREPARABLE and prepared_extract(session, p) is None
            ]
            out.append(
                Task(
                    "Projects waiting for you to prepare their data",
                    len(waiting_data),
                    f"{prefix}/operator/",
                    ", ".join(p.id for p in waiting_data),
                )
            )
    if "custom:tre:review" in scopes:
        queue = airlock.queue(instance, username)
        out.append(
            Task(
                "Release requests to review",
                sum(1 for r in queue if not r["my_votes"]),
                f"{prefix}/airlock/",
                f"{len(queue)} in the queue in all",
            )
        )
    return out
