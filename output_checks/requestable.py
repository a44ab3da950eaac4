"""What an author may request, by run: each succeeded run of theirs in the project (its
notebook, when it ran), each file of it with its size and a preview.

The preview is read from the project's outputs folder, only for a file the airlock would accept
(:func:`output_checks.airlock.resolve_output`: a file of the person's own succeeded run, no link,
no record, no evidence), never through a link and never more than a few kilobytes of it: a CSV's
first rows as cells, a picture as a small ``data:`` address, a text file's first lines. An HTML
file is never previewed (it is the workspace's HTML: the checkers see it in a frame without
scripts). The pages escape every cell and line.
"""

from __future__ import annotations

import base64
import csv
import io
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from notebooks import runs
from output_checks.airlock import FileGroup
from output_checks.errors import AirlockError
from output_checks.store import open_regular
from tre.folders import ProjectFolders
from tre.instance import Instance

PREVIEW_ROWS = 6
PREVIEW_COLUMNS = 8
TEXT_BYTES = 1200
TABLE_BYTES = 16 << 10
PICTURE_BYTES = 512 << 10
# a picture's kind by its first bytes: never by its name alone
PICTURES = {b"\x89PNG\r\n\x1a\n": "image/png", b"\xff\xd8\xff": "image/jpeg"}
TEXTS = (".md", ".txt", ".json", ".tsv", ".log")


@dataclass
class Preview:
    kind: str  # table, picture, text or none
    rows: list[list[str]] = field(default_factory=list)
    picture: str = ""  # a data: address
    text: str = ""
    note: str = ""  # why there is no preview, or that it is cut


@dataclass
class Choice:
    path: str  # relative to the outputs folder, as a request names it
    file: str
    bytes: int
    size: str
    evidence: bool
    preview: Preview


@dataclass
class RunChoices:
    id: str
    notebook: str
    name: str  # the notebook's name without folders or suffix: the group's default name
    when: str  # when it ran, for people
    parameters: dict[str, Any]
    files: list[Choice]


def by_run(instance: Instance, project_id: str, person: str) -> list[RunChoices]:
    """PERSON's succeeded runs in PROJECT_ID, newest first, each with its requestable files."""
    base = ProjectFolders.of(instance, project_id).outputs
    out = []
    for run in runs.runs(instance, project_id):
        if run.person != person or run.status != runs.SUCCEEDED:
            continue
        files = [c for f in runs.requestable_files(run) if (c := _choice(base, f)) is not None]
        if files:
            out.append(
                RunChoices(
                    run.id,
                    run.notebook,
                    Path(run.notebook).stem.replace("_", "-"),
                    human_time(run.started),
                    dict(run.parameters or {}),
                    files,
                )
            )
    return out


def group_name(run: RunChoices) -> str:
    """The default name of the group of RUN's files: its notebook and when it ran."""
    return f"{run.name}, {run.when}"


def _choice(base: Path, found: runs.RunFile) -> Choice | None:
    path = base / found.path
    fd = open_regular(path)
    if fd is None:  # gone, or not a regular file: the airlock would refuse it too
        return None
    with os.fdopen(fd, "rb") as reading:
        size = os.fstat(reading.fileno()).st_size
        head = reading.read(PICTURE_BYTES + 1)
    return Choice(
        found.path,
        found.file,
        size,
        human_size(size),
        found.has_evidence,
        preview(found.file, head),
    )


def preview(name: str, head: bytes) -> Preview:
    """A preview of the file NAME from its first bytes HEAD."""
    suffix = Path(name).suffix.lower()
    if suffix in (".html", ".htm", ".svg"):
        return Preview("none", note="not previewed here (the checkers see it without scripts)")
    for magic, kind in PICTURES.items():
        if head.startswith(magic):
            if len(head) > PICTURE_BYTES:
                return Preview("none", note="a picture too large to preview")
            encoded = base64.b64encode(head).decode("ascii")
            return Preview("picture", picture=f"data:{kind};base64,{encoded}")
    if suffix in (".png", ".jpg", ".jpeg"):
        return Preview("none", note="named as a picture, but not one: the checks will say so")
    if suffix == ".csv":
        text = head[:TABLE_BYTES].decode("utf-8", errors="replace")
        lines = text.splitlines()[: PREVIEW_ROWS + 1]
        if len(head) > TABLE_BYTES and len(lines) <= PREVIEW_ROWS:
            lines = lines[:-1]  # the last line read may be cut
        rows = [r[:PREVIEW_COLUMNS] for r in csv.reader(io.StringIO("\n".join(lines)))]
        more = len(text.splitlines()) > PREVIEW_ROWS + 1 or len(head) > TABLE_BYTES
        return Preview("table", rows=rows, note="first rows" if more else "")
    if suffix in TEXTS:
        text = head[:TEXT_BYTES].decode("utf-8", errors="replace")
        return Preview("text", text=text, note="beginning" if len(head) > TEXT_BYTES else "")
    return Preview("none", note="no preview for this kind of file")


def human_size(size: int) -> str:
    """SIZE bytes for people: 820 bytes, 12.4 KB, 3.1 MB."""
    if size < 1000:
        return f"{size} byte{'s' if size != 1 else ''}"
    if size < 1000**2:
        return f"{size / 1000:.1f} KB"
    return f"{size / 1000**2:.1f} MB"


def human_time(stamp: str | None) -> str:
    """An ISO time for people: 5 Dec 2026 14:02 UTC."""
    if not stamp:
        return "not recorded"
    when = datetime.fromisoformat(stamp)
    return f"{when.day} {when:%b %Y %H:%M} UTC"


def chosen_groups(
    choices: list[RunChoices], chosen: set[str], described: dict[str, tuple[str, str, str]]
) -> list[FileGroup]:
    """The groups of a request made on the form: one for each run
    of CHOICES that has a CHOSEN file, named and described as DESCRIBED says (run id -> name,
    context, controls; the default name when none given). A chosen path of no run offered is
    refused, and so is a group without its context or controls."""
    offered = {f.path for r in choices for f in r.files}
    unknown = sorted(chosen - offered)
    if unknown:
        raise AirlockError(
            f"{', '.join(unknown)}: not a file of your succeeded runs in this project; choose "
            "files from the list"
        )
    groups = []
    for run in choices:
        files: list[str | Path] = [f.path for f in run.files if f.path in chosen]
        if not files:
            continue
        name, context, controls = described.get(run.id, ("", "", ""))
        missing = [w for w, given in (("context", context), ("controls", controls)) if not given]
        if missing:
            raise AirlockError(
                f"say {' and '.join(missing)} for the files of {run.notebook} ({run.when}): the "
                "context says what they are, the controls what was done to make them safe"
            )
        groups.append(FileGroup(name.strip() or group_name(run), files, context, controls))
    if not groups:
        raise AirlockError("choose at least one file to request")
    return groups
