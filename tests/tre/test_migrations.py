from sqlalchemy import inspect

from tre.db import Database, current_revision, head_revision


def test_migrations_upgrade_a_fresh_database(database_url):
    db = Database(database_url)
    assert current_revision(db.engine) is None
    db.upgrade()
    assert current_revision(db.engine) == head_revision()
    assert "audit_events" in inspect(db.engine).get_table_names()
    db.upgrade()  # idempotent
    assert current_revision(db.engine) == head_revision()
    db.dispose()


def test_migrations_downgrade_and_upgrade_again(database_url):
    from alembic import command

    from tre.db import _alembic_config

    db = Database(database_url)
    db.upgrade()
    command.downgrade(_alembic_config(db.engine), "base")
    assert "audit_events" not in inspect(db.engine).get_table_names()
    db.upgrade()
    assert "audit_events" in inspect(db.engine).get_table_names()
    db.dispose()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with db.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()
