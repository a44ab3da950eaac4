"""The workspace's Jupyter server with its lockdown, run for real: a folder's listing holds while
files in it come and go (JupyterLab's first save renames Untitled.ipynb while the file browser
lists the folder; the server's listing answered 404 for the whole folder when a file went between
its stat and its model, and JupyterLab then showed "Directory not found" over the workspace)."""

import os
import subprocess
import sys
import time

import pytest
import requests

from hub.config import WORKSPACE_ARGS
from tests.hubtools import ROOT, free_port, wait_until_serving

TOKEN = "lockdown-test-token"


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "workspace"
    root.mkdir()
    port = free_port()
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "PYTHONPATH": str(ROOT)}
    env.pop("TRE_DATA", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={TOKEN}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.open_browser=False",
            "--allow-root",  # the test runs as CI does (a workspace never runs as root)
            # the server's own arguments, as a workspace is given them
            *(a for a in WORKSPACE_ARGS if a.startswith("--ServerApp.")),
        ],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=open(tmp_path / "server.log", "wb"),  # noqa: SIM115 (closed with the process)
    )
    base = f"http://127.0.0.1:{port}"
    session = requests.Session()
    session.headers["Authorization"] = f"token {TOKEN}"
    wait_until_serving(
        lambda: session.get(f"{base}/api/status", timeout=5).ok,
        process,
        tmp_path / "server.log",
        "the Jupyter server",
        seconds=60,
    )
    try:
        yield base, session, root
    finally:
        process.terminate()
        process.wait(timeout=30)


CHURN = """
import pathlib, sys
root = pathlib.Path(sys.argv[1])
names = [f"Untitled{i}.ipynb" for i in range(100)]
while True:
    for name in names:
        (root / name).write_text("{}")
    for name in names:
        (root / name).rename(root / ("renamed-" + name))
    for name in names:
        (root / ("renamed-" + name)).unlink()
"""


def test_a_listing_holds_while_files_in_the_folder_come_and_go(server):
    base, session, root = server
    for i in range(200):
        (root / f"kept-{i:03}.txt").write_text("x")
    # another process makes, renames and removes files as fast as it can (a thread of this one
    # would share its interpreter with the requests below, and rarely run in the listing's gaps)
    churn = subprocess.Popen([sys.executable, "-c", CHURN, str(root)])
    answers = []
    try:
        deadline = time.monotonic() + 20
        while len(answers) < 60 and time.monotonic() < deadline:
            answers.append(session.get(f"{base}/api/contents/", timeout=30))
    finally:
        churn.kill()
        churn.wait()
    failed = [(a.status_code, a.text[:200]) for a in answers if a.status_code != 200]
    assert not failed, f"{len(failed)} of {len(answers)} listings failed: {failed[:3]}"
    kept = {m["name"] for m in answers[-1].json()["content"]}
    assert {f"kept-{i:03}.txt" for i in range(200)} <= kept


def test_a_missing_folder_is_still_not_found(server):
    base, session, _ = server
    answer = session.get(f"{base}/api/contents/no-such-folder", timeout=30)
    assert answer.status_code == 404
