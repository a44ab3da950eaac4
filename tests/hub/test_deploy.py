"""The files of the docker and k8s profiles: only the hub's own needs (what each workspace gets
is chosen at spawn time: tests/hub/test_profiles.py). Neither runs here."""

import pytest
import yaml

from hub import deploy, profiles
from tre.errors import TreError
from tre.instance import open_instance


def with_profile(instance, profile):
    toml = instance.home / "tre.toml"
    toml.write_text(toml.read_text().replace('profile = "local"', f'profile = "{profile}"'))
    return open_instance(instance.home)


def test_the_kubernetes_values_deny_egress_and_offer_no_profiles(active, tmp_path):
    (path,) = deploy.write(with_profile(active, "k8s"), tmp_path)
    values = yaml.safe_load(path.read_text())
    single = values["singleuser"]
    policy = single["networkPolicy"]
    assert policy["enabled"] is True and policy["egress"] == []
    # nothing but the cluster's DNS (the hub's name) besides the hub itself
    allowed = {rule for rule, on in policy["egressAllowRules"].items() if on}
    assert allowed == {"dnsPortsKubeSystemNamespace"}
    # no list to pick from, no per-person home: the hook mounts the project's folders
    assert "profileList" not in single and single["storage"] == {"type": "none"}
    assert single["image"] == dict(zip(("name", "tag"), profiles.IMAGE.split(":"), strict=True))
    assert "configure_tre(c, open_instance())" in values["hub"]["extraConfig"]["tre"]
    claims = {v["persistentVolumeClaim"]["claimName"] for v in values["hub"]["extraVolumes"]}
    assert claims == {deploy.INSTANCE_CLAIM, profiles.PROJECTS_CLAIM}
    assert values["hub"]["extraEnv"]["TRE_HOME"] == deploy.K8S_HOME


def test_the_docker_compose_file_keeps_the_socket_and_the_instance_in_the_hub(active, tmp_path):
    (path,) = deploy.write(with_profile(active, "docker"), tmp_path)
    compose = yaml.safe_load(path.read_text())
    network = compose["networks"][profiles.INTERNAL_NETWORK]
    assert network == {"name": profiles.INTERNAL_NETWORK, "internal": True}
    hub = compose["services"]["hub"]
    assert hub["container_name"] == profiles.HUB_HOST
    # the instance at the same path as on the host: the folders the hub binds are host paths
    home = str(active.home)
    assert f"{home}:{home}" in hub["volumes"] and hub["environment"]["TRE_HOME"] == home
    assert compose["services"]["workspace-image"]["image"] == profiles.IMAGE
    # only the hub has the socket; workspaces are not services of this file
    assert set(compose["services"]) == {"hub", "workspace-image"}
    assert "volumes" not in compose["services"]["workspace-image"]


def test_the_local_profile_has_no_files(active, tmp_path):
    out = tmp_path / "out"
    with pytest.raises(TreError, match="hub.profile is local"):
        deploy.write(active, out)
    assert not out.exists()


def test_the_committed_kubernetes_example_is_current():
    committed = yaml.safe_load(
        (deploy.Path(deploy.__file__).parent / "k8s" / "values.yaml").read_text()
    )
    assert committed == deploy.k8s_values()
