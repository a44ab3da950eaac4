import json
import subprocess
import sys
import textwrap

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tre import audit


def append(instance, count, actor="tester"):
    with instance.db.session() as session:
        for i in range(count):
            audit.record(
                session,
                actor,
                "thing.change",
                "thing",
                i,
                project="demo-project",
                details={"n": i, "note": "café"},
            )


def tamper(instance, sql, **params):
    """Change the table as an attacker with database rights would: triggers off first."""
    engine = instance.db.engine
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_update")
            connection.exec_driver_sql("DROP TRIGGER IF EXISTS audit_events_no_delete")
        else:
            connection.execute(text("ALTER TABLE audit_events DISABLE TRIGGER USER"))
        connection.execute(text(sql), params)
        connection.commit()


def verify(instance):
    with instance.db.session() as session:
        return audit.verify(session)


def test_a_fresh_chain_verifies(instance):
    append(instance, 5)
    result = verify(instance)
    assert result.ok and result.checked == 6  # the instance.init event and five more
    assert "6 events checked" in result.message()


def test_every_event_is_hashed_over_the_previous_hash(instance):
    append(instance, 3)
    with instance.db.session() as session:
        rows = audit.events(session)
    assert rows[0].prev_hash == audit.GENESIS
    for before, after in zip(rows, rows[1:], strict=False):
        assert after.prev_hash == before.hash
        assert after.hash == audit.chain_hash(before.hash, after.content())


def test_an_edited_row_is_named(instance, run_cli):
    append(instance, 5)
    tamper(instance, "UPDATE audit_events SET actor = 'someone-else' WHERE seq = 4")
    result = verify(instance)
    assert not result.ok and result.seq == 4
    assert "edited" in result.problem
    code, _, err = run_cli("audit", "verify", home=instance.home)
    assert code == 1
    assert "audit log broken at event 4" in err


def test_edited_details_are_named(instance):
    append(instance, 3)
    tamper(instance, "UPDATE audit_events SET details = :d WHERE seq = 2", d='{"n":99}')
    assert verify(instance).seq == 2


def test_a_deleted_row_is_named(instance):
    append(instance, 5)
    tamper(instance, "DELETE FROM audit_events WHERE seq = 3")
    result = verify(instance)
    assert not result.ok and result.seq == 4
    assert "event 3 is missing" in result.problem


def test_an_inserted_row_is_named(instance):
    append(instance, 4)
    # make room by moving the later events up, then forge an event in the gap
    tamper(instance, "UPDATE audit_events SET seq = seq + 100 WHERE seq > 2")
    tamper(
        instance,
        "INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, project, "
        "details, prev_hash, hash) SELECT 3, at, 'forger', action, object_type, object_id, "
        "project, details, :p, :h FROM audit_events WHERE seq = 2",
        p="f" * 64,
        h="e" * 64,
    )
    result = verify(instance)
    assert not result.ok and result.seq == 3
    assert "inserted or replaced" in result.problem


def test_a_forged_row_with_a_recomputed_hash_is_still_caught_after_it(instance):
    append(instance, 4)
    with instance.db.session() as session:
        second = audit.events(session)[1]
    forged = second.content() | {"actor": "forger"}
    forged_hash = audit.chain_hash(second.prev_hash, forged)
    tamper(
        instance, "UPDATE audit_events SET actor = 'forger', hash = :h WHERE seq = 2", h=forged_hash
    )
    result = verify(instance)
    assert result.seq == 3  # event 3 still points at the original hash of event 2


def test_the_code_has_no_update_path_and_the_database_refuses_one(instance):
    append(instance, 2)
    assert not hasattr(audit, "update") and not hasattr(audit, "delete")
    for statement in ("UPDATE audit_events SET actor = 'x'", "DELETE FROM audit_events"):
        with pytest.raises(DBAPIError, match="append-only"):
            with instance.db.engine.begin() as connection:
                connection.execute(text(statement))
    assert verify(instance).ok


def test_show_filters_and_prints_json(instance, run_cli):
    append(instance, 3, actor="alice")
    code, out, _ = run_cli("audit", "show", "--actor", "alice", "--json", home=instance.home)
    assert code == 0
    lines = [json.loads(line) for line in out.splitlines()]
    assert len(lines) == 3 and {line["actor"] for line in lines} == {"alice"}
    assert lines[0]["details"] == {"n": 0, "note": "café"}
    code, out, _ = run_cli("audit", "show", "--project", "other", "--json", home=instance.home)
    assert out == ""
    code, out, _ = run_cli("audit", "show", "--since", "2000-01-01", home=instance.home)
    assert code == 0 and "instance.init" in out


WRITER = textwrap.dedent(
    """
    import sys
    from tre import audit
    from tre.db import Database
    db = Database(sys.argv[1])
    for i in range(int(sys.argv[3])):
        with db.session() as session:
            audit.record(session, sys.argv[2], "concurrent.write", "counter", i)
    """
)


def test_two_processes_appending_at_once_keep_one_valid_chain(instance):
    per_writer = 40
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, instance.database_url, name, str(per_writer)]
        )
        for name in ("writer-a", "writer-b")
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    result = verify(instance)
    assert result.ok, result.message()
    assert result.checked == 1 + 2 * per_writer
    with instance.db.session() as session:
        actors = [event.actor for event in audit.events(session)]
    assert actors.count("writer-a") == per_writer and actors.count("writer-b") == per_writer
