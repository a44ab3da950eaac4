"""The analyses' table: one row per notebook run, with its provenance."""

from __future__ import annotations

from sqlalchemy import JSON, Integer, String, Text
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
