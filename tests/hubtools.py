"""A real JupyterHub for the tests (with its proxy, the tre service and the idle culler), and the
clients a person or an attacker would use against it: a browser-like session, and a kernel
driven over its websocket as JupyterLab drives it."""

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "treton-demo-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


HUB_CONFIG = ROOT / "hub" / "jupyterhub_config.py"


def wait_until_serving(
    answers, process: subprocess.Popen, log: Path, what: str, seconds: float
) -> None:
    """Wait until ANSWERS() is true (a connection refused: not yet) while PROCESS runs; WHAT
    (stopped, or not started in SECONDS) is an error with the end of its LOG."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            if answers():
                return
        except requests.ConnectionError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"{what} stopped:\n{log.read_text()[-3000:]}")
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError(
                f"{what} did not start in {seconds:.0f} s:\n{log.read_text()[-3000:]}"
            )
        time.sleep(0.3)


@contextmanager
def running_hub(instance, log_folder: Path, config: Path = HUB_CONFIG, **environment: str):
    """JupyterHub serving INSTANCE on free loopback ports; yields its URL, stops it after.
    CONFIG: the hub's configuration file (a test's may load the kit's and change one thing);
    ENVIRONMENT: more variables for the hub."""
    from app.up import seed_accounts

    seed_accounts(instance, PASSWORD)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "TRE_HOME": str(instance.home),
        "TRE_HUB_URL": url,
        "TRE_SERVICE_PORT": str(free_port()),
        "TRE_HUB_API_PORT": str(free_port()),
        "TRE_PROXY_API_PORT": str(free_port()),
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        **environment,
    }
    log = log_folder / "hub.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "jupyterhub"),
                "-f",
                str(config),
            ],
            env=env,
            cwd=str(instance.home / "hub"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_until_serving(
        lambda: (
            requests.get(f"{url}/hub/login", timeout=2).status_code == 200
            and requests.get(f"{url}/services/tre/register/", timeout=2).status_code == 200
        ),
        process,
        log,
        "the hub",
        seconds=90,
    )
    yield url
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)


def login(base: str, user: str, password: str = PASSWORD):
    session = requests.Session()
    page = session.get(f"{base}/hub/login")
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{base}/hub/login?next=", data={"username": user, "password": password, "_xsrf": xsrf}
    )
    return session, answer


def wait_for_lab(session, base: str, user: str, project: str):
    for _ in range(120):
        page = session.get(f"{base}/user/{user}/{project}/lab")
        if page.status_code == 200 and "JupyterLab" in page.text:
            return page
        time.sleep(1)
    raise AssertionError(f"{user}'s workspace did not start: {page.status_code} {page.text[:300]}")


def stop_server(session, base: str, user: str, project: str) -> None:
    session.get(f"{base}/hub/home")
    session.delete(
        f"{base}/hub/api/users/{user}/servers/{project}",
        headers={"X-XSRFToken": session.cookies.get("_xsrf", path="/hub/") or ""},
    )


class Kernel:
    """A kernel in a person's running workspace, started and driven through the Jupyter server's
    REST and websocket APIs with the person's own cookies, as JupyterLab does."""

    def __init__(self, session, base: str, user: str, project: str):
        self.session, self.base = session, base
        self.prefix = f"{base}/user/{user}/{project}"
        self.xsrf = session.cookies.get("_xsrf", path=f"/user/{user}/{project}/") or ""
        answer = session.post(
            f"{self.prefix}/api/kernels", json={"name": "python3"}, headers=self.headers()
        )
        assert answer.status_code == 201, answer.text
        self.id = answer.json()["id"]

    def headers(self) -> dict[str, str]:
        return {"X-XSRFToken": self.xsrf}

    def run(self, code: str, timeout: float = 60) -> str:
        """CODE's printed output, or 'ERROR name: value' when it raised."""
        return asyncio.run(self._run(code, timeout))

    async def _run(self, code: str, timeout: float) -> str:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        cookies = "; ".join(f"{c.name}={c.value}" for c in self.session.cookies)
        url = self.prefix.replace("http://", "ws://") + f"/api/kernels/{self.id}/channels"
        request = HTTPRequest(url, headers={"Cookie": cookies, "Origin": self.base})
        socket_ = await websocket_connect(request)
        msg_id = uuid.uuid4().hex
        socket_.write_message(
            json.dumps(
                {
                    "header": {
                        "msg_id": msg_id,
                        "username": "test",
                        "session": uuid.uuid4().hex,
                        "msg_type": "execute_request",
                        "version": "5.3",
                    },
                    "parent_header": {},
                    "metadata": {},
                    "content": {
                        "code": code,
                        "silent": False,
                        "store_history": False,
                        "user_expressions": {},
                        "allow_stdin": False,
                        "stop_on_error": True,
                    },
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        out: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            raw = await asyncio.wait_for(socket_.read_message(), deadline - time.monotonic())
            if raw is None:
                break
            message = json.loads(raw)
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind, content = message["msg_type"], message["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                out.append(f"ERROR {content['ename']}: {content['evalue']}")
            elif kind == "execute_result":
                out.append(content["data"].get("text/plain", ""))
            elif kind == "status" and content["execution_state"] == "idle":
                break
        socket_.close()
        return "".join(out)

    def shutdown(self) -> None:
        self.session.delete(f"{self.prefix}/api/kernels/{self.id}", headers=self.headers())
