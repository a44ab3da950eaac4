"""A Jupyter server extension that closes the download routes of a workspace.

``/files/``, ``/nbconvert/`` and ``/view/`` answer 403 with a sentence pointing to the airlock.
The handlers are added as host rules, which tornado matches before the server's own routes.
Enabled for every workspace by the admin config folder (``hub/admin-config``) and the spawner's
arguments, which a user's own configuration cannot override.
"""

from __future__ import annotations

from jupyter_server.base.handlers import JupyterHandler

MESSAGE = (
    "Downloads are switched off in a trusted research environment. To take an output out, "
    "request its release through the airlock (tre outputs request, or the airlock pages), where "
    "it is checked for disclosure by two output checkers."
)
CLOSED = (r"/files/.*", r"/nbconvert/.*", r"/view/.*")


class Closed(JupyterHandler):
    def prepare(self):
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(MESSAGE)


def _jupyter_server_extension_points():
    return [{"module": "hub.lockdown"}]


def _load_jupyter_server_extension(serverapp):
    from jupyter_server.utils import url_path_join

    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(".*$", [(url_path_join(base, p), Closed) for p in CLOSED])
    serverapp.log.info("tre-kit lockdown: %s closed", ", ".join(CLOSED))
