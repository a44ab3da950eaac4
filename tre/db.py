"""The database: SQLAlchemy 2 engine and sessions, and Alembic migrations.

SQLite (WAL, foreign keys on) is the embedded default; PostgreSQL is chosen by a URL in tre.toml.
Each package declares its tables on :class:`Base`; the Alembic versions in
``app/migrations`` create them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _sqlite_setup(engine: Engine) -> None:
    """WAL, foreign keys, a busy timeout, and BEGIN IMMEDIATE so writers queue instead of failing.

    pysqlite's own transaction handling is switched off (isolation_level None) so that SQLAlchemy's
    BEGIN is the one that runs; IMMEDIATE takes the write lock at the start of each transaction,
    which is what keeps the audit chain single when several processes append at once.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):  # pragma: no cover - exercised by every test
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):  # pragma: no cover - exercised by every test
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30})
        _sqlite_setup(engine)
        return engine
    return create_engine(url, pool_pre_ping=True)


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def alembic_config(migrations: Path, engine: Engine | None = None):
    """Alembic's configuration for the migrations in ``migrations`` (no alembic.ini needed)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, migrations: Path, revision: str = "head") -> None:
    """Bring the database schema up to date (idempotent)."""
    from alembic import command

    command.upgrade(alembic_config(migrations, engine), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision(migrations: Path) -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config(migrations)).get_current_head()
    assert head is not None, f"no migrations in {migrations}"
    return head


class Database:
    """An engine and its session factory. ``with db.session() as s:`` commits on success."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        # the session factory; tre.audit.anchor configures it to seal audit events
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    def upgrade(self, migrations: Path) -> None:
        upgrade(self.engine, migrations)

    def dispose(self) -> None:
        self.engine.dispose()
