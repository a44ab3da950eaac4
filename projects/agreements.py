"""Data-sharing agreements: documents with a minimal schema, full-text and metadata search.

The text of PDF (pypdf), DOCX (its XML, read with the standard library), Markdown and text files
is extracted once and stored with the agreement, so that search needs no file access.
"""

from __future__ import annotations

import io
import re
import shutil
import zipfile
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

from sqlalchemy import select
from sqlalchemy.orm import Session

from projects.errors import RegistryError
from projects.events import RegistryEvent
from projects.models import Agreement, Project
from tre import audit
from tre.hashing import file_sha256

KINDS = (".pdf", ".docx", ".md", ".markdown", ".txt")
STATUSES = ("draft", "signed", "under review", "expired", "terminated")
_WORD = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def extract_text(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in KINDS:
        raise RegistryError(f"{path.name}: agreements are PDF, DOCX, Markdown or text files")
    data = path.read_bytes()
    if suffix == ".pdf":
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            return "\n".join(
                page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages
            )
        except (PdfReadError, ValueError) as exc:
            raise RegistryError(f"{path.name} is not a readable PDF ({exc})") from None
    if suffix == ".docx":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                root = ElementTree.fromstring(archive.read("word/document.xml"))
        except (zipfile.BadZipFile, KeyError, ElementTree.ParseError):
            raise RegistryError(f"{path.name} is not a readable DOCX file") from None
        return "\n".join(
            "".join(t.text or "" for t in p.iter(f"{_WORD}t")) for p in root.iter(f"{_WORD}p")
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise RegistryError(f"{path.name} is not UTF-8 text") from None


def add(
    session: Session,
    actor: str,
    path: Path,
    store: Path,
    title: str,
    parties: list[str],
    purpose: str,
    legal_basis: str,
    start: date,
    end: date | None = None,
    review: date | None = None,
    status: str = "signed",
    projects: list[str] | None = None,
) -> Agreement:
    path = Path(path)
    if not path.is_file():
        raise RegistryError(f"{path} does not exist")
    if status not in STATUSES:
        raise RegistryError(f"status {status!r} is not one of {', '.join(STATUSES)}")
    if len(parties) < 2:
        raise RegistryError("an agreement has at least two parties (--party twice)")
    if end and end < start:
        raise RegistryError("the agreement's end date is before its start")
    for project_id in projects or []:
        if session.get(Project, project_id) is None:
            raise RegistryError(f"no project {project_id!r} to link the agreement to")
    text = extract_text(path)
    digest = file_sha256(path)
    agreement = Agreement(
        title=title,
        parties=parties,
        purpose=purpose,
        legal_basis=legal_basis,
        start=start,
        end=end,
        review=review,
        status=status,
        filename=path.name,
        sha256=digest,
        text=text,
        projects=list(projects or []),
    )
    session.add(agreement)
    session.flush()
    store.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(path, store / f"{agreement.id}-{digest[:12]}{path.suffix.lower()}")
    audit.record(
        session,
        actor,
        RegistryEvent.AGREEMENT_ADD,
        "agreement",
        agreement.id,
        details={"title": title, "sha256": digest, "projects": projects or []},
    )
    return agreement


def search(
    session: Session,
    query: str = "",
    party: str | None = None,
    status: str | None = None,
    project: str | None = None,
    active_on: date | None = None,
) -> list[Agreement]:
    """Agreements whose title, purpose, legal basis, parties or text hold every word of QUERY,
    filtered by party, status, linked project and the date they are in force."""
    words = [w.lower() for w in re.findall(r"\w+", query)]
    found = []
    for agreement in session.scalars(select(Agreement).order_by(Agreement.id)):
        haystack = " ".join(
            [
                agreement.title,
                agreement.purpose,
                agreement.legal_basis,
                " ".join(agreement.parties),
                agreement.text,
            ]
        ).lower()
        if any(word not in haystack for word in words):
            continue
        if party and not any(party.lower() in p.lower() for p in agreement.parties):
            continue
        if status and agreement.status != status:
            continue
        if project and project not in agreement.projects:
            continue
        if active_on and not (
            agreement.start <= active_on and (agreement.end is None or active_on <= agreement.end)
        ):
            continue
        found.append(agreement)
    return found


def get(session: Session, agreement_id: int) -> Agreement:
    agreement = session.get(Agreement, agreement_id)
    if agreement is None:
        raise RegistryError(f"no agreement {agreement_id}; `tre agreement search` lists them")
    return agreement
