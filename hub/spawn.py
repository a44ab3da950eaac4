"""Spawn-time scoping: may this person work on this project now, and with what.

:func:`plan` asks the policy engine (``work_in_workspace``: an active project, the person an
analyst in its team, accredited, not suspended, the terms accepted) and returns the workspace's
folders and environment, or raises :class:`Refused` with every reason. The hub's
``pre_spawn_hook`` (:func:`pre_spawn_hook`) turns a refusal into a page the person reads.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from projects import registry
from projects.policy import decide
from tre.errors import Refused
from tre.folders import ProjectFolders
from tre.instance import Instance

ADMIN_CONFIG = Path(__file__).parent / "admin-config"


@dataclass
class SpawnPlan:
    project: str
    workspace: Path
    data: Path
    outputs: Path
    environment: dict[str, str]


def plan(instance: Instance, username: str, server_name: str, at: date | None = None) -> SpawnPlan:
    if not server_name:
        raise Refused(
            "start a workspace for one of your projects (the default server is not used: every "
            "workspace is named after its project)"
        )
    with instance.db.session() as session:
        decision = decide(session, username, "work_in_workspace", server_name, at=at)
        if not decision.allowed:
            raise Refused(decision.message())
        found = registry.project(session, server_name)
        policy = registry.project_policy(found, instance.settings.policy)
    folders = ProjectFolders.of(instance, server_name)
    person_space = folders.workspace / username
    person_space.mkdir(parents=True, exist_ok=True)
    folders.outputs.mkdir(parents=True, exist_ok=True)
    _copy_studies(person_space)
    interactive = folders.outputs / f"workspace-{username}"
    environment = {
        "TRE_PROJECT": server_name,
        "TRE_DATA": str(folders.data),
        "TRE_OUTPUTS": str(interactive),
        "TRE_DISCLOSURE_POLICY": policy.to_json(),
        "TRE_HOME": str(instance.home),
        "TRE_ACTOR": username,
        # the admin config folder: lockdown settings and JupyterLab's locked plugins
        "JUPYTER_CONFIG_PATH": str(ADMIN_CONFIG),
        "JUPYTERLAB_SETTINGS_DIR": str(person_space / ".jupyterlab-settings"),
    }
    return SpawnPlan(server_name, person_space, folders.data, interactive, environment)


def _copy_studies(folder: Path) -> None:
    """The study notebooks, as templates to start from (never overwriting the analyst's)."""
    import shutil

    from notebooks.runner import studies

    target = folder / "studies"
    target.mkdir(exist_ok=True)
    for path in studies().values():
        if not (target / path.name).exists():
            shutil.copyfile(path, target / path.name)


def pre_spawn_hook(spawner) -> None:
    """JupyterHub's ``Spawner.pre_spawn_hook``: refuse with reasons, or scope the workspace."""
    from tornado import web

    from tre.instance import open_instance

    instance = open_instance(os.environ.get("TRE_HOME"))
    try:
        chosen = plan(instance, spawner.user.name, spawner.name)
    except Refused as refused:
        error = web.HTTPError(403, log_message=str(refused), reason="Not allowed now")
        # JupyterHub shows this sentence on its error page, instead of a generic one
        error.jupyterhub_message = _one_line(str(refused))
        raise error from None
    finally:
        instance.db.dispose()
    spawner.notebook_dir = str(chosen.workspace)
    spawner.environment.update(chosen.environment)


def _one_line(text: str) -> str:
    return " ".join(text.replace("\n  - ", "; ").split())
