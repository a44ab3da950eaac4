"""The airlock's own copies of requested files: taken, hashed, verified.

At submission the airlock copies every requested file (and its evidence) out of the project's
outputs folder, which the workspace can write, into its own store, read-only; the checks, the
checkers' pages, the votes and the release read only those copies, and only after their sha-256
is verified against the one recorded when the file was added (:func:`verify`). Files are opened
never through a link, and only when they are regular files.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from pathlib import Path

from output_checks.data import ReleaseRequest, RequestFile
from output_checks.errors import TamperedFile
from sdc.policy import EVIDENCE_SUFFIX
from tre.folders import ProjectFolders
from tre.instance import Instance


def copy_of(instance: Instance, found: ReleaseRequest, path: str) -> Path:
    """Where the airlock keeps its copy of PATH of request FOUND."""
    return ProjectFolders.of(instance, found.project_id).airlock / found.id / path


def open_regular(path: Path) -> int | None:
    """A descriptor of PATH when it is a regular file (never through a link), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def digest_regular(path: Path) -> str | None:
    """The sha-256 of PATH when it is a regular file (never through a link), else None."""
    fd = open_regular(path)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as reading:
        return hashlib.file_digest(reading, "sha256").hexdigest()


def take(source: Path, copy: Path, limit: int) -> str | None:
    """Copy SOURCE (a regular file, never a link) to COPY, read-only; its sha-256, or None when
    SOURCE is not a regular file or grew past LIMIT bytes. The hash is of the bytes written,
    read once."""
    fd = open_regular(source)
    if fd is None:
        return None
    copy.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = copy.with_name(f".{copy.name}.{secrets.token_hex(4)}.part")
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "rb") as reading, open(partial, "xb") as writing:
            while block := reading.read(1 << 20):
                size += len(block)
                if size > limit:
                    return None
                digest.update(block)
                writing.write(block)
        partial.chmod(0o440)
        os.replace(partial, copy)
    finally:
        partial.unlink(missing_ok=True)
    return digest.hexdigest()


def store(instance: Instance, found: ReleaseRequest, item: RequestFile) -> str | None:
    """Make sure the airlock holds its copy of ITEM (and of its evidence): copied now from the
    outputs folder when it has none. Returns a problem (a sentence) when the outputs folder no
    longer holds the bytes recorded when the file was added; raises :class:`TamperedFile` when
    the airlock's own copy changed."""
    copy = copy_of(instance, found, item.path)
    if copy.exists() or copy.is_symlink():
        verify(found, item, copy)
        return None
    source = ProjectFolders.of(instance, found.project_id).outputs / item.path
    digest = take(source, copy, item.bytes)
    if digest != item.sha256:
        remove_copy(instance, found, item.path)
        return f"{item.path} changed or vanished after it was added; add it again"
    sidecar = Path(str(source) + EVIDENCE_SUFFIX)
    item.evidence_sha256 = ""
    if sidecar.exists() or sidecar.is_symlink():
        limit = int(instance.settings.airlock.max_file_mb * 1024 * 1024)
        evidence = take(sidecar, Path(str(copy) + EVIDENCE_SUFFIX), limit)
        if evidence is None:
            remove_copy(instance, found, item.path)
            return f"{item.path}'s evidence is not a regular file; run the notebook again"
        item.evidence_sha256 = evidence
    return None


def remove_copy(instance: Instance, found: ReleaseRequest, path: str) -> None:
    """Drop the airlock's copy of PATH and of its evidence (taken again at the next submission)."""
    copy = copy_of(instance, found, path)
    for stale in (copy, Path(str(copy) + EVIDENCE_SUFFIX)):
        stale.unlink(missing_ok=True)


def read_regular(path: Path) -> bytes | None:
    """The bytes of PATH when it is a regular file (never through a link), else None."""
    fd = open_regular(path)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as reading:
        return reading.read()


def verify(found: ReleaseRequest, item: RequestFile, copy: Path) -> bytes:
    """The bytes of the airlock's copy of ITEM, read once, when their sha-256 (and its
    evidence's) is the one recorded; else :class:`TamperedFile` (the caller's
    :func:`output_checks.history.audited` records it)."""
    data = read_regular(copy)
    evidence = read_regular(Path(str(copy) + EVIDENCE_SUFFIX)) if item.evidence_sha256 else b""
    for what, content, expected in (
        ("", data, item.sha256),
        ("the evidence of ", evidence, item.evidence_sha256 or hashlib.sha256(b"").hexdigest()),
    ):
        if content is None or hashlib.sha256(content).hexdigest() != expected:
            raise TamperedFile(
                f"the airlock's copy of {what}{item.path} in request {found.id} does not match "
                "the sha-256 recorded at submission; nothing was shown, voted on or released. "
                "Tell the operator: the airlock's store has been changed.",
                item.path,
            )
    assert data is not None
    return data
