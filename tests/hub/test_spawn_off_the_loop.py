"""The pre-spawn hook gives the person's workspace to their account, re-owning every file in it
as root: however long that takes (a workspace of a million files), it runs off the hub's event
loop, so the hub answers everyone else meanwhile.

The hub here is a real one, whose configuration is the kit's with one change: the walk that
re-owns the workspace waits for the test's word before it starts, as a large tree would make it
wait. While it waits, other requests to the hub must be answered at once."""

import threading
import time

import requests

from tests.hubtools import HUB_CONFIG, login, running_hub, stop_server, wait_for_lab

P = "supporting-families"
USER = "alex.analyst"
GATED = """
load_subconfig({kit!r})

import os, pathlib, time
from tre import sandbox

_walk = sandbox._chown_tree


def _gated(path, uid, gid):
    gate = pathlib.Path(os.environ["TRE_TEST_GATE"])
    (gate.parent / "walking").touch()
    deadline = time.monotonic() + 60
    while not gate.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    _walk(path, uid, gid)


sandbox._chown_tree = _gated
"""


def test_the_hub_answers_others_while_a_workspace_is_being_given(active, tmp_path):
    config = tmp_path / "gated_config.py"
    config.write_text(GATED.format(kit=str(HUB_CONFIG)))
    gate, walking = tmp_path / "gate", tmp_path / "walking"
    with running_hub(active, tmp_path, config, TRE_TEST_GATE=str(gate)) as url:
        session, _ = login(url, USER)
        spawn = threading.Thread(
            target=lambda: session.get(f"{url}/hub/spawn/{USER}/{P}", timeout=120), daemon=True
        )
        try:
            spawn.start()
            deadline = time.monotonic() + 60
            while not walking.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            assert walking.exists(), "the workspace's hook did not start"
            answered = {}
            for path in ("/hub/api/", "/hub/login"):
                started = time.monotonic()
                try:
                    answer = requests.get(f"{url}{path}", timeout=10)
                except requests.Timeout:
                    raise AssertionError(
                        f"{path} waited for the hook: the hub's loop is held"
                    ) from None
                answered[path] = time.monotonic() - started
                assert answer.status_code == 200, path
            assert max(answered.values()) < 3, answered
        finally:
            gate.touch()
        spawn.join(timeout=120)
        # once the walk goes on, the workspace starts as before
        wait_for_lab(session, url, USER, P)
        stop_server(session, url, USER, P)
