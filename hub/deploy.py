"""The files the Docker and Kubernetes profiles are deployed with: the hub's docker-compose.yml,
and Zero to JupyterHub's values. They hold only what the hub itself needs (its image, its
volumes, the network and the NetworkPolicy); what each workspace gets is chosen at spawn time by
:mod:`hub.profiles`, from the server's project, so nothing here lists projects or changes when one
does.

Neither runs on the kit's own machine; what they generate is unit-tested. ``tre hub config --out
DIR`` writes the files of the profile chosen in ``tre.toml``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from hub.profiles import HUB_HOST, IMAGE, INTERNAL_NETWORK, PROJECTS_CLAIM
from tre.errors import TreError
from tre.instance import Instance

HUB_IMAGE = "tre-kit-hub:0.1.0"  # built from hub/docker/Dockerfile
# Kubernetes: where the hub pod mounts the instance and its projects folder (tre.toml's
# paths.projects, then "/srv/tre/projects", the claim workspaces mount sub-paths of)
K8S_HOME = "/srv/tre/instance"
K8S_PROJECTS = "/srv/tre/projects"
INSTANCE_CLAIM = "tre-instance"


def docker_compose(instance: Instance) -> dict[str, Any]:
    """The hub's container. It holds the instance (at the same path as on the host, so that the
    folders the hub binds into workspaces name host paths) and the Docker socket, which only the
    hub uses; workspace containers get neither (hub.profiles.docker_hook)."""
    home = str(instance.home)
    return {
        "services": {
            "hub": {
                "build": {"context": ".", "dockerfile": "hub/docker/Dockerfile"},
                "image": HUB_IMAGE,
                "container_name": HUB_HOST,
                "ports": ["127.0.0.1:8000:8000"],
                "environment": {"TRE_HOME": home, "TRE_HUB_URL": "http://0.0.0.0:8000"},
                "volumes": [f"{home}:{home}", "/var/run/docker.sock:/var/run/docker.sock"],
                "networks": ["default", INTERNAL_NETWORK],
            },
            # built only: the hub starts a container from it for each workspace
            "workspace-image": {
                "build": {"context": ".", "dockerfile": "hub/docker/Dockerfile.workspace"},
                "image": IMAGE,
                "profiles": ["build"],
            },
        },
        # internal: containers on it reach the hub but nothing outside; named as it is, so that
        # the spawner finds it (compose would otherwise prefix the project's name)
        "networks": {INTERNAL_NETWORK: {"name": INTERNAL_NETWORK, "internal": True}},
    }


def k8s_values() -> dict[str, Any]:
    """Zero to JupyterHub values: the hub (root, to give each workspace's folders to the
    person's account) with the instance and the projects claim; egress from workspaces denied
    by the singleuser NetworkPolicy but for the cluster's DNS, which reaches the hub's name."""
    name, tag = HUB_IMAGE.split(":")
    image, image_tag = IMAGE.split(":")
    return {
        "hub": {
            "image": {"name": name, "tag": tag},
            "containerSecurityContext": {"runAsUser": 0, "runAsGroup": 0},
            "extraEnv": {"TRE_HOME": K8S_HOME},
            "extraVolumes": [
                {"name": "tre-instance", "persistentVolumeClaim": {"claimName": INSTANCE_CLAIM}},
                {"name": "tre-projects", "persistentVolumeClaim": {"claimName": PROJECTS_CLAIM}},
            ],
            "extraVolumeMounts": [
                {"name": "tre-instance", "mountPath": K8S_HOME},
                {"name": "tre-projects", "mountPath": K8S_PROJECTS},
            ],
            "extraConfig": {
                "tre": "from hub.config import configure_tre\n"
                "from tre.instance import open_instance\n"
                "configure_tre(c, open_instance())\n"
            },
        },
        "proxy": {"chp": {"networkPolicy": {"enabled": True}}},
        "singleuser": {
            "image": {"name": image, "tag": image_tag},
            # no home claim per person: each workspace mounts its project's folders only
            "storage": {"type": "none"},
            "networkPolicy": {
                "enabled": True,
                "egress": [],
                "egressAllowRules": {
                    "cloudMetadataServer": False,
                    "dnsPortsCloudMetadataServer": False,
                    "dnsPortsKubeSystemNamespace": True,
                    "dnsPortsPrivateIPs": False,
                    "nonPrivateIPs": False,
                    "privateIPs": False,
                },
            },
        },
        # the tre hub runs its own idle culler as a hub service (hub/config.py)
        "cull": {"enabled": False},
    }


def write(instance: Instance, out: Path) -> list[Path]:
    """The files of the profile ``tre.toml`` chooses, written to OUT."""
    profile = instance.settings.hub.profile
    if profile == "docker":
        files = {"docker-compose.yml": docker_compose(instance)}
    elif profile == "k8s":
        files = {"values.yaml": k8s_values()}
    else:
        raise TreError(
            "tre.toml: hub.profile is local, which needs no files (`make up` starts it); set "
            'profile = "docker" or "k8s" in [hub] first'
        )
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        path = out / name
        path.write_text(
            "# generated by `tre hub config` from tre.toml; each workspace's folders are chosen "
            "by the hub at spawn time (hub/profiles.py)\n"
            + yaml.safe_dump(content, sort_keys=False)
        )
        written.append(path)
    return written
