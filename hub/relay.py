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

ROUTE = r"/api/projects/([a-z0-9-]+)/(requests|runs)"


class Relay(web.RequestHandler):
    def check_xsrf_cookie(self) -> None:  # the socket is the sandbox's own; no browser reaches it
        return None

    async def post(self, project: str, what: str) -> None:
        if project != os.environ.get("TRE_PROJECT"):
            raise web.HTTPError(
                403, reason=f"this workspace is project {os.environ.get('TRE_PROJECT')}'s"
            )
        code, body = await forward(what, self.request.body)
        self.set_status(code)
        self.set_header("Content-Type", "application/json")
        self.finish(body)


async def forward(what: str, body: bytes) -> tuple[int, bytes]:
    """POST BODY to the tre service's ``/api/projects/<this workspace's project>/WHAT`` with the
    person's hub token; the service's status and JSON answer (502 when it did not answer)."""
    client = httpclient.AsyncHTTPClient()
    answer = await client.fetch(
        f"{os.environ['TRE_SERVICE_URL'].rstrip('/')}/api/projects/"
        f"{os.environ['TRE_PROJECT']}/{what}",
        method="POST",
        body=body,
        headers={
            "Authorization": f"token {os.environ['JUPYTERHUB_API_TOKEN']}",
            "Content-Type": "application/json",
        },
        raise_error=False,
        request_timeout=1800,
    )
    if answer.code == 599 or not answer.body:
        return 502, b'{"error": "the tre service did not answer; try again, or use the tre pages"}'
    return answer.code, answer.body


def start(serverapp) -> None:
    """Listen on the sandbox's socket (when the workspace names one)."""
    path = os.environ.get("TRE_SERVICE_SOCKET")
    if not path or not os.environ.get("TRE_SERVICE_URL"):
        return
    socket = netutil.bind_unix_socket(path, mode=0o600)
    server = httpserver.HTTPServer(web.Application([(ROUTE, Relay)]))
    server.add_socket(socket)
    serverapp.log.info("tre-kit relay: %s -> the tre service's API", path)
