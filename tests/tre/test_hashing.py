"""A whole file's digest: one function above sdc (tre.hashing), the same stdlib call in sdc."""

import hashlib
import re
from pathlib import Path

from sdc.safe import _file_sha256
from tre.hashing import file_digest, file_sha256

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ["app", "hub", "output_checks", "notebooks", "linkage", "projects", "tre", "sdc"]


def test_a_file_larger_than_one_block_hashes_as_its_bytes(tmp_path):
    path = tmp_path / "big.bin"
    data = bytes(range(256)) * 9000  # more than twice the 1 MiB block
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()
    assert _file_sha256(path) == file_sha256(path)
    assert file_digest(path, "sha512") == hashlib.sha512(data).hexdigest()


def test_no_package_hashes_a_whole_file_on_its_own():
    whole_file = re.compile(r"hashlib\.sha(256|512)\([^)]*read_bytes\(\)")
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if whole_file.search(line)
    ]
    assert not found, "use tre.hashing.file_sha256: " + ", ".join(found)
