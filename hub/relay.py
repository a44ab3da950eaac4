"""The workspace's one way to the kit: a relay in the Jupyter server from a Unix socket inside the
sandbox to the tre service's HTTP API, with the person's own hub token.

A kernel has no network, so it cannot reach the tre service itself. Its Jupyter server (which runs
in the same sandbox as the same account, with a network) listens on ``$TRE_SERVICE_SOCKET``, a Unix
socket in the sandbox's private ``/tmp`` (mode 0600), and forwards ``/api/projects/<project>/...``
of this workspace's own project only to ``$TRE_SERVICE_URL`` with ``$JUPYTERHUB_API_TOKEN``. The
service learns who asks from the hub (the token), never from the request.
"""

from __future__ import annotations

import os

from tornado import httpclient, httpserver, netutil, web

ROUTE = r"/api/projects/([a-z0-9-]+)/(requests)"


class Relay(web.RequestHandler):
    def check_xsrf_cookie(self) -> None:  # the socket is the sandbox's own; no browser reaches it
        return None

    async def post(self, project: str, what: str) -> None:
        if project != os.environ.get("TRE_PROJECT"):
            raise web.HTTPError(
                403, reason=f"this workspace is project {os.environ.get('TRE_PROJECT')}'s"
            )
        client = httpclient.AsyncHTTPClient()
        answer = await client.fetch(
            f"{os.environ['TRE_SERVICE_URL'].rstrip('/')}/api/projects/{project}/{what}",
            method="POST",
            body=self.request.body,
            headers={
                "Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}",
                "Content-Type": "application/json",
            },
            raise_error=False,
            request_timeout=600,
        )
        self.set_status(answer.code if answer.code != 599 else 502)
        self.set_header("Content-Type", "application/json")
        self.finish(answer.body or b'{"error": "the tre service did not answer"}')


def start(serverapp) -> None:
    """Listen on the sandbox's socket (when the workspace names one)."""
    path = os.environ.get("TRE_SERVICE_SOCKET")
    if not path or not os.environ.get("TRE_SERVICE_URL"):
        return
    socket = netutil.bind_unix_socket(path, mode=0o600)
    server = httpserver.HTTPServer(web.Application([(ROUTE, Relay)]))
    server.add_socket(socket)
    serverapp.log.info("tre-kit relay: %s -> the tre service's API", path)
