"""A project's folders under the instance; folders published whole (staged, then renamed into
place); folders made read-only (extracts, releases) and writable again (to replace or remove
them)."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tre.instance import Instance


@dataclass(frozen=True)
class ProjectFolders:
    """Where one project's files live: the one place that knows the layout.

    ``projects/<id>/data`` holds the extract (read-only), ``projects/<id>/outputs`` the runs'
    folders, ``projects/<id>/workspace`` each analyst's workspace, ``airlock/<id>`` the airlock's
    own copies of requested files (never in a workspace), and ``releases/<id>`` the released
    requests. Nothing is created here: each step makes the folder it writes.
    """

    project: str
    data: Path
    outputs: Path
    workspace: Path
    releases: Path
    airlock: Path

    @classmethod
    def of(cls, instance: Instance, project_id: str) -> ProjectFolders:
        base = instance.folder("projects") / project_id
        return cls(
            project=project_id,
            data=base / "data",
            outputs=base / "outputs",
            workspace=base / "workspace",
            releases=instance.folder("releases") / project_id,
            airlock=instance.folder("airlock") / project_id,
        )


@dataclass
class Staging:
    """The folder being filled for TARGET; :func:`publish` renames it into place."""

    folder: Path
    target: Path
    discarded: bool = False

    def discard(self) -> None:
        """Publish nothing: the staging folder is removed instead of renamed."""
        self.discarded = True


@contextmanager
def publish(
    target: Path, *, read_only: bool = False, replace: bool = False, resumable: bool = False
) -> Iterator[Staging]:
    """Fill a sibling staging folder, then rename it to TARGET in one step: readers see nothing
    or everything. If the block fails (or is interrupted) the staging folder is removed and
    TARGET is untouched.

    ``read_only`` makes the files read-only before the rename; ``replace`` swaps out an
    existing TARGET (the old one is removed after the rename), otherwise an existing TARGET is
    an error. ``resumable`` uses one staging name per TARGET, so that a staging folder left by a
    process killed before the rename is found and removed by the next attempt; otherwise each
    attempt gets its own name. Staging names start with a dot: readers of a parent folder skip
    them.
    """
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    if resumable:
        folder = parent / f".{target.name}.staging"
        if folder.exists():
            _remove(folder)  # an earlier attempt died before the rename: start again
    else:
        folder = parent / f".{target.name}.{secrets.token_hex(4)}.staging"
    folder.mkdir()
    staging = Staging(folder, target)
    try:
        yield staging
        if staging.discarded:
            _remove(folder)
            return
        if read_only:
            make_read_only(folder)
        _rename_into_place(folder, target, replace)
    except BaseException:
        if folder.exists():
            _remove(folder)
        raise


def _rename_into_place(folder: Path, target: Path, replace: bool) -> None:
    if not target.exists():
        folder.rename(target)
        return
    if not replace:
        raise FileExistsError(f"{target} already exists; it was not replaced")
    old = target.parent / f".{target.name}.{secrets.token_hex(4)}.old"
    target.rename(old)
    folder.rename(target)
    _remove(old)


def _remove(folder: Path) -> None:
    make_writable(folder)
    shutil.rmtree(folder)


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
