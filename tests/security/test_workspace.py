"""Attacks from inside a workspace, made as an analyst would make them: code in a real kernel of a
real hub's workspace. Each must fail for the attacker.

The analyst is alex.analyst, a member of the demo project; what they try to reach is the rest of
the instance, whose paths an insider could know or guess.
"""

import socket
import textwrap
import threading
from pathlib import Path

import pytest

from tests.hubtools import Kernel, login, stop_server, wait_for_lab

P = "supporting-families"
USER = "alex.analyst"


@pytest.fixture(scope="module")
def kernel(hub_url):
    session, _ = login(hub_url, USER)
    assert session.get(f"{hub_url}/hub/spawn/{USER}/{P}").status_code == 200
    wait_for_lab(session, hub_url, USER, P)
    started = Kernel(session, hub_url, USER, P)
    yield started
    started.shutdown()
    stop_server(session, hub_url, USER, P)


def attempt(kernel, code: str) -> str:
    return kernel.run(textwrap.dedent(code))


def test_the_kernel_runs_as_the_persons_own_account_not_root(kernel):
    out = attempt(kernel, "import os, pwd; print(os.getuid(), pwd.getpwuid(os.getuid()).pw_name)")
    uid, name = out.split()
    assert uid != "0" and name == "tre-alex.analyst"


def test_the_kernel_sees_its_extract_read_only(kernel, studied):
    out = attempt(
        kernel,
        """
        import os
        from notebooks import workspace
        print(len(workspace.data("csc_referrals")) > 0)
        try:
            open("/tre/data/csc_referrals.parquet", "ab")
        except OSError as exc:
            print(type(exc).__name__)
        """,
    )
    assert "True" in out and ("PermissionError" in out or "OSError" in out)


@pytest.mark.parametrize(
    "target",
    [
        "tre.db",  # the instance database
        "keys/pseudonymisation.key",
        "keys/audit.key",
        "tre.toml",
        "hub/jupyterhub_cookie_secret",
        "hub/jupyterhub.sqlite",
        "identifiers",
        "store",
        "projects",  # every project's extract and workspace
        "releases",
    ],
)
def test_the_kernel_cannot_reach_the_instance(kernel, studied, target):
    path = studied.home / target
    assert path.exists()  # it is there on the host
    out = attempt(
        kernel,
        f"""
        import os
        try:
            print(os.listdir({str(path)!r}) if os.path.isdir({str(path)!r}) else
                  open({str(path)!r}, "rb").read(16))
        except OSError as exc:
            print("refused", type(exc).__name__)
        """,
    )
    assert out.startswith("refused"), out


def test_the_kernel_environment_names_no_instance_and_no_one_else(kernel, studied):
    out = attempt(kernel, "import os; print(sorted(os.environ.items()))")
    assert "TRE_HOME" not in out and "TRE_ACTOR" not in out and "postgresql" not in out
    assert "JUPYTERHUB_API_TOKEN" not in out and "JPY_API_TOKEN" not in out
    assert str(studied.home) not in out


def test_the_kernel_cannot_act_as_a_checker_through_the_cli(kernel, studied):
    out = attempt(
        kernel,
        f"""
        import subprocess, sys, os
        tre = os.path.join(os.path.dirname(sys.executable), "tre")
        done = subprocess.run(
            [tre, "--home", {str(studied.home)!r}, "--actor", "chris.checker", "outputs", "queue"],
            capture_output=True, text=True,
        )
        print(done.returncode, done.stderr[-300:])
        """,
    )
    assert not out.startswith("0 "), out


def test_the_kernel_has_no_network_not_even_the_hubs_loopback(kernel, hub_url):
    """A listener on this machine's loopback stands in for the hub's API, the tre service, the
    database and the internet: the test reaches it, the kernel does not."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    threading.Thread(target=lambda: listener.accept(), daemon=True).start()
    with socket.create_connection(("127.0.0.1", port), timeout=5):
        pass  # reachable from outside the sandbox
    hub_port = int(hub_url.rsplit(":", 1)[1])
    out = attempt(
        kernel,
        f"""
        import socket
        for port in ({port}, {hub_port}):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=3)
                print("connected", port)
            except OSError as exc:
                print("refused", type(exc).__name__)
        try:
            socket.getaddrinfo("pypi.org", 443)
            print("resolved")
        except OSError:
            print("no dns")
        """,
    )
    listener.close()
    assert "connected" not in out and "resolved" not in out, out
    assert out.count("refused") == 2


def test_the_kernel_cannot_gain_root_back(kernel):
    out = attempt(
        kernel,
        """
        import subprocess
        tries = (
            ["su", "-c", "id"],
            ["setpriv", "--reuid=0", "id"],
            ["mount", "-t", "tmpfs", "x", "/mnt"],
        )
        for argv in tries:
            done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
            print(argv[0], done.returncode, "uid=0" in done.stdout)
        """,
    )
    assert "True" not in out, out


def contents(kernel, path, **params):
    return kernel.session.get(f"{kernel.prefix}/api/contents/{path}", params=params)


def test_the_contents_api_sends_no_extract_byte_to_the_browser(kernel):
    """A link to the extract, a copy of it, a hard link and any binary download: refused."""
    out = attempt(
        kernel,
        """
        import os, shutil
        os.makedirs("/tre/workspace/attack", exist_ok=True)
        for name in ("link.parquet", "copy.parquet", "hard.parquet", "dir-link"):
            path = "/tre/workspace/attack/" + name
            if os.path.lexists(path):
                os.remove(path)
        os.symlink("/tre/data/csc_referrals.parquet", "/tre/workspace/attack/link.parquet")
        os.symlink("/tre/data", "/tre/workspace/attack/dir-link")
        shutil.copyfile("/tre/data/csc_referrals.parquet", "/tre/workspace/attack/copy.parquet")
        try:
            os.link("/tre/data/csc_referrals.parquet", "/tre/workspace/attack/hard.parquet")
            print("hard link made")
        except OSError as exc:
            print("no hard link", type(exc).__name__)
        open("/tre/workspace/attack/note.txt", "w").write("a plain note")
        """,
    )
    assert "no hard link" in out, out
    for path, params in [
        ("attack/link.parquet", {"content": 1}),
        ("attack/link.parquet", {"content": 1, "format": "base64", "type": "file"}),
        ("attack/copy.parquet", {"content": 1, "format": "base64", "type": "file"}),
        ("attack/copy.parquet", {"content": 1, "format": "text", "type": "file"}),
        ("attack/dir-link/manifest.json", {"content": 1}),
        ("attack/note.txt", {"content": 1, "format": "base64", "type": "file"}),
    ]:
        answer = contents(kernel, path, **params)
        assert answer.status_code in (403, 404), (path, params, answer.status_code)
        assert "PAR1" not in answer.text and "csc_referrals" not in answer.text.split("airlock")[0]
    # what JupyterLab needs still works: a listing, a text file, a notebook
    assert contents(kernel, "attack", content=1).status_code == 200
    assert contents(kernel, "attack/note.txt", content=1).json()["content"] == "a plain note"
    assert contents(kernel, "studies/repeat_callers.ipynb", content=1).status_code == 200
    for route in ("files/attack/copy.parquet", "nbconvert/html/studies/repeat_callers.ipynb"):
        assert kernel.session.get(f"{kernel.prefix}/{route}").status_code == 403


def test_a_notebook_requests_a_release_through_the_relay_as_its_person(kernel, studied, tmp_path):
    """The workspace's only way to the kit is the relay to the tre service, with the person's own
    hub token: who asks comes from the hub, whatever the kernel claims."""
    from notebooks import runner
    from notebooks.runs import SUCCEEDED, output_path
    from tests.conftest import STUDIED_TODAY
    from tests.notebooks.test_runner import small_notebook

    notebook = small_notebook(
        tmp_path / "note.ipynb",
        "from notebooks import workspace as ws\nws.output('note.md').write_text('# a note')",
    )
    run = runner.run(studied, notebook, P, USER, at=STUDIED_TODAY)
    assert run.status == SUCCEEDED, run.error
    out = attempt(
        kernel,
        f"""
        import os
        os.environ["JUPYTERHUB_USER"] = "bea.analyst"  # a claim the service never reads
        from notebooks import workspace
        print("request", workspace.request_release([{output_path(run.id, "note.md")!r}]))
        try:
            from notebooks import workspace
            workspace.service("/api/projects/other-project/requests", {{"files": ["x"]}})
        except Exception as exc:
            print("other project:", exc)
        """,
    )
    assert "request req-" in out, out
    request_id = out.split("request ", 1)[1].split()[0]
    from output_checks import airlock

    assert airlock.show(studied, request_id, USER)["author"] == USER
    assert "other project:" in out and "supporting-families" in out


def test_jupyterlab_runs_only_the_persons_own_notebooks_and_never_forges_a_record(kernel, studied):
    """Run with provenance from JupyterLab (the server's tre/run) and from a cell
    (ws.run_with_provenance): another person's notebook, a path out of the workspace, a link,
    another project and a forged record all fail; the person's own notebook runs, as them."""
    import json

    from notebooks.runs import get_run, output_path
    from tests.notebooks.test_runner import small_notebook

    bea = studied.home / "projects" / P / "workspace" / "bea.analyst"
    bea.mkdir(parents=True, exist_ok=True)
    small_notebook(bea / "theirs.ipynb", "print('bea only')")
    out = attempt(
        kernel,
        """
        import json, os
        def notebook(path, source):
            cell = {"cell_type": "code", "metadata": {}, "source": source, "outputs": [],
                    "execution_count": None}
            json.dump({"cells": [cell], "metadata": {"kernelspec": {"name": "python3",
                       "display_name": "Python 3", "language": "python"}},
                       "nbformat": 4, "nbformat_minor": 5}, open(path, "w"))
        notebook("/tre/workspace/mine.ipynb",
                 "from notebooks import workspace as ws\\n"
                 "ws.output('mine.md').write_text('# mine')")
        notebook("/tre/workspace/forger.ipynb",
                 "from notebooks import workspace as ws\\n"
                 "ws.output('run.json').write_text('{\\"person\\": \\"bea.analyst\\"}')")
        for name, target in (("link.ipynb", "/tre/workspace/mine.ipynb"),
                             ("up", "/tre/workspace/..")):
            if os.path.lexists("/tre/workspace/" + name):
                os.remove("/tre/workspace/" + name)
            os.symlink(target, "/tre/workspace/" + name)
        from notebooks import workspace as ws
        for attempt in ("/etc/x.ipynb", "../bea.analyst/theirs.ipynb"):
            try:
                ws.run_with_provenance(attempt)
            except Exception as exc:
                print("refused:", attempt, "|", exc)
        try:
            ws.service("/api/projects/other-project/runs", {"notebook": "workspace/mine.ipynb"})
        except Exception as exc:
            print("other project:", exc)
        """,
    )
    assert out.count("refused:") == 2 and "other project:" in out, out
    assert "supporting-families" in out.split("other project:")[1]

    def run(path):
        return kernel.session.post(
            f"{kernel.prefix}/tre/run", json={"path": path}, headers=kernel.headers()
        )

    for attack in (
        "../bea.analyst/theirs.ipynb",
        "/../bea.analyst/theirs.ipynb",
        "link.ipynb",
        "up/bea.analyst/theirs.ipynb",
        "studies/../../bea.analyst/theirs.ipynb",
    ):
        answer = run(attack)
        assert answer.status_code == 403, (attack, answer.status_code, answer.text)
        assert "cannot be run in" in answer.json()["error"]
    # without the server's sign-in and XSRF token, nothing is asked of the service
    anonymous = kernel.session.post(f"{kernel.prefix}/tre/run", json={"path": "mine.ipynb"})
    assert anonymous.status_code == 403
    forged = run("forger.ipynb").json()
    assert forged["status"] == "failed" and "run.json" in forged["error"]
    record = json.loads(
        (Path(get_run(studied, forged["id"]).folder) / "data" / "run.json").read_text()
    )
    assert record["person"] == USER and record["id"] == forged["id"]
    ran = run("mine.ipynb")
    assert ran.status_code == 201, ran.text
    answer = ran.json()
    assert answer["status"] == "succeeded", answer
    assert output_path(answer["id"], "mine.md") in answer["requestable"]
    found = get_run(studied, answer["id"])
    assert found.person == USER and found.notebook == "workspace/mine.ipynb"
    # and from a cell, the same way
    out = attempt(
        kernel,
        """
        import os
        os.chdir("/tre/workspace")
        from notebooks import workspace as ws
        print("ran", ws.run_with_provenance("mine.ipynb")["status"])
        """,
    )
    assert "ran succeeded" in out, out


def test_the_workspace_is_oriented(kernel, hub_url):
    """The banner's facts, the welcome page, the extract as a read-only folder of the file
    browser (listed, its files never sent), no export or open-from-URL, one kernel, and
    JupyterHub's home sending people to the tre pages."""
    facts = kernel.session.get(f"{kernel.prefix}/tre/workspace").json()
    assert facts["project"] == P and facts["title"].startswith("Supporting families")
    assert facts["ends"] == "2027-12-31" and facts["tre_url"] == "/services/tre/"
    welcome = contents(kernel, "WELCOME.md", content=1).json()["content"]
    # JupyterLab opens a file only when its checkpoints answer (the guard leaves that route be)
    assert contents(kernel, "WELCOME.md/checkpoints").status_code == 200
    assert "project-data" in welcome and "Run with provenance" in welcome
    listed = contents(kernel, "project-data").json()
    assert "manifest.json" in {c["name"] for c in listed["content"]}
    for name in ("manifest.json", "csc_referrals.parquet"):
        assert contents(kernel, f"project-data/{name}", content=1).status_code == 403
    out = attempt(kernel, "open('/tre/workspace/project-data/x', 'w')")
    assert "Read-only file system" in out, out
    lab = kernel.session.get(f"{kernel.prefix}/lab").text
    assert "@tre-kit/workspace" in lab
    for plugin in ("notebook-extension:export", "filebrowser-extension:open-url"):
        assert f"@jupyterlab/{plugin}" in lab.split('"disabledExtensions"')[1].split("]")[0]
    specs = kernel.session.get(f"{kernel.prefix}/api/kernelspecs").json()
    assert specs["default"] == "python3" and list(specs["kernelspecs"]) == ["python3"]
    settings = kernel.session.get(
        f"{kernel.prefix}/lab/api/settings/@jupyterlab/notebook-extension:tracker"
    ).json()
    assert settings["schema"]["properties"]["autoStartDefaultKernel"]["default"] is True
    home = kernel.session.get(f"{hub_url}/hub/home").text
    assert 'http-equiv="refresh" content="0; url=/services/tre/"' in home


@pytest.fixture
def internet():
    """A host of the test's own, standing in for the internet: a listener in a network namespace
    reached from this machine over a veth pair (10.231.7.0/30, made and removed by the test)."""
    import shutil
    import subprocess
    import sys

    if shutil.which("ip") is None:
        pytest.fail("iproute2's ip is missing: .ci/run installs it")
    steps = [
        "ip netns add tre-inet",
        "ip link add tre-h0 type veth peer name tre-i0",
        "ip link set tre-i0 netns tre-inet",
        "ip addr add 10.231.7.1/30 dev tre-h0",
        "ip link set tre-h0 up",
        "ip netns exec tre-inet ip addr add 10.231.7.2/30 dev tre-i0",
        "ip netns exec tre-inet ip link set tre-i0 up",
    ]
    try:
        for step in steps:
            subprocess.run(step.split(), check=True, capture_output=True)
        listener = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                "tre-inet",
                sys.executable,
                "-c",
                "import socket\ns = socket.socket(); s.bind(('10.231.7.2', 8080)); s.listen(8)\n"
                "while True:\n    s.accept()[0].close()",
            ],
        )
        for _ in range(50):
            try:
                socket.create_connection(("10.231.7.2", 8080), timeout=1).close()
                break
            except OSError:
                import time

                time.sleep(0.1)
        else:
            pytest.fail("the stand-in internet host never listened")
        yield ("10.231.7.2", 8080)
        listener.kill()
    finally:
        subprocess.run(["ip", "link", "del", "tre-h0"], capture_output=True)
        subprocess.run(["ip", "netns", "del", "tre-inet"], capture_output=True)


def test_the_kernel_cannot_reach_a_host_this_machine_reaches(kernel, internet):
    host, port = internet
    socket.create_connection((host, port), timeout=3).close()  # reachable from outside
    out = attempt(
        kernel,
        f"""
        import socket
        try:
            socket.create_connection(({host!r}, {port}), timeout=3)
            print("connected")
        except OSError as exc:
            print("refused", type(exc).__name__)
        """,
    )
    assert out.startswith("refused"), out


def test_swapping_a_file_for_a_link_to_the_extract_never_gets_its_bytes_out(kernel):
    """The guard's check and the read are two steps: a kernel swaps a text file and a link to the
    extract as fast as it can while the browser asks again and again. Nothing binary, and no
    byte of the extract, is ever sent."""
    started = attempt(
        kernel,
        """
        import os, threading, time
        path, text, stop = "/tre/workspace/race.txt", "/tre/workspace/race-text", "/tmp/race-stop"
        open(text, "w").write("harmless text")
        def swap():
            while not os.path.exists(stop):
                for source in ("/tre/data/csc_referrals.parquet", text):
                    tmp = path + ".new"
                    if os.path.lexists(tmp):
                        os.remove(tmp)
                    os.symlink(source, tmp)
                    os.replace(tmp, path)
                    time.sleep(0.0005)
        threading.Thread(target=swap, daemon=True).start()
        print("swapping")
        """,
    )
    assert "swapping" in started
    sent = [contents(kernel, "race.txt", content=1) for _ in range(150)]
    attempt(kernel, "open('/tmp/race-stop', 'w').write('stop')")
    for answer in sent:
        assert answer.status_code in (200, 403, 404), answer.status_code
        if answer.status_code == 200:
            assert answer.json()["format"] == "text" and "PAR1" not in answer.text
