"""The registry's tables: organisations, people, datasets, legal gateways, projects (versioned),
approvals, declarations and agreements. Only ``projects`` writes them; others ask its functions."""

from __future__ import annotations

from datetime import date

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tre.db import Base


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(20))


class Person(Base):
    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(200))
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    organisation: Mapped[Organisation] = relationship(lazy="joined")
    roles: Mapped[list[PersonRole]] = relationship(lazy="selectin", cascade="all, delete-orphan")
    accreditations: Mapped[list[Accreditation]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="Accreditation.expires"
    )

    @property
    def role_names(self) -> set[str]:
        return {role.role for role in self.roles}


class PersonRole(Base):
    __tablename__ = "person_roles"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)


class Accreditation(Base):
    __tablename__ = "accreditations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    scheme: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str] = mapped_column(String(100))
    expires: Mapped[date] = mapped_column(Date)


class Dataset(Base):
    __tablename__ = "datasets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    controller_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    schema_ref: Mapped[str] = mapped_column(String(300))
    schema_sha256: Mapped[str] = mapped_column(String(64))
    controller: Mapped[Organisation] = relationship(lazy="joined")
    items: Mapped[list[DataItem]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="DataItem.position"
    )


class DataItem(Base):
    __tablename__ = "data_items"

    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    classification: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text, default="")


class LegalGateway(Base):
    __tablename__ = "legal_gateways"

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(40))
    description: Mapped[str] = mapped_column(Text, default="")


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[str] = mapped_column(String(30), primary_key=True)
    state: Mapped[str] = mapped_column(String(20))
    version: Mapped[int] = mapped_column(Integer)
    state_reason: Mapped[str] = mapped_column(Text, default="")
    versions: Mapped[list[ProjectVersion]] = relationship(
        lazy="selectin", order_by="ProjectVersion.version", cascade="all, delete-orphan"
    )

    @property
    def current(self) -> ProjectVersion:
        return next(v for v in self.versions if v.version == self.version)


class ProjectVersion(Base):
    __tablename__ = "project_versions"
    __table_args__ = (UniqueConstraint("project_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    version: Mapped[int] = mapped_column(Integer)
    spec: Mapped[dict] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[str] = mapped_column(String(32))
    created_by: Mapped[str] = mapped_column(String(64))
    lead_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date] = mapped_column(Date)
    members: Mapped[list[ProjectMember]] = relationship(
        lazy="selectin", cascade="all, delete-orphan"
    )
    items: Mapped[list[RequestedItem]] = relationship(lazy="selectin", cascade="all, delete-orphan")


class ProjectMember(Base):
    __tablename__ = "project_members"

    version_id: Mapped[int] = mapped_column(ForeignKey("project_versions.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(30), primary_key=True)
    person: Mapped[Person] = relationship(lazy="joined")


class RequestedItem(Base):
    __tablename__ = "requested_items"

    version_id: Mapped[int] = mapped_column(ForeignKey("project_versions.id"), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"), primary_key=True)
    item: Mapped[str] = mapped_column(String(100), primary_key=True)
    justification: Mapped[str] = mapped_column(Text)


class Approval(Base):
    """A data controller's decision on one project version's use of one of its datasets."""

    __tablename__ = "approvals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    version: Mapped[int] = mapped_column(Integer)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id"))
    decision: Mapped[str] = mapped_column(String(20))  # approved | refused
    text: Mapped[str] = mapped_column(Text, default="")  # conditions or reason
    approver_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    at: Mapped[str] = mapped_column(String(32))
    carried_from: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Declaration(Base):
    """A person's acceptance of a project version's terms."""

    __tablename__ = "declarations"
    __table_args__ = (UniqueConstraint("project_id", "version", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    version: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    terms_version: Mapped[str] = mapped_column(String(20))
    terms_sha256: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(32))


class Agreement(Base):
    """A data-sharing agreement document with its minimal metadata and extracted text."""

    __tablename__ = "agreements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))
    parties: Mapped[list] = mapped_column(JSON)
    purpose: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    start: Mapped[date] = mapped_column(Date)
    end: Mapped[date | None] = mapped_column(Date, nullable=True)
    review: Mapped[date | None] = mapped_column(Date, nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    filename: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    projects: Mapped[list] = mapped_column(JSON, default=list)


class PreparedExtract(Base):
    """The operator prepared a project version's data (its extract was cut for that version)."""

    __tablename__ = "prepared_extracts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id"))
    version: Mapped[int] = mapped_column(Integer)
    prepared_by: Mapped[str] = mapped_column(String(64))
    at: Mapped[str] = mapped_column(String(32))
    files: Mapped[list] = mapped_column(JSON, default=list)


class RegistrationDraft(Base):
    """A lead's unfinished answers to the guided registration, kept between its question pages:
    for a new project (``amends`` empty) or an amendment of the project it names. Answers, not
    a registration: nothing in them is checked until they are registered or amended."""

    __tablename__ = "registration_drafts"
    __table_args__ = (UniqueConstraint("person_id", "amends"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    amends: Mapped[str] = mapped_column(String(30), default="")
    answers: Mapped[dict] = mapped_column(JSON)
    saved: Mapped[list] = mapped_column(JSON, default=list)  # the sections saved, by name
    updated_at: Mapped[str] = mapped_column(String(32))
