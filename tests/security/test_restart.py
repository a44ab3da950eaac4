"""What a person writes in their workspace is never read back as configuration or code: after
planting Jupyter and IPython configuration and a sitecustomize, the workspace starts again with
its lockdown and sandbox intact."""

from tests.hubtools import Kernel, login, stop_server, wait_for_lab

P = "supporting-families"
USER = "bea.analyst"
PLANT = r"""
import os, pathlib
w = pathlib.Path("/tre/workspace")
files = {
    ".jupyter/jupyter_server_config.py":
        "c.ServerApp.jpserver_extensions = {'hub.lockdown': False}\n"
        "c.ServerApp.terminals_enabled = True\n",
    ".jupyter/jupyter_server_config.json": '{"ServerApp": {"terminals_enabled": true}}',
    ".ipython/profile_default/startup/00-planted.py":
        "open('/tre/workspace/ipython-startup-ran', 'w').write('yes')\n",
    ".local/lib/python3.11/site-packages/sitecustomize.py":
        "open('/tre/workspace/sitecustomize-ran', 'w').write('yes')\n",
    "sitecustomize.py": "open('/tre/workspace/cwd-sitecustomize-ran', 'w').write('yes')\n",
    ".local/share/jupyter/kernels/python3/kernel.json":
        '{"argv": ["python", "-m", "ipykernel_launcher", "-f", "{connection_file}"],'
        ' "display_name": "escape", "language": "python"}',
}
for name, text in files.items():
    (w / name).parent.mkdir(parents=True, exist_ok=True)
    (w / name).write_text(text)
print("planted")
"""


def start(hub_url):
    session, _ = login(hub_url, USER)
    assert session.get(f"{hub_url}/hub/spawn/{USER}/{P}").status_code == 200
    wait_for_lab(session, hub_url, USER, P)
    return session


def test_planted_configuration_is_not_read_when_the_workspace_starts_again(hub_url):
    session = start(hub_url)
    kernel = Kernel(session, hub_url, USER, P)
    assert "planted" in kernel.run(PLANT)
    kernel.shutdown()
    stop_server(session, hub_url, USER, P)
    session = start(hub_url)  # it starts again (nothing planted breaks or changes it)
    try:
        kernel = Kernel(session, hub_url, USER, P)
        out = kernel.run(
            "import os, socket\n"
            "print(sorted(n for n in os.listdir('/tre/workspace') if n.endswith('-ran')))\n"
            "try:\n"
            "    socket.create_connection(('127.0.0.1', 22), timeout=2); print('net')\n"
            "except OSError:\n"
            "    print('no net')\n"
        )
        assert "[]" in out and "no net" in out, out
        prefix = f"{hub_url}/user/{USER}/{P}"
        assert session.get(f"{prefix}/files/sitecustomize.py").status_code == 403
        assert session.get(f"{prefix}/api/terminals").status_code == 404
        specs = session.get(f"{prefix}/api/kernelspecs").json()["kernelspecs"]
        assert {s["spec"]["display_name"] for s in specs.values()} == {
            "Python 3 (project sandbox, no network)"
        }
        kernel.shutdown()
    finally:
        stop_server(session, hub_url, USER, P)
