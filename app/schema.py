"""The instance's database schema: every package's tables, created by the migrations in this folder.

The ground (:mod:`tre.db`) knows how to run Alembic; which tables exist is the composition's
business, so the migrations and the table registry (:mod:`app.models`) live here.
"""

from __future__ import annotations

from pathlib import Path

from tre.db import Database, current_revision, head_revision
from tre.instance import Instance
from tre.instance import init_instance as lay_out_instance

MIGRATIONS = Path(__file__).parent / "migrations"


def migrate(db: Database) -> None:
    """Bring ``db`` to the newest schema (idempotent)."""
    db.upgrade(MIGRATIONS)


def head() -> str:
    return head_revision(MIGRATIONS)


def bring_up_to_date(instance: Instance) -> None:
    """Upgrade an opened instance's schema when it is behind the code."""
    if current_revision(instance.db.engine) != head():
        migrate(instance.db)


def init_instance(home: Path, database_url: str = "", actor: str = "operator") -> Instance:
    """Create an instance (folders, settings, key) with every package's tables."""
    return lay_out_instance(home, migrate, database_url, actor)
