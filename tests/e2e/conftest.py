"""A real JupyterHub (with its proxy, the tre service and the idle culler) on loopback ports,
serving the shared demo instance; for the end-to-end and browser tests."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "treton-demo-2026"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def hub_url(studied, tmp_path_factory):
    from app.up import seed_accounts

    seed_accounts(studied, PASSWORD)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = os.environ | {
        "TRE_HOME": str(studied.home),
        "TRE_HUB_URL": url,
        "TRE_SERVICE_PORT": str(free_port()),
        "TRE_HUB_API_PORT": str(free_port()),
        "TRE_PROXY_API_PORT": str(free_port()),
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    log = tmp_path_factory.mktemp("hub") / "hub.log"
    with open(log, "w") as out:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "jupyterhub"),
                "-f",
                str(ROOT / "hub" / "jupyterhub_config.py"),
            ],
            env=env,
            cwd=str(studied.home / "hub"),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/hub/login", timeout=2).status_code == 200:
                if requests.get(f"{url}/services/tre/register/", timeout=2).status_code == 200:
                    break
        except requests.ConnectionError:
            pass
        if process.poll() is not None:
            raise RuntimeError(f"the hub stopped:\n{log.read_text()[-3000:]}")
        time.sleep(0.5)
    else:
        process.kill()
        raise RuntimeError(f"the hub did not start in 90 s:\n{log.read_text()[-3000:]}")
    yield url
    os.killpg(process.pid, signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
