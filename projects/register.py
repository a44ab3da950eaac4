"""The public transparency register: every project past draft, as HTML, CSV and JSON.

The HTML page works without JavaScript (a plain, accessible table); with it, a search box filters
the rows. No person is named unless the operator's settings allow it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from projects import registry
from projects.models import Person
from projects.policy import effective_state
from projects.states import State
from tre.templating import render

TEMPLATES = Path(__file__).parent / "templates"

# (session, project id) -> the project's release dates. The airlock lies above the registry, so
# the composition root hands its counter in (``output_checks.release_dates``); without one the
# register has no release columns.
ReleaseDates = Callable[[Session, str], list[str]]


def entries(
    session: Session,
    show_names: bool = False,
    at: date | None = None,
    releases: ReleaseDates | None = None,
) -> list[dict]:
    at = at or date.today()
    catalogue = registry.gateways(session)
    out = []
    for found in registry.projects(session):
        if found.state == State.DRAFT:  # the register shows projects past draft
            continue
        spec = found.current.spec
        lead = session.get_one(Person, found.current.lead_id)
        data = []
        controllers = set()
        for dataset_id in registry.requested_datasets(found):
            ds = registry.dataset(session, dataset_id)
            controllers.add(ds.controller.name)
            classes = {item.name: item.classification for item in ds.items}
            requested = [i.item for i in found.current.items if i.dataset_id == dataset_id]
            by_class: dict[str, list[str]] = {}
            for item in requested:
                by_class.setdefault(classes[item].replace("_", "-"), []).append(item)
            data.append({"dataset": ds.title, "controller": ds.controller.name, "items": by_class})
        basis = spec["legal_basis"]
        entry: dict[str, Any] = {
            "id": found.id,
            "title": spec["title"],
            "lay_summary": spec["lay_summary"],
            "purpose": spec["purpose"],
            "category": spec["category"],
            "public_benefit": spec["public_benefit"],
            "lead_organisation": lead.organisation.name,
            "controllers": sorted(controllers),
            "datasets": data,
            "legal_basis": [
                catalogue[c].name
                for c in [basis["article_6"]]
                + ([basis["article_9"]] if basis.get("article_9") else [])
                + [basis["confidentiality"]]
                if c in catalogue
            ],
            "gateways": [catalogue[c].name for c in basis["gateways"] if c in catalogue],
            "start": spec["start"],
            "end": spec["end"],
            "status": effective_state(found, at).value,
            "version": found.version,
            "onward_sharing": spec["onward_sharing"],
            "commercial_use": spec["commercial_use"],
        }
        if releases is not None:
            dates = sorted(releases(session, found.id))
            entry["releases"] = len(dates)
            entry["release_dates"] = dates
        if show_names:
            entry["lead"] = lead.name
        out.append(entry)
    return out


def _datasets_text(entry: dict) -> str:
    parts = []
    for data in entry["datasets"]:
        items = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in data["items"].items())
        parts.append(f"{data['dataset']} ({data['controller']}) — {items}")
    return " | ".join(parts)


def matching(rows: list[dict], query: str) -> list[dict]:
    """The entries holding every word of QUERY, anywhere in their text (case ignored): the
    filter of the served page and of the published page's box."""
    words = query.lower().split()
    return [row for row in rows if all(w in search_text(row) for w in words)]


def search_text(row: dict) -> str:
    """An entry's whole text, lowercased, as the filters search it."""
    return json.dumps(row).lower()


def as_json(rows: list[dict], instance_name: str, at: date) -> str:
    return (
        json.dumps(
            {"register": instance_name, "published": at.isoformat(), "projects": rows}, indent=2
        )
        + "\n"
    )


COLUMNS = [
    "id",
    "title",
    "status",
    "category",
    "lead_organisation",
    "controllers",
    "datasets",
    "legal_basis",
    "gateways",
    "start",
    "end",
    "purpose",
    "public_benefit",
    "lay_summary",
    "onward_sharing",
    "commercial_use",
]


# a cell starting with one of these is a formula to a spreadsheet (Excel, LibreOffice, Sheets)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """VALUE as a CSV cell a spreadsheet shows as text: a text starting like a formula (a lead's
    title or purpose may) gets a leading ``'``, so it is never evaluated when opened."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def as_csv(rows: list[dict], show_names: bool = False, with_releases: bool = True) -> str:
    """The register as CSV, every text cell neutralised against formula injection."""
    columns = COLUMNS + (["releases"] if with_releases else []) + (["lead"] if show_names else [])
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    for row in rows:
        flat = dict(
            row,
            controllers="; ".join(row["controllers"]),
            datasets=_datasets_text(row),
            legal_basis="; ".join(row["legal_basis"]),
            gateways="; ".join(row["gateways"]),
        )
        writer.writerow([csv_cell(flat.get(c, "")) for c in columns])
    return buffer.getvalue()


def publish(
    session: Session,
    out: Path,
    instance_name: str,
    show_names: bool = False,
    at: date | None = None,
    releases: ReleaseDates | None = None,
) -> dict[str, Path]:
    """A snapshot of the register as files (HTML, CSV, JSON) in OUT; the tre service serves the
    same content live, without signing in, at ``/services/tre/register/``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    at = at or date.today()
    rows = entries(session, show_names, at, releases)
    paths = {"json": out / "register.json", "csv": out / "register.csv", "html": out / "index.html"}
    paths["json"].write_text(as_json(rows, instance_name, at), encoding="utf-8")
    paths["csv"].write_text(as_csv(rows, show_names, releases is not None), encoding="utf-8")
    paths["html"].write_text(_page(rows, instance_name, at), encoding="utf-8")
    return paths


def _page(rows: list[dict], name: str, at: date) -> str:
    # each project's whole entry, lowercased, for the page's filter box
    searches = [search_text(row) for row in rows]
    return render(TEMPLATES, "register.html", rows=rows, searches=searches, name=name, at=at)
