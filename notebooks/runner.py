"""The runner: a notebook executed with papermill inside one project's scope, with provenance.

:func:`run` asks the policy engine first (``run_analysis``: an active project, the person an
analyst in its team, accredited, the terms accepted) and refuses with every reason. It checks the
parameters against the notebook's ``parameters`` cell, checks that the extract's files still match
their manifest, then executes the notebook with the extract as its only data (``TRE_DATA``), a work
folder as its outputs (``TRE_OUTPUTS``) and the project's disclosure policy
(``TRE_DISCLOSURE_POLICY``).

The kernel runs in the workspace's sandbox (:mod:`tre.sandbox`), as the person's own system
account: it sees the extract read-only at ``/tre/data``, its work folder at ``/tre/outputs``, the
software and nothing else (no instance, no other project, no network), and talks to the runner over
Unix sockets in a folder of its own. When it ends, the runner copies the work folder's files into
the run's folder; a link, or a file named like the run's own records, is refused and named in the
run's error, so nothing the notebook wrote can stand in for its provenance. The run's folder,
``projects/<id>/outputs/<run-id>/``, is a BagIt bag holding a Five Safes RO-Crate: the executed
notebook, two HTML reports (with and without code), the files the notebook wrote, and ``run.json``.
A failed run keeps its notebook and error; nothing of it can be requested for release.
"""

from __future__ import annotations

import ast
import functools
import json
import os
import platform
import re
import shutil
import stat
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy import update

from notebooks.models import Run
from notebooks.recovery import this_process
from notebooks.runs import (
    ERROR,
    NOTEBOOK,
    RECORD,
    REPORT,
    REPORT_NO_CODE,
    RUN_FILES,
    RUNNING,
    SOURCE,
    SUCCEEDED,
    WORKSPACE_PREFIX,
    RunError,
    files_folder,
    new_run_id,
    sandbox_prefix,
)
from notebooks.states import EVENT_OF_STATUS, RUNS, RunAction, RunEvent, RunStatus
from projects import registry
from projects.policy import PolicyAction, check
from sdc.policy import ENVIRONMENT_VARIABLE, EVIDENCE_SUFFIX
from tre import __version__, audit, sandbox
from tre import crate as crates
from tre.audit import utc_now
from tre.errors import Refused
from tre.folders import ProjectFolders, publish
from tre.hashing import file_sha256 as sha256
from tre.instance import Instance

STUDIES = Path(__file__).parent / "studies"
ROOT = Path(__file__).resolve().parent.parent
KINDS = ("table", "figure", "model", "text")
ENGINE = "tre"

Progress = Callable[[int, int, str], None]


@dataclass
class RunResult:
    id: str
    status: RunStatus
    folder: Path
    error: str
    outputs: list[dict[str, Any]]
    undeclared: list[str]

    @property
    def files(self) -> Path:
        """The run's files (the bag's payload)."""
        return files_folder(self.folder)

    def report(self, code: bool = False) -> Path:
        return self.files / (REPORT if code else REPORT_NO_CODE)


# ---------------------------------------------------------------------------------------------
# Notebooks and parameters


def studies() -> dict[str, Path]:
    """The study notebooks shipped with the kit, by name."""
    return {p.stem.replace("_", "-"): p for p in sorted(STUDIES.glob("*.ipynb"))}


def runnable(instance: Instance, project_id: str, person: str) -> list[str]:
    """What PERSON may run in PROJECT_ID from the web: the study catalogue, and the notebooks in
    their own workspace (``workspace/NAME.ipynb``; regular files only: never a link, a FIFO
    or a device, whatever its name)."""
    out = list(studies())
    space = ProjectFolders.of(instance, project_id).workspace / person
    for top, folders, files in os.walk(space, followlinks=False):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in sorted(files):
            path = Path(top) / name
            if name.endswith(".ipynb") and _regular(path):
                out.append(WORKSPACE_PREFIX + path.relative_to(space).as_posix())
    return out


def _regular(path: Path) -> bool:
    """Is PATH a regular file itself (not a link, a FIFO or a device; gone is no)?"""
    try:
        return stat.S_ISREG(path.lstat().st_mode)
    except OSError:
        return False


def runnable_name(instance: Instance, project_id: str, person: str, notebook: str) -> str:
    """NOTEBOOK as one of :func:`runnable`: a study's name, ``workspace/NAME.ipynb``, or the path
    of a notebook inside PERSON's own workspace of PROJECT_ID (as the CLI is given it). Anything
    else is refused, whatever path it spells: the web and the CLI run the same notebooks."""
    allowed = runnable(instance, project_id, person)
    if notebook in allowed:
        return notebook
    space = os.path.abspath(ProjectFolders.of(instance, project_id).workspace / person)
    given = os.path.abspath(notebook)
    if given.startswith(space + os.sep):
        inside = WORKSPACE_PREFIX + Path(os.path.relpath(given, space)).as_posix()
        if inside in allowed:
            return inside
    names = ", ".join(n for n in allowed if not n.startswith(WORKSPACE_PREFIX))
    raise Refused(
        f"{notebook!r} cannot be run in {project_id}: choose one of the studies ({names}) or a "
        f"notebook of your own workspace ({WORKSPACE_PREFIX}NAME.ipynb, or its path under {space})"
    )


@contextmanager
def trusted_copy(instance: Instance, project_id: str, person: str, name: str):
    """NAME (one of :func:`runnable`) as a notebook root may read: a study as it is; a workspace
    notebook copied, through no link, into a folder only root reads, for the run's length (the
    workspace is the person's, so root never opens a path in it by name twice)."""
    if not name.startswith(WORKSPACE_PREFIX):
        yield find_notebook(name)
        return
    space = ProjectFolders.of(instance, project_id).workspace / person
    relative = name.removeprefix(WORKSPACE_PREFIX)
    try:
        data = sandbox.read_inside(space, relative)
    except sandbox.SandboxError as exc:
        raise RunError(f"{name} cannot be run: {exc}") from None
    folder = Path(tempfile.mkdtemp(prefix="tre-notebook-"))
    try:
        copy = folder / Path(relative).name
        copy.write_bytes(data)
        yield copy
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def check_runnable(
    instance: Instance, project_id: str, person: str, name: str, at: date | None = None
) -> str:
    """NAME as :func:`runnable_name` names it when PERSON may run it in PROJECT_ID now; else a
    refusal with every reason (the policy is asked first: nothing of another project is read
    before it allows PERSON to run analyses in PROJECT_ID). Asked again by the run itself."""
    with instance.db.session() as session:
        check(session, person, PolicyAction.RUN_ANALYSIS, project_id, at=at)
    return runnable_name(instance, project_id, person, name)


def run_runnable(
    instance: Instance,
    project_id: str,
    person: str,
    name: str,
    parameters: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    at: date | None = None,
    kernel: str = "python3",
) -> RunResult:
    """Run NAME (:func:`runnable_name`: a study, or a notebook of PERSON's own workspace) as the
    CLI, the web and the workspace's JupyterLab ask for it: anything else is refused, whatever
    path it spells (``..``, a link, another person's or project's notebook), and nothing of
    another project is read before the policy allows PERSON to run analyses in PROJECT_ID. The
    run's record names a workspace notebook by its place (``workspace/PATH``)."""
    name = check_runnable(instance, project_id, person, name, at)
    with trusted_copy(instance, project_id, person, name) as path:
        own = name.startswith(WORKSPACE_PREFIX)
        return run(
            instance,
            path,
            project_id,
            person,
            parameters,
            progress,
            at,
            kernel=kernel,
            name=name if own else None,
        )


def find_notebook(name: str | Path) -> Path:
    path = Path(name)
    if path.suffix == ".ipynb":
        if not path.is_file():
            raise RunError(f"{path}: no such notebook")
        return path
    found = studies().get(str(name))
    if found is None:
        raise RunError(
            f"{name!r} is neither a notebook file nor a study; studies are " + ", ".join(studies())
        )
    return found


def read_notebook(path: Path):
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises JSON, validation and read errors
        raise RunError(f"{path.name} is not a readable notebook: {exc}") from None


def declared_outputs(notebook) -> list[dict[str, str]]:
    """The outputs a notebook declares in its metadata (``tre.outputs``: file, kind)."""
    declared = notebook.metadata.get("tre", {}).get("outputs", [])
    problems = []
    for i, output in enumerate(declared):
        if not isinstance(output, Mapping) or "file" not in output:
            problems.append(f"tre.outputs.{i}: needs a file")
        elif output.get("kind") not in KINDS:
            problems.append(f"tre.outputs.{i}: kind must be one of {', '.join(KINDS)}")
    if problems:
        raise RunError("the notebook's declared outputs are not valid: " + "; ".join(problems))
    return [dict(o) for o in declared]


def notebook_parameters(path: Path) -> dict[str, dict[str, Any]]:
    import papermill

    return {name: dict(p) for name, p in papermill.inspect_notebook(str(path)).items()}


_TRUE, _FALSE = {"true", "yes", "1", "on"}, {"false", "no", "0", "off"}


def _convert(name: str, value: Any, declared: dict[str, Any]) -> Any:
    kind = declared.get("inferred_type_name", "None")
    default = declared.get("default")
    if kind in (None, "None"):
        # papermill infers a type only from an annotation; else the default's literal says it
        try:
            kind = type(ast.literal_eval(str(default))).__name__
        except (ValueError, SyntaxError):
            kind = "None"

    def wrong() -> RunError:
        return RunError(
            f"parameter {name} must be {kind} (its default is {default}), not {value!r}"
        )

    if kind == "int":
        if isinstance(value, bool):
            raise wrong()
        if isinstance(value, int):
            return value
        try:
            return int(str(value))
        except ValueError:
            raise wrong() from None
    if kind == "float":
        if isinstance(value, bool):
            raise wrong()
        try:
            return float(value)
        except (TypeError, ValueError):
            raise wrong() from None
    if kind == "bool":
        if isinstance(value, bool):
            return value
        text = str(value).lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        raise wrong()
    if kind == "str":
        return value if isinstance(value, str) else str(value)
    if isinstance(value, str):
        import yaml

        try:
            return yaml.safe_load(value)
        except yaml.YAMLError:
            return value
    return value


DATE_SUFFIXES = ("_date", "_start", "_end")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(text: str) -> date | None:
    """TEXT as a calendar date if it is one written YYYY-MM-DD, else None."""
    if not _ISO_DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def is_date_parameter(name: str, declared: dict[str, Any]) -> bool:
    """A date parameter: its default is a string holding an ISO date (``"2025-04-01"``), or its
    name ends in _date, _start or _end and its default is a string (or None). A number named
    ``age_start`` stays a number: the default's type decides first."""
    default = declared.get("default")
    try:
        value = ast.literal_eval(str(default))
    except (ValueError, SyntaxError):
        return False
    if isinstance(value, str) and _iso_date(value) is not None:
        return True
    return name.endswith(DATE_SUFFIXES) and (value is None or isinstance(value, str))


def _date_value(name: str, value: Any, declared: dict[str, Any]) -> str:
    if isinstance(value, date):
        value = value.isoformat()
    if isinstance(value, str) and _iso_date(value) is not None:
        return value
    raise RunError(
        f"parameter {name} must be a date written YYYY-MM-DD (a real day of a real month, "
        f"e.g. its default {declared.get('default')}), not {value!r}"
    )


def check_parameters(path: Path, given: Mapping[str, Any]) -> dict[str, Any]:
    """GIVEN converted to the types of the notebook's parameters; unknown names refused.

    Dates are checked for meaning (:func:`is_date_parameter`): a date parameter must be a real
    date, and a period's end (``X_end``) not before its start (``X_start``), given or default."""
    declared = notebook_parameters(path)
    unknown = sorted(set(given) - set(declared))
    if unknown:
        known = ", ".join(declared) if declared else "none (it has no parameters cell)"
        raise RunError(
            f"{path.name} has no parameter {', '.join(unknown)}; its parameters are {known}"
        )
    checked = {
        name: (
            _date_value(name, value, declared[name])
            if is_date_parameter(name, declared[name])
            else _convert(name, value, declared[name])
        )
        for name, value in given.items()
    }
    for start in (n for n in declared if n.endswith("_start")):
        end = start.removesuffix("_start") + "_end"
        if end not in declared or not (start in checked or end in checked):
            continue
        bounds = [
            _iso_date(str(checked[n])) if n in checked else _iso_date(_default_text(declared[n]))
            for n in (start, end)
        ]
        if None not in bounds and bounds[1] < bounds[0]:  # type: ignore[operator]
            raise RunError(
                f"{end} ({bounds[1]}) is before {start} ({bounds[0]}): a period must end on "
                "or after the day it starts"
            )
    return checked


def _default_text(declared: dict[str, Any]) -> str:
    try:
        return str(ast.literal_eval(str(declared.get("default"))))
    except (ValueError, SyntaxError):
        return ""


# ---------------------------------------------------------------------------------------------
# Provenance


def package_set() -> dict[str, Any]:
    """The kit's locked package set (the lock file's hash, when it is there) and what is
    installed."""
    lock = ROOT / "requirements.lock"
    installed = sorted(
        {f"{d.metadata['Name'].lower()}=={d.version}" for d in metadata.distributions()}
    )
    return {
        "lock_file": lock.name if lock.exists() else None,
        "lock_sha256": sha256(lock) if lock.exists() else None,
        "python": platform.python_version(),
        "installed": installed,
    }


def extract_inputs(data: Path) -> list[dict[str, Any]]:
    """The extract's files, from its manifest, each re-hashed: a changed file stops the run."""
    manifest_path = data / "manifest.json"
    if not manifest_path.exists():
        raise RunError(
            "the project's data is not in place: ask the operator to prepare it again "
            "(`tre data extract PROJECT`)"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    inputs = []
    for listed in manifest["files"]:
        path = data / listed["file"]
        if not path.exists() or sha256(path) != listed["sha256"]:
            raise RunError(
                f"the extract's file {listed['file']} does not match its manifest; "
                "ask the operator to cut the extract again"
            )
        inputs.append({k: listed[k] for k in ("file", "dataset", "rows", "sha256")})
    inputs.append(
        {
            "file": "manifest.json",
            "dataset": "manifest",
            "rows": None,
            "sha256": sha256(manifest_path),
        }
    )
    return inputs


def environment(project_id: str, policy_json: str) -> dict[str, str]:
    """The whole environment of a run's kernel: the project's folders as the sandbox shows them,
    its disclosure policy, and nothing of the instance or of the process that started it."""
    return {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": "/tmp",
        "IPYTHONDIR": "/tmp/ipython",
        "MPLCONFIGDIR": "/tmp/matplotlib",
        "PYTHONNOUSERSITE": "1",
        "TRE_PROJECT": project_id,
        "TRE_DATA": sandbox.DATA,
        "TRE_OUTPUTS": sandbox.OUTPUTS,
        ENVIRONMENT_VARIABLE: policy_json,
    }


# A matplotlib figure shown as a cell's result (`table.figure`, `fig`, `display(fig)`) is stored
# as a PNG, so the HTML report shows the chart, not `<Figure size 700x364 with 2 Axes>`: IPython
# knows how to draw a figure only once pyplot's inline backend is on, and figures made without
# pyplot (as sdc.safe makes them) never turn it on. The formatter is registered by the type's
# name, so matplotlib is imported only when a figure is shown.
FIGURES_AS_IMAGES = (
    "get_ipython().display_formatter.formatters['image/png'].for_type_by_name("
    "'matplotlib.figure', 'Figure', lambda figure: __import__("
    "'IPython.core.pylabtools', fromlist=['print_figure']).print_figure("
    "figure, 'png', bbox_inches='tight'))"
)


def with_figures_as_images(argv: list[str]) -> list[str]:
    """An IPython kernel's command, told to show figures as images (:data:`FIGURES_AS_IMAGES`)."""
    if not any("ipykernel" in part for part in argv):
        return argv
    return [*argv, f"--InteractiveShellApp.exec_lines={FIGURES_AS_IMAGES}"]


def kernel_manager(box: sandbox.Sandbox, folder: Path) -> type:
    """A kernel manager that starts the kernel inside BOX, reached over Unix sockets in FOLDER
    (bound into the sandbox at the same path, owned by the sandbox's account)."""
    import pwd

    from jupyter_client.manager import AsyncKernelManager

    account = pwd.getpwnam(box.account)

    class SandboxedKernelManager(AsyncKernelManager):
        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("connection_file", str(folder / "kernel.json"))
            super().__init__(**kwargs)

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            argv = with_figures_as_images(super().format_kernel_cmd(extra_arguments))
            # written by the runner (root) just before: the kernel reads it as the account
            os.chown(self.connection_file, account.pw_uid, account.pw_gid)
            return box.command(sandbox.kernel_command(argv))

    return SandboxedKernelManager


# ---------------------------------------------------------------------------------------------
# The engine: papermill's nbclient engine, reporting each cell and running in the project's env


@functools.cache
def _engine() -> str:
    """Register the engine with papermill, once per process."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args

    class TreEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man,
            kernel_name,
            log_output=False,
            stdout_file=None,
            stderr_file=None,
            start_timeout=60,
            execution_timeout=None,
            tre_progress=None,
            tre_env=None,
            tre_cwd=None,
            tre_manager=None,
            tre_guard=None,
            **kwargs,
        ):
            code = [i for i, c in enumerate(nb_man.nb.cells) if c.cell_type == "code"]
            started = nb_man.cell_start

            def cell_start(cell, cell_index=None, **more):
                if tre_guard is not None and cell_index in code:
                    tre_guard()  # the policy asked again before every code cell
                if tre_progress is not None and cell_index in code:
                    tre_progress(code.index(cell_index) + 1, len(code), cell.source[:60])
                return started(cell, cell_index, **more)

            nb_man.cell_start = cell_start
            # as papermill's own engine, except that this run's kernel is started with its own
            # environment, folder and (in the sandbox) kernel manager: nothing of the process
            # (os.environ, its working folder) changes, so runs started at once in one process
            # (the web service) run side by side
            kwargs = remove_args(["input_path"], **kwargs)
            client = PapermillNotebookClient(
                nb_man,
                **merge_kwargs(
                    remove_args(["timeout", "startup_timeout"], **kwargs),
                    timeout=execution_timeout or kwargs.get("timeout"),
                    startup_timeout=start_timeout,
                    kernel_name=kernel_name,
                    log=logger,
                    log_output=log_output,
                    stdout_file=stdout_file,
                    stderr_file=stderr_file,
                    **({"kernel_manager_class": tre_manager} if tre_manager else {}),
                ),
            )
            return client.execute(env=tre_env, cwd=tre_cwd)

    papermill_engines.register(ENGINE, TreEngine)
    return ENGINE


# ---------------------------------------------------------------------------------------------
# Running


def check_kernel(kernel: str) -> None:
    """Refuse, before a run is recorded, a kernel this machine does not have (papermill's own
    refusal came as a failed run reading only `NoSuchKernel`)."""
    from jupyter_client.kernelspec import KernelSpecManager

    known = sorted(KernelSpecManager().find_kernel_specs())
    if kernel not in known:
        raise RunError(
            f"there is no Jupyter kernel named {kernel} on this machine (installed: "
            f"{', '.join(known) or 'none'}): run with --kernel python3, the kit's Python kernel "
            "(if it is missing too, install it: python -m ipykernel install --sys-prefix); "
            "nothing was run"
        )


def run(
    instance: Instance,
    notebook: str | Path,
    project_id: str,
    person: str,
    parameters: Mapping[str, Any] | None = None,
    progress: Progress | None = None,
    at: date | None = None,
    kernel: str = "python3",
    name: str | None = None,
) -> RunResult:
    """Run NOTEBOOK for PERSON in PROJECT_ID's scope; see the module's documentation. NAME is
    what the run's record calls the notebook (its file name when not given)."""
    import papermill

    path = find_notebook(notebook)
    name = name or path.name
    with instance.db.session() as session:
        check(session, person, PolicyAction.RUN_ANALYSIS, project_id, at=at)
        found = registry.project(session, project_id)
        described = registry.describe(session, found)
        policy = registry.project_policy(found, instance.settings.policy)
        organisation = registry.person(session, person).organisation.code
    source = read_notebook(path)
    check_kernel(kernel)
    declared = declared_outputs(source)
    values = check_parameters(path, parameters or {})
    folders = ProjectFolders.of(instance, project_id)
    inputs = extract_inputs(folders.data)
    preparation = _Preparation()
    preparation.start()
    run_id = new_run_id()
    target = folders.outputs / run_id
    process = this_process()  # so that recovery can tell when it ended before the run
    record = Run(
        id=run_id,
        project_id=project_id,
        project_version=found.version,
        person=person,
        notebook=name,
        notebook_sha256=sha256(path),
        parameters=json.loads(json.dumps(values, default=str)),
        inputs=inputs,
        kit_version=__version__,
        packages={},
        kernel=kernel,
        started=utc_now(),
        ended=None,
        status=RUNNING,
        error="",
        outputs=[],
        undeclared=[],
        folder=str(target),
        host=process.host,
        boot_id=process.boot_id,
        pid=process.pid,
        pid_started=process.started,
    )
    with instance.db.session() as session:
        session.add(record)
        audit.record(
            session,
            person,
            RunEvent.START,
            "run",
            run_id,
            project=project_id,
            details={
                "notebook": name,
                "sha256": record.notebook_sha256,
                "parameters": record.parameters,
            },
        )
    # the run's folder appears whole, once its record and crate are written
    with publish(target) as staged, _sandbox(instance, project_id, person, run_id) as (box, work):
        staging = staged.folder
        shutil.copyfile(path, staging / SOURCE)
        ending, error = RunAction.SUCCEED, ""
        try:
            papermill.execute_notebook(
                str(path),
                str(staging / NOTEBOOK),
                parameters=values,
                engine_name=_engine(),
                kernel_name=kernel,
                progress_bar=False,
                # the kernel's own log (ipykernel warns that loopback TCP is unencrypted) is noise
                # on the analyst's terminal; the notebook still records every error
                extra_arguments=["--IPKernelApp.log_level=CRITICAL"],
                tre_progress=progress,
                tre_env=environment(project_id, policy.to_json()),
                tre_cwd=str(work.connection),
                tre_manager=kernel_manager(box, work.connection),
                tre_guard=lambda: _still_allowed(instance, person, project_id, at),
            )
        except papermill.PapermillExecutionError as exc:
            ending, error = RunAction.FAIL, f"{exc.ename}: {exc.evalue} (cell {exc.exec_count})"
        except Exception as exc:  # the kernel died, or could not start
            ending, error = RunAction.FAIL, f"{type(exc).__name__}: {exc}"
            if not (staging / NOTEBOOK).exists():
                shutil.copyfile(path, staging / NOTEBOOK)
            (staging / ERROR).write_text(traceback.format_exc(), encoding="utf-8")
        refused = _collect(work.outputs, staging)
        if refused:
            ending = RunAction.FAIL
            error = "; ".join(
                filter(None, [error, "files not taken from the run: " + "; ".join(refused)])
            )
        try:
            _reports(staging, preparation.result().exporters)
        except Exception as exc:  # a report that cannot render must not lose the run
            error += f"; the HTML reports could not be made: {exc}"
        record.packages = preparation.result().packages
        produced = _produced(staging, declared)
        undeclared = [o["file"] for o in produced if not o["declared"] and not o["evidence_of"]]
        ended = utc_now()
        status = RUNS.transition(RUNNING, ending, f"run {run_id}").target
        summary = {
            "id": run_id,
            "project": project_id,
            "project_version": found.version,
            "person": person,
            "notebook": name,
            "notebook_sha256": record.notebook_sha256,
            "parameters": record.parameters,
            "inputs": inputs,
            "kit_version": __version__,
            "packages": record.packages,
            "kernel": kernel,
            "started": record.started,
            "ended": ended,
            "status": status,
            "error": error,
            "declared": declared,
            "outputs": produced,
            "undeclared": undeclared,
        }
        (staging / RECORD).write_text(json.dumps(summary, indent=1) + "\n", encoding="utf-8")
        _crate(staging, summary, described, organisation, name)
    with instance.db.session() as session:
        # only a run still running is ended here: one that recovery failed meanwhile (it judged
        # this process gone) stays failed, with nothing requestable, and the late ending is told
        changed = session.execute(
            update(Run)
            .where(Run.id == run_id, Run.status == RUNNING)
            .values(
                ended=ended,
                status=status,
                error=error,
                outputs=produced,
                undeclared=undeclared,
                packages=record.packages,
            )
            .returning(Run.id)
        ).scalar_one_or_none()
        if changed is None:
            stored = session.get_one(Run, run_id)
            audit.record(
                session,
                person,
                RunEvent.LATE_ENDING,
                "run",
                run_id,
                project=project_id,
                details={"ending": status, "error": error, "recorded": stored.status},
            )
            late = (
                f"{stored.error} (it then ended, {status}, after it had been failed: "
                "its ending was not recorded and none of its files can be requested)"
            )
            return RunResult(run_id, RunStatus(stored.status), target, late, [], [])
        audit.record(
            session,
            person,
            EVENT_OF_STATUS[status],
            "run",
            run_id,
            project=project_id,
            details={"outputs": len(produced), "undeclared": undeclared, "error": error},
        )
    return RunResult(run_id, status, target, error, produced, undeclared)


def _still_allowed(instance: Instance, person: str, project_id: str, at: date | None) -> None:
    """Refuse (stopping the run) when the person may no longer run analyses in the project: a
    suspension, an expiry or a removal reaches a run at its next cell."""
    with instance.db.session() as session:
        check(session, person, PolicyAction.RUN_ANALYSIS, project_id, at=at)


@dataclass(frozen=True)
class _Work:
    outputs: Path  # what the kernel writes (/tre/outputs in the sandbox)
    connection: Path  # the kernel's connection file and sockets


@contextmanager
def _sandbox(instance: Instance, project_id: str, person: str, run_id: str):
    """The run's sandbox and its two folders, made as root and removed after the run."""
    sandbox.check_available()
    folders = ProjectFolders.of(instance, project_id)
    folders.data.mkdir(parents=True, exist_ok=True, mode=0o750)
    sandbox.share_read_only(folders.data, project_id)
    base = Path(tempfile.mkdtemp(prefix=sandbox_prefix(run_id)))
    work = _Work(base / "outputs", base / "kernel")
    try:
        for folder in (work.outputs, work.connection):
            sandbox.give(folder, person)
            folder.chmod(0o700)
        box = sandbox.Sandbox(
            account=sandbox.account_name(person),
            mounts=(
                sandbox.Mount(folders.data, sandbox.DATA),
                sandbox.Mount(work.outputs, sandbox.OUTPUTS, writable=True),
                sandbox.Mount(work.connection, str(work.connection), writable=True),
            ),
            hidden=(instance.home,),
            group=sandbox.group_name(project_id),
            workdir=sandbox.OUTPUTS,
        )
        yield box, work
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _collect(work: Path, staging: Path) -> list[str]:
    """Copy the files the kernel wrote into the run's folder; returns what was refused, and why."""
    refused = []
    for path in sorted(work.rglob("*")):
        relative = path.relative_to(work).as_posix()
        if path.is_symlink():
            refused.append(f"{relative} is a symbolic link, never followed (outputs are files)")
        elif path.is_dir():
            continue
        elif not path.is_file():
            refused.append(f"{relative} is not a regular file")
        elif relative in RUN_FILES:
            refused.append(f"{relative} is the name of one of the run's own records")
        else:
            (staging / relative).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, staging / relative, follow_symlinks=False)
    return refused


def _warm_up_notebook():
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

    notebook = new_notebook(cells=[new_markdown_cell("# *a* `b`"), new_code_cell("x = 1")])
    notebook.cells[1].outputs = [
        nbformat.v4.new_output("execute_result", {"text/plain": "1", "text/html": "<b>1</b>"})
    ]
    notebook.metadata["language_info"] = {"name": "python"}
    return notebook


class _Preparation(threading.Thread):
    """What the run needs after the notebook, made while the kernel works (the process is idle
    then): nbconvert's exporters (importing and loading their templates is most of a report's
    cost), the crate libraries, and the package set."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.exporters: dict[str, Any] = {}
        self.packages: dict[str, Any] = {}
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            self.packages = package_set()
            import rocrate.rocrate  # noqa: F401
            from nbconvert import HTMLExporter

            warm_up = _warm_up_notebook()
            for name, exclude in ((REPORT, False), (REPORT_NO_CODE, True)):
                exporter = HTMLExporter(
                    exclude_input=exclude,
                    exclude_input_prompt=exclude,
                    exclude_output_prompt=exclude,
                )
                # a first conversion loads the templates, the Markdown renderer and lexers
                exporter.from_notebook_node(warm_up)
                self.exporters[name] = exporter
        except BaseException as exc:  # reported when the result is needed
            self.failure = exc

    def result(self) -> _Preparation:
        self.join()
        if self.failure is not None:
            raise self.failure
        return self


def _reports(folder: Path, exporters: dict[str, Any]) -> None:
    import nbformat

    executed = nbformat.read(folder / NOTEBOOK, as_version=4)
    for name, exporter in exporters.items():
        body, _ = exporter.from_notebook_node(executed)
        (folder / name).write_text(body, encoding="utf-8")


def _produced(folder: Path, declared: list[dict[str, str]]) -> list[dict[str, Any]]:
    """The files the notebook wrote (in the run's folder, which holds only regular files: the
    runner's own and those :func:`_collect` copied)."""
    kinds = {d["file"]: d["kind"] for d in declared}
    produced = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        relative = path.relative_to(folder).as_posix()
        if relative in RUN_FILES:
            continue
        evidence_of = (
            relative.removesuffix(EVIDENCE_SUFFIX) if relative.endswith(EVIDENCE_SUFFIX) else None
        )
        produced.append(
            {
                "file": relative,
                "sha256": sha256(path),
                "bytes": path.stat().st_size,
                "kind": kinds.get(relative, "evidence" if evidence_of else None),
                "declared": relative in kinds,
                "evidence_of": evidence_of,
                "has_evidence": (folder / (relative + EVIDENCE_SUFFIX)).exists(),
            }
        )
    return produced


def _crate(
    folder: Path,
    summary: dict[str, Any],
    project: dict[str, Any],
    organisation: str,
    notebook_name: str,
) -> None:
    project_entity, agent = crates.project_entities(
        project["spec"] | {"version": project["version"]}, summary["person"], organisation
    )
    inputs = [
        crates.Entity(
            f"#input-{i['file']}",
            "File",
            {"name": i["file"], "sha256": i["sha256"], "description": f"extract: {i['dataset']}"},
        )
        for i in summary["inputs"]
    ]
    files = {
        SOURCE: {
            "name": notebook_name,
            "encodingFormat": "application/x-ipynb+json",
            "sha256": summary["notebook_sha256"],
        },
        NOTEBOOK: {"name": "the executed notebook", "encodingFormat": "application/x-ipynb+json"},
        RECORD: {"name": "the run's provenance record", "encodingFormat": "application/json"},
    }
    for name in (REPORT, REPORT_NO_CODE):
        if (folder / name).exists():
            files[name] = {"name": name, "encodingFormat": "text/html"}
    for output in summary["outputs"]:
        files[output["file"]] = {"name": output["file"], "sha256": output["sha256"]}
    if (folder / ERROR).exists():
        files[ERROR] = {"name": "the error", "encodingFormat": "text/plain"}
    status = "CompletedActionStatus" if summary["status"] == SUCCEEDED else "FailedActionStatus"
    action = crates.Entity(
        f"#{summary['id']}",
        "CreateAction",
        {
            "name": f"run of {notebook_name} for {summary['project']}",
            "agent": agent,
            "instrument": crates.file_reference(SOURCE),
            "object": inputs,
            "result": [crates.file_reference(o["file"]) for o in summary["outputs"]]
            + [crates.file_reference(NOTEBOOK)],
            "startTime": summary["started"],
            "endTime": summary["ended"],
            "actionStatus": {"@id": f"http://schema.org/{status}"},
            "sourceOrganization": project_entity,
        }
        | ({"error": summary["error"]} if summary["error"] else {}),
    )
    crates.package(
        folder,
        name=f"{summary['id']}: {notebook_name}",
        description=f"A papermill run in project {summary['project']} by {summary['person']}",
        files=files,
        entities=[project_entity],
        mentions=[action],
        bag_info={
            "Source-Organization": organisation,
            "External-Identifier": summary["id"],
            "External-Description": f"tre-kit run, project {summary['project']}",
        },
    )


__all__ = ["RunError", "RunResult", "Refused", "run", "studies"]
