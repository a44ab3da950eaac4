from datetime import date

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


def test_0009_records_the_extracts_cut_before_it_as_prepared_data(instance):
    """An upgrade locks no analyst out: each extract the audit log shows was cut is recorded."""
    from alembic import command

    from app.demo import projects as demo_projects
    from linkage.events import LinkageEvent
    from projects import registry
    from projects.prepared import prepared_extract
    from tre import audit

    populated = instance
    demo_projects.populate(populated, "ops", date(2026, 6, 1))
    demo_projects.approve_project(populated)
    with populated.db.session() as session:
        audit.record(
            session,
            "ops",
            LinkageEvent.EXTRACT,
            "project",
            "supporting-families",
            project="supporting-families",
            details={"version": 1, "files": [{"file": "a.parquet", "rows": 1, "sha256": "0"}]},
        )
    command.downgrade(alembic_config(MIGRATIONS, populated.db.engine), "0007")
    assert "prepared_extracts" not in inspect(populated.db.engine).get_table_names()
    migrate(populated.db)
    with populated.db.session() as session:
        row = prepared_extract(session, registry.project(session, "supporting-families"))
        assert row is not None and row.version == 1 and row.prepared_by == "ops"
        assert row.files == [{"file": "a.parquet", "rows": 1, "sha256": "0"}]


def test_0010_adds_the_registration_drafts_and_takes_them_away(instance):
    from alembic import command

    config = alembic_config(MIGRATIONS, instance.db.engine)
    assert "registration_drafts" in inspect(instance.db.engine).get_table_names()
    command.downgrade(config, "0009")
    assert "registration_drafts" not in inspect(instance.db.engine).get_table_names()
    migrate(instance.db)
    assert "registration_drafts" in inspect(instance.db.engine).get_table_names()


def test_0011_adds_the_process_that_runs_a_run_and_takes_it_away(instance):
    """A run recorded before 0011 keeps its record, naming no process (recovery fails it if it
    is still running: tests/notebooks/test_recovery.py)."""
    from alembic import command
    from sqlalchemy import text

    process = {"host", "boot_id", "pid", "pid_started"}

    def columns() -> set[str]:
        return {c["name"] for c in inspect(instance.db.engine).get_columns("runs")}

    assert process <= columns()
    command.downgrade(alembic_config(MIGRATIONS, instance.db.engine), "0010")
    assert not process & columns()
    with instance.db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO runs (id, project_id, project_version, person, notebook, "
                "notebook_sha256, parameters, inputs, kit_version, packages, kernel, started, "
                "status, error, outputs, undeclared, folder) VALUES ('run-1', 'p', 1, 'a', 'n', "
                "'0', '{}', '[]', '0', '{}', 'python3', 's', 'running', '', '[]', '[]', 'f')"
            )
        )
    migrate(instance.db)
    assert process <= columns()
    with instance.db.engine.connect() as connection:
        row = connection.execute(text("SELECT host, pid, status FROM runs")).one()
    assert tuple(row) == (None, None, "running")
