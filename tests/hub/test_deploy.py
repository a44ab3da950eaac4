"""The Docker and Kubernetes profiles are generated from the registry; neither runs here."""

import yaml

from hub import deploy

P = "supporting-families"


def test_the_kubernetes_values_deny_egress_and_mount_extracts_read_only(active, tmp_path):
    (path,) = deploy.write(active, "k8s", tmp_path)
    values = yaml.safe_load(path.read_text())
    policy = values["singleuser"]["networkPolicy"]
    assert policy["enabled"] is True and policy["egress"] == []
    assert not any(policy["egressAllowRules"].values())
    (profile,) = values["singleuser"]["profileList"]
    assert profile["slug"] == P
    mounts = {m["name"]: m for m in profile["kubespawner_override"]["volume_mounts"]}
    assert mounts["extract"]["readOnly"] is True and "readOnly" not in mounts["outputs"]
    claims = {
        v["name"]: v["persistentVolumeClaim"] for v in profile["kubespawner_override"]["volumes"]
    }
    assert claims["extract"] == {"claimName": f"tre-extract-{P}", "readOnly": True}
    assert "{servername}" in values["singleuser"]["storage"]["dynamic"]["pvcNameTemplate"]
    assert "pre_spawn_hook" in values["hub"]["extraConfig"]["tre"]


def test_the_docker_profile_has_an_internal_network_and_read_only_data(active, tmp_path):
    compose_path, spawner_path = deploy.write(active, "docker", tmp_path)
    compose = yaml.safe_load(compose_path.read_text())
    assert compose["networks"][deploy.INTERNAL_NETWORK] == {"internal": True}
    spawner = yaml.safe_load(spawner_path.read_text())
    assert spawner["network_name"] == deploy.INTERNAL_NETWORK
    volumes = spawner["volumes_by_project"][P]
    data = next(v for k, v in volumes.items() if k.endswith(f"{P}/data"))
    assert data == {"bind": deploy.DATA, "mode": "ro"}
    work = next(v for k, v in volumes.items() if k.startswith("tre-work-"))
    assert work["mode"] == "rw"


def test_an_unknown_profile_is_refused(active, tmp_path):
    import pytest

    with pytest.raises(ValueError, match="choose docker or k8s"):
        deploy.write(active, "swarm", tmp_path)


def test_the_committed_kubernetes_example_is_current(active):
    committed = yaml.safe_load(
        (deploy.Path(deploy.__file__).parent / "k8s" / "values.yaml").read_text()
    )
    assert committed == deploy.k8s_values(active)
