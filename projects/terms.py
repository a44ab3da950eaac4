"""The terms a project's team accepts: the standard text (``terms.md``) filled with the project's
version, and every condition its data controllers attached to their approval of that version.

A declaration records the sha-256 of the text accepted; the policy engine counts it only while
the text is still the same, so that a condition added after someone accepted reaches them before
they work again (:func:`projects.policy.decide`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy.orm import Session

from projects.approvals import ApprovalDecision, approvals
from projects.models import Dataset, Project

TERMS_FILE = Path(__file__).parent / "terms.md"
TERMS_VERSION = "1"


def conditions(session: Session, found: Project) -> list[tuple[str, str, str]]:
    """(dataset, controller's name, condition) of every condition the approvals of the current
    version carry, in dataset order: each non-empty line of an approval's text is one condition
    (one term), as the approver's form says."""
    out: list[tuple[str, str, str]] = []
    for dataset_id, row in sorted(approvals(session, found).items()):
        if row.decision == ApprovalDecision.APPROVED and row.text.strip():
            controller = session.get_one(Dataset, dataset_id).controller.name
            out.extend(
                (dataset_id, controller, " ".join(line.split()))
                for line in row.text.splitlines()
                if line.strip()
            )
    return out


def terms_text(session: Session, found: Project) -> str:
    spec = found.current.spec
    text = TERMS_FILE.read_text(encoding="utf-8").format(
        project=found.id,
        version=found.version,
        title=spec["title"],
        purpose=spec["purpose"],
        end=spec["end"],
        outputs=", ".join(o["name"] for o in spec["intended_outputs"]),
        terms_version=TERMS_VERSION,
    )
    attached = conditions(session, found)
    if attached:
        text += (
            "\nThe data controllers approved this version on these conditions, "
            "which I will keep:\n\n"
            + "\n".join(
                f"{number}. {dataset_id} ({controller}): {condition}"
                for number, (dataset_id, controller, condition) in enumerate(attached, start=7)
            )
            + "\n"
        )
    return text


def terms_sha256(session: Session, found: Project) -> str:
    return hashlib.sha256(terms_text(session, found).encode("utf-8")).hexdigest()
