"""The registry's workflow: every change to organisations, people, datasets and projects.

Each function takes the caller's database session and the acting username, checks everything
first (so that bad input changes nothing), writes, and records one audit event in the same
transaction. The CLI, the web pages and the demo all call these functions.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from projects.amendments import AmendmentKind, diff
from projects.approvals import ApprovalDecision, approvals, requested_datasets
from projects.errors import RegistryError
from projects.events import EVENT_OF_MOVE, RegistryEvent
from projects.models import (
    Accreditation,
    Approval,
    DataItem,
    Dataset,
    Declaration,
    LegalGateway,
    Organisation,
    Person,
    PersonRole,
    PreparedExtract,
    Project,
    ProjectMember,
    ProjectVersion,
    RequestedItem,
)
from projects.policy import PolicyAction, Role, TeamRole, check, effective_state, status
from projects.quality import Flag, check_submittable, flags
from projects.spec import DatasetSchema, ProjectSpec, check_slug
from projects.states import LIFECYCLE, Actor, ProjectAction, State
from projects.terms import TERMS_VERSION, terms_sha256
from sdc.errors import SdcError
from sdc.policy import Policy
from tre import audit
from tre.audit import canonical_json, utc_now
from tre.settings import RegistrationSettings
from tre.states import MoveNotAllowed
from tre.templating import human_date

ORGANISATION_TYPES = ("council", "police", "fire", "nhs", "school", "voluntary", "other")
ROLES = tuple(Role)


# ---------------------------------------------------------------------------------------------
# look-ups


def organisation(session: Session, code: str) -> Organisation:
    found = session.scalar(select(Organisation).where(Organisation.code == code))
    if found is None:
        raise RegistryError(f"no organisation with code {code!r}; add it with `tre org add`")
    return found


def person(session: Session, username: str) -> Person:
    found = session.scalar(select(Person).where(Person.username == username))
    if found is None:
        raise RegistryError(f"no person with username {username!r}; add them with `tre person add`")
    return found


def dataset(session: Session, dataset_id: str) -> Dataset:
    found = session.get(Dataset, dataset_id)
    if found is None:
        raise RegistryError(
            f"no dataset {dataset_id!r}; register it with `tre dataset register SCHEMA`"
        )
    return found


def project(session: Session, project_id: str) -> Project:
    found = session.get(Project, project_id)
    if found is None:
        raise RegistryError(f"no project {project_id!r}; `tre project list` shows the projects")
    return found


def projects(session: Session) -> list[Project]:
    return list(session.scalars(select(Project).order_by(Project.id)))


def people(session: Session) -> list[Person]:
    return list(session.scalars(select(Person).order_by(Person.username)))


def organisations(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.code)))


def datasets(session: Session) -> list[Dataset]:
    return list(session.scalars(select(Dataset).order_by(Dataset.id)))


def gateways(session: Session) -> dict[str, LegalGateway]:
    return {g.code: g for g in session.scalars(select(LegalGateway))}


# ---------------------------------------------------------------------------------------------
# organisations, people, datasets, gateways


def check_administers(session: Session, actor: str) -> None:
    """Refuse ACTOR the registry's administration (organisations, people, accreditations,
    gateways, datasets) unless they hold the operator role. An actor who is no registered person
    is the instance's own operator: the CLI names the machine's operator so (the instance's
    folder is its owner's alone), and the web's people are always registered."""
    if session.scalar(select(Person).where(Person.username == actor)) is not None:
        check(session, actor, PolicyAction.ADMINISTER_REGISTRY)


def add_organisation(session: Session, actor: str, code: str, name: str, kind: str) -> Organisation:
    check_administers(session, actor)
    if kind not in ORGANISATION_TYPES:
        raise RegistryError(
            f"organisation type {kind!r} is not one of {', '.join(ORGANISATION_TYPES)}"
        )
    if not code.strip() or not name.strip():
        raise RegistryError("an organisation needs a code and a name")
    if session.scalar(select(Organisation).where(Organisation.code == code)):
        raise RegistryError(
            f"an organisation with code {code!r} already exists; nothing was changed"
        )
    found = Organisation(code=code, name=name, type=kind)
    session.add(found)
    session.flush()
    audit.record(
        session,
        actor,
        RegistryEvent.ORGANISATION_ADD,
        "organisation",
        code,
        details={"name": name, "type": kind},
    )
    return found


def add_person(
    session: Session,
    actor: str,
    username: str,
    name: str,
    email: str,
    organisation_code: str,
    roles: list[str],
) -> Person:
    check_administers(session, actor)
    unknown = [r for r in roles if r not in ROLES]
    if unknown:
        raise RegistryError(f"unknown role {', '.join(unknown)}; roles are {', '.join(ROLES)}")
    if not roles:
        raise RegistryError("a person needs at least one role")
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise RegistryError(f"username {username!r} may use letters, digits, '.', '-' and '_'")
    if "@" not in email:
        raise RegistryError(f"{email!r} is not an email address")
    if session.scalar(select(Person).where(Person.username == username)):
        raise RegistryError(f"a person with username {username!r} already exists; nothing changed")
    org = organisation(session, organisation_code)
    found = Person(
        username=username,
        name=name,
        email=email,
        organisation=org,
        roles=[PersonRole(role=r) for r in sorted(set(roles))],
    )
    session.add(found)
    session.flush()
    audit.record(
        session,
        actor,
        RegistryEvent.PERSON_ADD,
        "person",
        username,
        details={"organisation": organisation_code, "roles": sorted(set(roles))},
    )
    return found


def accredit(
    session: Session, actor: str, username: str, scheme: str, reference: str, expires: date
) -> Accreditation:
    check_administers(session, actor)
    if not scheme or not reference:
        raise RegistryError("an accreditation needs a scheme and a reference")
    who = person(session, username)
    record = Accreditation(person_id=who.id, scheme=scheme, reference=reference, expires=expires)
    who.accreditations.append(record)
    session.flush()
    audit.record(
        session,
        actor,
        RegistryEvent.PERSON_ACCREDIT,
        "person",
        username,
        details={"scheme": scheme, "reference": reference, "expires": str(expires)},
    )
    return record


def set_suspended(session: Session, actor: str, username: str, suspended: bool) -> None:
    check_administers(session, actor)
    who = person(session, username)
    who.suspended = suspended
    audit.record(
        session,
        actor,
        RegistryEvent.PERSON_SUSPEND if suspended else RegistryEvent.PERSON_REINSTATE,
        "person",
        username,
    )


def add_gateway(
    session: Session, actor: str, code: str, name: str, kind: str, description: str = ""
) -> LegalGateway:
    check_administers(session, actor)
    if session.get(LegalGateway, code):
        raise RegistryError(f"the gateway {code!r} is already in the catalogue")
    found = LegalGateway(code=code, name=name, kind=kind, description=description)
    session.add(found)
    audit.record(session, actor, RegistryEvent.GATEWAY_ADD, "gateway", code, details={"name": name})
    return found


def register_dataset(
    session: Session, actor: str, schema: DatasetSchema, source: str, schema_text: bytes
) -> Dataset:
    check_administers(session, actor)
    info = schema.dataset
    if session.get(Dataset, info["id"]):
        raise RegistryError(f"dataset {info['id']!r} is already registered; nothing was changed")
    controller = organisation(session, info["controller"])
    names = [f.name for f in schema.fields]
    if len(set(names)) != len(names):
        raise RegistryError(f"{source}: a field name appears twice")
    found = Dataset(
        id=info["id"],
        title=info["title"],
        description=info.get("description", ""),
        controller=controller,
        schema_ref=source,
        schema_sha256=hashlib.sha256(schema_text).hexdigest(),
        items=[
            DataItem(name=f.name, position=i, classification=f.role, description=f.description)
            for i, f in enumerate(schema.fields)
        ],
    )
    session.add(found)
    session.flush()
    audit.record(
        session,
        actor,
        RegistryEvent.DATASET_REGISTER,
        "dataset",
        found.id,
        details={
            "controller": controller.code,
            "items": len(names),
            "schema_sha256": found.schema_sha256,
        },
    )
    return found


# ---------------------------------------------------------------------------------------------
# projects


def validate_spec(session: Session, spec: ProjectSpec, operator_policy: Policy) -> list[str]:
    """Everything wrong with SPEC against the registry, as sentences (empty: valid)."""
    problems: list[str] = []
    lead = session.scalar(select(Person).where(Person.username == spec.lead))
    if lead is None:
        problems.append(f"lead: no person {spec.lead!r}")
    elif Role.PROJECT_LEAD not in lead.role_names:
        problems.append(f"lead: {spec.lead} does not have the project_lead role")
    seen = set()
    for i, member in enumerate(spec.team):
        who = session.scalar(select(Person).where(Person.username == member.person))
        if who is None:
            problems.append(f"team.{i}.person: no person {member.person!r}")
        elif member.role == TeamRole.ANALYST and Role.ANALYST not in who.role_names:
            problems.append(f"team.{i}.person: {member.person} does not have the analyst role")
        if (member.person, member.role) in seen:
            problems.append(f"team.{i}: {member.person} is listed twice as {member.role}")
        seen.add((member.person, member.role))
    catalogue = gateways(session)
    basis = spec.legal_basis
    for field, code, kinds in (
        [
            ("legal_basis.article_6", basis.article_6, {"lawful basis"}),
            ("legal_basis.confidentiality", basis.confidentiality, {"confidentiality"}),
        ]
        + (
            [("legal_basis.article_9", basis.article_9, {"special category"})]
            if basis.article_9
            else []
        )
        + [
            (f"legal_basis.gateways.{i}", code, {"statutory gateway"})
            for i, code in enumerate(basis.gateways)
        ]
    ):
        gateway = catalogue.get(code)
        if gateway is None:
            problems.append(
                f"{field}: {code!r} is not in the legal gateway catalogue (`tre gateway list`)"
            )
        elif gateway.kind not in kinds:
            problems.append(f"{field}: {code!r} is a {gateway.kind}, not a {' or '.join(kinds)}")
    for i, requested in enumerate(spec.data):
        found = session.get(Dataset, requested.dataset)
        if found is None:
            problems.append(f"data.{i}.dataset: no dataset {requested.dataset!r}")
            continue
        items = {item.name: item for item in found.items}
        names = [r.item for r in requested.items]
        if len(set(names)) != len(names):
            problems.append(f"data.{i}.items: an item is requested twice")
        for j, wanted in enumerate(requested.items):
            item = items.get(wanted.item)
            if item is None:
                problems.append(
                    f"data.{i}.items.{j}.item: {requested.dataset} has no item {wanted.item!r}"
                )
            elif item.classification == "direct_identifier":
                problems.append(
                    f"data.{i}.items.{j}.item: {wanted.item} is a direct identifier; extracts "
                    "never hold identifiers (people are linked by the kit's pseudonyms)"
                )
    if len({d.dataset for d in spec.data}) != len(spec.data):
        problems.append("data: a dataset is listed twice; list all its items under one entry")
    try:
        operator_policy.stricter(**spec.disclosure)
    except (SdcError, TypeError) as exc:
        problems.append(f"disclosure: {exc}")
    return problems


def past_end(session: Session, spec: ProjectSpec, today: date) -> list[str]:
    """SPEC's end date, when it is before TODAY and SPEC is a new registration or an amendment
    that changes the project's dates, as a problem (a project wholly in the past would be
    approved for nothing); an existing project's dates, unchanged, stay as they are."""
    if spec.end >= today:
        return []
    found = session.get(Project, spec.id)
    if found is not None:
        before = found.current.spec
        if (before.get("start"), before.get("end")) == (str(spec.start), str(spec.end)):
            return []
    return [
        f"end: the end date must be today or later ({human_date(spec.end)} has passed): "
        "a project's period cannot lie wholly in the past"
    ]


def refuse_past_end(session: Session, spec: ProjectSpec, today: date) -> None:
    """RegistryError when SPEC's period would lie wholly in the past (:func:`past_end`): the
    web's registration pages and the command line refuse it alike."""
    past = past_end(session, spec, today)
    if past:
        raise RegistryError(f"project {spec.id}: nothing was changed:\n  " + "\n  ".join(past))


def _check(session: Session, spec: ProjectSpec, policy: Policy) -> None:
    problems = validate_spec(session, spec, policy)
    if problems:
        raise RegistryError(f"project {spec.id}: nothing was changed:\n  " + "\n  ".join(problems))


def _version(session: Session, spec: ProjectSpec, number: int, actor: str) -> ProjectVersion:
    content = spec.model_dump(mode="json")
    version = ProjectVersion(
        version=number,
        spec=content,
        sha256=hashlib.sha256(canonical_json(content).encode()).hexdigest(),
        created_at=utc_now(),
        created_by=actor,
        lead_id=person(session, spec.lead).id,
        start=spec.start,
        end=spec.end,
    )
    version.members = [
        ProjectMember(person_id=person(session, spec.lead).id, role=TeamRole.LEAD)
    ] + [
        ProjectMember(person_id=person(session, m.person).id, role=m.role)
        for m in spec.team
        if not (m.person == spec.lead and m.role == TeamRole.LEAD)
    ]
    version.items = [
        RequestedItem(dataset_id=d.dataset, item=i.item, justification=i.justification)
        for d in spec.data
        for i in d.items
    ]
    return version


def register_project(
    session: Session, actor: str, spec: ProjectSpec, operator_policy: Policy
) -> Project:
    check(session, actor, PolicyAction.REGISTER_PROJECT, lead=spec.lead)
    check_slug(spec.id)
    if session.get(Project, spec.id):
        raise RegistryError(
            f"a project with id {spec.id!r} already exists; nothing was changed "
            "(change it with `tre project amend`)"
        )
    _check(session, spec, operator_policy)
    found = Project(id=spec.id, state=State.DRAFT, version=1, state_reason="")
    found.versions.append(_version(session, spec, 1, actor))
    session.add(found)
    session.flush()
    audit.record(
        session,
        actor,
        RegistryEvent.PROJECT_REGISTER,
        "project",
        spec.id,
        project=spec.id,
        details={"version": 1, "sha256": found.current.sha256},
    )
    return found


def _move(
    session: Session,
    actor: str,
    found: Project,
    action: ProjectAction,
    reason: str = "",
    details: dict[str, Any] | None = None,
    at: date | None = None,
) -> None:
    """Move FOUND by ACTION, from its effective state: the date rules' own move is recorded
    first if the stored state has not caught up (:func:`settle`)."""
    if LIFECYCLE.owner(State(found.state)) == Actor.SYSTEM and action not in DATE_MOVES:
        settle(session, found, at)
    try:
        rule = LIFECYCLE.transition(State(found.state), action, f"project {found.id}")
    except MoveNotAllowed as exc:
        raise RegistryError(str(exc)) from None
    before = found.state
    found.state = rule.target
    found.state_reason = reason
    audit.record(
        session,
        actor,
        EVENT_OF_MOVE[action],
        "project",
        found.id,
        project=found.id,
        details={
            "from": before,
            "to": rule.target.value,
            "version": found.version,
            **({"reason": reason} if reason else {}),
            **(details or {}),
        },
    )


def _requires_lead(session: Session, found: Project, actor: str, what: str) -> None:
    lead = session.get_one(Person, found.current.lead_id)
    if actor != lead.username:
        raise RegistryError(f"only the project's lead ({lead.username}) can {what} it")


def submit(
    session: Session, actor: str, project_id: str, registration: RegistrationSettings
) -> Project:
    """The lead submits the current version to the controllers whose data it asks for; refused
    while it raises a purpose-quality flag the operator's REGISTRATION settings say blocks."""
    found = project(session, project_id)
    check(session, actor, PolicyAction.SUBMIT_PROJECT, project_id)
    if LIFECYCLE.can(State(found.state), ProjectAction.SUBMIT):
        check_submittable(session, project_id, found.current.spec, registration)
    _move(session, actor, found, ProjectAction.SUBMIT)
    return found


def decide_data_use(
    session: Session, actor: str, project_id: str, dataset_id: str, approve: bool, text: str = ""
) -> Project:
    """A controller's approver approves (with conditions) or refuses (with a reason)."""
    found = project(session, project_id)
    if found.state != State.SUBMITTED:
        raise RegistryError(
            f"project {project_id} is {found.state}; only a submitted project's "
            "data use can be decided"
        )
    if dataset_id not in requested_datasets(found):
        raise RegistryError(f"project {project_id} does not request {dataset_id}")
    if not approve and not text.strip():
        raise RegistryError("a refusal needs a reason (--reason)")
    check(session, actor, PolicyAction.APPROVE_DATA_USE, project_id, dataset=dataset_id)
    approver = person(session, actor)
    session.add(
        Approval(
            project_id=project_id,
            version=found.version,
            dataset_id=dataset_id,
            decision=ApprovalDecision.APPROVED if approve else ApprovalDecision.REFUSED,
            text=text,
            approver_id=approver.id,
            at=utc_now(),
        )
    )
    session.flush()
    audit.record(
        session,
        actor,
        RegistryEvent.PROJECT_DATA_USE_APPROVE
        if approve
        else RegistryEvent.PROJECT_DATA_USE_REFUSE,
        "project",
        project_id,
        project=project_id,
        details={"dataset": dataset_id, "version": found.version, "text": text},
    )
    if not approve:
        _move(session, actor, found, ProjectAction.REFUSE, reason=f"{dataset_id}: {text}")
    elif all(
        a.decision == ApprovalDecision.APPROVED for a in approvals(session, found).values()
    ) and set(approvals(session, found)) >= set(requested_datasets(found)):
        _move(session, actor, found, ProjectAction.APPROVE)
    return found


def amend(
    session: Session,
    actor: str,
    project_id: str,
    spec: ProjectSpec,
    operator_policy: Policy,
    at: date | None = None,
    registration: RegistrationSettings | None = None,
) -> Project:
    """A new version from SPEC (the lead only).

    A change that widens the project (:mod:`projects.amendments` says which changes do) goes
    back to the controllers concerned: their approvals of the previous version do not carry
    over, and an approved or active project is submitted again, so that nobody may use it until
    they approve the new version. A narrowing or descriptive change takes effect at once and
    keeps every approval. The audit event records the amendment's kind and every field changed,
    before and after."""
    found = project(session, project_id)
    if spec.id != project_id:
        raise RegistryError(f"the file describes project {spec.id!r}, not {project_id!r}")
    check(session, actor, PolicyAction.AMEND_PROJECT, project_id, lead=spec.lead)
    _check(session, spec, operator_policy)
    settle(session, found, at)
    amendment = diff(found.current.spec, spec.model_dump(mode="json"), operator_policy)
    if not amendment.changes:  # a save that changes nothing makes no version
        return found
    requested = sorted(spec.requested())
    again = set(amendment.needs_approval(requested))
    action = (
        ProjectAction.AMEND_WIDENING
        if amendment.kind == AmendmentKind.WIDENING
        else ProjectAction.AMEND
    )
    try:  # refuse before anything is written
        rule = LIFECYCLE.transition(State(found.state), action, f"project {found.id}")
    except MoveNotAllowed as exc:
        raise RegistryError(str(exc)) from None
    if rule.target != State.DRAFT:
        # a project past its draft is before the controllers or in use: an amendment may not
        # bring in a purpose-quality flag that would have stopped its submission (REGISTRATION:
        # the operator's settings; their defaults when not given); flags the version amended
        # already raised do not stop a change that mends something else
        _no_new_blocking_flags(session, found, spec, registration or RegistrationSettings())
    previous = approvals(session, found)
    number = found.version + 1
    found.versions.append(_version(session, spec, number, actor))
    found.version = number
    session.flush()
    for dataset_id, decision in previous.items():
        if (
            dataset_id in requested
            and dataset_id not in again
            and decision.decision == ApprovalDecision.APPROVED
        ):
            session.add(
                Approval(
                    project_id=project_id,
                    version=number,
                    dataset_id=dataset_id,
                    decision=ApprovalDecision.APPROVED,
                    text=decision.text,
                    approver_id=decision.approver_id,
                    at=decision.at,
                    carried_from=decision.version,
                )
            )
    _move(session, actor, found, action, details=amendment.details(requested), at=at)
    return found


def new_blocking_flags(
    session: Session, found: Project, spec: ProjectSpec, registration: RegistrationSettings
) -> list[Flag]:
    """The purpose-quality flags SPEC raises that stop a submission (the operator's
    REGISTRATION settings) and that FOUND's current version does not raise already."""
    before = {
        (f.kind, f.field)
        for f in flags(session, found.current.spec, registration)
        if f.kind in registration.block_submission
    }
    return [
        f
        for f in flags(session, spec.model_dump(mode="json"), registration)
        if f.kind in registration.block_submission and (f.kind, f.field) not in before
    ]


def _no_new_blocking_flags(
    session: Session, found: Project, spec: ProjectSpec, registration: RegistrationSettings
) -> None:
    raised = new_blocking_flags(session, found, spec, registration)
    if raised:
        raise RegistryError(
            f"project {found.id} is {found.state}: this amendment cannot be made until these "
            "are mended (the operator's [registration] settings; nothing was changed):\n  - "
            + "\n  - ".join(f"{f.field}: {f.message}" for f in raised)
        )


def amendment_consequences(
    session: Session,
    project_id: str,
    spec: ProjectSpec,
    operator_policy: Policy,
    registration: RegistrationSettings | None = None,
) -> dict[str, Any]:
    """What amending PROJECT_ID to SPEC would do, before it is done: every change (before,
    after, whether it widens), which controllers must decide again, whether the project goes
    back to them, who must accept the terms again (every member of the new version's team:
    a declaration holds for one version), and the preview's digest (:func:`preview_digest`)."""
    found = project(session, project_id)
    amendment = diff(found.current.spec, spec.model_dump(mode="json"), operator_policy)
    requested = sorted(spec.requested())
    again = amendment.needs_approval(requested) if amendment.widened else []
    state = effective_state(found)
    controllers = sorted({dataset(session, d).controller.name for d in again})
    team = sorted(
        {m.person for m in spec.team} | {spec.lead},
    )
    shown = {
        "kind": amendment.kind.value,
        "changes": [c.as_dict() for c in amendment.changes],
        "decide_again": [
            {"dataset": d, "controller": dataset(session, d).controller.name} for d in again
        ],
        "controllers": controllers,
        "resubmitted": bool(again) and state in (State.SUBMITTED, State.APPROVED, State.ACTIVE),
        "state": state.value,
        "accept_again": team if amendment.changes else [],
        "version": found.version + (1 if amendment.changes else 0),
        # past its draft, an amendment that brings in a flag that stops a submission is refused
        "refused_for": []
        if state == State.DRAFT or not amendment.changes
        else [
            f"{f.field}: {f.message}"
            for f in new_blocking_flags(
                session, found, spec, registration or RegistrationSettings()
            )
        ],
    }
    return shown | {"digest": preview_digest(found, spec, shown)}


def preview_digest(found: Project, spec: ProjectSpec, consequences: dict[str, Any]) -> str:
    """What an amendment's preview showed, as a digest: the new registration, the version it
    amends and every consequence shown (the project's state, who decides again, whether it goes
    back to them, who accepts the terms again). The lead's confirmation carries it; a
    confirmation whose registration, project or consequences are no longer what was previewed
    is refused (the consequences shown would not be the consequences made)."""
    shown = {
        "amends": found.id,
        "version": found.version,
        "spec": spec.model_dump(mode="json"),
        "consequences": consequences,
    }
    return hashlib.sha256(canonical_json(shown).encode()).hexdigest()


def amendments(session: Session, found: Project) -> dict[int, dict[str, Any]]:
    """The amendments that made each version after the first (its kind, the fields widened,
    whose approval it needs, every change before and after), as their audit events recorded
    them, by version."""
    return {
        details["version"]: details
        for event in audit.events(session, project=found.id)
        if event.action == RegistryEvent.PROJECT_AMEND and event.object_id == found.id
        for details in [json.loads(event.details)]
    }


def suspend(
    session: Session, actor: str, project_id: str, reason: str, at: date | None = None
) -> Project:
    """Suspend a project that is active on AT (default today), whether or not its stored state
    has caught up with its start date."""
    _requires_role(session, actor, Role.OPERATOR, "suspend a project")
    if not reason.strip():
        raise RegistryError("a suspension needs a reason (--reason)")
    found = project(session, project_id)
    _move(session, actor, found, ProjectAction.SUSPEND, reason=reason, at=at)
    return found


def reinstate(session: Session, actor: str, project_id: str, at: date | None = None) -> Project:
    _requires_role(session, actor, Role.OPERATOR, "reinstate a project")
    found = project(session, project_id)
    _move(session, actor, found, ProjectAction.REINSTATE, at=at)
    return found


def close(
    session: Session, actor: str, project_id: str, reason: str = "", at: date | None = None
) -> Project:
    found = project(session, project_id)
    if found.state == State.SUSPENDED:
        _requires_role(session, actor, Role.OPERATOR, "close a suspended project")
    else:
        _requires_lead(session, found, actor, "close")
    _move(session, actor, found, ProjectAction.CLOSE, reason=reason, at=at)
    return found


def _requires_role(session: Session, actor: str, role: Role, what: str) -> None:
    who = session.scalar(select(Person).where(Person.username == actor))
    if who is None or role not in who.role_names:
        raise RegistryError(f"only a person with the {role} role can {what}")


DATE_MOVES = (ProjectAction.ACTIVATE, ProjectAction.EXPIRE)


def settle(session: Session, found: Project, at: date | None = None) -> Project:
    """Record the move the dates have already made (approved -> active at the start date,
    -> expired after the end date), so that the stored state is the effective one
    (:func:`projects.policy.effective_state`, which every decision reads whether or not this
    ran). Idempotent: a project whose stored state is effective is left as it is."""
    at = at or date.today()
    stored, effective = State(found.state), effective_state(found, at)
    if effective == stored or LIFECYCLE.owner(stored) != Actor.SYSTEM:
        return found
    if effective == State.EXPIRED:
        _move(session, "system", found, ProjectAction.EXPIRE, details={"on": str(at)})
    elif effective == State.ACTIVE:
        _move(session, "system", found, ProjectAction.ACTIVATE, details={"on": str(at)})
    return found


def refresh(session: Session, project_id: str, at: date | None = None) -> Project:
    """Bring PROJECT's stored state up to its dates (:func:`settle`): maintenance only; every
    decision reads the effective state without it."""
    return settle(session, project(session, project_id), at)


def refresh_all(session: Session, at: date | None = None) -> None:
    for found in projects(session):
        settle(session, found, at)


def record_prepared_data(
    session: Session, actor: str, project_id: str, version: int, files: list[dict[str, Any]]
) -> PreparedExtract:
    """The operator prepared VERSION's data (``linkage`` calls this when it has cut the
    extract): from now on its analysts may run analyses. Audited by the caller's own event
    (``data.extract``), in the same transaction."""
    found = project(session, project_id)
    if version not in {v.version for v in found.versions}:
        raise RegistryError(f"project {project_id} has no version {version}")
    row = PreparedExtract(
        project_id=project_id, version=version, prepared_by=actor, at=utc_now(), files=files
    )
    session.add(row)
    session.flush()
    return row


# ---------------------------------------------------------------------------------------------
# terms and declarations


def project_policy(found: Project, operator_policy: Policy) -> Policy:
    """The disclosure policy of PROJECT's outputs: the operator's, made stricter where the
    project asked."""
    return operator_policy.stricter(**found.current.spec.get("disclosure", {}))


def accept_terms(session: Session, actor: str, project_id: str) -> Declaration:
    found = project(session, project_id)
    who = person(session, actor)
    if who.id not in {m.person_id for m in found.current.members}:
        raise RegistryError(f"{actor} is not in project {project_id}'s team")
    existing = session.scalar(
        select(Declaration).where(
            Declaration.project_id == project_id,
            Declaration.version == found.version,
            Declaration.person_id == who.id,
        )
    )
    accepted = terms_sha256(session, found)
    if existing and existing.terms_sha256 == accepted:
        return existing
    if existing:  # the terms changed since (a controller's conditions): accepted again
        declaration = existing
        declaration.terms_version, declaration.terms_sha256 = TERMS_VERSION, accepted
        declaration.at = utc_now()
    else:
        declaration = Declaration(
            project_id=project_id,
            version=found.version,
            person_id=who.id,
            terms_version=TERMS_VERSION,
            terms_sha256=accepted,
            at=utc_now(),
        )
        session.add(declaration)
    session.flush()
    audit.record(
        session,
        actor,
        RegistryEvent.PROJECT_ACCEPT_TERMS,
        "project",
        project_id,
        project=project_id,
        details={
            "version": found.version,
            "terms_version": TERMS_VERSION,
            "terms_sha256": declaration.terms_sha256,
        },
    )
    return declaration


def describe(session: Session, found: Project) -> dict[str, Any]:
    """The project as a plain dict: its current version, state, approvals and declarations, and
    the amendment that made the current version (None for the first)."""
    decided = approvals(session, found)
    by_dataset = {}
    for dataset_id in requested_datasets(found):
        row = decided.get(dataset_id)
        ds = dataset(session, dataset_id)
        by_dataset[dataset_id] = {
            "controller": ds.controller.code,
            "decision": row.decision if row else "awaiting",
            "text": row.text if row else "",
            "carried_from_version": row.carried_from if row else None,
        }
    declared = session.scalars(
        select(Declaration).where(
            Declaration.project_id == found.id, Declaration.version == found.version
        )
    )
    amended = amendments(session, found)
    return {
        "id": found.id,
        "state": effective_state(found).value,
        "status": status(session, found),
        "state_reason": found.state_reason,
        "version": found.version,
        "versions": [
            {
                "version": v.version,
                "sha256": v.sha256,
                "created_at": v.created_at,
                "created_by": v.created_by,
                "amendment": amended[v.version]["kind"] if v.version in amended else None,
            }
            for v in found.versions
        ],
        "amendment": amended.get(found.version),
        "spec": found.current.spec,
        "team": [{"person": m.person.username, "role": m.role} for m in found.current.members],
        "approvals": by_dataset,
        "declarations": sorted(session.get_one(Person, d.person_id).username for d in declared),
    }


def dump(value: Any) -> str:
    return json.dumps(value, indent=2, default=str)
