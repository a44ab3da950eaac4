"""`make up` as a service: ports checked first, and Ctrl-C or SIGTERM stopping everything it
started, within 10 s, without tracebacks. The two stopping tests start a real hub: heavy, run
them alone (`pytest tests/app/test_up.py`)."""

import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest
import requests

from app import up
from tests.hubtools import free_port


def test_a_port_in_use_is_refused_at_once_and_named():
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(up.PortInUse, match=rf"port {port} on 127.0.0.1, for the hub .*URL="):
            up.check_ports(f"http://127.0.0.1:{port}", {})
        environ = {"TRE_SERVICE_PORT": str(port)}
        with pytest.raises(
            up.PortInUse, match=rf"port {port} .*tre web service.*with TRE_SERVICE_PORT"
        ):
            up.check_ports(f"http://127.0.0.1:{free_port()}", environ)
    with pytest.raises(up.PortInUse, match="TRE_HUB_API_PORT='x' is not a port number"):
        up.check_ports("http://127.0.0.1:1", {"TRE_HUB_API_PORT": "x"})
    with pytest.raises(up.PortInUse, match="given twice"):
        up.check_ports("http://127.0.0.1:8999", {"TRE_SERVICE_PORT": "8999"})
    with pytest.raises(up.PortInUse, match="has no valid port: give one from 1 to 65535"):
        up.check_ports("http://127.0.0.1:99999", {})  # once a traceback from urlsplit
    up.check_ports(f"http://127.0.0.1:{free_port()}", {})  # free ports pass


def test_make_up_refuses_a_taken_port_before_starting_anything(tmp_path):
    """With the port taken the hub once still printed "JupyterHub is now running"."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "app.up", "--dir", str(tmp_path)],
            env=os.environ | {"TRE_HUB_URL": f"http://127.0.0.1:{port}"},
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 1
    assert f"port {port}" in done.stdout and "nothing was started" in done.stdout
    assert not (tmp_path / "instance").exists()  # not even the demo instance


def _started_up(studied, log):
    url = f"http://127.0.0.1:{free_port()}"
    env = os.environ | {
        "TRE_HUB_URL": url,
        "TRE_SERVICE_PORT": str(free_port()),
        "TRE_HUB_API_PORT": str(free_port()),
        "TRE_PROXY_API_PORT": str(free_port()),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.up", "--dir", str(studied.home.parent)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # so that the test can clean up whatever happens
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/services/tre/register/", timeout=2).status_code == 200:
                return process
        except requests.ConnectionError:
            pass
        assert process.poll() is None, "make up stopped before serving"
        time.sleep(0.5)
    os.killpg(process.pid, signal.SIGKILL)
    raise AssertionError("make up did not serve in 120 s")


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM])
def test_make_up_stops_everything_it_started_within_10_s(studied, tmp_path, stop):
    """Ctrl-C took 66-68 s and printed tracebacks; SIGTERM left the hub, proxy, service and
    culler running as orphans."""
    with open(tmp_path / "up.log", "w") as log:
        process = _started_up(studied, log)
        started = psutil.Process(process.pid).children(recursive=True)
        commands = " ".join(" ".join(p.cmdline()) for p in started)
        for part in ("jupyterhub", "hub.service", "jupyterhub_idle_culler", "hub.enforce"):
            assert part in commands, part  # the walk sees what it must stop
        began = time.monotonic()
        os.kill(process.pid, stop)  # as the terminal's Ctrl-C, or a service manager
        try:
            process.wait(timeout=15)
        finally:
            os.killpg(process.pid, signal.SIGKILL) if process.poll() is None else None
        took = time.monotonic() - began
    left = [p for p in started if up._running(p)]
    for p in left:
        p.kill()
    output = (tmp_path / "up.log").read_text()
    assert took < up.STOP_SECONDS, output[-3000:]
    assert not left, [p.cmdline() for p in left]
    assert "stopped" in output.splitlines()[-1]
    assert "Traceback" not in output, output[-3000:]
