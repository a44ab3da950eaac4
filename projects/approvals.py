"""The data controllers' decisions on a project's use of their datasets, as the policy engine and
the registry both read them (:func:`projects.registry.decide_data_use` makes the decisions)."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from projects.models import Approval, Project


class ApprovalDecision(StrEnum):
    """A controller's decision on a project's use of one of its datasets (stored in approvals)."""

    APPROVED = "approved"
    REFUSED = "refused"


def approvals(session: Session, found: Project, version: int | None = None) -> dict[str, Approval]:
    """The latest decision per dataset for a version (default: the current one)."""
    version = found.version if version is None else version
    rows = session.scalars(
        select(Approval)
        .where(Approval.project_id == found.id, Approval.version == version)
        .order_by(Approval.id)
    )
    latest: dict[str, Approval] = {}
    for row in rows:
        latest[row.dataset_id] = row
    return latest


def requested_datasets(found: Project) -> list[str]:
    return sorted({item.dataset_id for item in found.current.items})
