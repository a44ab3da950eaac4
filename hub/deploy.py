"""Deployment profiles beyond the local default: DockerSpawner and Kubernetes (Zero to
JupyterHub), generated from the instance's registry so that every project gets its read-only
extract and its own work volume, and no workspace can reach the network.

Neither runs on the kit's own machine; what they generate is unit-tested. ``tre hub config
--profile docker|k8s --out DIR`` writes the files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from projects import registry
from tre.folders import ProjectFolders
from tre.instance import Instance

# the workspace image, built from hub/docker/Dockerfile.workspace (the kit and JupyterLab)
IMAGE = "tre-kit-workspace:0.1.0"
INTERNAL_NETWORK = "tre-internal"
DATA = "/srv/tre/data"
WORK = "/home/jovyan/work"
OUTPUTS = "/srv/tre/outputs"


def _projects(instance: Instance) -> list[str]:
    with instance.db.session() as session:
        return sorted(p.id for p in registry.projects(session))


def docker_profile(instance: Instance) -> dict[str, Any]:
    """DockerSpawner: an internal network without egress, each project's extract mounted
    read-only, a work volume per project, the outputs folder the airlock reads."""
    folders = [ProjectFolders.of(instance, project) for project in _projects(instance)]
    return {
        "spawner_class": "dockerspawner.DockerSpawner",
        "image": IMAGE,
        "network_name": INTERNAL_NETWORK,
        "remove": True,
        "volumes_by_project": {
            f.project: {
                str(f.data): {"bind": DATA, "mode": "ro"},
                f"tre-work-{f.project}-{{username}}": {"bind": WORK, "mode": "rw"},
                str(f.outputs): {"bind": OUTPUTS, "mode": "rw"},
            }
            for f in folders
        },
        "environment": {"TRE_DATA": DATA, "TRE_OUTPUTS": OUTPUTS},
        "extra_host_config": {
            "network_mode": INTERNAL_NETWORK,
            "cap_drop": ["ALL"],
            "security_opt": ["no-new-privileges"],
        },
    }


def docker_compose(instance: Instance) -> dict[str, Any]:
    return {
        "services": {
            "hub": {
                "build": {"context": ".", "dockerfile": "hub/docker/Dockerfile"},
                "ports": ["127.0.0.1:8000:8000"],
                "environment": {"TRE_HOME": "/srv/tre/instance", "TRE_PROFILE": "docker"},
                "volumes": [
                    f"{instance.home}:/srv/tre/instance",
                    "/var/run/docker.sock:/var/run/docker.sock",
                ],
                "networks": ["default", INTERNAL_NETWORK],
            }
        },
        # internal: containers on it reach the hub but nothing outside
        "networks": {INTERNAL_NETWORK: {"internal": True}},
    }


def k8s_values(instance: Instance, storage_class: str = "standard") -> dict[str, Any]:
    """Zero to JupyterHub values: egress denied by the singleuser NetworkPolicy, one profile per
    project with its extract's volume mounted read-only and its own work volume."""
    profiles = []
    for project in _projects(instance):
        profiles.append(
            {
                "display_name": project,
                "slug": project,
                "kubespawner_override": {
                    "volumes": [
                        {
                            "name": "extract",
                            "persistentVolumeClaim": {
                                "claimName": f"tre-extract-{project}",
                                "readOnly": True,
                            },
                        },
                        {
                            "name": "outputs",
                            "persistentVolumeClaim": {"claimName": f"tre-outputs-{project}"},
                        },
                    ],
                    "volume_mounts": [
                        {"name": "extract", "mountPath": DATA, "readOnly": True},
                        {"name": "outputs", "mountPath": OUTPUTS},
                    ],
                    "environment": {
                        "TRE_PROJECT": project,
                        "TRE_DATA": DATA,
                        "TRE_OUTPUTS": OUTPUTS,
                    },
                },
            }
        )
    return {
        "hub": {
            "config": {
                "JupyterHub": {"allow_named_servers": True, "redirect_to_server": False},
                "Authenticator": {"allow_all": False},
            },
            "extraConfig": {
                "tre": "from hub.spawn import pre_spawn_hook\n"
                "c.KubeSpawner.pre_spawn_hook = pre_spawn_hook\n"
            },
        },
        "proxy": {"chp": {"networkPolicy": {"enabled": True}}},
        "singleuser": {
            "image": {"name": IMAGE.split(":")[0], "tag": IMAGE.split(":")[1]},
            "storage": {
                "type": "dynamic",
                "dynamic": {
                    "storageClass": storage_class,
                    "pvcNameTemplate": "tre-work-{servername}-{username}",
                },
                "homeMountPath": WORK,
            },
            "networkPolicy": {
                "enabled": True,
                "egress": [],
                "egressAllowRules": {
                    "cloudMetadataServer": False,
                    "dnsPortsCloudMetadataServer": False,
                    "dnsPortsKubeSystemNamespace": False,
                    "dnsPortsPrivateIPs": False,
                    "nonPrivateIPs": False,
                    "privateIPs": False,
                },
            },
            "profileList": profiles,
            "cmd": "jupyterhub-singleuser",
            "extraEnv": {"JUPYTER_CONFIG_PATH": "/srv/tre/admin-config"},
        },
        "cull": {"enabled": True, "timeout": 3600},
    }


def write(instance: Instance, profile: str, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    if profile == "docker":
        files = {
            "docker-compose.yml": docker_compose(instance),
            "dockerspawner.yaml": docker_profile(instance),
        }
    elif profile == "k8s":
        files = {"values.yaml": k8s_values(instance)}
    else:
        raise ValueError(f"profile {profile!r}: choose docker or k8s")
    written = []
    for name, content in files.items():
        path = out / name
        path.write_text(
            "# generated by `tre hub config` from the instance's registry; regenerate after "
            "a project changes\n" + yaml.safe_dump(content, sort_keys=False)
        )
        written.append(path)
    return written
