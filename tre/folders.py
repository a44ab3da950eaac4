"""A project's folders under the instance; folders made read-only (extracts, releases) and
writable again (to replace or remove them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tre.instance import Instance


@dataclass(frozen=True)
class ProjectFolders:
    """Where one project's files live: the one place that knows the layout.

    ``projects/<id>/data`` holds the extract (read-only), ``projects/<id>/outputs`` the runs'
    folders, ``projects/<id>/workspace`` each analyst's workspace, and ``releases/<id>`` the
    released requests. Nothing is created here: each step makes the folder it writes.
    """

    project: str
    data: Path
    outputs: Path
    workspace: Path
    releases: Path

    @classmethod
    def of(cls, instance: Instance, project_id: str) -> ProjectFolders:
        base = instance.folder("projects") / project_id
        return cls(
            project=project_id,
            data=base / "data",
            outputs=base / "outputs",
            workspace=base / "workspace",
            releases=instance.folder("releases") / project_id,
        )


def make_read_only(folder: Path) -> None:
    """Files readable by owner and group only, folders listable; nobody may change them."""
    for path in folder.rglob("*"):
        if not path.is_symlink():
            path.chmod(0o550 if path.is_dir() else 0o440)
    folder.chmod(0o550)


def make_writable(folder: Path) -> None:
    """Give the owner back the right to change and remove everything in FOLDER."""
    folder.chmod(folder.stat().st_mode | 0o700)
    for path in list(folder.rglob("*")):
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | (0o700 if path.is_dir() else 0o600))
