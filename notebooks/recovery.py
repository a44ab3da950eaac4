"""Recovery: the runs whose process ended before they did, failed for good, and their leftovers.

A run is recorded as running, with the process that runs it (:func:`this_process`: the host's
name, the boot id, the pid and the process's start time), before its first cell; the runner
records how it ended. When that process ends first (the tre service restarted or crashed, the
machine rebooted, a `tre run` was killed), nothing else would: the run stayed ``running`` for
ever, with no ``run.failed`` event, and its sandbox (the kernel's work folder, derived data) stayed
in the system's tempdir.

:func:`recover` mends that, for this host. A run recorded on this host whose process is gone
(another boot, no such pid, or that pid now a process started at another time) is failed through
the state machine's recovery rule, with an error a person understands and the audit event
``run.failed`` saying it was interrupted; so is a running run recorded before the kit recorded
processes (it names none). Runs recorded on another host, and runs whose process is alive, are
left alone. Then the sandboxes in the tempdir (``tre-run-<run id>-*``) of this instance's runs
that are not live are removed, and the staging folders of the runs failed here: a link is removed
as a link (its target untouched), a folder without following any link inside it; nothing else in
the tempdir is touched, and a sandbox of a run this instance does not know (another instance on
this host may own it) is left. What was removed is audited and returned.

The tre service calls it when it starts (``hub/service.py``), and `tre runs recover` on demand.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update

from notebooks.models import Run
from notebooks.runs import RUNNING, SANDBOX_NAME, RunError
from notebooks.states import RUNS, RunAction, RunActor, RunEvent
from tre import audit
from tre.audit import utc_now
from tre.instance import Instance

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")
PROC = Path("/proc")

# what a person reads on the run's page and in `tre runs show`
INTERRUPTED = (
    "the process running this run ended before the run did (a restart or a crash of the tre "
    "service, of `tre run` or of the machine), so it never finished and none of its outputs "
    "were kept: run it again"
)
INTERRUPTED_UNRECORDED = (
    "this run was started before the kit recorded which process runs each run, and it never "
    "finished: the process running it ended before the run did (a restart or a crash), so none "
    "of its outputs were kept: run it again"
)

# why a run's process is gone, for the audit log
NO_PROCESS_RECORDED = "no process recorded (the run was started before revision 0011)"
ANOTHER_BOOT = "the machine has restarted since the run started (another boot id)"
NO_SUCH_PROCESS = "no process has the recorded pid"
PID_REUSED = "the recorded pid is now another process's (it started at another time)"


class RecoveryError(RunError):
    """Recovery cannot tell here which processes are alive; nothing was changed."""


@dataclass(frozen=True)
class Process:
    """A process as a run records it: what tells it apart from any other, ever, on its host."""

    host: str
    boot_id: str | None
    pid: int
    started: int | None  # clock ticks after boot (/proc/<pid>/stat field 22)


def boot_id() -> str | None:
    """This boot of this machine (a new one at each boot), or None where there is no /proc."""
    try:
        return BOOT_ID.read_text().strip() or None
    except OSError:
        return None


def process_started(pid: int) -> int | None:
    """When process PID started, in clock ticks after boot; None when there is no such process
    (or no /proc). The command name (field 2) may hold spaces and parentheses: fields are counted
    after its closing one."""
    try:
        text = (PROC / str(pid) / "stat").read_text()
    except (OSError, ValueError):
        return None
    fields = text[text.rfind(")") + 2 :].split()
    try:
        return int(fields[22 - 3])
    except (IndexError, ValueError):
        return None


def this_process() -> Process:
    """The process running now, as a run records it (:func:`notebooks.runner.run`)."""
    pid = os.getpid()
    return Process(socket.gethostname(), boot_id(), pid, process_started(pid))


def why_gone(found: Run, here: Process) -> str | None:
    """Why the process recorded for FOUND (a run of this host, or naming no process) is gone,
    for the audit log; None when it may be the live runner."""
    if found.host is None or found.pid is None:
        return NO_PROCESS_RECORDED
    if found.boot_id and here.boot_id and found.boot_id != here.boot_id:
        return ANOTHER_BOOT
    started = process_started(found.pid)
    if started is None:
        return NO_SUCH_PROCESS if not _exists(found.pid) else None
    if found.pid_started is not None and started != found.pid_started:
        return PID_REUSED
    return None


def _exists(pid: int) -> bool:
    """Whether a process PID exists though /proc does not show it (mounted with hidepid, a
    process of another account): then it may be the live runner, and is left alone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Recovery:
    """What :func:`recover` did."""

    failed: dict[str, str] = field(default_factory=dict)  # run id: why its process is gone
    removed: list[str] = field(default_factory=list)  # sandboxes and staging folders
    left: list[str] = field(default_factory=list)  # run sandboxes left in the tempdir, and why
    problems: list[str] = field(default_factory=list)  # what could not be removed

    def lines(self) -> list[str]:
        """What it did, in sentences (for the service's log and the CLI)."""
        out = [f"run {run_id} failed: interrupted ({why})" for run_id, why in self.failed.items()]
        out += [f"removed {path}" for path in self.removed]
        out += [f"left {what}" for what in self.left]
        out += [f"could not remove {what}" for what in self.problems]
        return out or ["no interrupted runs and no leftover sandboxes"]


def recover(
    instance: Instance, actor: str = "system", tempdir: str | Path | None = None
) -> Recovery:
    """Fail the runs of this host whose process is gone, and remove the leftovers of runs that
    are not live (see the module's documentation). TEMPDIR: where sandboxes are made (the
    system's tempdir). Running it again changes nothing more."""
    here = this_process()
    if here.started is None:
        raise RecoveryError(
            "cannot tell which processes are alive on this machine (/proc cannot be read): "
            "no run was failed and no sandbox removed"
        )
    if not shutil.rmtree.avoids_symlink_attacks:
        raise RecoveryError(
            "this system cannot remove a folder without the risk of following a link planted in "
            "it: no run was failed and no sandbox removed"
        )
    done = Recovery()
    with instance.db.session() as session:
        running = list(session.scalars(select(Run).where(Run.status == RUNNING)))
        session.expunge_all()
    gone = {
        r.id: (r, why)
        for r in running
        if r.host in (None, here.host) and (why := why_gone(r, here)) is not None
    }
    sandboxes = _sandboxes(Path(tempdir or tempfile.gettempdir()))
    with instance.db.session() as session:
        known = {r.id: r for r in session.scalars(select(Run).where(Run.id.in_(sorted(sandboxes))))}
        session.expunge_all()

    for run_id, (found, why) in gone.items():
        removed = _remove_all(sandboxes.pop(run_id, []) + _staging(found), done)
        if _fail(instance, actor, found, why, removed):
            done.failed[run_id] = why
    for run_id, paths in sandboxes.items():
        owner = known.get(run_id)
        if owner is None:
            done.left += [
                f"{p} (no run {run_id} in this instance: another may own it)" for p in paths
            ]
        elif owner.status == RUNNING:
            done.left += [f"{p} (run {run_id} is running)" for p in paths]
        elif removed := _remove_all(paths, done):
            with instance.db.session() as session:
                audit.record(
                    session,
                    actor,
                    RunEvent.SANDBOX_REMOVED,
                    "run",
                    run_id,
                    project=owner.project_id,
                    details={"status": owner.status, "removed": removed},
                )
    return done


def _fail(instance: Instance, actor: str, found: Run, why: str, removed: list[str]) -> bool:
    """Fail FOUND, still running, by the recovery rule, and audit it in the same transaction;
    False when it is running no more (another recovery, or its runner, got there first)."""
    rule = RUNS.transition(RUNNING, RunAction.FAIL_INTERRUPTED, f"run {found.id}")
    assert rule.by == RunActor.RECOVERY
    error = INTERRUPTED_UNRECORDED if why == NO_PROCESS_RECORDED else INTERRUPTED
    with instance.db.session() as session:
        changed = session.execute(
            update(Run)
            .where(Run.id == found.id, Run.status == RUNNING)
            .values(status=rule.target, ended=utc_now(), error=error)
            .returning(Run.id)
        ).scalar_one_or_none()
        if changed is None:
            return False
        audit.record(
            session,
            actor,
            RunEvent.FAILED,
            "run",
            found.id,
            project=found.project_id,
            details={
                "interrupted": True,
                "why": why,
                "process": {
                    "host": found.host,
                    "boot_id": found.boot_id,
                    "pid": found.pid,
                    "started": found.pid_started,
                },
                "error": error,
                "outputs": 0,
                "undeclared": [],
                "removed": removed,
            },
        )
    return True


def _sandboxes(tempdir: Path) -> dict[str, list[Path]]:
    """The run sandboxes in TEMPDIR (links and folders named tre-run-<run id>-*), by run id."""
    found: dict[str, list[Path]] = {}
    try:
        entries = sorted(os.scandir(tempdir), key=lambda e: e.name)
    except OSError:
        return found
    for entry in entries:
        named = SANDBOX_NAME.fullmatch(entry.name)
        if named and (entry.is_symlink() or entry.is_dir(follow_symlinks=False)):
            found.setdefault(named.group(1), []).append(Path(entry.path))
    return found


def _staging(found: Run) -> list[Path]:
    """The staging folders of FOUND's run folder, never published (tre.folders.publish)."""
    target = Path(found.folder)
    return sorted(target.parent.glob(f".{target.name}.*.staging"))


def _remove_all(paths: list[Path], done: Recovery) -> list[str]:
    """Remove PATHS (:func:`_remove`); what was removed, as text. What could not be removed is
    added to DONE's problems."""
    removed = []
    for path in paths:
        problems = _remove(path)
        if problems is None:
            continue
        if problems:
            done.problems.append(f"{path} ({'; '.join(problems)})")
        else:
            removed.append(str(path))
    done.removed += removed
    return removed


def _remove(path: Path) -> list[str] | None:
    """Remove PATH: a link as a link (never its target), a folder with everything in it and no
    link inside followed (the check is made on the open folder, so a folder swapped for a link
    meanwhile is refused). None when PATH is gone or is neither (left); else what failed."""
    try:
        mode = path.lstat().st_mode
    except FileNotFoundError:
        return None
    problems: list[str] = []
    if stat.S_ISLNK(mode):
        try:
            path.unlink()
        except OSError as exc:
            problems.append(str(exc))
    elif stat.S_ISDIR(mode):
        shutil.rmtree(path, onerror=lambda _f, p, e: problems.append(f"{p}: {e[1]}"))
    else:
        return None
    return problems
