"""Policy changes reach running workspaces: a hub service that stops every workspace whose person
may no longer work in it.

Every ``--interval`` seconds (20 by default, so within a minute of the change) it lists the hub's
running named servers and asks the policy engine again, for each, whether its person may work on
its project now (``work_in_workspace``: the project active and not expired or suspended, the
person in its team, accredited, not suspended, the current terms accepted). A server the answer
is no for is stopped through the hub's REST API, and the stop is an audit event with every reason.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass
from datetime import date

from hub.events import HubEvent
from projects.policy import PolicyAction, decide
from tre import audit
from tre.instance import Instance, open_instance

ACTOR = "system:enforcer"


@dataclass(frozen=True)
class Stopped:
    user: str
    project: str
    reasons: str


def running(api_url: str, token: str) -> list[tuple[str, str]]:
    """(person, project) of every running or starting named server."""
    import requests

    headers = {"Authorization": f"token {token}"}
    answer = requests.get(
        f"{api_url}/users", headers=headers, timeout=10, params={"state": "active"}
    )
    answer.raise_for_status()
    out = []
    for user in answer.json():
        for name, server in (user.get("servers") or {}).items():
            if name and (server.get("ready") or server.get("pending") == "spawn"):
                out.append((user["name"], name))
    return out


def sweep(instance: Instance, api_url: str, token: str, at: date | None = None) -> list[Stopped]:
    """Stop the running workspaces the policy no longer allows; returns what was stopped."""
    import requests

    stopped = []
    for user, project in running(api_url, token):
        with instance.db.session() as session:
            decision = decide(session, user, PolicyAction.WORK_IN_WORKSPACE, project, at=at)
        if decision.allowed:
            continue
        try:
            answer = requests.delete(
                f"{api_url}/users/{user}/servers/{project}",
                headers={"Authorization": f"token {token}"},
                timeout=30,
            )
        except requests.RequestException as exc:
            print(f"could not stop {user}/{project}, trying next sweep: {exc}", flush=True)
            continue
        if answer.status_code not in (202, 204, 404):
            # one server the hub will not stop now (busy) must not spare the others
            print(f"could not stop {user}/{project} ({answer.status_code}): next sweep", flush=True)
            continue
        reasons = decision.message()
        with instance.db.session() as session:
            audit.record(
                session,
                ACTOR,
                HubEvent.WORKSPACE_STOP,
                "workspace",
                f"{user}/{project}",
                project=project,
                details={"person": user, "why": "policy", "reasons": reasons},
            )
        stopped.append(Stopped(user, project, reasons))
    return stopped


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval", type=float, default=20.0, help="seconds between sweeps")
    options = parser.parse_args(argv)
    api_url = os.environ["JUPYTERHUB_API_URL"]
    token = os.environ["JUPYTERHUB_API_TOKEN"]
    instance = open_instance(os.environ.get("TRE_HOME"))
    while True:
        try:
            for done in sweep(instance, api_url, token):
                print(f"stopped {done.user}/{done.project}: {done.reasons}", flush=True)
        except Exception as exc:  # a passing fault (the hub restarting): try again next time
            print(f"sweep failed, trying again in {options.interval:.0f} s: {exc}", flush=True)
        time.sleep(options.interval)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # the hub stops its services with SIGINT: a stop, not a fault
        sys.exit(0)
