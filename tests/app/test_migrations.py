import pytest
from sqlalchemy import inspect

from app.schema import MIGRATIONS, head, migrate
from tre.db import Database, alembic_config, current_revision


def test_migrations_upgrade_a_fresh_database(database_url):
    db = Database(database_url)
    assert current_revision(db.engine) is None
    migrate(db)
    assert current_revision(db.engine) == head()
    assert "audit_events" in inspect(db.engine).get_table_names()
    migrate(db)  # idempotent
    assert current_revision(db.engine) == head()
    db.dispose()


def test_migrations_downgrade_and_upgrade_again(database_url):
    from alembic import command

    db = Database(database_url)
    migrate(db)
    command.downgrade(alembic_config(MIGRATIONS, db.engine), "base")
    assert "audit_events" not in inspect(db.engine).get_table_names()
    migrate(db)
    assert "audit_events" in inspect(db.engine).get_table_names()
    db.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_the_seal_column_comes_and_goes_in_place_keeping_the_append_only_triggers(instance):
    """0006 adds the audit seal without copying the table (a copy would drop the triggers)."""
    from alembic import command
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    config = alembic_config(MIGRATIONS, instance.db.engine)
    command.downgrade(config, "0005")
    assert "seal" not in {
        c["name"] for c in inspect(instance.db.engine).get_columns("audit_events")
    }
    migrate(instance.db)
    assert "seal" in {c["name"] for c in inspect(instance.db.engine).get_columns("audit_events")}
    with pytest.raises(DBAPIError, match="append-only"):
        with instance.db.engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_events"))
