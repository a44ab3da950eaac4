"""JupyterHub's configuration for a tre instance, as a function of the instance's settings.

``hub/jupyterhub_config.py`` calls :func:`configure`; tests call it on a plain traitlets Config.
Named servers on, one per project (named after the project id); the default server refused;
NativeAuthenticator for people in the registry; the spawner of ``tre.toml``'s ``[hub] profile``
(local: the sandboxed local-process spawner of :mod:`hub.spawn`; docker and k8s: DockerSpawner
and KubeSpawner, scoped by :mod:`hub.profiles`); the tre web service and the idle culler as hub
services; roles with the custom scopes of checkers and approvers; hub groups that mirror the
projects. :func:`configure_tre` is the part Zero to JupyterHub's own configuration loads.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import warnings
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from hub import groups
from projects.policy import Role
from tre.instance import Instance

HERE = Path(__file__).parent
NPM_PROXY = HERE / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
SERVICE_PORT = int(os.environ.get("TRE_SERVICE_PORT", "8010"))
# how often the enforcer asks the policy again about every running workspace
ENFORCE_SECONDS = float(os.environ.get("TRE_ENFORCE_SECONDS", "20"))
CUSTOM_SCOPES = {
    "custom:tre:review": {"description": "Review release requests in the airlock."},
    "custom:tre:approve": {"description": "Approve the use of a data controller's datasets."},
    "custom:tre:lead": {"description": "Register and edit projects."},
}
ROLE_SCOPES = {
    Role.OUTPUT_CHECKER: "custom:tre:review",
    Role.APPROVER: "custom:tre:approve",
    Role.PROJECT_LEAD: "custom:tre:lead",
}
# who holds each scope, in the words a refused page uses ("this page is for output checkers")
SCOPE_NAMES = {
    "custom:tre:review": "output checkers",
    "custom:tre:approve": "data controllers' approvers",
    "custom:tre:lead": "project leads",
}


# the longest an operator's API token may live: 30 days
TOKEN_MAX_SECONDS = 30 * 24 * 3600
# what every signed-in person may do at the hub (the default role's "self", less "tokens",
# "shares" and "users:shares")
USER_SCOPES = [
    "read:users!user",
    "users:activity!user",
    "servers!user",
    "access:servers!user",
    "access:services!service=tre",
]


def proxy_command() -> list[str]:
    """The npm configurable-http-proxy when set up; else the PyPI port, with a warning."""
    if NPM_PROXY.exists() and shutil.which("node"):
        return [str(NPM_PROXY)]
    warnings.warn(
        "using the Python port of configurable-http-proxy: it lacks the npm proxy's websocket "
        "and error-page handling under load and is less tested; install Node.js and run "
        "`make up` again to get the npm proxy",
        stacklevel=2,
    )
    return [str(Path(sys.executable).parent / "configurable-http-proxy")]


def bin_path(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def configure(c: Any, instance: Instance, bind_url: str = "http://127.0.0.1:8000") -> None:
    state = instance.home / "hub"
    state.mkdir(exist_ok=True, mode=0o700)
    os.environ["TRE_HOME"] = str(instance.home)

    c.JupyterHub.bind_url = bind_url
    c.JupyterHub.hub_ip = "127.0.0.1"
    c.JupyterHub.hub_port = int(os.environ.get("TRE_HUB_API_PORT", "8081"))
    c.ConfigurableHTTPProxy.api_url = (
        f"http://127.0.0.1:{int(os.environ.get('TRE_PROXY_API_PORT', '8001'))}"
    )
    c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
    c.ConfigurableHTTPProxy.command = proxy_command()
    c.ConfigurableHTTPProxy.pid_file = str(state / "proxy.pid")
    c.JupyterHub.cleanup_servers = True
    configure_tre(c, instance)


def configure_tre(c: Any, instance: Instance) -> None:
    """Everything but where the hub process itself listens and keeps its state: sign-in, named
    servers, the profile's spawner and its hooks, services, roles and groups."""
    # one workspace per project: named servers, the default one refused by the spawn hook
    c.JupyterHub.allow_named_servers = True
    c.JupyterHub.named_server_limit_per_user = 0
    c.JupyterHub.redirect_to_server = False
    c.JupyterHub.default_url = "/services/tre/"
    # JupyterHub's home page sends people to the tre pages (hub/hub-templates/home.html)
    c.JupyterHub.template_paths = [str(HERE / "hub-templates")]
    # a workspace's start is shown as it goes (the spawn-pending page's progress) from the click,
    # not after ten seconds of a blank wait
    c.JupyterHub.tornado_settings = {"slow_spawn_timeout": 0}
    # the operators keep the token page (they are the hub's admins); none of their API tokens
    # outlives this: one with no expiry given gets it, a longer one is refused
    c.JupyterHub.token_expires_in_max_seconds = TOKEN_MAX_SECONDS

    c.JupyterHub.authenticator_class = "hub.auth.TreAuthenticator"
    c.Authenticator.allow_all = True  # login is checked against the registry instead
    c.Authenticator.admin_users = set(groups.operators(instance))
    c.NativeAuthenticator.enable_signup = True
    c.NativeAuthenticator.open_signup = False
    c.NativeAuthenticator.minimum_password_length = 10
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = 5
    c.NativeAuthenticator.seconds_before_next_try = 600
    c.NativeAuthenticator.allow_2fa = True

    configure_spawner(c, instance)
    c.JupyterHub.custom_scopes = CUSTOM_SCOPES
    c.JupyterHub.load_roles = roles(instance)
    c.JupyterHub.load_groups = groups.desired(instance)
    c.JupyterHub.services = [
        {
            "name": "tre",
            "url": f"http://127.0.0.1:{SERVICE_PORT}",
            "oauth_client_allowed_scopes": sorted(CUSTOM_SCOPES),
            "command": [sys.executable, "-m", "hub.service"],
            "environment": {"TRE_HOME": str(instance.home)},
            "oauth_no_confirm": True,
            "display": True,
        },
        {
            "name": "idle-culler",
            "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600"],
        },
        {
            # stops, within a minute, every workspace the policy no longer allows (hub/enforce.py)
            "name": "tre-enforcer",
            "command": [sys.executable, "-m", "hub.enforce", f"--interval={ENFORCE_SECONDS}"],
            "environment": {"TRE_HOME": str(instance.home)},
        },
    ]


# a workspace server's arguments, which no configuration a person can write overrides
WORKSPACE_ARGS = (
    # kernels reach their server over Unix sockets (in the local sandbox they have no network)
    "--KernelManager.transport=ipc",
    "--KernelSpecManager.ensure_native_kernel=False",
    # notebook trust lives in the sandbox's own /tmp: nothing is trusted across sessions
    "--NotebookNotary.db_file=:memory:",
    "--NotebookNotary.secret_file=/tmp/jupyter-notebook-secret",
    "--ServerApp.terminals_enabled=False",
    "--ServerApp.jpserver_extensions=hub.lockdown=True",
    "--ServerApp.contents_manager_class=hub.lockdown.SteadyFileManager",
    "--LabApp.news_url=",
    "--ServerApp.max_body_size=10485760",
)


def configure_spawner(c: Any, instance: Instance) -> None:
    """The spawner of the instance's profile, its hooks and the single-user server's command."""
    profile = instance.settings.hub.profile
    if profile == "local":
        from hub.spawn import SINGLEUSER, spawner_class

        # the server runs as the person's own account, inside the sandbox (hub.spawn)
        c.JupyterHub.spawner_class = spawner_class()
        c.Spawner.cmd = SINGLEUSER
        c.Spawner.pre_spawn_hook = _pre_spawn_hook
        # the workspace's relay (hub/relay.py) reaches the tre service with the person's token
        c.Spawner.environment = {"TRE_SERVICE_URL": f"http://127.0.0.1:{SERVICE_PORT}/services/tre"}
    elif profile == "docker":
        from hub.profiles import configure_docker

        configure_docker(c, c.JupyterHub.hub_port or 8081)
        c.Spawner.pre_spawn_hook = _docker_hook
    else:
        from hub.profiles import configure_k8s

        configure_k8s(c)
        c.Spawner.pre_spawn_hook = _kube_hook
    c.Spawner.post_stop_hook = _post_stop_hook
    # the server's token may reach the tre service (the relay), as its person, and no more
    c.Spawner.server_token_scopes = [
        "users:activity!user",
        "access:servers!server",
        "access:services!service=tre",
    ]
    c.Spawner.default_url = "/lab"
    c.Spawner.args = list(WORKSPACE_ARGS)
    c.Spawner.start_timeout = 180
    c.Spawner.http_timeout = 180
    # what a workspace gets follows from its project alone: no spawn options are applied
    c.Spawner.apply_user_options = None


# The hooks run in a worker thread, never on the hub's event loop: giving a workspace to its
# person re-owns every file in it as root (tre.sandbox), and the policy's decision, the accounts
# and the audit event wait on the database and on useradd. On the loop, a large workspace would
# hold every other request to the hub until it was done. JupyterHub awaits what a hook returns.
# A refusal (one query) is still raised on the loop, before the hook returns what JupyterHub
# awaits, so the refused person gets its 403 page at once rather than the spawn-pending page.


def _pre_spawn_hook(spawner) -> Awaitable[None]:
    from hub.spawn import pre_spawn_hook, refuse_at_once

    refuse_at_once(spawner)
    return asyncio.to_thread(pre_spawn_hook, spawner)


def _docker_hook(spawner) -> Awaitable[None]:
    from hub.profiles import docker_hook
    from hub.spawn import refuse_at_once

    refuse_at_once(spawner)
    return asyncio.to_thread(docker_hook, spawner)


def _kube_hook(spawner) -> Awaitable[None]:
    from hub.profiles import kube_hook
    from hub.spawn import refuse_at_once

    refuse_at_once(spawner)
    return asyncio.to_thread(kube_hook, spawner)


async def _post_stop_hook(spawner) -> None:
    from hub.spawn import post_stop_hook

    await asyncio.to_thread(post_stop_hook, spawner)


def roles(instance: Instance) -> list[dict[str, Any]]:
    by_role = groups.people_by_role(instance)
    out = [
        {
            # JupyterHub's "self" without "tokens" (and without sharing): a person may start,
            # stop and use their own workspaces, never mint an API token that would outlive
            # them and act as the person from outside (docs/workspace-security.md)
            "name": "user",
            "scopes": USER_SCOPES,
        },
        {
            "name": "tre-service",
            "scopes": [
                "list:users",
                "read:users",
                "admin:groups",
                "read:servers",
                "users:activity",
            ],
            "services": ["tre"],
        },
        {
            "name": "idle-culler",
            "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"],
            "services": ["idle-culler"],
        },
        {
            "name": "tre-enforcer",
            "scopes": ["list:users", "read:users", "read:servers", "delete:servers"],
            "services": ["tre-enforcer"],
        },
    ]
    for role, scope in ROLE_SCOPES.items():
        out.append(
            {
                "name": f"tre-{role.replace('_', '-')}",
                "scopes": [scope],
                "users": sorted(by_role.get(role, [])),
            }
        )
    return out
