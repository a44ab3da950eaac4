"""Registration drafts: the answers a lead has typed into the guided registration so far, kept
between its question pages so that nothing typed is lost.

    answers(session, "sam.lead", amends="")            -> (answers, saved sections) or None
    keep(session, "sam.lead", "", answers, saved)       -> False when nothing changed
    started(session, "sam.lead")                        -> ["", "supporting-families"]
    discard(session, "sam.lead", "")                    once the registration is saved

A draft is the lead's own: only they read or write it, and a draft amending a project is only
its lead's. Its answers are not a registration and are checked only when the lead registers or
amends the project (:func:`projects.registry.register_project`, :func:`projects.registry.amend`),
exactly as any other registration.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from projects.errors import RegistryError
from projects.models import RegistrationDraft
from projects.registry import person, project
from tre.audit import canonical_json, utc_now

# the most a draft may hold (its answers as JSON): far more than any registration needs
MAX_DRAFT_BYTES = 200_000


def _row(session: Session, lead: str, amends: str) -> RegistrationDraft | None:
    who = person(session, lead)
    if amends:
        found = project(session, amends)
        if found.current.lead_id != who.id:
            raise RegistryError(f"only project {amends}'s lead can amend it")
    return session.scalars(
        select(RegistrationDraft).where(
            RegistrationDraft.person_id == who.id, RegistrationDraft.amends == amends
        )
    ).one_or_none()


def answers(
    session: Session, lead: str, amends: str = ""
) -> tuple[dict[str, Any], list[str]] | None:
    """LEAD's draft of a new project (AMENDS empty) or of an amendment of project AMENDS: its
    answers and the sections saved; None when there is none."""
    row = _row(session, lead, amends)
    return (dict(row.answers), list(row.saved)) if row else None


def keep(session: Session, lead: str, amends: str, kept: dict[str, Any], saved: list[str]) -> bool:
    """Keep KEPT (the answers) and SAVED (the sections saved) as LEAD's draft; False, and
    nothing written, when they are what the draft holds already."""
    size = len(canonical_json(kept).encode())
    if size > MAX_DRAFT_BYTES:
        raise RegistryError(
            f"the answers are {size:,} bytes, more than a registration draft holds "
            f"({MAX_DRAFT_BYTES:,}): shorten them"
        )
    row = _row(session, lead, amends)
    if row is not None and row.answers == kept and row.saved == saved:
        return False
    if row is None:
        row = RegistrationDraft(person_id=person(session, lead).id, amends=amends)
        session.add(row)
    row.answers, row.saved, row.updated_at = kept, list(saved), utc_now()
    session.flush()
    return True


def started(session: Session, lead: str) -> list[str]:
    """What LEAD has drafts of: "" for a new project, else the projects they are amending."""
    who = person(session, lead)
    return sorted(
        session.scalars(
            select(RegistrationDraft.amends).where(RegistrationDraft.person_id == who.id)
        )
    )


def discard(session: Session, lead: str, amends: str = "") -> None:
    """Forget LEAD's draft (once what it held is registered or amended)."""
    row = _row(session, lead, amends)
    if row is not None:
        session.delete(row)
        session.flush()
