"""The docker and k8s profiles: DockerSpawner and KubeSpawner built from the hub's configuration
(a traitlets Config, as the hub builds them), their pre_spawn_hook run for a person and a server
name, and what they would send to the Docker engine or the Kubernetes API checked. Neither runs
here: there is no engine and no cluster (the Kubernetes client is pointed at a closed loopback
port and never called)."""

import asyncio
import json
from types import SimpleNamespace

import docker
import pytest
from dockerspawner import DockerSpawner
from jupyterhub.utils import maybe_future
from kubespawner import KubeSpawner
from tornado import web
from traitlets.config import Config

from hub import config, profiles
from tre import audit, sandbox
from tre.instance import open_instance

P = "supporting-families"
PERSON = "alex.analyst"
INSTANCE_WORDS = ("tre.db", "keys", "identifiers", "store", "releases", "hub", "docker.sock")
# what an attacker might put in a spawn request's body (user_options)
HOSTILE_OPTIONS = {
    "image": "attacker/image:latest",
    "profile": "everything",
    "volumes": {"/": {"bind": "/host", "mode": "rw"}},
    "volume_mounts": [{"name": "root", "mountPath": "/host"}],
    "network_name": "bridge",
}


def profile_config(instance, profile, monkeypatch):
    """The hub's configuration for INSTANCE with tre.toml's [hub] profile set to PROFILE."""
    monkeypatch.setenv("TRE_HOME", str(instance.home))
    toml = instance.home / "tre.toml"
    toml.write_text(toml.read_text().replace('profile = "local"', f'profile = "{profile}"'))
    reopened = open_instance(instance.home)
    assert reopened.settings.hub.profile == profile
    c = Config()
    config.configure(c, reopened)
    return c


def spawner_args(person, server):
    user = SimpleNamespace(name=person, id=1, url=f"/user/{person}/", escaped_name=person)
    hub = SimpleNamespace(
        public_host="",
        url="http://tre-hub:8081/hub/",
        base_url="/hub/",
        api_url="http://tre-hub:8081/hub/api",
    )
    # the server's name, as the hub's database holds it (the person cannot change it after)
    return {
        "user": user,
        "orm_spawner": SimpleNamespace(name=server, user_options={}, server=None),
        "hub": hub,
    }


async def run_hook(c, spawner):
    """The pre_spawn_hook the hub's configuration gives every spawner, awaited as the hub does
    (a coroutine: the hook's work runs in a thread, off the hub's event loop)."""
    await maybe_future(c.Spawner.pre_spawn_hook(spawner))


def project_folders(instance, person=PERSON):
    base = instance.folder("projects") / P
    return {
        "/tre/data": (base / "data", "ro"),
        "/tre/workspace": (base / "workspace" / person, "rw"),
        "/tre/outputs": (base / "outputs" / f"workspace-{person}", "rw"),
    }


def assert_names_no_instance(instance, environment):
    text = " ".join(f"{k}={v}" for k, v in environment.items())
    assert str(instance.home) not in text and "TRE_HOME" not in environment
    assert environment["TRE_PROJECT"] == P and environment["TRE_DATA"] == "/tre/data"
    # Jupyter's configuration and kernel come from the image, not from the hub's machine
    assert environment["JUPYTER_CONFIG_PATH"] == f"{profiles.SOFTWARE}/hub/admin-config"


class FakeDocker:
    """Stands in for the Docker engine's API client: records what the spawner would send."""

    def __init__(self):
        self.created = None
        self.requests = []

    def create_host_config(self, **kwargs):
        # docker's own HostConfig: refuses what the engine's API would not accept
        return docker.types.HostConfig(
            version=docker.constants.DEFAULT_DOCKER_API_VERSION, **kwargs
        )

    def inspect_image(self, image):
        self.requests.append(("inspect_image", image))
        return {"Id": image}

    def inspect_container(self, name):
        if self.created is None:
            raise docker.errors.NotFound("no such container", SimpleNamespace(status_code=404))
        network = self.created["host_config"]["NetworkMode"]
        return {
            "Id": "c0ffee00",
            "NetworkSettings": {"Networks": {network: {"IPAddress": "172.30.0.5"}}},
        }

    def create_container(self, **kwargs):
        self.created = kwargs
        return {"Id": "c0ffee00"}

    def start(self, container):
        self.requests.append(("start", container))

    def pull(self, *args):  # pragma: no cover - the profile never pulls
        raise AssertionError("the docker profile pulled an image")


@pytest.fixture
def engine(monkeypatch):
    fake = FakeDocker()
    monkeypatch.setattr(DockerSpawner, "_client", fake)
    return fake


def start_container(c, engine, person=PERSON, server=P, options=None):
    spawner = DockerSpawner(config=c, **spawner_args(person, server))
    spawner.user_options = dict(options or {})
    asyncio.run(run_hook(c, spawner))
    ip, port = asyncio.run(spawner.start())
    return spawner, engine.created, ip


def test_the_docker_profile_mounts_only_the_projects_folders(active, monkeypatch, engine):
    c = profile_config(active, "docker", monkeypatch)
    assert c.JupyterHub.spawner_class == "dockerspawner.DockerSpawner"
    spawner, created, ip = start_container(c, engine)
    host = created["host_config"]
    expected = project_folders(active)
    binds = {b.rsplit(":", 2)[1]: b.rsplit(":", 2) for b in host["Binds"]}
    assert set(binds) == set(expected)
    for target, (source, mode) in expected.items():
        assert binds[target] == [str(source), target, mode]
        assert source.is_dir()
    assert not host.get("Mounts") and sorted(created["volumes"]) == sorted(expected)
    text = repr(created)
    assert "docker.sock" not in text
    for word in ("tre.db", "keys", "identifiers", "store", "releases"):
        assert str(active.home / word) not in text
    assert not any(str(active.home / "hub") in b for b in host["Binds"])
    # the internal network (no egress), no capabilities, no privileges to gain
    assert host["NetworkMode"] == profiles.INTERNAL_NETWORK and ip == "172.30.0.5"
    assert host["CapDrop"] == ["ALL"] and host["SecurityOpt"] == ["no-new-privileges"]
    assert host["ReadonlyRootfs"] is True and "Privileged" not in host
    assert "PortBindings" not in host  # reached on the internal network only
    assert created["image"] == profiles.IMAGE
    # as the person's own account, with the project's group (the one that may read the extract)
    import grp
    import pwd

    account = pwd.getpwnam("tre-alex.analyst")
    assert created["user"] == f"{account.pw_uid}:{account.pw_gid}"
    assert host["GroupAdd"] == [str(grp.getgrnam(sandbox.group_name(P)).gr_gid)]
    assert created["working_dir"] == "/tre/workspace"
    assert created["command"][0] == "jupyterhub-singleuser"
    assert "--ServerApp.jpserver_extensions=hub.lockdown=True" in created["command"]
    environment = created["environment"]
    assert_names_no_instance(active, environment)
    assert environment["JUPYTERHUB_API_URL"].startswith(f"http://{profiles.HUB_HOST}:")
    # nothing is offered to choose from, and nothing was pulled
    assert spawner.options_form == "" and not spawner.allowed_images
    assert not any(r[0] == "pull" for r in engine.requests)


def test_docker_spawn_options_cannot_change_the_container(active, monkeypatch, engine):
    c = profile_config(active, "docker", monkeypatch)
    _, plain, _ = start_container(c, engine)
    attacked = FakeDocker()
    monkeypatch.setattr(DockerSpawner, "_client", attacked)
    spawner, hostile, _ = start_container(c, attacked, options=HOSTILE_OPTIONS)
    assert spawner.user_options == {}
    assert hostile["image"] == profiles.IMAGE
    assert hostile["host_config"]["Binds"] == plain["host_config"]["Binds"]
    assert hostile["host_config"]["NetworkMode"] == profiles.INTERNAL_NETWORK


@pytest.mark.parametrize("profile", ["docker", "k8s"])
def test_another_projects_server_name_is_refused_by_the_policy(
    active, monkeypatch, engine, profile, kubeconfig
):
    """eve.outsider names the project's server, and a person of the project names a project
    that is not theirs: the hook refuses both, before anything is mounted."""
    c = profile_config(active, profile, monkeypatch)
    cls = DockerSpawner if profile == "docker" else KubeSpawner

    async def attempt(person, server):
        spawner = cls(config=c, **spawner_args(person, server))
        spawner.user_options = {"project": P}
        await run_hook(c, spawner)
        return spawner

    for person, server, reason in [
        ("eve.outsider", P, "eve.outsider is not a member of project supporting-families"),
        (PERSON, "other-project", "other-project"),
        (PERSON, "", "the default server is not used"),
    ]:
        with pytest.raises(web.HTTPError) as refused:
            asyncio.run(attempt(person, server))
        assert refused.value.status_code == 403
        assert reason in refused.value.jupyterhub_message
    assert engine.created is None
    assert not (active.folder("projects") / P / "workspace" / "eve.outsider").exists()
    with active.db.session() as session:
        refusals = [e for e in audit.events(session) if e.action == "workspace.refused"]
    assert [e.actor for e in refusals] == ["eve.outsider", PERSON, PERSON]


@pytest.fixture
def kubeconfig(tmp_path, monkeypatch):
    """A client configuration for a cluster that does not exist (a closed loopback port)."""
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        "clusters: [{name: none, cluster: {server: 'http://127.0.0.1:9'}}]\n"
        "contexts: [{name: none, context: {cluster: none, user: none, namespace: tre}}]\n"
        "current-context: none\nusers: [{name: none, user: {token: unused}}]\n"
    )
    from kubernetes_asyncio.config import kube_config

    # read once, when the client is imported: KUBECONFIG set now would come too late
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    return path


def kube_pod(c, person=PERSON, server=P, options=None):
    async def build():
        spawner = KubeSpawner(config=c, **spawner_args(person, server))
        spawner.user_options = dict(options or {})
        await run_hook(c, spawner)
        await spawner.load_user_options()  # what KubeSpawner.start does next
        pod = await spawner.get_pod_manifest()
        # as KubeSpawner's client would send it to the Kubernetes API
        from kubernetes_asyncio.client import ApiClient

        async with ApiClient() as client:
            return spawner, client.sanitize_for_serialization(pod)

    return asyncio.run(build())


def test_the_k8s_profile_mounts_only_the_projects_folders(active, monkeypatch, kubeconfig):
    c = profile_config(active, "k8s", monkeypatch)
    assert c.JupyterHub.spawner_class == "kubespawner.KubeSpawner"
    spawner, api = kube_pod(c)
    volumes = {v["name"]: v for v in api["spec"]["volumes"]}
    assert set(volumes) == {profiles.PROJECTS_VOLUME, "tmp"}
    claim = volumes[profiles.PROJECTS_VOLUME]["persistentVolumeClaim"]
    assert claim == {"claimName": profiles.PROJECTS_CLAIM}
    assert volumes["tmp"]["emptyDir"]["medium"] == "Memory"
    (container,) = api["spec"]["containers"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert set(mounts) == {"/tre/data", "/tre/workspace", "/tre/outputs", "/tmp"}
    projects = active.folder("projects")
    for target, (source, mode) in project_folders(active).items():
        mount = mounts[target]
        assert mount["name"] == profiles.PROJECTS_VOLUME
        # a sub-path of the projects claim: this project's folder, never the claim's root
        assert projects / mount["subPath"] == source and mount["subPath"].startswith(f"{P}/")
        assert mount["readOnly"] is (mode == "ro")
    text = repr(api)
    assert str(active.home) not in text and "docker.sock" not in text
    assert container["image"] == profiles.IMAGE
    # as the person's account with the project's group; nothing to gain, no API token
    import grp
    import pwd

    account = pwd.getpwnam("tre-alex.analyst")
    security = container["securityContext"]
    assert security["runAsUser"] == account.pw_uid
    assert security["runAsGroup"] == account.pw_gid
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"] == {"drop": ["ALL"]}
    assert security["readOnlyRootFilesystem"] is True
    assert api["spec"]["securityContext"]["supplementalGroups"] == [
        grp.getgrnam(sandbox.group_name(P)).gr_gid
    ]
    assert api["spec"]["automountServiceAccountToken"] is False
    # the labels Zero to JupyterHub's singleuser NetworkPolicy (egress denied) selects
    labels = api["metadata"]["labels"]
    assert labels["component"] == "singleuser-server"
    assert not any(k.startswith("hub.jupyter.org/network-access") for k in labels)
    environment = {e["name"]: e["value"] for e in container["env"]}
    assert_names_no_instance(active, environment)
    # the disclosure policy's JSON arrives as it is (KubeSpawner reads values as templates)
    assert json.loads(environment["TRE_DISCLOSURE_POLICY"])["threshold"] == 10
    assert container["workingDir"] == "/tre/workspace"
    assert spawner.profile_list == [] and spawner.options_form == ""
    assert spawner.storage_pvc_ensure is False


def test_k8s_spawn_options_cannot_change_the_pod(active, monkeypatch, kubeconfig):
    c = profile_config(active, "k8s", monkeypatch)
    _, plain = kube_pod(c)
    spawner, hostile = kube_pod(c, options=HOSTILE_OPTIONS)
    assert spawner.user_options == {}
    hostile, plain = hostile["spec"], plain["spec"]
    assert hostile["volumes"] == plain["volumes"]
    assert hostile["containers"][0]["volumeMounts"] == plain["containers"][0]["volumeMounts"]
    assert hostile["containers"][0]["image"] == profiles.IMAGE


def test_the_local_profile_keeps_the_sandboxed_spawner(active, monkeypatch):
    c = profile_config(active, "local", monkeypatch)
    assert c.JupyterHub.spawner_class.__name__ == "SandboxSpawner"
    assert c.Spawner.apply_user_options is None
