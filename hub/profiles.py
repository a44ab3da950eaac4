"""The Docker and Kubernetes profiles (``tre.toml`` ``[hub] profile``): a workspace in its own
container or pod, given the same folders as the local sandbox and nothing else.

Everything a workspace gets is chosen in the ``pre_spawn_hook`` from the server's project (its
name), after the policy engine admitted the person (:func:`hub.spawn.admit`): the image, the
network, the environment, and the project's folders (:class:`tre.folders.ProjectFolders`, through
:attr:`hub.spawn.SpawnPlan.mounts`): the extract read-only at ``/tre/data``, the person's
workspace and outputs read-write at ``/tre/workspace`` and ``/tre/outputs``. The person's spawn
options are never read, no profile list is offered, and no workspace sees the instance, the keys
or the Docker socket. Each runs as the person's own account with the project's group, without
capabilities or a way to gain privileges, and reaches no network but the hub's: DockerSpawner puts
it on an internal network; under Zero to JupyterHub the singleuser NetworkPolicy
(:mod:`hub.deploy`'s values) denies egress.

Neither profile runs on the kit's own machine (no Docker engine, no cluster): the spawners are
built from this configuration and checked in ``tests/hub/test_profiles.py``.
"""

from __future__ import annotations

import os
from typing import Any

from hub.spawn import SpawnPlan, admit
from tre import sandbox

# the workspace image, built from hub/docker/Dockerfile.workspace: the kit (so notebooks use
# sdc.safe and notebooks.workspace) and JupyterLab, installed at SOFTWARE
IMAGE = "tre-kit-workspace:0.1.0"
SOFTWARE = "/srv/tre-kit"
# created by docker-compose.yml with `internal: true`: its containers reach the hub, nothing else
INTERNAL_NETWORK = "tre-internal"
# the hub container's name on that network (containers reach the hub's API by it)
HUB_HOST = "tre-hub"
# Kubernetes: the claim holding the instance's projects folder (tre.toml's paths.projects), which
# the hub pod mounts whole and a workspace only by sub-paths: its own project's folders
PROJECTS_CLAIM = "tre-projects"
PROJECTS_VOLUME = "tre-project"
COMMAND = ["jupyterhub-singleuser"]  # on the image's PATH


def container_environment(chosen: SpawnPlan) -> dict[str, str]:
    """The plan's environment with Jupyter's configuration and kernels read from the image (its
    admin config folder and its own kernel), not from the hub's machine."""
    jupyter = f"{SOFTWARE}/.venv/share/jupyter"
    admin = f"{SOFTWARE}/hub/admin-config"
    return chosen.environment | {
        "JUPYTER_CONFIG_PATH": admin,
        "JUPYTER_CONFIG_DIR": admin,
        "JUPYTER_DATA_DIR": jupyter,
        "JUPYTER_PATH": jupyter,
    }


def configure_docker(c: Any, hub_port: int) -> None:
    """What every workspace container shares; the rest is chosen by :func:`docker_hook`."""
    c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
    # the hub listens on the internal network too, where containers reach it by name
    c.JupyterHub.hub_ip = "0.0.0.0"
    c.JupyterHub.hub_connect_url = f"http://{HUB_HOST}:{hub_port}"
    c.DockerSpawner.cmd = COMMAND
    c.DockerSpawner.remove = True
    c.DockerSpawner.use_internal_ip = True
    c.DockerSpawner.pull_policy = "never"  # the operator builds the image; nothing is pulled
    c.DockerSpawner.allowed_images = {}  # the image is the hook's, never a person's choice
    c.DockerSpawner.options_form = ""


def configure_k8s(c: Any) -> None:
    """What every workspace pod shares; the rest is chosen by :func:`kube_hook`."""
    c.JupyterHub.spawner_class = "kubespawner.KubeSpawner"
    c.KubeSpawner.cmd = COMMAND
    c.KubeSpawner.profile_list = []  # no profile for a person to pick
    c.KubeSpawner.options_form = ""
    # no per-person home claim: the workspace's folders are the project's (the hook mounts them)
    c.KubeSpawner.storage_pvc_ensure = False
    c.KubeSpawner.automount_service_account_token = False
    c.KubeSpawner.allow_privilege_escalation = False
    c.KubeSpawner.container_security_context = {
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": True,
    }


def docker_hook(spawner: Any) -> None:
    """The docker profile's ``pre_spawn_hook``: admit (or refuse), then give the container the
    project's folders as bind mounts, the internal network and the person's account."""
    chosen, owner = admit(spawner, sandboxed=False)
    spawner.image = IMAGE
    spawner.network_name = INTERNAL_NETWORK
    spawner.volumes = {
        str(m.source): {"bind": m.target, "mode": "rw" if m.writable else "ro"}
        for m in chosen.mounts
    }
    spawner.read_only_volumes = {}
    spawner.mounts = []
    # the folders' paths are taken as they are, never as templates
    spawner.format_volume_name = _verbatim
    spawner.extra_create_kwargs = {
        "user": f"{owner.uid}:{owner.gid}",
        "working_dir": sandbox.WORKSPACE,
    }
    spawner.extra_host_config = {
        "network_mode": INTERNAL_NETWORK,
        "group_add": [str(owner.project_gid)],
        "cap_drop": ["ALL"],
        "security_opt": ["no-new-privileges"],
        "read_only": True,
        "tmpfs": {"/tmp": "rw,nosuid,nodev,size=1g"},
    }
    spawner.environment = container_environment(chosen)
    spawner.notebook_dir = sandbox.WORKSPACE


def kube_hook(spawner: Any) -> None:
    """The k8s profile's ``pre_spawn_hook``: admit (or refuse), then mount into the pod only the
    project's folders (sub-paths of the projects claim) and run it as the person's account."""
    from tre.instance import open_instance

    chosen, owner = admit(spawner, sandboxed=False)
    projects = open_instance(os.environ.get("TRE_HOME")).folder("projects")
    spawner.image = IMAGE
    spawner.volumes = [
        {"name": PROJECTS_VOLUME, "persistentVolumeClaim": {"claimName": PROJECTS_CLAIM}},
        {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "1Gi"}},
    ]
    spawner.volume_mounts = [
        {
            "name": PROJECTS_VOLUME,
            "mountPath": m.target,
            "subPath": _literal(str(m.source.relative_to(projects))),
            "readOnly": not m.writable,
        }
        for m in chosen.mounts
    ] + [{"name": "tmp", "mountPath": "/tmp"}]
    spawner.uid = owner.uid
    spawner.gid = owner.gid
    spawner.supplemental_gids = [owner.project_gid]
    # KubeSpawner reads these as templates ({username}, ...): ours are taken as they are
    spawner.environment = {k: _literal(v) for k, v in container_environment(chosen).items()}
    spawner.notebook_dir = sandbox.WORKSPACE
    spawner.working_dir = sandbox.WORKSPACE


def _verbatim(template: str, spawner: Any) -> str:
    return template


def _literal(text: str) -> str:
    """TEXT as a KubeSpawner template that renders to TEXT itself (the disclosure policy's
    JSON has braces)."""
    return text.replace("{", "{{").replace("}", "}}")
