"""The policy engine: the one function the whole kit calls to decide who may do what.

    decision = decide(session, "alex.analyst", PolicyAction.RUN_ANALYSIS, "supporting-families")
    decision.allowed, decision.reasons

Every refusal gives every reason at once, in plain words.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from projects.approvals import ApprovalDecision, approvals
from projects.models import Dataset, Declaration, Person, Project
from projects.prepared import prepared_extract
from projects.states import State
from projects.terms import terms_sha256
from tre.errors import Refused


class Role(StrEnum):
    """A person's roles in the kit (stored in person_roles)."""

    PROJECT_LEAD = "project_lead"
    ANALYST = "analyst"
    OUTPUT_CHECKER = "output_checker"
    APPROVER = "approver"
    OPERATOR = "operator"


class TeamRole(StrEnum):
    """A person's role in one project's team (stored in project_members)."""

    LEAD = "lead"
    ANALYST = "analyst"


class PolicyAction(StrEnum):
    """What the policy engine decides on: may this person do this (on this project) now?"""

    WORK_IN_WORKSPACE = "work_in_workspace"
    READ_EXTRACT = "read_extract"
    RUN_ANALYSIS = "run_analysis"
    REQUEST_RELEASE = "request_release"
    REVIEW_RELEASE = "review_release"
    RECEIVE_RELEASE = "receive_release"
    APPROVE_DATA_USE = "approve_data_use"
    REGISTER_PROJECT = "register_project"
    AMEND_PROJECT = "amend_project"
    SUBMIT_PROJECT = "submit_project"
    ADMINISTER_REGISTRY = "administer_registry"


DATA_ACTIONS = (
    PolicyAction.WORK_IN_WORKSPACE,
    PolicyAction.READ_EXTRACT,
    PolicyAction.RUN_ANALYSIS,
    PolicyAction.REQUEST_RELEASE,
)
ACTIONS = tuple(PolicyAction)
# the person's own role each action needs (receiving a release needs a place in the project's
# team, whatever the role)
ROLE_FOR = {
    PolicyAction.WORK_IN_WORKSPACE: Role.ANALYST,
    PolicyAction.READ_EXTRACT: Role.ANALYST,
    PolicyAction.RUN_ANALYSIS: Role.ANALYST,
    PolicyAction.REQUEST_RELEASE: Role.ANALYST,
    PolicyAction.REVIEW_RELEASE: Role.OUTPUT_CHECKER,
    PolicyAction.APPROVE_DATA_USE: Role.APPROVER,
    PolicyAction.REGISTER_PROJECT: Role.PROJECT_LEAD,
    PolicyAction.AMEND_PROJECT: Role.PROJECT_LEAD,
    PolicyAction.SUBMIT_PROJECT: Role.PROJECT_LEAD,
    PolicyAction.ADMINISTER_REGISTRY: Role.OPERATOR,
}
# the lead's own actions on a project (the registry, the web form and the CLI all ask for them)
LEAD_ACTIONS = (PolicyAction.AMEND_PROJECT, PolicyAction.SUBMIT_PROJECT)
REVIEWABLE = (State.ACTIVE, State.CLOSED, State.EXPIRED)
# the actions that need the project's data prepared (the extract cut for its current version)
NEEDS_PREPARED_DATA = (PolicyAction.READ_EXTRACT, PolicyAction.RUN_ANALYSIS)
# the states in which the operator may prepare (cut) a project's data: from approval, so that
# the data is ready on the start date
PREPARABLE = (State.APPROVED, State.ACTIVE)
# the states in which the pages offer the team the terms to accept: once the data controllers
# have approved (their conditions are part of the terms), never a draft or a submission
TERMS_OFFERED = (State.APPROVED, State.ACTIVE)
# what a refusal for terms not (or no longer) accepted tells the command line to do; the web
# pages offer their own terms page instead (:meth:`Decision.web_reasons`)
ACCEPT_TERMS_HINT = "(`tre project accept-terms {project}`)"


@dataclass(frozen=True)
class Decision:
    person: str
    action: str
    project: str | None
    at: date
    reasons: tuple[str, ...] = field(default_factory=tuple)

    @property
    def allowed(self) -> bool:
        return not self.reasons

    @property
    def needs_terms(self) -> bool:
        """Refused (among other reasons, perhaps) until the person accepts the terms."""
        hint = self._terms_hint()
        return any(hint in reason for reason in self.reasons)

    def web_reasons(self, terms: bool = True) -> list[str]:
        """The reasons as a web page says them: without the command-line hint, as the page
        offers its own action (the terms page) instead; without the terms at all when the
        page does not offer them yet (TERMS false: the project is not approved)."""
        hint = f" {self._terms_hint()}"
        return [reason.replace(hint, "") for reason in self.reasons if terms or hint not in reason]

    def message(self) -> str:
        where = f" on {self.project}" if self.project else ""
        if self.allowed:
            return f"allowed: {self.person} may {self.action.replace('_', ' ')}{where}"
        return (
            f"refused: {self.person} may not {self.action.replace('_', ' ')}{where}:\n  - "
            + "\n  - ".join(self.reasons)
        )

    def web_message(self) -> str:
        """The refusal as one sentence for a web page: what was refused, then every reason."""
        where = f" on project {self.project}" if self.project else ""
        return (
            f"{self.person} may not {self.action.replace('_', ' ')}{where}: "
            + "; ".join(self.web_reasons())
            + "."
        )

    def _terms_hint(self) -> str:
        return ACCEPT_TERMS_HINT.format(project=self.project)


def effective_state(found: Project, at: date | None = None) -> State:
    """The state on date AT (default today): approved becomes active from the start date; both
    expire after the end date. Every decision, page and command reads this, never the stored
    state, which the registry brings up to date when it next moves the project
    (:func:`projects.registry.settle`); nothing waits for `tre project refresh`."""
    at = at or date.today()
    state = State(found.state)
    version = found.current
    if state in (State.APPROVED, State.ACTIVE):
        if at > version.end:
            return State.EXPIRED
        return State.ACTIVE if at >= version.start else State.APPROVED
    return state


def decide(
    session: Session,
    username: str,
    action: PolicyAction | str,
    project_id: str | None = None,
    dataset: str | None = None,
    item: str | None = None,
    at: date | None = None,
    lead: str | None = None,
) -> Decision:
    """May USERNAME do ACTION (on PROJECT_ID; for a dataset, an item) on date AT? LEAD is the
    lead a registration or an amendment names: a lead registers and amends only projects they
    lead themselves."""
    at = at or date.today()
    reasons: list[str] = []

    def done() -> Decision:
        return Decision(username, action, project_id, at, tuple(reasons))

    if action not in ACTIONS:
        reasons.append(f"unknown action {action!r}; actions are {', '.join(ACTIONS)}")
        return done()
    who = session.scalar(select(Person).where(Person.username == username))
    if who is None:
        reasons.append(f"{username} is not registered")
        return done()
    if who.suspended:
        reasons.append(f"{username}'s account is suspended")
    needed = ROLE_FOR.get(PolicyAction(action))
    if needed is not None and needed not in who.role_names:
        reasons.append(
            f"{username} does not have the {needed} role that {action.replace('_', ' ')} needs"
        )
    if lead is not None and lead != username:
        reasons.append(
            f"{username} may {action.replace('_', ' ')} only as its lead: the registration "
            f"names {lead} as the lead (the lead named must do it)"
        )
    if action in (PolicyAction.REGISTER_PROJECT, PolicyAction.ADMINISTER_REGISTRY):
        return done()
    found = session.get(Project, project_id) if project_id else None
    if found is None:
        reasons.append(f"there is no project {project_id!r}")
        return done()
    version = found.current
    members = {(m.person_id, m.role) for m in version.members}
    in_team = any(person_id == who.id for person_id, _ in members)
    state = effective_state(found, at)

    if action in LEAD_ACTIONS:
        if version.lead_id != who.id:
            lead_person = session.get_one(Person, version.lead_id)
            reasons.append(
                f"only the project's lead ({lead_person.username}) can "
                f"{action.removesuffix('_project')} project {found.id}"
            )
        return done()
    if action in DATA_ACTIONS or action in (
        PolicyAction.REVIEW_RELEASE,
        PolicyAction.RECEIVE_RELEASE,
    ):
        valid = [a for a in who.accreditations if a.expires >= at]
        if not who.accreditations:
            reasons.append(f"{username} holds no accreditation")
        elif not valid:
            latest = max(a.expires for a in who.accreditations)
            reasons.append(f"{username}'s accreditation expired on {latest.isoformat()}")

    if action in DATA_ACTIONS or action == PolicyAction.RECEIVE_RELEASE:
        if action == PolicyAction.RECEIVE_RELEASE and not in_team:
            reasons.append(f"{username} is not a member of project {found.id}'s team")
        elif action != PolicyAction.RECEIVE_RELEASE and (who.id, TeamRole.ANALYST) not in members:
            reasons.append(
                f"{username} is not an analyst in project {found.id}'s team"
                if in_team
                else f"{username} is not a member of project {found.id}"
            )
        if state != State.ACTIVE:
            reasons.append(_not_active(found, state, at))
        declared = session.scalar(
            select(Declaration).where(
                Declaration.project_id == found.id,
                Declaration.version == found.version,
                Declaration.person_id == who.id,
            )
        )
        if in_team and declared is None:
            reasons.append(
                f"{username} has not accepted the terms of version {found.version} "
                + ACCEPT_TERMS_HINT.format(project=found.id)
            )
        elif (
            in_team
            and declared is not None
            and declared.terms_sha256 != terms_sha256(session, found)
        ):
            reasons.append(
                f"the terms of version {found.version} changed after {username} accepted them "
                "(the data controllers attached conditions): read and accept them again "
                + ACCEPT_TERMS_HINT.format(project=found.id)
            )
        if action == PolicyAction.RECEIVE_RELEASE:
            return done()
        data_reasons = _data_reasons(session, found, dataset, item)
        reasons.extend(data_reasons)
        if (
            action in NEEDS_PREPARED_DATA
            and state in PREPARABLE
            and not data_reasons
            and prepared_extract(session, found) is None
        ):
            reasons.append(WAITING_FOR_DATA.format(project=found.id))
    elif action == PolicyAction.REVIEW_RELEASE:
        if in_team:
            reasons.append(
                f"separation of duties: {username} is in project {found.id}'s team "
                "and cannot check its outputs"
            )
        if state not in REVIEWABLE:
            reasons.append(f"project {found.id} is {state}: its outputs cannot be reviewed now")
    elif action == PolicyAction.APPROVE_DATA_USE:
        if in_team:
            reasons.append(
                f"separation of duties: {username} is in project {found.id}'s team "
                "and cannot approve its data use"
            )
        if state != State.SUBMITTED:
            reasons.append(f"project {found.id} is {state}, not awaiting approval")
        requested = {i.dataset_id for i in version.items}
        if dataset is not None:
            ds = session.get(Dataset, dataset)
            if ds is None or dataset not in requested:
                reasons.append(f"project {found.id} does not request dataset {dataset}")
            elif ds.controller_id != who.organisation_id:
                reasons.append(
                    f"{username} approves for {who.organisation.code}, not for "
                    f"{ds.controller.code}, the controller of {dataset}"
                )
        elif not any(
            session.get_one(Dataset, d).controller_id == who.organisation_id for d in requested
        ):
            reasons.append(
                f"{username} approves for {who.organisation.code}, which controls none of the "
                f"datasets project {found.id} requests"
            )
    return done()


WAITING_FOR_DATA = "project {project} is approved; waiting for the operator to prepare the data"


def status(session: Session, found: Project, at: date | None = None) -> str:
    """The project's state in words, as every page and command shows it: the effective state,
    and for an approved project what it waits for (its start date, or its data)."""
    at = at or date.today()
    state = effective_state(found, at)
    if state == State.APPROVED:
        return f"approved; starts on {found.current.start.isoformat()}"
    if state == State.ACTIVE:
        if prepared_extract(session, found) is None:
            return "approved; waiting for the operator to prepare the data"
        return f"active until {found.current.end.isoformat()}"
    if state == State.SUBMITTED:
        return "submitted; awaiting the data controllers' decisions"
    if state == State.EXPIRED:
        return f"expired on {found.current.end.isoformat()}"
    if state in (State.SUSPENDED, State.CLOSED) and found.state_reason:
        return f"{state.value}: {found.state_reason}"
    if state == State.DRAFT and found.state_reason:
        return f"draft; returned by a data controller: {found.state_reason}"
    return state.value


def _not_active(found: Project, state: State, at: date) -> str:
    version = found.current
    if state == State.APPROVED or (state == State.ACTIVE and at < version.start):
        return f"project {found.id} is approved but starts on {version.start.isoformat()}"
    if state == State.EXPIRED:
        return f"project {found.id} ended on {version.end.isoformat()}"
    if state == State.SUSPENDED:
        return f"project {found.id} is suspended: {found.state_reason}"
    if state == State.SUBMITTED:
        return (
            f"project {found.id} is submitted: version {found.version} is awaiting its data "
            "controllers' approval"
        )
    return f"project {found.id} is {state}, not active"


def _data_reasons(
    session: Session, found: Project, dataset: str | None, item: str | None
) -> list[str]:
    reasons = []
    requested: dict[str, set[str]] = {}
    for row in found.current.items:
        requested.setdefault(row.dataset_id, set()).add(row.item)
    decided = approvals(session, found)
    targets = [dataset] if dataset else sorted(requested)
    for dataset_id in targets:
        if dataset_id not in requested:
            reasons.append(f"project {found.id} did not request dataset {dataset_id}")
            continue
        decision = decided.get(dataset_id)
        if decision is None or decision.decision != ApprovalDecision.APPROVED:
            ds = session.get_one(Dataset, dataset_id)
            reasons.append(
                f"the controller of {dataset_id} ({ds.controller.code}) has not "
                f"approved version {found.version}"
            )
        if item is not None and item not in requested[dataset_id]:
            reasons.append(f"item {item} of {dataset_id} was not requested by {found.id}")
    return reasons


def extract_reasons(session: Session, project_id: str, at: date | None = None) -> list[str]:
    """Why the operator may not (yet) cut PROJECT's extract: it must be approved (before or
    after its start date, so that the data is ready when it starts) and not ended, suspended or
    closed, and every controller whose data it requests must have approved its current
    version."""
    at = at or date.today()
    found = session.get(Project, project_id)
    if found is None:
        return [f"there is no project {project_id!r}"]
    reasons = []
    state = effective_state(found, at)
    if state not in PREPARABLE:
        reasons.append(_not_active(found, state, at))
    reasons.extend(_data_reasons(session, found, None, None))
    return reasons


def check(
    session: Session,
    username: str,
    action: PolicyAction | str,
    project_id: str | None = None,
    **options,
) -> Decision:
    """Like decide, but raise Refused (with every reason) when the action is not allowed."""
    decision = decide(session, username, action, project_id, **options)
    if not decision.allowed:
        raise Refused(decision.message())
    return decision


def can(
    session: Session,
    username: str,
    action: PolicyAction | str,
    project_id: str | None = None,
    **options,
) -> bool:
    return decide(session, username, action, project_id, **options).allowed
