"""File digests, read in blocks so that a large file never has to fit in memory.

Every package above tre hashes a whole file with these (``sdc``, below tre, calls the same
stdlib function, ``hashlib.file_digest``, in ``sdc.safe._file_sha256``).
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_digest(path: Path, algorithm: str = "sha256") -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, algorithm).hexdigest()


def file_sha256(path: Path) -> str:
    return file_digest(path, "sha256")
