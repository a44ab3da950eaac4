"""What a notebook in a project's workspace uses: its extract, its outputs folder, its policy.

The runner (and the hub's spawner) put the project's folders in the environment: ``TRE_DATA``
(the read-only extract), ``TRE_OUTPUTS`` (where outputs go) and ``TRE_DISCLOSURE_POLICY``.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sdc.policy import Policy
from tre.errors import TreError


class WorkspaceError(TreError):
    """The notebook is not running in a project's workspace, or asked for what is not there."""


def _folder(variable: str) -> Path:
    value = os.environ.get(variable)
    if not value:
        raise WorkspaceError(
            f"{variable} is not set: run the notebook with `tre run` or in the project's "
            "workspace, where the kit sets it"
        )
    return Path(value)


def project() -> str:
    return os.environ.get("TRE_PROJECT") or _folder("TRE_PROJECT").name


def manifest() -> dict:
    return json.loads((_folder("TRE_DATA") / "manifest.json").read_text(encoding="utf-8"))


def datasets() -> list[str]:
    """The datasets (and public reference tables) in this project's extract."""
    return [Path(f["file"]).stem for f in manifest()["files"]]


def data(name: str) -> pd.DataFrame:
    """One file of the project's extract, by dataset name."""
    path = _folder("TRE_DATA") / f"{name}.parquet"
    if not path.exists():
        raise WorkspaceError(
            f"the extract has no {name!r}; it has {', '.join(datasets())} "
            "(a project sees only the datasets it was approved for)"
        )
    return pd.read_parquet(path)


def reference_date() -> pd.Timestamp:
    """The end of the project's data period (ages in the extract are at this date)."""
    return pd.Timestamp(manifest()["reference_date"])


def output(name: str) -> Path:
    """Where an output named NAME goes (the run's outputs folder)."""
    if Path(name).name != name or name.startswith("."):
        raise WorkspaceError(f"{name!r}: an output is a plain file name, without folders")
    folder = _folder("TRE_OUTPUTS")
    folder.mkdir(parents=True, exist_ok=True)
    if os.environ.get("TRE_SERVICE_SOCKET") and not _told_of_drafts:
        _tell_of_drafts()
    return folder / name


_told_of_drafts = False
DRAFTS = (
    "Outputs written while you work interactively are drafts: they are not requestable, since "
    "nothing recorded how they were made. Save the notebook and choose Run > Run with "
    "provenance (or call ws.run_with_provenance) to make them again as a run's requestable "
    "outputs."
)


def _tell_of_drafts() -> None:
    """Say once per kernel (in a workspace, where the kit's relay is) what becomes of drafts."""
    global _told_of_drafts
    _told_of_drafts = True
    print(DRAFTS)


def policy() -> Policy:
    """The disclosure policy every output of this project is checked against."""
    return Policy.from_env()


def months(start: str, end: str) -> list[str]:
    """The months (YYYY-MM) from START to END inclusive, the extract's date precision."""
    return [p.strftime("%Y-%m") for p in pd.period_range(start, end, freq="M")]


def request_release(
    files: list[str],
    group: str = "outputs",
    context: str = "",
    controls: str = "",
    recipients: list[str] | None = None,
) -> str:
    """A release request of FILES (outputs of your own runs: ``RUN_ID/data/FILE``, as the tre
    pages and ``tre runs show`` name them), submitted at once so the automatic checks run;
    returns its id. RECIPIENTS (user names; default you) alone may download the released files.
    It goes to the tre service through the workspace's relay: who asks comes from the hub, never
    from here."""
    answer = service(
        f"/api/projects/{project()}/requests",
        {
            "files": [str(f) for f in files],
            "group": group,
            "context": context,
            "controls": controls,
            "recipients": list(recipients or []),
        },
    )
    return str(answer["id"])


def run_with_provenance(notebook: str | Path) -> dict:
    """Run NOTEBOOK (a notebook of this workspace: its path, relative to the folder this kernel
    runs in, or under /tre/workspace) through the kit's runner, in the project's sandbox, as
    the tre pages and JupyterLab's Run with provenance do; save it first. Returns the run:
    its id, status, error and the paths of the files that may now be requested for release."""
    from notebooks.runs import WORKSPACE_PREFIX
    from tre.sandbox import WORKSPACE

    path = Path(notebook)
    if not path.is_absolute():
        path = Path.cwd() / path
    try:
        relative = Path(os.path.normpath(path)).relative_to(WORKSPACE).as_posix()
    except ValueError:
        raise WorkspaceError(
            f"{notebook}: only a notebook of this workspace (under {WORKSPACE}) can be run"
        ) from None
    return service(f"/api/projects/{project()}/runs", {"notebook": WORKSPACE_PREFIX + relative})


def service(path: str, body: dict) -> dict:
    """POST BODY to the tre service's API at PATH (``/api/projects/<id>/...``), through the
    workspace's relay: the kernel's only way to the kit, as the person signed in to the hub."""
    import http.client
    import socket

    where = os.environ.get("TRE_SERVICE_SOCKET")
    if not where:
        raise WorkspaceError(
            "this is not a project's JupyterLab workspace (it has no way to the tre service): "
            "use the tre pages, or `tre outputs request` on the command line"
        )

    relay: str = where

    class _Connection(http.client.HTTPConnection):
        def connect(self) -> None:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(600)
            self.sock.connect(relay)

    connection = _Connection("localhost")
    try:
        connection.request(
            "POST", path, json.dumps(body), headers={"Content-Type": "application/json"}
        )
        answer = connection.getresponse()
        text = answer.read().decode("utf-8", errors="replace")
    except OSError as exc:
        raise WorkspaceError(
            f"the tre service could not be reached from the workspace ({exc}); "
            "restart the workspace, or use the tre pages"
        ) from None
    finally:
        connection.close()
    try:
        values = json.loads(text)
    except ValueError:
        values = {"error": text.strip()[:300]}
    if answer.status >= 400:
        raise WorkspaceError(values.get("error") or f"the tre service answered {answer.status}")
    return values


# ---------------------------------------------------------------------------------------------
# Showing a table as people read it (the notebook's report)

TOTAL_LABELS = ("All", "Total", "total")
_BAND = re.compile(
    r"^\s*(\d+(?:\.\d+)?)\s*(?:-\s*\d+(?:\.\d+)?|\+|\s*(?:and|or) (?:over|more))?\s*$"
)


def _band_start(label: Any) -> float | None:
    """The lower bound of a band label (``5-11``, ``85+``, ``2025``), or None."""
    match = _BAND.match(str(label))
    return float(match.group(1)) if match else None


def in_natural_order(labels: pd.Index) -> pd.Index:
    """LABELS with numeric bands in the order of their numbers (``5-11`` before ``45-54``,
    which text puts after it), totals last; any other labels as they were."""
    if isinstance(labels, pd.MultiIndex):
        return labels
    body = [label for label in labels if label not in TOTAL_LABELS]
    starts = {label: _band_start(label) for label in body}
    if not body or None in starts.values():
        return labels
    ordered = sorted(body, key=lambda label: starts[label] or 0.0)
    return pd.Index(
        ordered + [label for label in labels if label in TOTAL_LABELS], name=labels.name
    )


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "suppressed"
    if isinstance(value, (int, np.integer)) or (
        isinstance(value, (float, np.floating)) and float(value).is_integer()
    ):
        return f"{int(value):,}"  # a count is an integer: 230, never 230.0
    if isinstance(value, (float, np.floating)):
        return f"{value:,.2f}"
    return str(value)


def show(output: Any):
    """A table (a safe output, or a DataFrame) as the report shows it: counts as integers,
    suppressed cells named, bands in age order. What is saved is unchanged: this is for the eye."""
    from IPython.display import HTML

    frame = getattr(output, "result", output)
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    frame = frame.reindex(index=in_natural_order(frame.index))
    frame = frame.reindex(columns=in_natural_order(frame.columns))
    return HTML(frame.astype(object).map(_cell).to_html())
