"""A Jupyter server extension that closes the download routes of a workspace.

``/files/``, ``/nbconvert/`` and ``/view/`` answer 403 with a sentence pointing to the airlock.
The contents API, which JupyterLab needs to open notebooks and text files, returns a file's content
only when the file lies inside the workspace once every symbolic link is followed, is text (no
``base64``: binary files are not sent to a browser at all), is not a copy of a file of the
project's extract, and is not in the workspace's ``project-data`` folder (the extract, mounted
read-only so that the file browser shows where the data is: listed, never sent). The handlers
are added as host rules, which tornado matches before the server's own routes (the contents API's
checkpoint and trust routes first, with their own handlers). Enabled for every workspace by the
spawner's arguments, which a user's own configuration cannot override (the sandbox reads no
configuration the person can write).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.services.contents.fileio import FileManagerMixin
from jupyter_server.services.contents.handlers import ContentsHandler
from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web

from tre.sandbox import DATA_FOLDER

MESSAGE = (
    "Downloads are switched off in a trusted research environment. To take an output out, "
    "request its release through the airlock (tre outputs request, or the airlock pages), where "
    "it is checked for disclosure by two output checkers."
)
CLOSED = (r"/files/.*", r"/nbconvert/.*", r"/view/.*")


class Closed(JupyterHandler):
    # a coroutine with JupyterHandler's signature, as the one it replaces (tornado awaits it)
    async def prepare(self, *, _redirect_to_login: bool = True) -> None:
        self.set_status(403)
        self.set_header("Content-Type", "text/plain; charset=utf-8")
        self.finish(MESSAGE)


CONTENTS = r"/api/contents(?P<path>(?:(?:/[^/]+)+|/?))"
REFUSED = (
    "This file's content is not sent to the browser in a trusted research environment: {why}. "
    "To take an output out, request its release through the airlock."
)


def refusal(root: Path, os_path: Path, fmt: str | None, extract_hashes: set[str]) -> str | None:
    """Why the content of OS_PATH may not be returned, or None."""
    real = os_path.resolve()
    if not real.is_relative_to(root.resolve()):
        return "it lies outside the workspace (a link to the data or elsewhere)"
    if real.is_dir():
        return None
    if real.is_relative_to(root.resolve() / DATA_FOLDER):
        return "it is a file of the project's extract (read it in a notebook: ws.data)"
    if fmt == "base64":
        return "it is asked for as binary"
    with open(real, "rb") as handle:
        head = handle.read(8192)
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        if len(head) < 8192 or b"\x00" in head:
            return "it is binary"
    if _sha256(real) in extract_hashes:
        return "it is a copy of a file of the project's extract"
    return None


def _sha256(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def extract_hashes() -> set[str]:
    """The sha-256 of every file of the project's extract, from its manifest."""
    folder = os.environ.get("TRE_DATA")
    if not folder:
        return set()
    try:
        manifest = json.loads((Path(folder) / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return set()
    return {f["sha256"] for f in manifest.get("files", []) if "sha256" in f}


class GuardedContents(ContentsHandler):
    """The contents API, refusing the content of what must not reach the browser."""

    @web.authenticated
    async def get(self, path=""):
        wants_content = self.get_query_argument("content", default="1") == "1"
        if wants_content and self.get_query_argument("type", default=None) != "directory":
            manager = self.contents_manager
            # the server's own managers are of files (the only kind a workspace is given)
            assert isinstance(manager, FileManagerMixin)
            os_path = Path(manager._get_os_path(path.strip("/")))
            if os_path.exists():
                why = refusal(
                    Path(manager.root_dir),
                    os_path,
                    self.get_query_argument("format", default=None),
                    extract_hashes(),
                )
                if why:
                    self.log.warning("tre-kit lockdown: refused %s: %s", path, why)
                    raise web.HTTPError(403, REFUSED.format(why=why))
        served = super().get(path)
        # a coroutine (tornado's decorator types it as possibly None)
        assert served is not None
        return await served

    def _finish_model(self, model, location=True):
        """The last word, on what was actually read (the file may have been swapped for a link
        since the check above): no binary content, no copy of the extract, ever sent."""
        why = sent_refusal(model, extract_hashes())
        if why:
            self.log.warning("tre-kit lockdown: refused %s: %s", model.get("path"), why)
            raise web.HTTPError(403, REFUSED.format(why=why))
        return super()._finish_model(model, location)


def sent_refusal(model: dict, extract_hashes: set[str]) -> str | None:
    """Why a contents model may not be sent to the browser, or None: binary content, or content
    whose bytes are those of a file of the extract."""
    content = model.get("content")
    if content is None or model.get("type") == "directory":
        return None
    if model.get("format") == "base64":
        return "it is binary"
    if isinstance(content, str):
        digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
        if digest in extract_hashes:
            return "it is a copy of a file of the project's extract"
    return None


# how many times a folder that changed while it was listed is listed again before its 404 stands
LISTING_ATTEMPTS = 10


class SteadyFileManager(AsyncLargeFileManager):
    """The server's file manager, whose folder listing holds while files in the folder come and go.

    Jupyter Server lists a folder by asking for each entry's model after its stat; an entry gone
    in between (JupyterLab's first save renames Untitled.ipynb while the file browser lists)
    raises 404 for the whole folder, and JupyterLab then shows "Directory not found" over the
    workspace. A listing that fails so while the folder is still there is taken again."""

    async def get(self, path, content=True, type=None, format=None, require_hash=False):
        for attempt in range(1, LISTING_ATTEMPTS + 1):
            try:
                return await super().get(
                    path, content=content, type=type, format=format, require_hash=require_hash
                )
            except web.HTTPError as error:
                # an entry's own model (content=False) is not retried: its folder's listing is
                listing = content and error.status_code == 404 and await self.dir_exists(path)
                if not listing or attempt == LISTING_ATTEMPTS or await self.is_hidden(path):
                    raise
                self.log.info("tre-kit: %s changed while it was listed; listed again", path or "/")
        raise AssertionError("unreachable")


def _jupyter_server_extension_points():
    return [{"module": "hub.lockdown"}]


def _load_jupyter_server_extension(serverapp):
    from jupyter_server.services.contents.handlers import default_handlers as contents_routes
    from jupyter_server.utils import url_path_join

    base = serverapp.web_app.settings["base_url"]
    # the contents API's other routes (checkpoints, trust) send no file content: they keep their
    # own handlers, matched before the guard (whose pattern would take their paths as files)
    others = [(url_path_join(base, p), h) for p, h in contents_routes if h is not ContentsHandler]
    serverapp.web_app.add_handlers(
        ".*$",
        [(url_path_join(base, p), Closed) for p in CLOSED]
        + others
        + [(url_path_join(base, CONTENTS), GuardedContents)],
    )
    serverapp.log.info("tre-kit lockdown: %s closed; contents guarded", ", ".join(CLOSED))
    from hub import lab, relay

    relay.start(serverapp)
    lab.add_handlers(serverapp)
