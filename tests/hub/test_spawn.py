"""Spawn-time scoping, the hub's configuration and group sync, without a running hub."""

from datetime import date
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from hub import config, groups, spawn
from projects import registry
from tests.projects.conftest import TODAY
from tre import audit
from tre.errors import Refused

P = "supporting-families"


def test_an_accepted_spawn_gets_the_projects_folders_and_environment(active):
    plan = spawn.plan(active, "alex.analyst", P, at=TODAY)
    base = active.folder("projects") / P
    assert plan.workspace == base / "workspace" / "alex.analyst" and plan.workspace.is_dir()
    assert plan.environment["TRE_PROJECT"] == P
    # inside the sandbox: the project's folders at fixed paths, bound from the instance
    assert plan.environment["TRE_DATA"] == "/tre/data"
    assert plan.environment["TRE_OUTPUTS"] == "/tre/outputs"
    mounts = {m.target: m for m in plan.sandbox.mounts}
    assert mounts["/tre/data"].source == base / "data" and not mounts["/tre/data"].writable
    assert mounts["/tre/workspace"].source == plan.workspace and mounts["/tre/workspace"].writable
    assert mounts["/tre/outputs"].source.parent == base / "outputs"
    assert plan.sandbox.hidden == (active.home,)
    assert plan.sandbox.account == "tre-alex.analyst"
    # nothing names the instance, its database or another person
    text = " ".join(plan.environment.values())
    assert str(active.home) not in text and "TRE_HOME" not in plan.environment
    assert "TRE_ACTOR" not in plan.environment and "alex.analyst" not in text
    spawn.prepare(plan, "alex.analyst")  # the account and group, made as root
    command = plan.sandbox.command(["jupyterhub-singleuser"])
    assert "--allow-root" not in command and "--no-new-privs" in command
    with active.db.session() as session:
        policy = registry.project_policy(registry.project(session, P), active.settings.policy)
    assert plan.environment["TRE_DISCLOSURE_POLICY"] == policy.to_json()
    assert '"threshold": 10' in plan.environment["TRE_DISCLOSURE_POLICY"]
    assert plan.environment["JUPYTER_CONFIG_PATH"] == str(spawn.ADMIN_CONFIG)
    assert (plan.workspace / "studies" / "repeat_callers.ipynb").exists()


@pytest.mark.parametrize(
    "person, change, reason",
    [
        ("eve.outsider", None, "eve.outsider is not a member of project supporting-families"),
        ("chris.checker", None, "does not have the analyst role"),
        ("alex.analyst", "suspend", "suspended"),
        ("alex.analyst", "expire", "ended on 2027-12-31"),
        ("alex.analyst", "terms", "has not accepted the terms"),
        ("alex.analyst", "default", "the default server is not used"),
    ],
)
def test_spawns_are_refused_with_the_policys_reasons(active, spec_data, person, change, reason):
    from projects.spec import parse_project

    at, server = TODAY, P
    with active.db.session() as session:
        if change == "suspend":
            registry.suspend(session, "ops.operator", P, "a data breach is investigated")
        elif change == "terms":
            spec_data["lay_summary"] += " Reworded."
            registry.amend(session, "sam.lead", P, parse_project(spec_data), active.settings.policy)
    if change == "expire":
        at = date(2028, 1, 2)
    if change == "default":
        server = ""
    with pytest.raises(Refused, match=reason):
        spawn.plan(active, person, server, at=at)


def test_the_hook_turns_a_refusal_into_a_sentence_for_the_person(active, monkeypatch):
    from tornado import web

    monkeypatch.setenv("TRE_HOME", str(active.home))
    spawner = SimpleNamespace(
        user=SimpleNamespace(name="eve.outsider"), name=P, environment={}, notebook_dir=""
    )
    with pytest.raises(web.HTTPError) as refused:
        spawn.pre_spawn_hook(spawner)
    assert refused.value.status_code == 403
    said = refused.value.jupyterhub_message
    assert said == (
        f"eve.outsider may not work in workspace on project {P}: "
        f"eve.outsider is not a member of project {P}."
    )
    assert "Traceback" not in said and ":;" not in said
    assert 'href="/services/tre/">Your projects</a>' in refused.value.jupyterhub_html_message
    with active.db.session() as session:
        last = audit.events(session)[-1]
    assert (last.actor, last.action, last.project) == ("eve.outsider", "workspace.refused", P)
    assert "not a member" in last.details


def test_groups_follow_the_registry(active):
    assert groups.desired(active, at=TODAY) == {P: {"users": ["alex.analyst", "bea.analyst"]}}
    with active.db.session() as session:
        registry.suspend(session, "ops.operator", P, "paused")
    assert groups.desired(active, at=TODAY) == {P: {"users": []}}
    with active.db.session() as session:
        registry.reinstate(session, "ops.operator", P)
        registry.set_suspended(session, "ops.operator", "bea.analyst", True)
    assert groups.desired(active, at=TODAY) == {P: {"users": ["alex.analyst"]}}


def test_the_hub_configuration(active, monkeypatch):
    monkeypatch.setenv("TRE_SERVICE_PORT", "8010")
    c = Config()
    config.configure(c, active)
    assert c.JupyterHub.allow_named_servers is True
    assert c.JupyterHub.redirect_to_server is False
    assert c.JupyterHub.authenticator_class == "hub.auth.TreAuthenticator"
    assert c.NativeAuthenticator.open_signup is False
    assert c.NativeAuthenticator.allowed_failed_logins == 5
    assert "--ServerApp.terminals_enabled=False" in c.Spawner.args
    assert "--ServerApp.jpserver_extensions=hub.lockdown=True" in c.Spawner.args
    assert "--ServerApp.contents_manager_class=hub.lockdown.SteadyFileManager" in c.Spawner.args
    assert {s["name"] for s in c.JupyterHub.services} == {"tre", "idle-culler", "tre-enforcer"}
    assert (
        "--allow-root" not in c.Spawner.args and "--KernelManager.transport=ipc" in c.Spawner.args
    )
    assert c.Spawner.post_stop_hook is not None
    assert set(c.JupyterHub.custom_scopes) == {
        "custom:tre:review",
        "custom:tre:approve",
        "custom:tre:lead",
    }
    roles = {r["name"]: r for r in c.JupyterHub.load_roles}
    assert roles["tre-output-checker"]["users"] == ["chris.checker", "dana.checker"]
    assert roles["tre-output-checker"]["scopes"] == ["custom:tre:review"]
    assert c.JupyterHub.load_groups[P]["users"] == ["alex.analyst", "bea.analyst"] or (
        c.JupyterHub.load_groups[P]["users"] == []  # outside the project's dates today
    )
    assert c.Authenticator.admin_users == {"ops.operator"}


def test_login_is_refused_for_unregistered_and_suspended_people(active):
    from hub.auth import login_refusal

    assert login_refusal(active, "alex.analyst") is None
    assert "not registered" in login_refusal(active, "mallory")
    with active.db.session() as session:
        registry.set_suspended(session, "ops.operator", "alex.analyst", True)
    assert "suspended" in login_refusal(active, "alex.analyst")


def test_the_lockdown_closes_the_download_routes():
    from hub import lockdown

    assert set(lockdown.CLOSED) == {r"/files/.*", r"/nbconvert/.*", r"/view/.*"}
    assert "airlock" in lockdown.MESSAGE
    import json

    page = json.loads((spawn.ADMIN_CONFIG / "labconfig" / "page_config.json").read_text())
    for plugin in (
        "@jupyterlab/docmanager-extension:download",
        "@jupyterlab/filebrowser-extension:download",
        "@jupyterlab/filebrowser-extension:open-browser-tab",
    ):
        assert page["disabledExtensions"][plugin] and page["lockedExtensions"][plugin]


def test_the_contents_guard_judges_what_is_sent_not_only_the_path():
    """A file swapped for a link between the guard's check and the read is caught on the way
    out: binary content and copies of the extract are never sent."""
    import hashlib

    from hub.lockdown import sent_refusal

    extract = {hashlib.sha256(b'{"files": []}').hexdigest()}
    file = {"type": "file", "path": "x"}
    assert sent_refusal(file | {"format": "base64", "content": "UEFSMQ=="}, set()) == (
        "it is binary"
    )
    assert "extract" in sent_refusal(file | {"format": "text", "content": '{"files": []}'}, extract)
    assert sent_refusal(file | {"format": "text", "content": "a note"}, extract) is None
    assert sent_refusal({"type": "directory", "content": []}, extract) is None
    assert sent_refusal({"type": "notebook", "format": "json", "content": {}}, extract) is None


def test_the_workspace_is_oriented_welcome_page_data_folder_and_banner_facts(active):
    plan = spawn.plan(active, "alex.analyst", P, at=TODAY, tre_url="/base/services/tre/")
    env = plan.environment
    assert env["TRE_PROJECT_TITLE"].startswith("Supporting families")
    assert (
        env["TRE_PROJECT_ENDS"] == "2027-12-31"
        and "Supporting Families" in env["TRE_PROJECT_PURPOSE"]
    )
    # the extract, read-only, as a folder the file browser shows (after the workspace's mount)
    targets = [m.target for m in plan.sandbox.mounts]
    data = f"/tre/workspace/{spawn.DATA_FOLDER}"
    assert targets.index(data) > targets.index("/tre/workspace")
    assert not {m.target: m for m in plan.sandbox.mounts}[data].writable
    assert data not in {m.target for m in plan.mounts}  # a container sees it at /tre/data only
    welcome = (plan.workspace / spawn.WELCOME).read_text()
    for words in (
        "Supporting families",
        "2027-12-31",
        f"**`{spawn.DATA_FOLDER}/`**",
        "Run ▸ Run with provenance",
        "not requestable",
        "Request the",
        "(/base/services/tre/)",
    ):
        assert words in welcome, words
    # the kit's page is written again at every start, through no link the person planted
    (plan.workspace / spawn.WELCOME).unlink()
    (plan.workspace / spawn.WELCOME).symlink_to("/etc/hostname")
    spawn.plan(active, "alex.analyst", P, at=TODAY)
    assert not (plan.workspace / spawn.WELCOME).is_symlink()
    assert "Supporting families" in (plan.workspace / spawn.WELCOME).read_text()


def test_the_data_folders_mount_point_is_a_folder_never_a_planted_link(active, tmp_path):
    plan = spawn.plan(active, "alex.analyst", P, at=TODAY)
    point = plan.workspace / spawn.DATA_FOLDER
    if point.is_dir() and not point.is_symlink():
        point.rmdir()
    point.symlink_to(tmp_path)
    spawn.prepare(plan, "alex.analyst")
    assert point.is_dir() and not point.is_symlink()
    command = plan.sandbox.command(["true"])
    # the workspace is not made again (bwrap would re-set its mode) for the mount inside it
    assert command.count("/tre/workspace") == 2  # its bind's target, and the --chdir


def test_the_jupyterlab_settings_remove_export_and_open_from_url_and_pick_the_kernel():
    import json

    admin = spawn.ADMIN_CONFIG
    page = json.loads((admin / "labconfig" / "page_config.json").read_text())
    for plugin in (
        "@jupyterlab/notebook-extension:export",
        "@jupyterlab/filebrowser-extension:open-url",
    ):
        assert page["disabledExtensions"][plugin] and page["lockedExtensions"][plugin]
    overrides = json.loads((admin / "lab-settings" / "overrides.json").read_text())
    assert overrides["@jupyterlab/notebook-extension:tracker"]["autoStartDefaultKernel"] is True
    server = json.loads((admin / "jupyter_server_config.json").read_text())
    assert server["KernelSpecManager"]["allowed_kernelspecs"] == ["python3"]
    extension = admin / "labextensions" / "@tre-kit" / "workspace"
    package = json.loads((extension / "package.json").read_text())
    assert (extension / package["jupyterlab"]["_build"]["load"]).is_file()


def test_the_data_folder_is_listed_but_its_files_are_never_sent(tmp_path):
    from hub.lockdown import refusal

    folder = tmp_path / spawn.DATA_FOLDER
    folder.mkdir()
    (folder / "manifest.json").write_text('{"files": []}')
    (tmp_path / "note.md").write_text("# mine")
    assert refusal(tmp_path, folder, None, set()) is None  # the file browser lists it
    assert "extract" in refusal(tmp_path, folder / "manifest.json", "text", set())
    assert refusal(tmp_path, tmp_path / "note.md", "text", set()) is None


def test_a_terms_refusal_at_spawn_gives_no_command_line_hint(active, spec_data):
    from projects.spec import parse_project

    with active.db.session() as session:
        spec_data["lay_summary"] += " Reworded."
        registry.amend(session, "sam.lead", P, parse_project(spec_data), active.settings.policy)
    with pytest.raises(Refused) as refused:
        spawn.plan(active, "alex.analyst", P, at=TODAY)
    assert "has not accepted the terms of version 2" in str(refused.value)
    assert "tre project accept-terms" not in str(refused.value)
