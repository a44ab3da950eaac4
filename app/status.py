"""What an instance holds, for `tre status`: the composition counts every package's records."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.schema import head
from tre import audit
from tre.db import current_revision
from tre.instance import DATA_FOLDERS, Instance


def _count(model) -> Callable[[Session], int]:
    return lambda session: session.scalars(select(func.count()).select_from(model)).one()


def counters() -> dict[str, Callable[[Session], int]]:
    """What `tre status` counts, from every package's tables."""
    from linkage.models import Ingest
    from notebooks.models import Run
    from output_checks.models import ReleaseRequest
    from projects.models import Agreement, Dataset, Organisation, Person, Project

    return {
        "organisations": _count(Organisation),
        "people": _count(Person),
        "datasets": _count(Dataset),
        "projects": _count(Project),
        "agreements": _count(Agreement),
        "ingests": _count(Ingest),
        "runs": _count(Run),
        "release requests": _count(ReleaseRequest),
        "audit events": audit.count,
    }


@dataclass
class Status:
    home: str
    name: str
    database: str
    revision: str | None
    head: str
    counts: dict[str, int]
    files: dict[str, int]


def instance_status(instance: Instance) -> Status:
    with instance.db.session() as session:
        counts = {name: counter(session) for name, counter in counters().items()}
    files = {
        name: sum(1 for path in instance.folder(name).rglob("*") if path.is_file())
        for name in DATA_FOLDERS
        if name != "keys" and instance.folder(name).is_dir()
    }
    return Status(
        home=str(instance.home),
        name=instance.settings.instance.name,
        database=instance.db.engine.dialect.name,
        revision=current_revision(instance.db.engine),
        head=head(),
        counts=counts,
        files=files,
    )
