"""The audit log: append-only and hash-chained. This module is the only writer of audit events.

Each event stores its sequence number, UTC time, actor, action, object type and id, project
(nullable) and details (JSON), with ``hash = sha256(previous hash + canonical JSON of the event)``.
The code has no update or delete path; triggers on SQLite and PostgreSQL reject UPDATE and DELETE.
:func:`verify` recomputes the chain and names the first event that does not match, so an edited,
deleted or inserted row is caught.

Anyone who can write the database can also recompute a sha-256 chain, so the chain is anchored
outside it (:class:`AuditAnchor`): each event carries a seal, an HMAC of its hash under the
instance's audit key, and after every commit the newest event's number and hash are written, sealed,
to a head file beside the key. Both live in the instance's keys folder, which no workspace can read.
A rewritten chain fails its seals; removed newest events fall short of the head. Events written
before sealing began (an instance older than the seals) are covered by the first sealed event,
whose hash chains over them.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import Integer, String, Text, func, select, text
from sqlalchemy import event as orm_event
from sqlalchemy.orm import Mapped, Session, mapped_column

from tre.db import Base, Database
from tre.errors import TreError

GENESIS = "0" * 64

_PG_LOCK_KEY = 730_001  # advisory lock that serialises appends on PostgreSQL


class AuditEvent(Base):
    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[str] = mapped_column(String(32), index=True)
    actor: Mapped[str] = mapped_column(String(200), index=True)
    action: Mapped[str] = mapped_column(String(100), index=True)
    object_type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str] = mapped_column(String(200))
    project: Mapped[str | None] = mapped_column(String(64), index=True, nullable=True)
    details: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    # HMAC-SHA256 of ``hash`` under the audit key (None only for events older than the seals)
    seal: Mapped[str | None] = mapped_column(String(64), nullable=True)

    def content(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "project": self.project,
            "details": json.loads(self.details),
        }


class AuditError(TreError):
    """The audit log cannot be written or checked as asked."""


class AccessEvent(StrEnum):
    """Refusals met at the kit's edges (a web page, a command) that no package recorded."""

    REFUSED = "access.refused"


_ANCHOR = "audit_anchor"  # Session.info keys
_PENDING_HEAD = "audit_pending_head"


@dataclass(frozen=True)
class AuditAnchor:
    """The audit key and the head file: what anchors the chain outside the database."""

    key: bytes
    head_path: Path

    @classmethod
    def in_folder(cls, folder: Path, key_name: str = "audit.key", head_name: str = "audit.head"):
        """The anchor kept in FOLDER (the instance's keys); a missing key is made (mode 0600)."""
        key_path = folder / key_name
        if not key_path.exists():
            try:
                descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            except FileExistsError:  # made by another process meanwhile
                pass
            else:
                with os.fdopen(descriptor, "w") as handle:
                    handle.write(secrets.token_hex(32) + "\n")
        try:
            key = bytes.fromhex(key_path.read_text().strip())
        except (OSError, ValueError) as exc:
            raise AuditError(
                f"the audit key {key_path} cannot be read ({exc}); restore it from the operator's "
                "key store"
            ) from None
        return cls(key, folder / head_name)

    def seal(self, event_hash: str) -> str:
        return hmac.new(self.key, b"event:" + event_hash.encode(), hashlib.sha256).hexdigest()

    def _head_seal(self, seq: int, event_hash: str) -> str:
        message = f"head:{seq}:{event_hash}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def read_head(self) -> tuple[int, str, bool] | None:
        """(sequence number, hash, whether its seal is good) of the recorded head, or None."""
        try:
            seq, event_hash, seal = self.head_path.read_text().split()
            number = int(seq)
        except FileNotFoundError:
            return None
        except ValueError:
            return (0, "", False)
        return number, event_hash, hmac.compare_digest(seal, self._head_seal(number, event_hash))

    def write_head(self, seq: int, event_hash: str) -> None:
        """Record a newer head (an older one never replaces it), atomically, under a file lock."""
        lock_path = self.head_path.with_name(self.head_path.name + ".lock")
        with os.fdopen(os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600), "r+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            current = self.read_head()
            if current is not None and current[2] and current[0] >= seq:
                return
            staged = self.head_path.with_name(self.head_path.name + ".new")
            staged.write_text(f"{seq} {event_hash} {self._head_seal(seq, event_hash)}\n")
            os.chmod(staged, 0o600)
            os.replace(staged, self.head_path)


def anchor(db: Database, audit_anchor: AuditAnchor) -> None:
    """Seal every event written through DB, and move the head after each commit."""
    db.sessions.configure(info={_ANCHOR: audit_anchor})

    @orm_event.listens_for(db.sessions, "after_commit")
    def _move_head(session: Session) -> None:
        head = session.info.pop(_PENDING_HEAD, None)
        if head is not None:
            audit_anchor.write_head(*head)

    @orm_event.listens_for(db.sessions, "after_rollback")
    def _forget_head(session: Session) -> None:
        session.info.pop(_PENDING_HEAD, None)


def record_refusal(db: Database, actor: str, reason: str, where: str) -> None:
    """A refusal as an event of its own transaction (the refused one has rolled back). Recording
    must never hide the refusal itself: a failure to record is said on standard error."""
    try:
        with db.session() as session:
            record(
                session,
                actor,
                AccessEvent.REFUSED,
                "access",
                where[:200],
                details={"reason": reason[:2000], "where": where[:500]},
            )
    except Exception as exc:  # the person still gets their refusal; the operator hears of it
        print(f"tre: the refusal of {actor} at {where} was not recorded: {exc}", file=sys.stderr)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def chain_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(content)).encode("utf-8")).hexdigest()


def utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def record(
    session: Session,
    actor: str,
    action: StrEnum,
    object_type: str,
    object_id: str | int,
    project: str | None = None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event in the caller's transaction, so the change and its audit commit together.

    ACTION is a member of the recording package's enum of event names (``RegistryEvent``,
    ``AirlockEvent``, ``RunEvent``, ``LinkageEvent``, ``InstanceEvent``): the stored value is its
    string, as before the enums."""
    audit_anchor = session.info.get(_ANCHOR)
    if audit_anchor is None:
        raise AuditError(
            "this database was opened without its audit key, so its events could not be sealed; "
            "open it through its instance (tre.instance.open_instance)"
        )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    last = session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    event = AuditEvent(
        seq=seq,
        at=utc_now(),
        actor=actor,
        action=str(action),
        object_type=object_type,
        object_id=str(object_id),
        project=project,
        details=canonical_json(details or {}),
        prev_hash=prev_hash,
    )
    event.hash = chain_hash(prev_hash, event.content())
    event.seal = audit_anchor.seal(event.hash)
    session.add(event)
    session.flush()
    session.info[_PENDING_HEAD] = (seq, event.hash)
    return event


@dataclass(frozen=True)
class Verification:
    ok: bool
    checked: int
    head: str
    problem: str | None = None
    seq: int | None = None

    def message(self) -> str:
        if self.ok:
            return f"audit log intact: {self.checked} events checked; head hash {self.head}"
        return f"audit log broken at event {self.seq}: {self.problem}"


_FROM_SESSION: Any = object()


def verify(session: Session, anchor: AuditAnchor | None = _FROM_SESSION) -> Verification:
    """Recompute the chain from the first event; stop at the first event that does not match.

    With an anchor (by default the one the session's database was opened with) the seals and the
    head kept outside the database are checked too; ``anchor=None`` checks the bare chain only.
    """
    if anchor is _FROM_SESSION:
        anchor = session.info.get(_ANCHOR)
    head = anchor.read_head() if anchor is not None else None
    head_seq = head[0] if head is not None else 0
    hash_at_head: str | None = None
    expected_prev, expected_seq, checked = GENESIS, 1, 0
    sealing = False
    rows = session.execute(select(AuditEvent).order_by(AuditEvent.seq)).scalars()
    for event in rows:
        if event.seq != expected_seq:
            if event.seq > expected_seq:
                problem = (
                    f"events {expected_seq} to {event.seq - 1} are missing (deleted rows)"
                    if event.seq - 1 > expected_seq
                    else f"event {expected_seq} is missing (a deleted row)"
                )
            else:
                problem = f"sequence number {event.seq} appears out of order"
            return Verification(False, checked, expected_prev, problem, event.seq)
        if event.prev_hash != expected_prev:
            return Verification(
                False,
                checked,
                expected_prev,
                "its previous-hash does not match the event before it (a row inserted or replaced)",
                event.seq,
            )
        try:
            recomputed = chain_hash(event.prev_hash, event.content())
        except (ValueError, TypeError):
            recomputed = ""
        if recomputed != event.hash:
            return Verification(
                False,
                checked,
                expected_prev,
                "its content does not match its hash (an edited row)",
                event.seq,
            )
        if anchor is not None:
            if event.seal is None and sealing:
                return Verification(
                    False,
                    checked,
                    expected_prev,
                    "it has no seal, though the events before it are sealed (seals removed, or "
                    "written without the audit key)",
                    event.seq,
                )
            if event.seal is not None:
                sealing = True
                if not hmac.compare_digest(event.seal, anchor.seal(event.hash)):
                    return Verification(
                        False,
                        checked,
                        expected_prev,
                        "its seal does not match its hash under the audit key (the chain was "
                        "rewritten by someone without the key)",
                        event.seq,
                    )
        if event.seq == head_seq:
            hash_at_head = event.hash
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    if anchor is not None:
        head_problem = _head_problem(anchor, head, checked, hash_at_head, sealing)
        if head_problem is not None:
            return Verification(False, checked, expected_prev, head_problem, checked + 1)
    return Verification(True, checked, expected_prev)


def _head_problem(
    anchor: AuditAnchor,
    head: tuple[int, str, bool] | None,
    last: int,
    hash_at_head: str | None,
    sealed: bool,
) -> str | None:
    if head is None:
        return (
            f"the head kept outside the database ({anchor.head_path}) is missing, though the "
            "log is sealed"
            if sealed
            else None
        )
    seq, head_hash, good = head
    if not good:
        return (
            f"the head kept outside the database ({anchor.head_path}) does not carry a valid "
            "seal under the audit key (it was edited)"
        )
    if seq > last:
        missing = f"event {seq}" if seq == last + 1 else f"events {last + 1} to {seq}"
        return (
            f"the log ends at event {last}, but its head kept outside the database is event "
            f"{seq}: {missing} were removed"
        )
    if hash_at_head != head_hash:
        return (
            f"event {seq}'s hash differs from the head kept outside the database (the chain "
            "was rewritten up to it)"
        )
    return None


def events(
    session: Session,
    project: str | None = None,
    actor: str | None = None,
    since: date | None = None,
    limit: int | None = None,
) -> list[AuditEvent]:
    """The events that match, in the order they happened; with LIMIT, the newest LIMIT of them
    (still oldest first), as `tail` would show: who asks for a few events wants the latest."""
    query = select(AuditEvent).order_by(AuditEvent.seq.desc() if limit else AuditEvent.seq)
    if project:
        query = query.where(AuditEvent.project == project)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if since:
        query = query.where(AuditEvent.at >= since.isoformat())
    if limit:
        query = query.limit(limit)
    found = list(session.execute(query).scalars())
    return found[::-1] if limit else found


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
