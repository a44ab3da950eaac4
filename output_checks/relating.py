"""Rows related across requests: the project's other files, for :func:`microdata.related`.

Per-person rows split over several requests look like small tables one by one. So each text file
of a request is put together with the files of the same columns in the project's other requests
that are in flight (submitted, under review, approved) or released, and in the same request, and
the rows together are tested as microdata. The airlock reads only its own copies of those files
(:mod:`output_checks.store`), never the workspace's.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from output_checks import data, microdata, store
from output_checks.checks import TEXT
from output_checks.data import ReleaseRequest, RequestFile
from output_checks.enums import RequestState
from output_checks.outcomes import Check
from sdc.policy import Policy
from tre.instance import Instance

# requests whose files have left, or may yet leave, the airlock
RELATED_STATES = {
    RequestState.SUBMITTED,
    RequestState.PARTIALLY_REVIEWED,
    RequestState.REVIEWED,
    RequestState.APPROVED,
    RequestState.RELEASED,
}


def other_files(
    instance: Instance, session: Session, found: ReleaseRequest, item: RequestFile
) -> list[tuple[str, bytes]]:
    """(name, bytes) of the airlock's copies of the project's other text files: those of
    requests released or in flight, and the other files of FOUND itself."""
    out = []
    for other in data.requests_of(session, found.project_id):
        if other.id != found.id and other.state not in RELATED_STATES:
            continue
        for f in other.files:
            if f.withdrawn or (other.id == found.id and f.path == item.path):
                continue
            if Path(f.path).suffix.lower() not in TEXT:
                continue
            content = store.read_regular(store.copy_of(instance, other, f.path))
            if content is not None:
                out.append((f"{other.id}/{f.path}", content))
    return out


def related_check(
    instance: Instance,
    session: Session,
    found: ReleaseRequest,
    item: RequestFile,
    path: Path,
    policy: Policy,
    pseudonyms: set[str],
) -> list[Check]:
    """The file's rows with the same columns' rows elsewhere in the project, as microdata
    (nothing when the file holds no rows)."""
    if path.suffix.lower() not in TEXT:
        return []
    content = store.read_regular(path)
    rows = microdata.rows_of(path.suffix, content) if content is not None else None
    if rows is None:
        return []
    earlier = other_files(instance, session, found, item)
    return [microdata.related(rows, earlier, policy, pseudonyms, len(pseudonyms) or None)]
