"""Attacks from a notebook run (`tre run`, the web's Run), made as an analyst would make them:
the runner executes the analyst's code in the workspace's sandbox, as the analyst."""

import json
import pathlib
import shutil

import pytest
import requests

from hub import service
from notebooks import runner
from notebooks.runs import FAILED, SUCCEEDED
from tests.conftest import STUDIED_TODAY
from tests.notebooks.test_runner import small_notebook

P = "supporting-families"
PROBE = """
import json, os, socket, subprocess
from notebooks import workspace as ws
home = {home!r}
seen = {{"uid": os.getuid(), "env": sorted(os.environ)}}
for name in ("tre.db", "keys/pseudonymisation.key", "keys/audit.key", "identifiers", "store",
             "hub/jupyterhub_cookie_secret", "projects"):
    try:
        path = os.path.join(home, name)
        seen[name] = os.listdir(path) if os.path.isdir(path) else len(open(path, "rb").read())
    except OSError as exc:
        seen[name] = "refused " + type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", 22), timeout=2)
    seen["network"] = "connected"
except OSError as exc:
    seen["network"] = "refused " + type(exc).__name__
seen["rows"] = len(ws.data("csc_referrals"))
ws.output("seen.json").write_text(json.dumps(seen))
"""


def test_a_run_sees_its_extract_and_nothing_of_the_instance(studied, tmp_path):
    path = small_notebook(tmp_path / "probe.ipynb", PROBE.format(home=str(studied.home)))
    result = runner.run(studied, path, P, "alex.analyst", at=STUDIED_TODAY)
    assert result.status == SUCCEEDED, result.error
    seen = json.loads((result.files / "seen.json").read_text())
    assert seen["uid"] != 0 and seen["rows"] > 0
    for name in ("tre.db", "keys/pseudonymisation.key", "keys/audit.key", "identifiers", "store"):
        assert str(seen[name]).startswith("refused"), (name, seen[name])
    assert str(seen["projects"]).startswith("refused")
    assert seen["network"].startswith("refused")
    assert not {"TRE_HOME", "TRE_ACTOR", "JUPYTERHUB_API_TOKEN"} & set(seen["env"])


LINKS = """
import os
from notebooks import workspace as ws
os.symlink("/etc/passwd", ws.output("passwd.csv"))
os.symlink("/tre/data/csc_referrals.parquet", ws.output("extract.parquet"))
ws.output("run.json").write_text("{{}}")  # a forged record
ws.output("fine.csv").write_text("a,b\\n1,2\\n")
"""


def test_links_and_forged_records_left_in_outputs_are_refused_and_the_run_ends(studied, tmp_path):
    path = small_notebook(tmp_path / "links.ipynb", LINKS)
    result = runner.run(studied, path, P, "alex.analyst", at=STUDIED_TODAY)
    assert result.status == FAILED
    assert "passwd.csv is a symbolic link" in result.error
    assert "extract.parquet is a symbolic link" in result.error
    assert "run.json is the name of one of the run's own records" in result.error
    assert not (result.files / "passwd.csv").exists()
    assert not (result.files / "extract.parquet").exists()
    record = json.loads((result.files / "run.json").read_text())
    assert record["status"] == "failed" and record["id"] == result.id  # the kit's, not forged
    files = {o["file"] for o in result.outputs}
    assert "passwd.csv" not in files and "extract.parquet" not in files


def test_the_web_runs_only_studies_and_the_persons_own_workspace_notebooks(
    studied, serve, tmp_path
):
    elsewhere = tmp_path / "elsewhere.ipynb"
    small_notebook(elsewhere, "print('ran from anywhere')")
    own = studied.home / "projects" / P / "workspace" / "alex.analyst"
    own.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(elsewhere, own / "mine.ipynb")
    (own / "link.ipynb").unlink(missing_ok=True)
    (own / "link.ipynb").symlink_to(elsewhere)
    allowed = runner.runnable(studied, P, "alex.analyst")
    assert "workspace/mine.ipynb" in allowed and "workspace/link.ipynb" not in allowed
    assert "repeat-callers" in allowed
    with runner.trusted_copy(studied, P, "alex.analyst", "workspace/mine.ipynb") as copy:
        assert copy.read_bytes() == elsewhere.read_bytes() and copy.parent != own
    assert not [name for name in runner.runnable(studied, P, "bea.analyst") if "mine" in name]
    base = serve(service.make_app(studied, lambda h: h.get_cookie("tre-test-user")))
    session = requests.Session()
    session.cookies.set("tre-test-user", "alex.analyst", domain="127.0.0.1")
    session.get(base + "/register/")
    xsrf = session.cookies["_xsrf"]
    for study in (str(elsewhere), "../../../../" + str(elsewhere), "workspace/link.ipynb"):
        answer = session.post(
            f"{base}/projects/{P}/runs", data={"study": study, "_xsrf": xsrf}, allow_redirects=False
        )
        assert answer.status_code == 403, (study, answer.status_code)
        assert "cannot be run in" in answer.text


def test_a_workspace_notebook_runs_with_provenance_through_the_api_and_nothing_else_does(
    studied, serve, tmp_path
):
    """What JupyterLab's Run with provenance and the kernel's ws.run_with_provenance send: the
    service runs only the signed-in person's own workspace notebooks (or a study), whatever the
    request spells, and the run is the person's, with the same record as a study's."""
    from notebooks.runs import get_run, output_path, runs
    from output_checks import airlock

    space = studied.home / "projects" / P / "workspace"
    own, theirs = space / "alex.analyst", space / "bea.analyst"
    (own / "analysis").mkdir(parents=True, exist_ok=True)
    theirs.mkdir(parents=True, exist_ok=True)
    small_notebook(
        own / "analysis" / "mine.ipynb",
        "from notebooks import workspace as ws\nws.output('counts.md').write_text('# counts')",
    )
    small_notebook(theirs / "theirs.ipynb", "print('bea only')")
    small_notebook(tmp_path / "elsewhere.ipynb", "print('outside')")
    for name, target in (("linked", theirs), ("link.ipynb", tmp_path / "elsewhere.ipynb")):
        (own / name).unlink(missing_ok=True)
        (own / name).symlink_to(target)
    base = serve(service.make_app(studied, lambda h: h.get_cookie("tre-test-user")))
    session = requests.Session()
    session.cookies.set("tre-test-user", "alex.analyst", domain="127.0.0.1")
    session.get(base + "/register/")
    headers = {"X-XSRFToken": session.cookies["_xsrf"]}

    def ask(notebook, project=P, **more):
        return session.post(
            f"{base}/api/projects/{project}/runs",
            json={"notebook": notebook, **more},
            headers=headers,
        )

    before = len(runs(studied, P))
    for attack in (
        "workspace/../bea.analyst/theirs.ipynb",
        "workspace/linked/theirs.ipynb",
        "workspace/link.ipynb",
        "workspace/" + str(tmp_path / "elsewhere.ipynb"),
        str(tmp_path / "elsewhere.ipynb"),
        "workspace/analysis/./mine.ipynb",
    ):
        answer = ask(attack)
        assert answer.status_code == 403, (attack, answer.text)
        assert "cannot be run in" in answer.json()["error"]
    answer = ask("workspace/analysis/mine.ipynb", project="another-project")
    assert answer.status_code in (400, 403) and "error" in answer.json()
    assert ask(None).status_code == 400
    assert len(runs(studied, P)) == before  # nothing was run
    # the person's own notebook runs; what the request claims of the run is never read
    answer = ask("workspace/analysis/mine.ipynb", person="bea.analyst", id="run-forged")
    assert answer.status_code == 201, answer.text
    ran = answer.json()
    assert ran["status"] == SUCCEEDED and ran["id"] != "run-forged"
    assert output_path(ran["id"], "counts.md") in ran["requestable"]
    found = get_run(studied, ran["id"])
    assert found.person == "alex.analyst" and found.notebook == "workspace/analysis/mine.ipynb"
    record = json.loads((pathlib.Path(found.folder) / "data" / "run.json").read_text())
    assert record["notebook"] == "workspace/analysis/mine.ipynb"
    assert record["notebook_sha256"] == found.notebook_sha256
    # its output is requestable, as a study's
    request_id = airlock.request(
        studied, P, "alex.analyst", [output_path(ran["id"], "counts.md")], at=STUDIED_TODAY
    )
    assert airlock.show(studied, request_id, "alex.analyst")["author"] == "alex.analyst"


@pytest.fixture(autouse=True)
def _no_leftover_sandboxes():
    import glob
    import tempfile

    before = set(glob.glob(f"{tempfile.gettempdir()}/tre-run-*"))
    yield
    left = set(glob.glob(f"{tempfile.gettempdir()}/tre-run-*")) - before
    assert not left, f"a run's sandbox folders were left: {sorted(left)}"


STOPPED_BY_A_SUSPENSION = """
import os, pathlib, time
here = pathlib.Path(os.environ["TRE_OUTPUTS"])
(here / "started").write_text("1")
deadline = time.monotonic() + 60
while not (here / "go").exists() and time.monotonic() < deadline:
    time.sleep(0.05)
"""


def test_a_suspension_stops_a_run_at_its_next_cell(studied, tmp_path):
    import glob
    import tempfile
    import threading
    import time

    from nbformat.v4 import new_code_cell

    from projects import registry

    path = small_notebook(tmp_path / "long.ipynb", STOPPED_BY_A_SUSPENSION)
    import nbformat

    notebook = nbformat.read(path, as_version=4)
    notebook.cells.append(new_code_cell("open('/tre/outputs/after.txt', 'w').write('ran on')"))
    nbformat.write(notebook, path)
    results = {}
    thread = threading.Thread(
        target=lambda: results.update(
            run=runner.run(studied, path, P, "alex.analyst", at=STUDIED_TODAY)
        )
    )
    thread.start()
    try:
        deadline = time.monotonic() + 90
        while not glob.glob(f"{tempfile.gettempdir()}/tre-run-*/outputs/started"):
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.05)
        with studied.db.session() as session:
            registry.suspend(session, "ops.operator", P, "checking a complaint")
        for flag in glob.glob(f"{tempfile.gettempdir()}/tre-run-*/outputs/started"):
            (pathlib.Path(flag).parent / "go").write_text("go")
        thread.join(timeout=120)
    finally:
        with studied.db.session() as session:
            registry.reinstate(session, "ops.operator", P)
    result = results["run"]
    assert result.status == FAILED and "suspended" in result.error
    assert not (result.files / "after.txt").exists()
