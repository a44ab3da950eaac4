"""The governance pages of the tre service: the data controllers' decisions and a project's own
page, where the lead and the team read every decision, condition and reason.

    /approvals/                       the controller's list: waiting decisions first, with a count
    /approvals/PROJECT/DATASET        the whole registration, the extract's risk in words, the
                                      purpose-quality flags, and the decision form
    /projects/PROJECT                 the project as its lead and team see it

The registry decides (:func:`projects.registry.decide_data_use`); these pages only show and ask.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from projects import registry
from projects.approvals import approvals, requested_datasets
from projects.errors import RegistryError
from projects.models import Person, Project
from projects.policy import TERMS_OFFERED, Role, effective_state, status
from projects.quality import flags
from projects.states import State
from projects.terms import conditions, terms_sha256
from tre.errors import Refused
from tre.folders import ProjectFolders
from tre.templating import human_date
from tre.web import Page

CLASS_WORDS = {
    "direct_identifier": "direct identifier",
    "quasi_identifier": "quasi-identifier",
    "sensitive": "sensitive",
    "other": "other",
}


def accreditation_words(who: Person, at: date) -> tuple[str, bool]:
    """(what a person's accreditation is on AT, in words; whether it is valid)."""
    if not who.accreditations:
        return "not accredited", False
    latest = max(who.accreditations, key=lambda a: a.expires)
    if latest.expires < at:
        return f"accreditation expired on {human_date(latest.expires)}", False
    return f"accredited ({latest.scheme}) until {human_date(latest.expires)}", True


def risk_in_words(risk: dict[str, Any] | None) -> list[str]:
    """The extract's disclosure-risk summary (``linkage.extract``'s manifest) as sentences."""
    if not risk:
        return [
            "The extract has not been cut yet: its risk is measured when the operator prepares "
            "the data, and shown here then."
        ]
    records = int(risk.get("records", 0))
    quasi = list(risk.get("quasi_identifiers", []))
    if not quasi:
        return [
            f"{records:,} records; none of their columns is a quasi-identifier, so no "
            "combination of them singles a person out."
        ]
    said = [
        f"{records:,} records, with {len(quasi)} quasi-identifier(s) after coarsening: "
        f"{', '.join(quasi)}."
    ]
    if "violating_3_anonymity" in risk and records:
        three, five = int(risk["violating_3_anonymity"]), int(risk["violating_5_anonymity"])
        said.append(
            f"{three:,} record(s) ({three / records:.1%}) share their combination of "
            f"quasi-identifiers with fewer than 2 others; {five:,} ({five / records:.1%}) with "
            "fewer than 4 others. These are the records a table could single out."
        )
    if "expected_reidentifications" in risk:
        said.append(
            "Someone who knew every quasi-identifier of every person would expect to "
            f"re-identify about {risk['expected_reidentifications']} of them."
        )
    return said


def extract_risk(instance, project_id: str, dataset_id: str) -> list[str]:
    manifest = ProjectFolders.of(instance, project_id).data / "manifest.json"
    try:
        risk = json.loads(manifest.read_text()).get("risk", {}).get(dataset_id)
    except (OSError, ValueError):
        risk = None
    return risk_in_words(risk)


def registration(session: Session, found: Project, at: date) -> dict[str, Any]:
    """The whole registration of FOUND's current version, with the names behind its codes: the
    catalogue's gateways, the team with accreditation, each dataset with its controller, its
    decision and the class of each item asked for."""
    spec = found.current.spec
    catalogue = registry.gateways(session)
    decided = approvals(session, found)
    lead = session.get_one(Person, found.current.lead_id)
    team = []
    for member in sorted(found.current.members, key=lambda m: (m.role != "lead", m.person_id)):
        words, valid = accreditation_words(member.person, at)
        team.append(
            {
                "username": member.person.username,
                "name": member.person.name,
                "organisation": member.person.organisation.name,
                "role": member.role,
                "accreditation": words,
                "accredited": valid,
            }
        )
    datasets = []
    for dataset_id in requested_datasets(found):
        ds = registry.dataset(session, dataset_id)
        classes = {item.name: item.classification for item in ds.items}
        row = decided.get(dataset_id)
        datasets.append(
            {
                "id": dataset_id,
                "title": ds.title,
                "controller": ds.controller.name,
                "controller_id": ds.controller_id,
                "decision": row.decision if row else "awaiting",
                "text": row.text if row else "",
                "at": row.at[:10] if row else "",
                "items": [
                    {
                        "item": i.item,
                        "class": CLASS_WORDS.get(classes.get(i.item, "other"), "other"),
                        "justification": i.justification,
                    }
                    for i in sorted(found.current.items, key=lambda i: i.item)
                    if i.dataset_id == dataset_id
                ],
            }
        )
    return {
        "id": found.id,
        "version": found.version,
        "state": effective_state(found, at).value,
        "status": status(session, found, at),
        "spec": spec,
        "lead": {"name": lead.name, "username": lead.username, "org": lead.organisation.name},
        "team": team,
        "datasets": datasets,
        **legal_basis_names(catalogue, spec["legal_basis"]),
    }


def legal_basis_names(catalogue: dict[str, Any], basis: dict[str, Any]) -> dict[str, Any]:
    """A registration's legal basis with the catalogue's name beside each code (as
    ``Name (code)``; a code the catalogue lacks as itself): what the pages show."""

    def named(code: str | None) -> str | None:
        if not code:
            return None
        return f"{catalogue[code].name} ({code})" if code in catalogue else code

    return {
        "article_6": named(basis["article_6"]),
        "article_9": named(basis.get("article_9")),
        "gateways": [named(code) for code in basis["gateways"]],
        "confidentiality": named(basis["confidentiality"]),
        "dpia": basis["dpia"],
    }


def _mine(session: Session, username: str) -> Person:
    return registry.person(session, username)


def controller_requests(
    session: Session, username: str, at: date
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(waiting, decided): the uses of USERNAME's organisation's datasets that wait for its
    decision (submitted, current version undecided), and those its approvers decided. A draft
    nobody submitted is in neither."""
    me = _mine(session, username)
    waiting, decided = [], []
    for found in registry.projects(session):
        state = effective_state(found, at)
        latest = approvals(session, found)
        for dataset_id in requested_datasets(found):
            ds = registry.dataset(session, dataset_id)
            if ds.controller_id != me.organisation_id:
                continue
            row = latest.get(dataset_id)
            entry = {
                "project": found.id,
                "title": found.current.spec["title"],
                "version": found.version,
                "dataset": dataset_id,
                "dataset_title": ds.title,
                "status": status(session, found, at),
                "decision": row.decision if row else "awaiting",
                "text": row.text if row else "",
                "at": row.at[:10] if row else "",
                "mine": bool(row and row.approver_id == me.id),
            }
            if row is None and state == State.SUBMITTED:
                waiting.append(entry)
            elif row is not None:
                decided.append(entry)
    return waiting, decided


class Decisions(Page):
    """A data controller's approver: the requests to use their organisation's datasets, those
    waiting for a decision first (with a count); drafts nobody submitted are not shown."""

    scope = "custom:tre:approve"

    def get(self) -> None:
        with self.instance.db.session() as session:
            waiting, decided = controller_requests(session, self.person, date.today())
        wanted = self.get_query_argument("decided", "")
        done = next(
            (d for d in decided if f"{d['project']}/{d['dataset']}" == wanted and d["mine"]),
            None,
        )
        self.page("decisions.html", waiting=waiting, decided=decided, done=done)


class Decide(Page):
    """One project's use of one of the controller's datasets: everything the decision needs,
    and the form (approve with conditions, or refuse with a reason)."""

    scope = "custom:tre:approve"

    def get(self, project_id: str, dataset_id: str) -> None:
        self._show(project_id, dataset_id, {}, {})

    def post(self, project_id: str, dataset_id: str) -> None:
        decision = self.get_body_argument("decision", "")
        values = {
            "decision": decision,
            "conditions": self.get_body_argument("conditions", "").strip(),
            "reason": self.get_body_argument("reason", "").strip(),
        }
        errors = {}
        if decision not in ("approve", "refuse"):
            errors["decision"] = "Choose whether you approve or refuse this use of the dataset"
        elif decision == "refuse" and not values["reason"]:
            errors["reason"] = (
                "Give the reason for refusing: the lead and the team read it, and it tells "
                "them what to change"
            )
        if errors:
            self._show(project_id, dataset_id, values, errors, status=400)
            return
        approve = decision == "approve"
        with self.instance.db.session() as session:
            registry.decide_data_use(
                session,
                self.person,
                project_id,
                dataset_id,
                approve,
                values["conditions"] if approve else values["reason"],
            )
        self.redirect(
            f"{self.prefix()}/approvals/?decided={project_id}/{dataset_id}#decided", status=303
        )

    def _show(
        self,
        project_id: str,
        dataset_id: str,
        values: dict[str, str],
        errors: dict[str, str],
        status: int = 200,
    ) -> None:
        today = date.today()
        with self.instance.db.session() as session:
            me = _mine(session, self.person)
            found = registry.project(session, project_id)
            if dataset_id not in requested_datasets(found):
                raise RegistryError(f"project {project_id} does not ask for {dataset_id}")
            ds = registry.dataset(session, dataset_id)
            if ds.controller_id != me.organisation_id:
                raise Refused(
                    f"{dataset_id} is {ds.controller.name}'s dataset: its own approvers decide "
                    "on it"
                )
            shown = registration(session, found, today)
            warnings = flags(session, found.current.spec, self.instance.settings.registration)
        mine = next(d for d in shown["datasets"] if d["id"] == dataset_id)
        others = [d for d in shown["datasets"] if d["id"] != dataset_id]
        self.page(
            "decide.html",
            status=status,
            p=shown,
            mine=mine,
            others=others,
            flags=warnings,
            risk=extract_risk(self.instance, project_id, dataset_id),
            open=shown["state"] == State.SUBMITTED and mine["decision"] == "awaiting",
            values=values,
            errors=errors,
        )


class ProjectPage(Page):
    """A project as its lead and team see it (the operator too): its status, every data
    controller's decision with its conditions or reason, the team and who accepted the terms."""

    def get(self, project_id: str) -> None:
        from sqlalchemy import select

        from projects.models import Declaration

        today = date.today()
        with self.instance.db.session() as session:
            found = registry.project(session, project_id)
            me = _mine(session, self.person)
            in_team = me.id in {m.person_id for m in found.current.members}
            if not in_team and Role.OPERATOR not in me.role_names:
                raise Refused(
                    f"project {project_id}'s page is for its lead and team; {self.person} is "
                    "not in its team"
                )
            shown = registration(session, found, today)
            current = terms_sha256(session, found)
            declared = {
                d.person_id: d.terms_sha256 == current
                for d in session.scalars(
                    select(Declaration).where(
                        Declaration.project_id == found.id,
                        Declaration.version == found.version,
                    )
                )
            }
            for member, row in zip(
                shown["team"],
                sorted(found.current.members, key=lambda m: (m.role != "lead", m.person_id)),
                strict=True,
            ):
                member["terms"] = declared.get(row.person_id)
            attached = conditions(session, found)
            lead = me.id == found.current.lead_id
        self.page(
            "project.html",
            p=shown,
            conditions=attached,
            is_lead=lead,
            needs_terms=in_team
            and declared.get(me.id) is not True
            and effective_state(found, today) in TERMS_OFFERED,
        )


def routes() -> list[tuple[str, type[Page]]]:
    return [
        (r"/approvals/?", Decisions),
        (r"/approvals/([a-z0-9-]+)/([a-z][a-z0-9_]{0,63})", Decide),
        (r"/projects/([a-z0-9-]+)", ProjectPage),
    ]
