"""What the workspace's JupyterLab adds to the Jupyter server: the banner's facts and "Run with
provenance".

Two routes on the single-user server (added by :mod:`hub.lockdown`, the workspace's server
extension), behind the server's own sign-in and XSRF check:

- ``GET tre/workspace``: the project, its purpose, the day it ends, the tre pages' address and the
  welcome page, from the environment the spawner set (:mod:`hub.spawn`), for the banner of the
  kit's JupyterLab extension (``hub/admin-config/labextensions/@tre-kit/workspace``);
- ``POST tre/run`` (JSON ``path``: the notebook, as JupyterLab names it, relative to the
  workspace): asks the tre service, with the person's own hub token (:func:`hub.relay.forward`),
  to run ``workspace/<path>`` through the kit's runner in the workspace's sandbox. The service
  decides what may run (:func:`notebooks.runner.run_runnable`): a path with ``..``, a link, or a
  notebook of another person or project is refused there, whatever this server sends.
"""

from __future__ import annotations

import json
import os

from jupyter_server.base.handlers import APIHandler
from tornado import web


def facts() -> dict[str, str]:
    """What the banner shows, from the workspace's environment."""
    return {
        "project": os.environ.get("TRE_PROJECT", ""),
        "title": os.environ.get("TRE_PROJECT_TITLE", ""),
        "purpose": os.environ.get("TRE_PROJECT_PURPOSE", ""),
        "ends": os.environ.get("TRE_PROJECT_ENDS", ""),
        "tre_url": os.environ.get("TRE_PAGES", "/services/tre/"),
        "welcome": "WELCOME.md",
    }


class WorkspaceFacts(APIHandler):
    @web.authenticated
    def get(self) -> None:
        self.finish(json.dumps(facts()))


class RunWithProvenance(APIHandler):
    @web.authenticated
    async def post(self) -> None:
        from hub.relay import forward
        from notebooks.runs import WORKSPACE_PREFIX

        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError:
            body = None
        path = body.get("path") if isinstance(body, dict) else None
        if not isinstance(path, str) or not path.endswith(".ipynb"):
            self.set_status(400)
            self.finish(json.dumps({"error": "send JSON with path: the notebook (.ipynb) to run"}))
            return
        if not os.environ.get("TRE_SERVICE_URL"):
            self.set_status(503)
            self.finish(json.dumps({"error": "this workspace has no way to the tre service"}))
            return
        request = {"notebook": WORKSPACE_PREFIX + path.lstrip("/")}
        self.log.info("tre-kit: run with provenance of %s", request["notebook"])
        code, answer = await forward("runs", json.dumps(request).encode())
        self.set_status(code)
        self.finish(answer)


def add_handlers(serverapp) -> None:
    from jupyter_server.utils import url_path_join

    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(
        ".*$",
        [
            (url_path_join(base, "tre/workspace"), WorkspaceFacts),
            (url_path_join(base, "tre/run"), RunWithProvenance),
        ],
    )
