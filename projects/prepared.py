"""Whether a project's data is prepared: the operator cut the extract of a version that asked for
the same data as the current one. ``linkage`` records each cut through
:func:`projects.registry.record_prepared_data`; the policy engine and the pages read it here.

A rewording amendment keeps the prepared data; any change to the data items, their precision or
the data period needs the extract cut again (a narrowing would otherwise leave items in the
workspace that the project no longer asks for)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from projects.models import PreparedExtract, Project


def extract_basis(spec: dict[str, Any]) -> dict[str, Any]:
    """What an extract of SPEC is cut from: its data items with their precision, and the data
    period (justifications and every other field leave the extract as it is)."""
    return {
        "data": sorted(
            (d["dataset"], i["item"], i.get("precision") or "")
            for d in spec.get("data", [])
            for i in d.get("items", [])
        ),
        "data_period": spec.get("data_period"),
    }


def prepared_extract(session: Session, found: Project) -> PreparedExtract | None:
    """The latest extract cut for a version whose data is the current version's, if any."""
    specs = {v.version: v.spec for v in found.versions}
    wanted = extract_basis(found.current.spec)
    rows = session.scalars(
        select(PreparedExtract)
        .where(PreparedExtract.project_id == found.id)
        .order_by(PreparedExtract.id.desc())
    )
    for row in rows:
        spec = specs.get(row.version)
        if spec is not None and extract_basis(spec) == wanted:
            return row
        if spec is not None:  # the latest cut is of other data: the current one is not prepared
            return None
    return None
