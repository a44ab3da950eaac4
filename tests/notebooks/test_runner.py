import hashlib
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from notebooks import runner, runs
from notebooks.runner import RunError
from notebooks.runs import FAILED, RUNNING, SUCCEEDED
from sdc.safe import read_evidence, recheck, verify_output
from tests.conftest import STUDIED_TODAY
from tre import audit, crate
from tre.errors import Refused
from tre.folders import ProjectFolders

P = "supporting-families"


@pytest.fixture(scope="module")
def study_runs(studied):
    return {
        name: runner.run(studied, name, P, "alex.analyst", at=STUDIED_TODAY)
        for name in runner.studies()
    }


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def small_notebook(path, source, parameters="", outputs=()):
    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["tre"] = {"outputs": [{"file": f, "kind": "table"} for f in outputs]}
    cells = []
    if parameters:
        cell = new_code_cell(parameters)
        cell.metadata["tags"] = ["parameters"]
        cells.append(cell)
    cells.append(new_code_cell(source))
    nb.cells = cells
    nbformat.write(nb, path)
    return path


def test_the_four_studies_are_shipped():
    assert set(runner.studies()) == {
        "supporting-families",
        "service-demand",
        "repeat-callers",
        "does-it-work",
    }
    for path in runner.studies().values():
        nb = nbformat.read(path, as_version=4)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
        assert any("parameters" in c.metadata.get("tags", []) for c in nb.cells)
        assert runner.declared_outputs(nb)


@pytest.mark.parametrize(
    "name", ["supporting-families", "service-demand", "repeat-callers", "does-it-work"]
)
def test_each_study_runs_and_its_outputs_carry_evidence(study_runs, studied, name):
    result = study_runs[name]
    assert result.status == SUCCEEDED, result.error
    declared = runner.declared_outputs(nbformat.read(runner.studies()[name], as_version=4))
    policy = studied.settings.policy.stricter(threshold=10)
    for output in declared:
        path = result.files / output["file"]
        assert path.exists(), output
        evidence = read_evidence(path)
        assert verify_output(path, evidence) == []
        assert recheck(evidence, policy) == []
    assert result.undeclared == []
    assert result.report().exists() and result.report(code=True).exists()
    assert "def contacts" not in result.report().read_text() or name == "supporting-families"


def test_the_repeat_callers_tables_are_verified_by_the_airlocks_replay(study_runs, studied):
    """The demo study makes its tables with safe.sql: the airlock verifies them itself."""
    from output_checks import replay
    from projects import registry

    result = study_runs["repeat-callers"]
    with studied.db.session() as session:
        policy = registry.project_policy(registry.project(session, P), studied.settings.policy)
    extract = studied.folder("projects") / P / "data"
    for name in ("repeat_callers.csv", "repeat_callers_demand.csv"):
        path = result.files / name
        check, evidence = replay.verify(path, replay.read_sidecar(path), extract, policy)
        assert check.outcome == "pass", check.explanation
        assert evidence is not None and evidence["replay"]["sql"].lstrip().startswith("WITH")


def test_provenance_is_complete_and_the_hashes_match(study_runs, studied):
    result = study_runs["service-demand"]
    record = runs.get_run(studied, result.id)
    assert record.person == "alex.analyst" and record.project_id == P
    assert record.notebook_sha256 == sha256(runner.studies()["service-demand"])
    data = studied.folder("projects") / P / "data"
    for item in record.inputs:
        assert item["sha256"] == sha256(data / item["file"])
    for item in record.outputs:
        assert item["sha256"] == sha256(result.files / item["file"])
    assert record.packages["installed"] and record.kit_version
    assert record.started <= record.ended and record.status == SUCCEEDED
    stored = json.loads((result.files / "run.json").read_text())
    assert stored["inputs"] == record.inputs and stored["parameters"] == record.parameters
    # the executed notebook ran with the project's policy and saw only its extract
    executed = nbformat.read(result.files / "notebook.ipynb", as_version=4)
    shown = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "disclosure threshold 10" in shown and "ae_attendances" in shown


def test_the_run_is_a_valid_bag_and_its_crate_parses_back(study_runs):
    result = study_runs["repeat-callers"]
    parsed = crate.read(result.folder)
    manifest = (result.folder / "manifest-sha512.txt").read_text()
    assert "data/repeat_callers.csv" in manifest
    (action,) = parsed.of_type("CreateAction")
    assert action["actionStatus"]["@id"].endswith("CompletedActionStatus")
    assert parsed.entity(action["agent"]["@id"])["name"] == "alex.analyst"
    project = parsed.entity(action["sourceOrganization"]["@id"])
    assert project["identifier"] == P and "uk-gdpr-6-1-e" in project["legalBasis"]
    inputs = [parsed.entity(o["@id"]) for o in action["object"]]
    assert {i["name"] for i in inputs} >= {"ae_attendances.parquet", "manifest.json"}
    results = {r["@id"] for r in action["result"]}
    assert "repeat_callers.csv" in results and "notebook.ipynb" in results
    assert parsed.entity("./")["conformsTo"]["@id"] == crate.PROFILE
    # tampering with a file breaks the bag
    (result.files / "repeat_callers.csv").write_text("changed\n")
    with pytest.raises(crate.CrateError, match="not a valid BagIt bag"):
        crate.read(result.folder)


@pytest.mark.parametrize(
    "person, reason",
    [
        ("eve.outsider", "is not a member of project supporting-families"),
        ("chris.checker", "does not have the analyst role"),
        ("nobody", "nobody is not registered"),
    ],
)
def test_a_refused_person_cannot_run(studied, person, reason):
    before = runs.runs(studied, P)
    with pytest.raises(Refused, match=reason):
        runner.run(studied, "repeat-callers", P, person, at=STUDIED_TODAY)
    assert len(runs.runs(studied, P)) == len(before)


def test_a_failing_notebook_is_recorded_as_failed_with_its_error(studied, tmp_path):
    path = small_notebook(tmp_path / "fails.ipynb", "x = 1\nraise ValueError('no such column')")
    result = runner.run(studied, path, P, "alex.analyst", at=STUDIED_TODAY)
    assert result.status == FAILED and "ValueError: no such column" in result.error
    record = runs.get_run(studied, result.id)
    assert record.status == FAILED and "no such column" in record.error
    assert (result.files / "notebook.ipynb").exists()
    parsed = crate.read(result.folder)
    (action,) = parsed.of_type("CreateAction")
    assert action["actionStatus"]["@id"].endswith("FailedActionStatus")


def test_parameters_are_checked_against_the_parameters_cell(studied, tmp_path):
    path = small_notebook(
        tmp_path / "p.ipynb",
        "from notebooks import workspace as ws\n"
        "open(ws.output('n.txt'), 'w').write(str(year + 1) + ' ' + label)\n",
        parameters="year = 2025\nlabel = 'all'\nrate = 0.5",
        outputs=["n.txt"],
    )
    with pytest.raises(RunError, match="has no parameter colour; its parameters are year, label"):
        runner.run(studied, path, P, "alex.analyst", {"colour": "red"}, at=STUDIED_TODAY)
    with pytest.raises(
        RunError, match=r"parameter year must be int \(its default is 2025\), not .soon."
    ):
        runner.run(studied, path, P, "alex.analyst", {"year": "soon"}, at=STUDIED_TODAY)
    with pytest.raises(RunError, match="parameter rate must be float"):
        runner.run(studied, path, P, "alex.analyst", {"rate": "half"}, at=STUDIED_TODAY)
    seen = []
    result = runner.run(
        studied,
        path,
        P,
        "alex.analyst",
        {"year": "2030"},
        progress=lambda *a: seen.append(a),
        at=STUDIED_TODAY,
    )
    assert result.status == SUCCEEDED
    assert (result.files / "n.txt").read_text() == "2031 all"
    assert runs.get_run(studied, result.id).parameters == {"year": 2030}
    # progress counts the code cells, papermill's injected parameters cell among them
    assert [n for n, _, _ in seen] == list(range(1, seen[0][1] + 1))


def test_a_run_is_recorded_and_audited_before_its_first_cell(studied, tmp_path):
    """What a run's progress page shows is kept in the service's memory only; what provenance
    and audit need is in the database before the first cell runs, so a restart of the hub (and
    of its tre service, whose thread the run is) loses no trace of who ran what, when, on what."""
    path = small_notebook(tmp_path / "p.ipynb", "x = year + 1", parameters="year = 2025")
    seen: list[tuple] = []

    def at_each_cell(cell: int, cells: int, source: str) -> None:
        if seen:
            return
        (record,) = [r for r in runs.runs(studied, P) if r.status == RUNNING]
        with studied.db.session() as session:
            started = [e for e in audit.events(session, project=P) if e.object_id == record.id]
        seen.append((record.person, record.notebook_sha256, record.parameters, started))

    result = runner.run(
        studied, path, P, "alex.analyst", {"year": "2030"}, progress=at_each_cell, at=STUDIED_TODAY
    )
    assert result.status == SUCCEEDED
    ((person, notebook_sha, parameters, started),) = seen
    assert person == "alex.analyst" and notebook_sha == sha256(path)
    assert parameters == {"year": 2030}
    assert [e.action for e in started] == ["run.start"]


def test_a_run_records_the_process_that_runs_it_as_it_records_it_running(studied, tmp_path):
    """Host, boot id, pid and the pid's start time, in the record the run starts with: what
    recovery needs to tell a live runner from a process that ended (notebooks/recovery.py)."""
    from notebooks.recovery import this_process

    path = small_notebook(tmp_path / "p.ipynb", "x = 1")
    seen: list[tuple] = []

    def at_each_cell(cell: int, cells: int, source: str) -> None:
        (record,) = [r for r in runs.runs(studied, P) if r.status == RUNNING]
        seen.append((record.host, record.boot_id, record.pid, record.pid_started))

    result = runner.run(studied, path, P, "alex.analyst", progress=at_each_cell, at=STUDIED_TODAY)
    assert result.status == SUCCEEDED
    here = this_process()
    assert here.started is not None and here.boot_id
    assert set(seen) == {(here.host, here.boot_id, here.pid, here.started)}
    stored = runs.get_run(studied, result.id)
    assert (stored.host, stored.pid, stored.pid_started) == (here.host, here.pid, here.started)


def test_undeclared_outputs_are_listed(studied, tmp_path):
    path = small_notebook(
        tmp_path / "u.ipynb",
        "from notebooks import workspace as ws\n"
        "open(ws.output('declared.txt'), 'w').write('a')\n"
        "open(ws.output('extra.csv'), 'w').write('b')\n",
        outputs=["declared.txt"],
    )
    result = runner.run(studied, path, P, "alex.analyst", at=STUDIED_TODAY)
    assert result.undeclared == ["extra.csv"]
    assert runs.get_run(studied, result.id).undeclared == ["extra.csv"]


def test_a_changed_extract_stops_the_run(studied, tmp_path):
    import shutil

    from tre.instance import open_instance

    # a copy of the instance, so the shared one stays intact
    home = tmp_path / "copy"
    shutil.copytree(studied.home, home, symlinks=True)
    for path in home.rglob("*"):
        path.chmod(path.stat().st_mode | 0o700)
    copy = open_instance(home)
    (home / "projects" / P / "data" / "ae_attendances.parquet").write_bytes(b"changed")
    with pytest.raises(RunError, match="ae_attendances.parquet does not match its manifest"):
        runner.run(copy, "repeat-callers", P, "alex.analyst", at=STUDIED_TODAY)
    copy.db.dispose()


def test_unknown_notebooks_are_named(studied):
    with pytest.raises(RunError, match="neither a notebook file nor a study; studies are"):
        runner.run(studied, "no-such-study", P, "alex.analyst", at=STUDIED_TODAY)


def test_a_kernel_this_machine_lacks_is_refused_before_anything_runs(studied, run_cli):
    """It once came back as a failed run reading only `NoSuchKernel: No such kernel named ir`."""
    before = runs.runs(studied, P)
    code, out, err = run_cli(
        "--actor", "alex.analyst", "run", "repeat-callers", "--project", P, "--kernel", "ir",
        home=studied.home,
    )  # fmt: skip
    assert code != 0 and "Traceback" not in err
    assert "no Jupyter kernel named ir on this machine (installed: " in err
    assert "run with --kernel python3" in err and "nothing was run" in err
    assert len(runs.runs(studied, P)) == len(before)


def test_the_cli_runs_lists_and_shows(studied, run_cli, tmp_path, monkeypatch):
    outside = small_notebook(tmp_path / "c.ipynb", "print('hello')")
    space = ProjectFolders.of(studied, P).workspace / "alex.analyst"
    space.mkdir(parents=True, exist_ok=True)
    path = space / "cli-test-c.ipynb"
    shutil.copyfile(outside, path)
    try:  # the session's shared instance: the notebook leaves the workspace afterwards
        _the_cli_runs_lists_and_shows(studied, run_cli, outside, path, monkeypatch)
    finally:
        path.unlink()


def _the_cli_runs_lists_and_shows(studied, run_cli, outside, path, monkeypatch):
    monkeypatch.setenv("TRE_ACTOR", "alex.analyst")
    # a notebook anywhere else on the machine is not run, as on the web
    code, out, err = run_cli("run", str(outside), "--project", P, home=studied.home)
    assert code == 3 and "cannot be run in supporting-families" in err
    code, out, err = run_cli("run", str(path), "--project", P, home=studied.home)
    assert code == 0, err
    assert "succeeded" in out and "report:" in out
    run_id = out.split("run ")[1].split()[0]
    code, out, _ = run_cli("runs", "list", "--project", P, home=studied.home)
    assert run_id in out
    code, out, _ = run_cli("runs", "show", run_id, "--json", home=studied.home)
    assert (
        json.loads(out)["notebook"] == "workspace/cli-test-c.ipynb"
    )  # named by its place, as the web names it
    code, out, err = run_cli("run", str(path), "--project", P, "-p", "x", "1", home=studied.home)
    assert code != 0 and "has no parameter x" in err
    code, out, err = run_cli("run", "workspace/cli-test-c.ipynb", "--project", P, home=studied.home)
    assert code == 0, err
    monkeypatch.setenv("TRE_ACTOR", "eve.outsider")
    code, out, err = run_cli("run", "repeat-callers", "--project", P, home=studied.home)
    assert code != 0 and "eve.outsider is not a member" in err
    # nor may anyone run a notebook of another person's workspace
    code, out, err = run_cli("run", str(path), "--project", P, home=studied.home)
    assert code == 3 and "cannot be run in supporting-families" in err


# Two sandboxed runs cannot see each other, so the test, outside both, meets them: each says it
# has started in its own outputs folder and waits there for "go", which the test writes only once
# both have started. Runs that were serialised never meet.
MEETS_THE_OTHER_RUN = """
import json, os, pathlib, time
from notebooks import workspace as ws

here = pathlib.Path(os.environ["TRE_OUTPUTS"])
(here / "started").write_text(me)
deadline = time.monotonic() + 60
while not (here / "go").exists():
    if time.monotonic() > deadline:
        raise TimeoutError(f"{me} waited alone for 60 s: the runs were serialised")
    time.sleep(0.05)
(here / "started").unlink()
(here / "go").unlink()
seen = {k: os.environ.get(k) for k in ("TRE_PROJECT", "TRE_DATA", "TRE_OUTPUTS")}
seen["cwd"] = os.getcwd()
seen["datasets"] = ws.datasets()
seen["threshold"] = ws.policy().threshold
ws.output("seen.json").write_text(json.dumps(seen))
"""


def test_runs_started_at_once_run_side_by_side_each_in_its_own_projects_environment(
    studied, tmp_path, monkeypatch
):
    import os
    import shutil
    import tempfile
    import threading
    import time

    import yaml

    from app.demo import projects as demo_projects
    from linkage.extract import extract
    from tre.folders import ProjectFolders
    from tre.instance import open_instance

    # a copy of the instance with a second project, so the shared one stays intact
    home = tmp_path / "copy"
    shutil.copytree(studied.home, home, symlinks=True)
    for path in home.rglob("*"):
        path.chmod(path.stat().st_mode | 0o700)
    copy = open_instance(home)
    other = yaml.safe_load(demo_projects.PROJECT_FILE.read_text())
    other["id"] = "other-study"
    other["data"] = [d for d in other["data"] if d["dataset"] == "police_incident_persons"]
    other["disclosure"] = {"threshold": 20}
    (tmp_path / "other.yaml").write_text(yaml.safe_dump(other))
    demo_projects.approve_project(copy, tmp_path / "other.yaml")
    extract(copy, "other-study", "ops", at=STUDIED_TODAY)

    path = small_notebook(tmp_path / "meet.ipynb", MEETS_THE_OTHER_RUN, parameters="me = ''")
    for name in ("TRE_PROJECT", "TRE_DATA", "TRE_OUTPUTS"):
        monkeypatch.delenv(name, raising=False)
    projects = {"a": P, "b": "other-study"}
    results, failures = {}, []
    together = threading.Barrier(2)

    def start(me):
        together.wait()
        try:
            parameters = {"me": me}
            results[me] = runner.run(
                copy, path, projects[me], "alex.analyst", parameters, at=STUDIED_TODAY
            )
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(me,)) for me in projects]
    for thread in threads:
        thread.start()
    # the meeting: both runs' outputs folders (seen from outside the sandboxes) say "started"
    deadline = time.monotonic() + 90
    started: list[Path] = []
    while len(started) < 2 and time.monotonic() < deadline and not failures:
        started = list(Path(tempfile.gettempdir()).glob("tre-run-*/outputs/started"))
        time.sleep(0.05)
    for flag in started:
        (flag.parent / "go").write_text("go")
    for thread in threads:
        thread.join(timeout=300)
    copy.db.dispose()
    assert not failures, failures
    for me, project in projects.items():
        result = results[me]
        assert result.status == SUCCEEDED, result.error
        seen = json.loads((result.files / "seen.json").read_text())
        folders = ProjectFolders.of(copy, project)
        assert seen["TRE_PROJECT"] == project
        # each kernel saw its own project's extract and outputs, at the sandbox's paths
        assert seen["TRE_DATA"] == "/tre/data" and seen["TRE_OUTPUTS"] == seen["cwd"]
        assert seen["cwd"] == "/tre/outputs"
        assert result.folder.parent == folders.outputs
        assert not (result.files / "started").exists() and not (result.files / "go").exists()
        expected = json.loads((folders.data / "manifest.json").read_text())["files"]
        assert seen["datasets"] == [Path(f["file"]).stem for f in expected]
    assert json.loads((results["a"].files / "seen.json").read_text())["threshold"] == 10
    assert json.loads((results["b"].files / "seen.json").read_text())["threshold"] == 20
    # the process's own environment never changed
    assert not {"TRE_PROJECT", "TRE_DATA", "TRE_OUTPUTS"} & set(os.environ)


def test_a_date_parameter_must_be_a_real_date(tmp_path):
    """`tre run -p study_start 2025-13-01` once ran and "succeeded": a date parameter (an ISO
    date default, or a name ending in _date, _start or _end) is refused unless it is a date."""
    path = small_notebook(
        tmp_path / "d.ipynb",
        "pass",
        parameters=(
            'study_start = "2025-04-01"\nstudy_end = "2026-03-31"\n'
            'census = "2021-03-21"\nrelease_date = ""\nage_start = 5\nlabel = "all"'
        ),
    )
    check = runner.check_parameters
    for bad in ("2025-13-01", "2025-02-30", "01/04/2025", "20250401", "soon", ""):
        with pytest.raises(
            RunError,
            match=rf"parameter study_start must be a date written YYYY-MM-DD .*not {bad!r}",
        ):
            check(path, {"study_start": bad})
    with pytest.raises(RunError, match=r"parameter census must be a date.*not '2021-3-21'"):
        check(path, {"census": "2021-3-21"})  # an ISO default makes a date parameter
    with pytest.raises(RunError, match=r"parameter release_date must be a date.*'tomorrow'"):
        check(path, {"release_date": "tomorrow"})  # so does the name
    with pytest.raises(
        RunError, match=r"study_end \(2025-01-31\) is before study_start \(2025-04-01\)"
    ):
        check(path, {"study_end": "2025-01-31"})  # a period that ends before it starts
    assert check(path, {"study_start": "2024-02-29", "study_end": "2025-03-31"}) == {
        "study_start": "2024-02-29",
        "study_end": "2025-03-31",
    }
    # a number whose name ends in _start is a number; other strings stay strings
    assert check(path, {"age_start": "7", "label": "2025-13-01"}) == {
        "age_start": 7,
        "label": "2025-13-01",
    }


def test_the_reports_show_charts_as_images_and_counts_as_integers(study_runs):
    """The reports once showed `<Figure size 700x364 with 2 Axes>` where the charts should be,
    counts as `230.0`, and age bands in text order."""
    import re

    for name, result in study_runs.items():
        figures = [o for o in result.outputs if o["kind"] == "figure"]
        for code in (False, True):
            page = result.report(code=code).read_text()
            assert "<Figure size" not in page, name
            images = re.findall(r"<img[^>]+src=\"data:image/png;base64,", page)
            assert len(images) >= len(figures), (name, code)
    assert re.findall(r"<img", study_runs["service-demand"].report().read_text())
    balance = study_runs["does-it-work"].report().read_text()
    cells = re.findall(r"<td>([^<]*)</td>", balance)
    assert cells and not [c for c in cells if re.fullmatch(r"\d[\d,]*\.0", c)]
    bands = [b for b in ("18-24", "25-34", "45-54", "65-74") if f"<th>{b}</th>" in balance]
    assert len(bands) >= 2
    assert sorted(bands, key=balance.index) == bands  # in age order


def test_a_run_whose_data_went_missing_names_no_server_path(tmp_path):
    with pytest.raises(RunError) as missing:
        runner.extract_inputs(tmp_path / "data")
    assert str(tmp_path) not in str(missing.value)
    assert "ask the operator to prepare it again" in str(missing.value)
