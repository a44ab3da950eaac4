"""Hub groups mirror projects: a project's group holds the team members allowed to work in it now.

:func:`desired` computes them from the registry (``load_groups`` at start); :func:`sync` brings a
running hub in step through its REST API, called by the tre service every minute so that a
suspension, an expiry or a change of team reaches the hub.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from projects import registry
from projects.policy import PolicyAction, Role, decide
from tre.instance import Instance


def desired(instance: Instance, at: date | None = None) -> dict[str, dict[str, list[str]]]:
    out = {}
    with instance.db.session() as session:
        for found in registry.projects(session):
            members = sorted({m.person.username for m in found.current.members})
            allowed = [
                m
                for m in members
                if decide(session, m, PolicyAction.WORK_IN_WORKSPACE, found.id, at=at).allowed
            ]
            out[found.id] = {"users": allowed}
    return out


def people_by_role(instance: Instance) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    with instance.db.session() as session:
        for person in registry.people(session):
            if person.suspended:
                continue
            for role in person.role_names:
                out.setdefault(role, set()).add(person.username)
    return out


def operators(instance: Instance) -> set[str]:
    return people_by_role(instance).get(Role.OPERATOR, set())


def sync(api_url: str, token: str, wanted: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    """Make the hub's groups WANTED (creating, filling and emptying them); returns the changes."""
    import requests

    headers = {"Authorization": f"token {token}"}
    known_users = {
        u["name"] for u in requests.get(f"{api_url}/users", headers=headers, timeout=10).json()
    }
    current = {
        g["name"]: set(g["users"])
        for g in requests.get(f"{api_url}/groups", headers=headers, timeout=10).json()
    }
    changes: dict[str, Any] = {}
    for name, spec in wanted.items():
        want = set(spec["users"]) & known_users
        have = current.get(name)
        if have is None:
            requests.post(
                f"{api_url}/groups/{name}", headers=headers, timeout=10, json={"users": []}
            ).raise_for_status()
            have = set()
        add, remove = sorted(want - have), sorted(have - want)
        if add:
            requests.post(
                f"{api_url}/groups/{name}/users", headers=headers, timeout=10, json={"users": add}
            ).raise_for_status()
        if remove:
            requests.delete(
                f"{api_url}/groups/{name}/users",
                headers=headers,
                timeout=10,
                json={"users": remove},
            ).raise_for_status()
        if add or remove:
            changes[name] = {"added": add, "removed": remove}
    return changes
