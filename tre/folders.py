"""Folders made read-only (extracts, releases) and writable again (to replace or remove them)."""

from __future__ import annotations

from pathlib import Path


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
