"""What an instance holds, for `tre status`. Each package adds its counters to COUNTERS."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from tre import audit
from tre.db import current_revision, head_revision
from tre.instance import DATA_FOLDERS, Instance

# name -> function counting it; packages register theirs (organisations, people, projects, ...).
COUNTERS: dict[str, Callable[[Session], int]] = {"audit events": audit.count}


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
        counts = {name: counter(session) for name, counter in COUNTERS.items()}
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
        head=head_revision(),
        counts=counts,
        files=files,
    )
