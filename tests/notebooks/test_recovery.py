"""A run whose process ended before it did (a restart, a crash, a killed `tre run`, a reboot) is
failed for good by recovery, and its sandbox (derived data) leaves the tempdir; a live run, or a
run of another host, is never touched. Processes here are real: a child that has died, this
process under another start time (its pid reused), another boot id."""

import os
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from notebooks import recovery, runner, runs
from notebooks.models import Run
from notebooks.recovery import Process, process_started, recover, this_process
from notebooks.runs import FAILED, RUNNING, SUCCEEDED, new_run_id, sandbox_prefix
from notebooks.states import RUNS, RunAction, RunActor, RunStatus
from tests.conftest import STUDIED_TODAY
from tests.notebooks.test_runner import small_notebook
from tests.security.test_runs import STOPPED_BY_A_SUSPENSION
from tre import audit
from tre.audit import utc_now
from tre.folders import ProjectFolders

P = "p1"


@pytest.fixture
def tempdir(tmp_path, monkeypatch):
    """The system's tempdir, this test's own (other sessions sweep the shared one)."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    assert tempfile.gettempdir() == str(folder)
    return folder


def dead_process() -> Process:
    """A process that ran on this host in this boot, and has ended (reaped)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    started = process_started(child.pid)
    child.kill()
    child.wait()
    assert started is not None and process_started(child.pid) is None
    here = this_process()
    return Process(here.host, here.boot_id, child.pid, started)


def record_run(instance, process: Process | None, status: str = RUNNING, project: str = P) -> Run:
    """A run of alex.analyst in PROJECT recorded as the runner records it, by PROCESS (None:
    before processes were recorded)."""
    run_id = new_run_id()
    while any(r.id == run_id for r in runs.runs(instance)):
        run_id = new_run_id()
    record = Run(
        id=run_id,
        project_id=project,
        project_version=1,
        person="alex.analyst",
        notebook="repeat-callers",
        notebook_sha256="0" * 64,
        parameters={},
        inputs=[],
        kit_version="0",
        packages={},
        kernel="python3",
        started=utc_now(),
        ended=None if status == RUNNING else utc_now(),
        status=status,
        error="",
        outputs=[],
        undeclared=[],
        folder=str(ProjectFolders.of(instance, project).outputs / run_id),
    )
    if process is not None:
        record.host, record.boot_id = process.host, process.boot_id
        record.pid, record.pid_started = process.pid, process.started
    with instance.db.session() as session:
        session.add(record)
    return runs.get_run(instance, run_id)


def sandbox(tempdir: Path, run_id: str, suffix: str = "a1b2c3d4") -> Path:
    """A sandbox as the runner leaves it: the kernel's outputs (derived data) and its folder."""
    base = tempdir / f"{sandbox_prefix(run_id)}{suffix}"
    (base / "outputs").mkdir(parents=True)
    (base / "kernel").mkdir()
    (base / "outputs" / "counts.csv").write_text("area,n\nA,3\n")
    return base


def failed_events(instance, run_id: str) -> list:
    with instance.db.session() as session:
        return [
            e for e in audit.events(session) if e.object_id == run_id and e.action == "run.failed"
        ]


def test_a_run_whose_process_died_is_failed_saying_so_and_audited_once(instance, tempdir):
    dead = record_run(instance, dead_process())
    done = recover(instance, "ops.operator")
    assert done.failed == {dead.id: recovery.NO_SUCH_PROCESS}
    found = runs.get_run(instance, dead.id)
    assert found.status == FAILED and found.ended
    assert "ended before the run did" in found.error and "run it again" in found.error
    assert "restart or a crash" in found.error
    (event,) = failed_events(instance, dead.id)
    details = event.content()["details"]
    assert event.actor == "ops.operator" and event.project == P
    assert details["interrupted"] is True and details["why"] == recovery.NO_SUCH_PROCESS
    assert details["process"]["pid"] == dead.pid
    # again: nothing more is failed, nothing more audited
    again = recover(instance, "ops.operator")
    assert again.failed == {} and again.removed == []
    assert len(failed_events(instance, dead.id)) == 1
    assert runs.get_run(instance, dead.id).ended == found.ended


def test_a_reused_pid_is_not_taken_for_the_runner(instance, tempdir):
    """The recorded pid is alive (it is this very process), but it started at another time:
    it is another process now, and the run's own is gone."""
    here = this_process()
    assert here.started is not None
    reused = record_run(instance, Process(here.host, here.boot_id, here.pid, here.started - 1))
    assert recover(instance).failed == {reused.id: recovery.PID_REUSED}
    assert runs.get_run(instance, reused.id).status == FAILED


def test_a_run_of_an_earlier_boot_is_failed_even_when_its_pid_and_start_match(instance, tempdir):
    here = this_process()
    rebooted = record_run(instance, Process(here.host, "another-boot", here.pid, here.started))
    assert recover(instance).failed == {rebooted.id: recovery.ANOTHER_BOOT}
    assert runs.get_run(instance, rebooted.id).status == FAILED


def test_live_runs_and_runs_of_another_host_are_left_alone(instance, tempdir):
    here = this_process()
    live = record_run(instance, here)
    elsewhere = record_run(instance, Process("another-host.example", "b", 1, 1))
    kept = [sandbox(tempdir, live.id), sandbox(tempdir, elsewhere.id)]
    done = recover(instance)
    assert done.failed == {} and done.removed == []
    for run in (live, elsewhere):
        assert runs.get_run(instance, run.id).status == RUNNING
        assert failed_events(instance, run.id) == []
    assert all((k / "outputs" / "counts.csv").exists() for k in kept)


def test_a_live_run_that_proc_hides_is_left_alone(instance, tempdir, monkeypatch):
    # /proc mounted with hidepid (a common hardening) hides another account's processes: a
    # live `tre run` must not be failed, nor its sandbox wiped, because its stat is unreadable
    from notebooks import recovery

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        here = this_process()
        live = record_run(
            instance, Process(here.host, here.boot_id, child.pid, process_started(child.pid))
        )
        kept = sandbox(tempdir, live.id)
        real = recovery.process_started
        monkeypatch.setattr(
            recovery, "process_started", lambda pid: None if pid == child.pid else real(pid)
        )
        done = recover(instance)
        assert done.failed == {} and done.removed == []
        assert runs.get_run(instance, live.id).status == RUNNING
        assert (kept / "outputs" / "counts.csv").exists()
    finally:
        child.kill()
        child.wait()
    done = recover(instance)  # once it has ended, it is failed
    assert live.id in done.failed


def test_a_run_recorded_before_processes_were_is_failed_and_told_so(instance, tempdir):
    old = record_run(instance, None)
    assert recover(instance).failed == {old.id: recovery.NO_PROCESS_RECORDED}
    found = runs.get_run(instance, old.id)
    assert found.status == FAILED
    assert "started before the kit recorded which process" in found.error
    assert "run it again" in found.error


def test_leftover_sandboxes_go_and_nothing_else_in_the_tempdir_is_touched(
    instance, tempdir, tmp_path
):
    dead = record_run(instance, dead_process())
    ended = record_run(instance, None, status=SUCCEEDED)
    live = record_run(instance, this_process())
    # what the analyst's kernel could have left in its outputs: a link to a folder outside
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the run's")
    left_by_dead = sandbox(tempdir, dead.id)
    (left_by_dead / "outputs" / "link").symlink_to(outside)
    left_by_ended = sandbox(tempdir, ended.id)
    live_sandbox = sandbox(tempdir, live.id)
    # a link named like a sandbox, pointing at a folder outside: removed as a link
    planted = tempdir / f"{sandbox_prefix(ended.id)}planted"
    planted.symlink_to(outside, target_is_directory=True)
    # the run's staging folder, never published
    staging = Path(dead.folder).parent / f".{dead.id}.0a1b2c3d.staging"
    staging.mkdir(parents=True)
    (staging / "notebook.ipynb").write_text("{}")
    # not ours: another instance's run, a file named like a sandbox, anything else
    unknown = sandbox(tempdir, "run-20990101-000000-abcd")
    a_file = tempdir / f"{sandbox_prefix(dead.id)}file"
    a_file.write_text("a file, not a sandbox")
    other = tempdir / "tre-runner-cache"
    other.mkdir()
    lookalike = tempdir / "tre-run-notes"
    lookalike.mkdir()

    done = recover(instance, "ops.operator")

    assert done.failed == {dead.id: recovery.NO_SUCH_PROCESS}
    for gone in (left_by_dead, left_by_ended, planted, staging):
        assert not os.path.lexists(gone), gone
        assert str(gone) in done.removed
    assert (outside / "keep.txt").read_text() == "not the run's"
    assert (live_sandbox / "outputs" / "counts.csv").exists()
    assert (unknown / "outputs" / "counts.csv").exists()
    assert any(str(unknown) in line and "another may own it" in line for line in done.left)
    assert a_file.read_text() == "a file, not a sandbox"
    assert other.is_dir() and lookalike.is_dir()
    assert done.problems == []
    (event,) = failed_events(instance, dead.id)
    assert sorted(event.content()["details"]["removed"]) == sorted(
        [str(left_by_dead), str(staging)]
    )
    with instance.db.session() as session:
        (cleaned,) = [
            e
            for e in audit.events(session)
            if e.object_id == ended.id and e.action == "run.sandbox_removed"
        ]
    assert sorted(cleaned.content()["details"]["removed"]) == sorted(
        [str(left_by_ended), str(planted)]
    )
    assert any(f"removed {left_by_dead}" == line for line in done.lines())
    # again: nothing left to do, nothing more audited
    again = recover(instance, "ops.operator")
    assert again.failed == {} and again.removed == [] and again.problems == []
    assert len(failed_events(instance, dead.id)) == 1


def test_only_recovery_fails_a_run_as_interrupted_and_nothing_else_gains_the_power_to_fail():
    into_failed = {(r.by, r.action) for r in RUNS.rules if r.target == RunStatus.FAILED}
    assert into_failed == {
        (RunActor.RUNNER, RunAction.FAIL),
        (RunActor.RECOVERY, RunAction.FAIL_INTERRUPTED),
    }
    assert [r.action for r in RUNS.rules if r.by == RunActor.RECOVERY] == [
        RunAction.FAIL_INTERRUPTED
    ]
    runner_source = Path(runner.__file__).read_text()
    assert "FAIL_INTERRUPTED" not in runner_source


def test_the_cli_recovers_and_says_what_it_did(instance, tempdir, run_cli):
    dead = record_run(instance, dead_process())
    left = sandbox(tempdir, dead.id)
    code, out, err = run_cli("--actor", "ops.operator", "runs", "recover", home=instance.home)
    assert code == 0, out + err
    assert f"run {dead.id} failed: interrupted" in out and str(left) in out
    assert runs.get_run(instance, dead.id).status == FAILED
    code, out, _ = run_cli("runs", "recover", home=instance.home)
    assert code == 0 and "no interrupted runs" in out
    code, out, _ = run_cli("runs", "show", dead.id, home=instance.home)
    assert code == 0 and "status: failed" in out and "ended before the run did" in out


PROJECT = "supporting-families"
# waits for a "go" beside it in its outputs, then writes n.txt
WAITS = STOPPED_BY_A_SUSPENSION + '(here / "n.txt").write_text("3")\n'


@contextmanager
def waiting_run(studied, tmp_path):
    """The real runner, in a thread of this process (as the tre service runs a web run), on a
    notebook that waits: yields its sandbox's "started" flag and a dict that gets the run's
    result ("run") once the block ends (it lets the run go on, and waits for it)."""
    path = small_notebook(tmp_path / "waits.ipynb", WAITS, outputs=["n.txt"])
    results: dict = {}
    thread = threading.Thread(
        target=lambda: results.update(
            run=runner.run(studied, path, PROJECT, "alex.analyst", at=STUDIED_TODAY)
        )
    )
    thread.start()
    started: list[Path] = []
    try:
        deadline = time.monotonic() + 90
        while not started:
            assert time.monotonic() < deadline and thread.is_alive(), "the run never started"
            running = [r for r in runs.runs(studied, PROJECT) if r.status == RUNNING]
            started = [
                flag
                for r in running
                for flag in Path(tempfile.gettempdir()).glob(
                    f"{sandbox_prefix(r.id)}*/outputs/started"
                )
            ]
            time.sleep(0.05)
        (flag,) = started
        yield flag, results
    finally:
        for flag in started:
            (flag.parent / "go").write_text("go")
        thread.join(timeout=120)


def test_a_run_going_on_in_this_process_is_never_failed_nor_its_sandbox_removed(studied, tmp_path):
    """The real runner while recovery runs (as at the service's start, or `tre runs recover`
    beside it)."""
    with waiting_run(studied, tmp_path) as (flag, results):
        box = flag.parent.parent
        done = recover(studied)
        assert box.is_dir() and str(box) not in done.removed
        (record,) = [r for r in runs.runs(studied, PROJECT) if r.status == RUNNING]
        here = this_process()
        assert (record.host, record.boot_id, record.pid, record.pid_started) == (
            here.host,
            here.boot_id,
            here.pid,
            here.started,
        )
        assert record.id not in done.failed
    result = results["run"]
    assert result.status == SUCCEEDED, result.error
    assert (result.files / "n.txt").read_text() == "3"
    assert failed_events(studied, result.id) == []
    assert not box.exists()  # the runner removed it, as ever


def test_a_run_failed_while_it_ran_stays_failed_when_its_runner_ends_it(studied, tmp_path):
    """Should recovery fail a run that was in fact alive (a misjudged process), the runner's
    ending must not turn it back into a success whose files could be requested: the failure
    stands, and the late ending is audited."""
    with waiting_run(studied, tmp_path) as (_, results):
        (record,) = [r for r in runs.runs(studied, PROJECT) if r.status == RUNNING]
        assert recovery._fail(studied, "system", record, "judged gone", [])
    result = results["run"]
    assert result.status == FAILED and result.outputs == []
    assert "after it had been failed" in result.error and "succeeded" in result.error
    stored = runs.get_run(studied, result.id)
    assert stored.status == FAILED and stored.error == recovery.INTERRUPTED
    assert runs.requestable_files(stored) == []
    with studied.db.session() as session:
        actions = [e.action for e in audit.events(session) if e.object_id == result.id]
    assert "run.succeeded" not in actions
    assert actions.count("run.failed") == 1 and actions.count("run.late_ending") == 1
