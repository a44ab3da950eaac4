"""Spawn-time scoping: may this person work on this project now, and with what.

:func:`plan` asks the policy engine (``work_in_workspace``: an active project, the person an
analyst in its team, accredited, not suspended, the terms accepted) and returns the workspace's
folders, its sandbox and its environment, or raises :class:`Refused` with every reason. The
hub's ``pre_spawn_hook`` (:func:`pre_spawn_hook`) turns a refusal into a page the person reads,
and otherwise starts the Jupyter server inside the sandbox (:mod:`tre.sandbox`): as the person's
own system account, seeing the project's extract read-only at ``/tre/data``, their workspace and
outputs read-write, the software, and nothing of the instance. Each start also writes the
workspace's welcome page (``WELCOME.md``) and, in the sandbox, shows the extract again as the
workspace's read-only ``project-data`` folder. Nothing in the environment names
the instance, its database or anyone but the person.

:func:`admit` is the part every deployment profile shares (the policy's decision, the audit
event, the person's account and the project's group); the Docker and Kubernetes profiles
(:mod:`hub.profiles`) give the same folders to a container instead of the sandbox.
"""

from __future__ import annotations

import html
import os
import sys
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tornado import web

from hub.events import HubEvent
from projects import registry
from projects.policy import PolicyAction, decide
from tre import sandbox
from tre.errors import Refused
from tre.folders import ProjectFolders
from tre.instance import Instance
from tre.sandbox import Mount

ADMIN_CONFIG = Path(__file__).parent / "admin-config"
SINGLEUSER = [str(Path(sys.executable).parent / "jupyterhub-singleuser")]
SERVICE_SOCKET = "/tmp/tre-service.sock"
# where the sandbox finds its kernel (the network-less one) and nothing else: read-only
JUPYTER_DATA = f"{sandbox.ROOT}/jupyter"
DATA_FOLDER = sandbox.DATA_FOLDER
WELCOME = "WELCOME.md"
TRE_PAGES = "/services/tre/"
TEMPLATES = Path(__file__).parent / "templates"


@dataclass
class SpawnPlan:
    project: str
    workspace: Path
    data: Path
    outputs: Path
    environment: dict[str, str]
    sandbox: sandbox.Sandbox | None = None

    @property
    def mounts(self) -> tuple[Mount, ...]:
        """The project's folders a workspace sees, in every profile: the extract read-only,
        the person's workspace and outputs read-write, at the same paths under ``/tre``."""
        return (
            Mount(self.data, sandbox.DATA),
            Mount(self.workspace, sandbox.WORKSPACE, writable=True),
            Mount(self.outputs, sandbox.OUTPUTS, writable=True),
        )


@dataclass(frozen=True)
class Owner:
    """Who a workspace runs as: the person's own system account, with the project's group (the
    only one that may read the extract) as its one supplementary group."""

    account: str
    uid: int
    gid: int
    project_gid: int


def plan(
    instance: Instance,
    username: str,
    server_name: str,
    at: date | None = None,
    tre_url: str = TRE_PAGES,
    data_in_workspace: bool = True,
) -> SpawnPlan:
    """The workspace of USERNAME for project SERVER_NAME, or :class:`Refused` with every reason.
    DATA_IN_WORKSPACE: the sandbox (the local profile) also shows the extract, read-only, as the
    workspace's ``project-data`` folder (a container sees it at /tre/data only)."""
    check(instance, username, server_name, at)
    with instance.db.session() as session:
        found = registry.project(session, server_name)
        policy = registry.project_policy(found, instance.settings.policy)
        spec = found.current.spec
    folders = ProjectFolders.of(instance, server_name)
    person_space = folders.workspace / username
    person_space.mkdir(parents=True, exist_ok=True)
    folders.outputs.mkdir(parents=True, exist_ok=True)
    _copy_studies(person_space)
    _write_welcome(
        person_space,
        folders.data,
        spec,
        username,
        tre_url,
        DATA_FOLDER if data_in_workspace else None,
    )
    interactive = drafts_folder(folders, username)
    interactive.mkdir(parents=True, exist_ok=True)
    environment = {
        "TRE_PROJECT": server_name,
        # what the workspace's banner shows (hub/lab.py)
        "TRE_PROJECT_TITLE": spec["title"],
        "TRE_PROJECT_PURPOSE": " ".join(spec["purpose"].split()),
        "TRE_PROJECT_ENDS": str(spec["end"]),
        "TRE_PAGES": tre_url,
        "TRE_DATA": sandbox.DATA,
        "TRE_OUTPUTS": sandbox.OUTPUTS,
        "TRE_DISCLOSURE_POLICY": policy.to_json(),
        # HOME and IPython's folder in the sandbox's own tmpfs: nothing in the workspace is read
        # back as configuration (an old ~/.ipython would make Jupyter migrate into a read-only
        # folder and the server would not start)
        "HOME": "/tmp",
        "IPYTHONDIR": "/tmp/ipython",
        # the admin config folder (lockdown settings, JupyterLab's locked plugins) is the only
        # configuration: nothing the person writes is read as Jupyter configuration or code
        "JUPYTER_CONFIG_PATH": str(ADMIN_CONFIG),
        "JUPYTER_CONFIG_DIR": str(ADMIN_CONFIG),
        "JUPYTER_DATA_DIR": JUPYTER_DATA,
        "JUPYTER_PATH": JUPYTER_DATA,
        "JUPYTER_RUNTIME_DIR": "/tmp/jupyter-runtime",
        "PYTHONNOUSERSITE": "1",
        "JUPYTERLAB_SETTINGS_DIR": f"{sandbox.WORKSPACE}/.jupyterlab-settings",
        # JupyterLab's layout, kept with the person's settings (the config folder is read-only)
        "JUPYTERLAB_WORKSPACES_DIR": f"{sandbox.WORKSPACE}/.jupyterlab-workspaces",
        # the kernel's one way to the kit: the server's relay (hub/relay.py) to the tre service
        "TRE_SERVICE_SOCKET": SERVICE_SOCKET,
    }
    chosen = SpawnPlan(server_name, person_space, folders.data, interactive, environment)
    chosen.sandbox = sandbox.Sandbox(
        account=sandbox.account_name(username),
        mounts=(
            *chosen.mounts,
            *(
                [sandbox.Mount(folders.data, f"{sandbox.WORKSPACE}/{DATA_FOLDER}")]
                if data_in_workspace
                else []
            ),
            sandbox.Mount(kernels_folder(instance), JUPYTER_DATA),
        ),
        hidden=(instance.home,),
        group=sandbox.group_name(server_name),
    )
    return chosen


def check(instance: Instance, username: str, server_name: str, at: date | None = None) -> None:
    """:class:`Refused`, with every reason, unless USERNAME may work on project SERVER_NAME now."""
    if not server_name:
        raise Refused(
            "start a workspace for one of your projects (the default server is not used: every "
            "workspace is named after its project)"
        )
    with instance.db.session() as session:
        decision = decide(session, username, PolicyAction.WORK_IN_WORKSPACE, server_name, at=at)
    if not decision.allowed:
        raise Refused(decision.web_message())


# notebooks larger than this are not searched for the names of drafts (a page stays quick)
NOTEBOOK_READ_LIMIT = 5 << 20


def drafts_folder(folders: ProjectFolders, username: str) -> Path:
    """Where the person's interactive work writes its outputs (``TRE_OUTPUTS`` in JupyterLab):
    drafts, never requestable (the airlock takes only the files of a recorded run)."""
    return folders.outputs / f"workspace-{username}"


def drafts(instance: Instance, project_id: str, username: str, limit: int = 200) -> list[dict]:
    """The files the person's interactive work wrote, each with the notebooks of their workspace
    that name it: running one of those with provenance is the one step that makes the file
    again as a run's requestable output. Read as root, following no link."""
    import stat

    from notebooks.runner import runnable
    from notebooks.runs import WORKSPACE_PREFIX
    from sdc.policy import EVIDENCE_SUFFIX

    folders = ProjectFolders.of(instance, project_id)
    texts = {}
    for name in runnable(instance, project_id, username):
        if name.startswith(WORKSPACE_PREFIX):
            try:
                data = sandbox.read_inside(
                    folders.workspace / username,
                    name.removeprefix(WORKSPACE_PREFIX),
                    limit=NOTEBOOK_READ_LIMIT,
                )
            except sandbox.SandboxError:
                continue
            texts[name] = data.decode("utf-8", errors="replace")
    folder = drafts_folder(folders, username)
    out: list[dict] = []
    for top, inner, files in os.walk(folder, followlinks=False):
        inner[:] = sorted(f for f in inner if not f.startswith("."))
        for file in sorted(files):
            path = Path(top) / file
            found = path.lstat()
            if not stat.S_ISREG(found.st_mode) or file.endswith(EVIDENCE_SUFFIX):
                continue
            out.append(
                {
                    "file": path.relative_to(folder).as_posix(),
                    "bytes": found.st_size,
                    "notebooks": [n for n, text in texts.items() if file in text],
                }
            )
            if len(out) >= limit:
                return out
    return out


def kernels_folder(instance: Instance) -> Path:
    """The sandbox's Jupyter data folder: one kernel, started without a network."""
    import json

    folder = instance.home / "hub" / "jupyter"
    spec = folder / "kernels" / "python3" / "kernel.json"
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    text = json.dumps(
        {
            "argv": sandbox.kernel_command(argv),
            "display_name": "Python 3 (project sandbox, no network)",
            "language": "python",
            "metadata": {"debugger": False},
        },
        indent=1,
    )
    with _KERNELS:  # two workspaces may start at once (the hub's hooks run in threads)
        if not spec.exists() or spec.read_text() != text:
            spec.parent.mkdir(parents=True, exist_ok=True)
            spec.write_text(text)
            for path in [folder, *folder.rglob("*")]:
                path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


_KERNELS = threading.Lock()


def prepare(chosen: SpawnPlan, username: str, *, sandboxed: bool = True) -> Owner:
    """Accounts, groups and ownership the workspace needs (as root, before it starts): the
    person's account owns their workspace and outputs, the project's group may read the extract.
    ``sandboxed``: the local profile also needs bubblewrap (a container needs only the ids)."""
    if sandboxed:
        sandbox.check_available()
    elif os.geteuid() != 0:
        raise sandbox.SandboxError(
            "the hub gives each workspace's folders to the person's own account, which needs "
            "root: run the hub as root (in its container or pod)"
        )
    # a project whose extract is not cut yet gets an empty, read-only data folder
    chosen.data.mkdir(parents=True, exist_ok=True, mode=0o750)
    sandbox.give(chosen.workspace, username)
    sandbox.give(chosen.outputs, username)
    if sandboxed:
        sandbox.make_mount_point(chosen.workspace, DATA_FOLDER)
    sandbox.share_read_only(chosen.data, chosen.project)
    account = sandbox.ensure_account(username)
    return Owner(
        account.pw_name,
        account.pw_uid,
        account.pw_gid,
        sandbox.ensure_group(chosen.project).gr_gid,
    )


def _copy_studies(folder: Path) -> None:
    """The study notebooks, as templates to start from: written by root into a folder the person
    controls, so through no link and over nothing already there (the analyst's own, or a link
    they planted, is left alone)."""
    from notebooks.runner import studies

    for path in studies().values():
        sandbox.write_inside(folder, f"studies/{path.name}", path.read_bytes())


def _write_welcome(
    folder: Path, data: Path, spec: dict, username: str, tre_url: str, data_folder: str | None
) -> None:
    """The workspace's welcome page (WELCOME.md): the project, its purpose and end, where the
    data is, how to save outputs, run with provenance and request a release. Written by root
    at every start (the facts may have changed), through no link, over the kit's own copy only:
    a folder, or a link, the person put there under that name stays."""
    import json

    from tre.templating import render

    try:
        files = json.loads((data / "manifest.json").read_text(encoding="utf-8"))["files"]
        example = Path(files[0]["file"]).stem
    except (OSError, ValueError, KeyError, IndexError):
        example = "DATASET"
    text = render(
        TEMPLATES,
        "welcome.md",
        title=spec["title"],
        project=spec["id"],
        purpose=" ".join(spec["purpose"].split()),
        ends=spec["end"],
        person=username,
        data_folder=data_folder,
        data_path=sandbox.DATA,
        example=example,
        tre_url=tre_url,
    )
    sandbox.write_inside(folder, WELCOME, text.encode("utf-8"), replace=True)


def refuse_at_once(spawner) -> None:
    """The policy's refusal as the 403 page, on the hub's event loop (one query), before the
    hook's work goes to a thread (hub.config): a refused person reads why at once, not on the
    spawn-pending page. :func:`admit` asks again (the answer may change meanwhile)."""
    from tre.instance import open_instance

    instance = open_instance(os.environ.get("TRE_HOME"))
    try:
        check(instance, spawner.user.name, spawner.name)
    except Refused as refused:
        _record(instance, spawner, HubEvent.WORKSPACE_REFUSED, {"reasons": str(refused)})
        raise RefusedPage(refused, tre_pages(spawner)) from None
    finally:
        instance.db.dispose()


def admit(spawner, *, sandboxed: bool = True) -> tuple[SpawnPlan, Owner]:
    """The decision every profile's hook starts with: the policy's, for this person and the
    server's project (the server's name: never anything the person chose in a form). A refusal
    is audited and becomes a 403 with the reasons as a sentence; an admission is audited and
    gives the plan and the account the workspace runs as."""
    from tre.instance import open_instance

    # the person's spawn options are never read: what a workspace gets follows from its project
    spawner.user_options = {}
    instance = open_instance(os.environ.get("TRE_HOME"))
    try:
        try:
            chosen = plan(
                instance,
                spawner.user.name,
                spawner.name,
                tre_url=tre_pages(spawner),
                data_in_workspace=sandboxed,
            )
        except Refused as refused:
            _record(instance, spawner, HubEvent.WORKSPACE_REFUSED, {"reasons": str(refused)})
            raise RefusedPage(refused, tre_pages(spawner)) from None
        owner = prepare(chosen, spawner.user.name, sandboxed=sandboxed)
        _record(instance, spawner, HubEvent.WORKSPACE_START, {"account": owner.account})
    finally:
        instance.db.dispose()
    return chosen, owner


def tre_pages(spawner) -> str:
    """The tre pages' address on this hub (the hub's base URL, then ``services/tre/``)."""
    hub_prefix = getattr(getattr(spawner, "hub", None), "base_url", None) or "/hub/"
    return hub_prefix.rstrip("/").removesuffix("/hub") + TRE_PAGES


class RefusedPage(web.HTTPError):
    """A refused spawn as JupyterHub answers it: 403, with the reasons in one sentence."""

    def __init__(self, refused: Refused, tre_url: str = TRE_PAGES) -> None:
        super().__init__(403, log_message=str(refused), reason="Not allowed now")
        # JupyterHub shows this sentence on its error page, instead of a generic one; its
        # error page (hub/hub-templates/error.html) offers no restart, which would be refused
        self.jupyterhub_message = _one_line(str(refused))
        self.jupyterhub_html_message = (
            f"{html.escape(self.jupyterhub_message)} "
            f'<a href="{html.escape(tre_url)}">Your projects</a> say what to do next.'
        )


def pre_spawn_hook(spawner) -> None:
    """JupyterHub's ``Spawner.pre_spawn_hook`` of the local profile: refuse with reasons, or
    start the server in the project's sandbox."""
    chosen, _ = admit(spawner)
    assert chosen.sandbox is not None
    spawner.notebook_dir = sandbox.WORKSPACE
    spawner.environment.update(chosen.environment)
    spawner.cmd = chosen.sandbox.command(SINGLEUSER)


def post_stop_hook(spawner) -> None:
    """JupyterHub's ``Spawner.post_stop_hook``: a workspace's end is an audit event."""
    from tre.instance import open_instance

    instance = open_instance(os.environ.get("TRE_HOME"))
    try:
        _record(instance, spawner, HubEvent.WORKSPACE_STOP, {"why": "stopped"})
    finally:
        instance.db.dispose()


def _record(instance: Instance, spawner, action: HubEvent, details: dict) -> None:
    from tre import audit

    name = spawner.name or "(default)"
    with instance.db.session() as session:
        audit.record(
            session,
            spawner.user.name,
            action,
            "workspace",
            f"{spawner.user.name}/{name}",
            project=spawner.name or None,
            details=details,
        )


def _one_line(text: str) -> str:
    return " ".join(text.replace("\n  - ", "; ").split())


def spawner_class():
    """JupyterHub's local-process spawner, started by root and made into the sandbox by
    :func:`pre_spawn_hook` (the server itself never runs as root)."""
    from jupyterhub.spawner import SimpleLocalProcessSpawner

    class SandboxSpawner(SimpleLocalProcessSpawner):
        def user_env(self, env: dict[str, str]) -> dict[str, str]:
            # HOME and the folders are the sandbox's (set by the hook), not the hub's
            env["USER"] = sandbox.account_name(self.user.name)
            return env

    return SandboxSpawner
