"""The airlock's tables: requests, their files, checks, votes, comments, releases and the ledger."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tre.db import Base


class ReleaseRequest(Base):
    __tablename__ = "release_requests"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(30), index=True)
    author: Mapped[str] = mapped_column(String(64), index=True)
    state: Mapped[str] = mapped_column(String(20), index=True)
    turn: Mapped[int] = mapped_column(Integer, default=1)
    recipient: Mapped[str] = mapped_column(String(200), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    created: Mapped[str] = mapped_column(String(32))
    submitted: Mapped[str | None] = mapped_column(String(32), nullable=True)
    first_review: Mapped[str | None] = mapped_column(String(32), nullable=True)
    released: Mapped[str | None] = mapped_column(String(32), nullable=True)
    files: Mapped[list[RequestFile]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="RequestFile.id"
    )
    groups: Mapped[list[RequestGroup]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="RequestGroup.name"
    )


class RequestGroup(Base):
    __tablename__ = "request_groups"
    __table_args__ = (UniqueConstraint("request_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("release_requests.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    context: Mapped[str] = mapped_column(Text, default="")
    controls: Mapped[str] = mapped_column(Text, default="")


class RequestFile(Base):
    __tablename__ = "request_files"
    __table_args__ = (UniqueConstraint("request_id", "path"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("release_requests.id"), index=True)
    group: Mapped[str] = mapped_column(String(100))
    path: Mapped[str] = mapped_column(String(500))
    run_id: Mapped[str] = mapped_column(String(40))
    sha256: Mapped[str] = mapped_column(String(64))
    # the sha-256 of the file's evidence, copied with it into the airlock ("" when it has none)
    evidence_sha256: Mapped[str] = mapped_column(String(64), default="")
    bytes: Mapped[int] = mapped_column(Integer)
    supporting: Mapped[bool] = mapped_column(Boolean, default=False)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    check_outcome: Mapped[str] = mapped_column(String(10), default="")
    checks: Mapped[list] = mapped_column(JSON, default=list)


class Vote(Base):
    __tablename__ = "release_votes"
    __table_args__ = (UniqueConstraint("file_id", "checker", "turn"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("release_requests.id"), index=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("request_files.id"))
    checker: Mapped[str] = mapped_column(String(64))
    turn: Mapped[int] = mapped_column(Integer)
    vote: Mapped[str] = mapped_column(String(10))
    # the sha-256 of the airlock's copy the vote was cast on: a vote binds to those bytes
    sha256: Mapped[str] = mapped_column(String(64), default="")
    # why the checker approved a file whose automatic checks failed ("" when not needed)
    override: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[str] = mapped_column(String(32))


class Comment(Base):
    __tablename__ = "release_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("release_requests.id"), index=True)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("request_files.id"), nullable=True)
    author: Mapped[str] = mapped_column(String(64))
    turn: Mapped[int] = mapped_column(Integer)
    private: Mapped[bool] = mapped_column(Boolean, default=False)
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[str] = mapped_column(String(32))


class LedgerEntry(Base):
    """One released table, as the differencing checks need it."""

    __tablename__ = "release_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(String(30), index=True)
    request_id: Mapped[str] = mapped_column(String(40))
    file: Mapped[str] = mapped_column(String(500))
    table: Mapped[dict] = mapped_column(JSON)
    at: Mapped[str] = mapped_column(String(32))


class Review(Base):
    """A checker's review of one turn of a request, submitted once: only then do their votes of
    that turn count (before, they are drafts, seen by the checker alone)."""

    __tablename__ = "release_reviews"
    __table_args__ = (UniqueConstraint("request_id", "checker", "turn"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("release_requests.id"), index=True)
    checker: Mapped[str] = mapped_column(String(64))
    turn: Mapped[int] = mapped_column(Integer)
    submitted: Mapped[str] = mapped_column(String(32))


class Recipient(Base):
    """A person the request names to receive its released files: they, and only they, download
    them from the service."""

    __tablename__ = "release_recipients"
    __table_args__ = (UniqueConstraint("request_id", "person"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("release_requests.id"), index=True)
    person: Mapped[str] = mapped_column(String(64))


class Notification(Base):
    """A message to one person about a step of a request (submitted, returned, approved,
    released, rejected): shown in the service, and e-mailed when an SMTP server is set."""

    __tablename__ = "airlock_notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person: Mapped[str] = mapped_column(String(64), index=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("release_requests.id"))
    step: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[str] = mapped_column(String(32))
    read: Mapped[bool] = mapped_column(Boolean, default=False)
