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
    with instance.db.session() as session:
        bare = audit.verify(session, anchor=None)
    assert bare.seq == 3  # event 3 still points at the original hash of event 2
    assert verify(instance).seq == 2  # and event 2's seal no longer matches its hash


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
    from tre.instance import open_instance
    db = open_instance(sys.argv[1]).db
    for i in range(int(sys.argv[3])):
        with db.session() as session:
            audit.record(session, sys.argv[2], "concurrent.write", "counter", i)
    """
)


def test_two_processes_appending_at_once_keep_one_valid_chain(instance):
    per_writer = 40
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(instance.home), name, str(per_writer)])
        for name in ("writer-a", "writer-b")
    ]
    assert [writer.wait(timeout=120) for writer in writers] == [0, 0]
    result = verify(instance)
    assert result.ok, result.message()
    assert result.checked == 1 + 2 * per_writer
    with instance.db.session() as session:
        actors = [event.actor for event in audit.events(session)]
    assert actors.count("writer-a") == per_writer and actors.count("writer-b") == per_writer


# The attacks below are made by someone who can write the database but cannot read the instance's
# keys folder (an analyst's kernel before the sandbox, a database administrator): the sha-256 chain
# alone can be recomputed by anyone; the seals and the head need the audit key.


def recompute_from(instance, seq, change):
    """Rewrite event SEQ with CHANGE and recompute every later hash, as a careful forger would."""
    with instance.db.session() as session:
        rows = audit.events(session)
    prev = rows[seq - 2].hash if seq > 1 else audit.GENESIS
    for event in rows[seq - 1 :]:
        content = event.content() | (change if event.seq == seq else {})
        new_hash = audit.chain_hash(prev, content)
        tamper(
            instance,
            "UPDATE audit_events SET actor = :a, details = :d, prev_hash = :p, hash = :h "
            "WHERE seq = :s",
            a=content["actor"],
            d=audit.canonical_json(content["details"]),
            p=prev,
            h=new_hash,
            s=event.seq,
        )
        prev = new_hash


def test_a_recomputed_chain_is_caught_by_the_seals(instance, run_cli):
    append(instance, 5)
    recompute_from(instance, 3, {"actor": "chris.checker"})
    with instance.db.session() as session:
        assert audit.verify(session, anchor=None).ok  # the bare chain is consistent again
    result = verify(instance)
    assert not result.ok and result.seq == 3
    assert "seal" in result.problem and "audit key" in result.problem
    code, _, err = run_cli("audit", "verify", home=instance.home)
    assert code == 1 and "audit log broken at event 3" in err


def test_removed_seals_are_caught(instance):
    append(instance, 3)
    tamper(instance, "UPDATE audit_events SET seal = NULL WHERE seq >= 2")
    result = verify(instance)
    assert not result.ok and result.seq == 2 and "no seal" in result.problem


def test_removing_the_newest_events_is_caught_by_the_head(instance):
    append(instance, 5)
    tamper(instance, "DELETE FROM audit_events WHERE seq > 4")
    result = verify(instance)
    assert not result.ok and result.seq == 5
    assert "head" in result.problem and "events 5 to 6" in result.problem


def test_a_forged_head_is_caught(instance):
    append(instance, 5)
    head = instance.audit_anchor().head_path
    seq, digest, seal = head.read_text().split()
    head.write_text(f"4 {digest} {seal}\n")
    result = verify(instance)
    assert not result.ok and "head" in result.problem and "seal" in result.problem


def test_the_head_follows_every_commit_and_never_goes_back(instance):
    append(instance, 2)
    anchor = instance.audit_anchor()
    assert anchor.read_head()[0] == 3
    with pytest.raises(RuntimeError):
        with instance.db.session() as session:
            audit.record(session, "x", "thing.change", "thing", 9)
            raise RuntimeError("rolled back")
    assert anchor.read_head()[0] == 3  # a rolled-back event moves nothing
    anchor.write_head(2, "0" * 64)  # an older head never replaces a newer one
    assert anchor.read_head()[0] == 3


def test_a_database_opened_without_its_instance_cannot_write_events(instance):
    from tre.db import Database

    db = Database(instance.database_url)
    with pytest.raises(audit.AuditError, match="audit key"):
        with db.session() as session:
            audit.record(session, "x", "thing.change", "thing", 1)
    db.dispose()


def test_a_chain_rewritten_without_seals_is_caught_by_the_head(instance):
    """Seals stripped, the chain recomputed, more events forged beyond the head: the head's hash
    still pins the chain it was written for."""
    append(instance, 4)
    tamper(instance, "UPDATE audit_events SET seal = NULL")
    recompute_from(instance, 2, {"actor": "forger"})
    result = verify(instance)
    assert not result.ok and "head" in result.problem and "rewritten" in result.problem


def test_events_older_than_the_seals_are_covered_by_the_first_sealed_event(instance):
    """An instance made before the seals: its unsealed events verify, and stay pinned."""
    append(instance, 3)
    tamper(instance, "UPDATE audit_events SET seal = NULL WHERE seq <= 3")
    assert verify(instance).ok
    recompute_from(instance, 2, {"actor": "forger"})
    result = verify(instance)
    assert not result.ok and result.seq == 4 and "seal" in result.problem
