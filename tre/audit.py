"""The audit log: append-only and hash-chained. This module is the only writer of audit events.

Each event stores its sequence number, UTC time, actor, action, object type and id, project
(nullable) and details (JSON), with ``hash = sha256(previous hash + canonical JSON of the event)``.
The code has no update or delete path; triggers on SQLite and PostgreSQL reject UPDATE and DELETE.
:func:`verify` recomputes the chain and names the first event that does not match, so an edited,
deleted or inserted row is caught. (Removing the newest rows leaves a shorter valid chain: keep the
head hash that ``tre audit verify`` prints somewhere else to detect that too.)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Integer, String, Text, func, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from tre.db import Base

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
    session.add(event)
    session.flush()
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


def verify(session: Session) -> Verification:
    """Recompute the chain from the first event; stop at the first event that does not match."""
    expected_prev, expected_seq, checked = GENESIS, 1, 0
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
        expected_prev, expected_seq, checked = event.hash, expected_seq + 1, checked + 1
    return Verification(True, checked, expected_prev)


def events(
    session: Session,
    project: str | None = None,
    actor: str | None = None,
    since: date | None = None,
    limit: int | None = None,
) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if project:
        query = query.where(AuditEvent.project == project)
    if actor:
        query = query.where(AuditEvent.actor == actor)
    if since:
        query = query.where(AuditEvent.at >= since.isoformat())
    if limit:
        query = query.limit(limit)
    return list(session.execute(query).scalars())


def count(session: Session) -> int:
    return session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
