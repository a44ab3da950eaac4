"""The demo's registry step: the partnership's organisations and people, the data asset register
from the agreed schemas, and the demo project taken through approval by every controller."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

from output_checks import release_dates
from projects import registry
from projects.policy import PolicyAction, decide, effective_state
from projects.register import publish
from projects.spec import EXAMPLE_PROJECT, load_project, load_schema
from tre.instance import Instance

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = ROOT / "linkage" / "schemas"
PROJECT_FILE = EXAMPLE_PROJECT

ORGANISATIONS = (
    ("TRETON-COUNCIL", "Treton Borough Council", "council"),
    ("TRETON-POLICE", "Treton Police", "police"),
    ("TRETON-FIRE", "Treton Fire and Rescue Service", "fire"),
    ("TRETON-NHS", "Treton Hospitals NHS Trust", "nhs"),
    ("TRETON-SCHOOLS", "Treton Schools Partnership", "school"),
    ("TRETON-TRE", "Treton Data Partnership (operator of the environment)", "other"),
)
# username, name, organisation, roles, accredited
PEOPLE = (
    ("sam.lead", "Sam Lead", "TRETON-COUNCIL", ["project_lead"], False),
    ("alex.analyst", "Alex Analyst", "TRETON-COUNCIL", ["analyst"], True),
    ("bea.analyst", "Bea Analyst", "TRETON-POLICE", ["analyst"], True),
    ("chris.checker", "Chris Checker", "TRETON-TRE", ["output_checker"], True),
    ("dana.checker", "Dana Checker", "TRETON-TRE", ["output_checker"], True),
    ("ash.approver", "Ash Approver", "TRETON-COUNCIL", ["approver"], False),
    ("pat.approver", "Pat Approver", "TRETON-POLICE", ["approver"], False),
    ("fin.approver", "Fin Approver", "TRETON-FIRE", ["approver"], False),
    ("nia.approver", "Nia Approver", "TRETON-NHS", ["approver"], False),
    ("sol.approver", "Sol Approver", "TRETON-SCHOOLS", ["approver"], False),
    ("ops.operator", "Ops Operator", "TRETON-TRE", ["operator"], False),
    ("eve.outsider", "Eve Outsider", "TRETON-FIRE", ["analyst"], True),
)
APPROVER_OF = {code: username for username, _, code, roles, _ in PEOPLE if "approver" in roles}
CONDITIONS = {"ae_attendances": "No A&E output below LSOA level; review after one year."}


@dataclass
class RegistryDemo:
    organisations: int
    people: int
    datasets: int
    project: str
    state: str
    checks: list[str]
    register: Path


def populate(instance: Instance, actor: str, today: date) -> None:
    """The organisations, people (accredited where they need to be) and datasets."""
    with instance.db.session() as session:
        for code, name, kind in ORGANISATIONS:
            registry.add_organisation(session, actor, code, name, kind)
        for number, (username, name, code, roles, accredited) in enumerate(PEOPLE):
            registry.add_person(
                session, actor, username, name, f"{username}@treton.example", code, roles
            )
            if accredited:
                registry.accredit(
                    session,
                    actor,
                    username,
                    "Treton Accredited Researcher",
                    f"TAR-{10001 + number}",
                    date(today.year + 2, 3, 31),
                )
        for path in sorted(SCHEMAS.glob("*.json")):
            registry.register_dataset(
                session, actor, load_schema(path), str(path.relative_to(ROOT)), path.read_bytes()
            )


def approve_project(instance: Instance, path: Path = PROJECT_FILE) -> str:
    """Register, submit and approve the project of PATH; its team accepts the terms. It is
    active from its start date on (no refresh is needed)."""
    spec = load_project(path)
    with instance.db.session() as session:
        registry.register_project(session, spec.lead, spec, instance.settings.policy)
        registry.submit(session, spec.lead, spec.id, instance.settings.registration)
        found = registry.project(session, spec.id)
        for dataset_id in registry.requested_datasets(found):
            controller = registry.dataset(session, dataset_id).controller.code
            registry.decide_data_use(
                session,
                APPROVER_OF[controller],
                spec.id,
                dataset_id,
                True,
                CONDITIONS.get(dataset_id, ""),
            )
        for member in spec.team:
            registry.accept_terms(session, member.person, spec.id)
    return spec.id


def run(instance: Instance, out: Path, actor: str, today: date | None = None) -> RegistryDemo:
    today = today or date.today()
    populate(instance, actor, today)
    project_id = approve_project(instance)
    with instance.db.session() as session:
        state = effective_state(registry.project(session, project_id), today).value
        checks = [
            decide(session, who, action, project_id, at=today).message()
            for who, action in (
                ("alex.analyst", PolicyAction.RUN_ANALYSIS),
                ("chris.checker", PolicyAction.REVIEW_RELEASE),
                ("chris.checker", PolicyAction.RUN_ANALYSIS),
                ("eve.outsider", PolicyAction.WORK_IN_WORKSPACE),
            )
        ]
        counts = (
            len(registry.organisations(session)),
            len(registry.people(session)),
            len(registry.datasets(session)),
        )
        paths = publish(
            session,
            out,
            instance.settings.instance.name,
            instance.settings.transparency.show_person_names,
            today,
            releases=release_dates,
        )
    return RegistryDemo(*counts, project_id, state, checks, paths["html"])
