"""The analyses' table: one row per notebook run, with its provenance."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tre.db import Base


class Run(Base):
    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    project_id: Mapped[str] = mapped_column(String(30), index=True)
    project_version: Mapped[int] = mapped_column(Integer)
    person: Mapped[str] = mapped_column(String(64), index=True)
    notebook: Mapped[str] = mapped_column(String(300))
    notebook_sha256: Mapped[str] = mapped_column(String(64))
    parameters: Mapped[dict] = mapped_column(JSON)
    inputs: Mapped[list] = mapped_column(JSON)
    kit_version: Mapped[str] = mapped_column(String(40))
    packages: Mapped[dict] = mapped_column(JSON)
    kernel: Mapped[str] = mapped_column(String(100))
    started: Mapped[str] = mapped_column(String(32))
    ended: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    error: Mapped[str] = mapped_column(Text, default="")
    outputs: Mapped[list] = mapped_column(JSON, default=list)
    undeclared: Mapped[list] = mapped_column(JSON, default=list)
    folder: Mapped[str] = mapped_column(String(500))
    # the process that runs it (None: recorded before revision 0011): its host's name, the boot
    # of that host (/proc/sys/kernel/random/boot_id), its pid and its start time in clock ticks
    # after boot (/proc/<pid>/stat field 22), so that a reused pid or a reboot is never taken
    # for the live runner (notebooks.recovery)
    host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    boot_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pid_started: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
