"""The airlock's workflow: requests, automatic checks, blinded two-checker review, release.

The only way anything leaves tre-kit. An analyst requests files from the project's ``outputs/``;
submitting copies them into the airlock's store and runs the automatic checks; independent output
checkers vote per file; an approved request is released atomically into the release area with
manifests, a ledger entry per table and a Five Safes RO-Crate.

This module is the business logic, and reads like the workflow: each public function is one
step a person takes, in one transaction. It decides nothing on its own and touches no table:

- :mod:`output_checks.data` reads and writes the airlock's tables (the only module that does);
- :mod:`output_checks.permissions` says who may (``check_…`` raises, ``can_…`` answers);
- :mod:`output_checks.policies` says what the request's state allows;
- :mod:`output_checks.history` makes and audits every move of a request;
- :mod:`output_checks.store` holds the airlock's hashed copies of the files;
- :mod:`output_checks.checking` runs the automatic checks; :mod:`output_checks.release` releases;
- :mod:`output_checks.enums` names every state, vote, decision, outcome and event.

The CLI, the checkers' pages, the tre service and the demo call only this module; what they
import from it is named here (``__all__``), wherever it is defined.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from notebooks import runs
from output_checks import data, notify, permissions, policies, replay, store
from output_checks.checking import run_checks
from output_checks.data import ReleaseRequest, RequestFile
from output_checks.enums import (
    PLAIN_WORDS,
    AirlockEvent,
    CheckOutcome,
    FileDecision,
    RequestAction,
    RequestState,
    VoteChoice,
    plain,
)
from output_checks.errors import (
    AirlockError,
    AuditedRefusal,
    FailedFileRefused,
    NotReleasedToYou,
    RefusedFile,
    TamperedFile,
)
from output_checks.history import audited, move, move_by_airlock
from output_checks.permissions import check_can_approve, check_can_release, check_can_review
from output_checks.policies import file_decision
from output_checks.release import Release, release, release_dates
from output_checks.states import UNDER_REVIEW
from projects import registry
from projects.errors import RegistryError
from projects.policy import PolicyAction
from projects.policy import check as policy_check
from sdc.policy import EVIDENCE_SUFFIX
from tre import audit
from tre.audit import utc_now
from tre.errors import Refused
from tre.folders import ProjectFolders
from tre.instance import Instance

__all__ = [
    "DEFAULT_GROUP",
    "AirlockError",
    "FileGroup",
    "AuditedRefusal",
    "FailedFileRefused",
    "NotReleasedToYou",
    "Permitted",
    "RefusedFile",
    "Release",
    "ServedFile",
    "TamperedFile",
    "add",
    "add_groups",
    "check_can_approve",
    "check_can_release",
    "check_can_review",
    "check_is_author",
    "comment",
    "download",
    "file_decision",
    "plain",
    "permitted",
    "queue",
    "reject",
    "replace_file",
    "release",
    "release_dates",
    "released",
    "request",
    "request_groups",
    "requests",
    "resolve_output",
    "return_request",
    "review",
    "run_checks",
    "served",
    "show",
    "stats",
    "submit",
    "submit_review",
    "withdraw",
    "withdraw_file",
]

DEFAULT_GROUP = "outputs"


# ---------------------------------------------------------------------------------------------
# Paths: only a project's own outputs, of a run that succeeded


def resolve_output(
    instance: Instance, session: Session, project_id: str, file: str | Path, author: str
) -> tuple[str, str]:
    """The path of FILE relative to the project's outputs folder and its run, or a refusal:
    only the files of a succeeded run of AUTHOR's own in the project may be requested."""
    folders = ProjectFolders.of(instance, project_id)
    base = folders.outputs.resolve()
    given = Path(file)

    def refused(reason: str) -> RefusedFile:
        return RefusedFile(f"{file}: {reason.removesuffix('.')}.", str(file))

    if ".." in given.parts:
        raise refused("'..' is not allowed in a requested path")
    candidate = given if given.is_absolute() else base / given
    if candidate.is_symlink() or any(p.is_symlink() for p in candidate.parents if p != p.parent):
        raise refused("a symbolic link cannot be requested (request the file itself)")
    try:
        relative = candidate.resolve().relative_to(base)
    except ValueError:
        extract = folders.data.resolve()
        if str(candidate.resolve()).startswith(str(extract)):
            raise refused("the project's extract can never be released") from None
        raise refused(
            f"only files in project {project_id}'s outputs folder ({base}) can be requested"
        ) from None
    if not candidate.is_file():
        raise refused("no such file in the outputs folder")
    run_id = runs.run_of_output(relative)
    if run_id is None:
        raise refused("request the files of a run (outputs/RUN/data/FILE)")
    if relative.name.endswith(EVIDENCE_SUFFIX):
        raise refused(
            "evidence files stay in the airlock (they hold unprotected counts); request "
            "the output itself"
        )
    run = runs.run_record(session, run_id)
    if run is None:
        raise refused(f"{run_id} is not a recorded run")
    if run.project_id != project_id:
        raise refused(f"run {run_id} belongs to another project")
    if run.person != author:
        raise refused(
            f"run {run_id} is {run.person}'s run, not {author}'s; a request may name only the "
            "outputs of its author's own runs."
        )
    if run.status != runs.SUCCEEDED:
        raise refused(f"run {run_id} {run.status}; nothing of a failed run can be requested")
    if runs.is_record(relative.name):
        raise refused(
            "a run's notebook and records stay inside (request its HTML report "
            "without code, or its outputs)"
        )
    return relative.as_posix(), run_id


# ---------------------------------------------------------------------------------------------
# Requests (the author's side)


@dataclass(frozen=True)
class FileGroup:
    """Files requested together, with the author's context (what they are) and controls (what
    was done to make them safe)."""

    name: str
    files: list[str | Path]
    context: str = ""
    controls: str = ""
    supporting: bool = False


def request(
    instance: Instance,
    project_id: str,
    author: str,
    files: list[str | Path],
    group: str = DEFAULT_GROUP,
    context: str = "",
    controls: str = "",
    supporting: bool = False,
    at: date | None = None,
    recipients: list[str] | None = None,
) -> str:
    """A new request (PENDING) holding FILES in GROUP, whose released files RECIPIENTS (the
    author when none are named) alone may download; returns its id."""
    return request_groups(
        instance,
        project_id,
        author,
        [FileGroup(group, files, context, controls, supporting)],
        at=at,
        recipients=recipients,
    )


def request_groups(
    instance: Instance,
    project_id: str,
    author: str,
    groups: list[FileGroup],
    at: date | None = None,
    recipients: list[str] | None = None,
) -> str:
    """A new request (PENDING) holding the files of GROUPS, each group with its own context and
    controls, made whole or not at all; returns its id."""
    request_id = f"req-{utc_now()[:10].replace('-', '')}-{secrets.token_hex(3)}"
    with audited(instance, author, request_id, project_id), instance.db.session() as session:
        policy_check(session, author, PolicyAction.REQUEST_RELEASE, project_id, at=at)
        if not any(g.files for g in groups):
            raise AirlockError("name at least one file to request")
        names = [g.name for g in groups]
        if len(set(names)) != len(names):
            raise AirlockError("each group of a request needs a name of its own")
        found = data.new_request(session, request_id, project_id, author, utc_now())
        people = _recipients(session, project_id, recipients or [author], at=at)
        data.set_recipients(session, found, people)
        audit.record(
            session,
            author,
            AirlockEvent.CREATE,
            "release_request",
            request_id,
            project=project_id,
            details={"recipients": people},
        )
        _add_groups(instance, session, found, author, groups)
    return request_id


def _recipients(
    session: Session, project_id: str, named: list[str], at: date | None = None
) -> list[str]:
    """NAMED, each a registered person (by user name) whom the policy allows to receive the
    project's released files, or a refusal naming each person refused and why."""
    people = sorted({n.strip() for n in named if n.strip()})
    unknown = []
    for person in people:
        try:
            registry.person(session, person)
        except RegistryError:
            unknown.append(person)
    if unknown:
        raise AirlockError(
            f"{', '.join(unknown)}: not registered people; name each recipient by their user "
            "name (`tre person list`)"
        )
    if not people:
        raise AirlockError("name at least one recipient (a registered person's user name)")
    try:
        permissions.check_can_receive(session, project_id, people, at=at)
    except Refused as exc:
        raise AirlockError(f"{exc}; name members of project {project_id}'s team") from None
    return people


def add(
    instance: Instance,
    request_id: str,
    author: str,
    files: list[str | Path],
    group: str = DEFAULT_GROUP,
    context: str = "",
    controls: str = "",
    supporting: bool = False,
) -> None:
    """Add FILES to GROUP of the author's pending or returned request (a file added again is
    replaced by its current bytes)."""
    add_groups(
        instance, request_id, author, [FileGroup(group, files, context, controls, supporting)]
    )


def add_groups(instance: Instance, request_id: str, author: str, groups: list[FileGroup]) -> None:
    """Add the files of GROUPS to the author's pending or returned request, all or none."""
    with audited(instance, author, request_id), instance.db.session() as session:
        found = data.get_request(session, request_id, lock=True)
        if not any(g.files for g in groups):
            raise AirlockError("name at least one file to add")
        _add_groups(instance, session, found, author, groups)


def _add_groups(
    instance: Instance,
    session: Session,
    found: ReleaseRequest,
    author: str,
    groups: list[FileGroup],
) -> None:
    for g in groups:
        if g.files:
            _add(
                instance,
                session,
                found,
                author,
                g.files,
                g.name,
                g.context,
                g.controls,
                g.supporting,
            )


def _add(
    instance: Instance,
    session: Session,
    found: ReleaseRequest,
    author: str,
    files: list[str | Path],
    group: str,
    context: str,
    controls: str,
    supporting: bool,
) -> list[RequestFile]:
    """FILES added to GROUP of FOUND (refused unless each is a file of AUTHOR's own succeeded
    run in the project); the request's rows of them."""
    permissions.check_is_author(found, author)
    policies.check_can_edit(found)
    if not files:
        raise AirlockError("name at least one file to request")
    known = {g.name: g for g in found.groups}
    if group not in known:
        data.add_group(found, group, context, controls)
    else:
        known[group].context = context or known[group].context
        known[group].controls = controls or known[group].controls
    present = {f.path: f for f in found.files}
    base = ProjectFolders.of(instance, found.project_id).outputs
    touched = []
    for file in files:
        relative, run_id = resolve_output(instance, session, found.project_id, file, author)
        path = base / relative
        digest = store.digest_regular(path)
        if digest is None:
            raise RefusedFile(f"{file}: only a regular file can be requested.", relative)
        if relative in present:
            existing = present[relative]
            if existing.sha256 != digest:  # changed since: copied again at the next submission
                store.remove_copy(instance, found, relative)
            existing.withdrawn, existing.sha256, existing.group = False, digest, group
            existing.supporting, existing.bytes = supporting, path.stat().st_size
            touched.append(existing)
            continue
        touched.append(
            data.add_file(found, group, relative, run_id, digest, path.stat().st_size, supporting)
        )
        audit.record(
            session,
            author,
            AirlockEvent.ADD_FILE,
            "release_request",
            found.id,
            project=found.project_id,
            details={"file": relative, "sha256": digest, "supporting": supporting},
        )
    return touched


def check_is_author(instance: Instance, request_id: str, person: str) -> None:
    """Refuse anyone but the request's author (the answer to a request is theirs alone)."""
    with instance.db.session() as session:
        permissions.check_is_author(data.get_request(session, request_id), person)


def withdraw_file(instance: Instance, request_id: str, author: str, file: str) -> None:
    """Take FILE out of the author's pending or returned request."""
    with instance.db.session() as session:
        found = data.get_request(session, request_id, lock=True)
        permissions.check_is_author(found, author)
        policies.check_can_edit(found)
        _withdraw_file(session, found, author, _file(found, file))


def _withdraw_file(session: Session, found: ReleaseRequest, author: str, target: RequestFile):
    target.withdrawn = True
    audit.record(
        session,
        author,
        AirlockEvent.WITHDRAW_FILE,
        "release_request",
        found.id,
        project=found.project_id,
        details={"file": target.path, "turn": found.turn},
    )


def replace_file(
    instance: Instance, request_id: str, author: str, file: str, by: str | Path
) -> None:
    """Put BY (a file of one of the author's own succeeded runs, as :func:`add` takes it) in
    place of FILE of the author's pending or returned request, in FILE's group: a new version,
    copied and checked again by the airlock at the next submission, whose votes start afresh
    (a vote binds to a file's bytes). FILE is withdrawn."""
    with audited(instance, author, request_id), instance.db.session() as session:
        found = data.get_request(session, request_id, lock=True)
        permissions.check_is_author(found, author)
        policies.check_can_edit(found)
        target = _file(found, file)
        old = (target.path, target.sha256)
        (replacement,) = _add(
            instance, session, found, author, [by], target.group, "", "", target.supporting
        )
        if (replacement.path, replacement.sha256) == old:
            raise AirlockError(
                f"{replacement.path} is the file the request holds already: replace it with a "
                "file of a newer run (run the notebook again with provenance)"
            )
        if replacement is not target:
            _withdraw_file(session, found, author, target)
        audit.record(
            session,
            author,
            AirlockEvent.REPLACE_FILE,
            "release_request",
            found.id,
            project=found.project_id,
            details={"file": old[0], "by": replacement.path, "sha256": replacement.sha256},
        )


def withdraw(instance: Instance, request_id: str, author: str) -> None:
    """The author withdraws the whole request (before a checker has reviewed it)."""
    with instance.db.session() as session:
        found = data.get_request(session, request_id, lock=True)
        permissions.check_is_author(found, author)
        move(session, found, RequestAction.WITHDRAW, author)


def submit(instance: Instance, request_id: str, author: str, at: date | None = None) -> dict:
    """Submit (or resubmit) the request: the airlock copies every file into its own store and
    the automatic checks run now, by the airlock, on those copies."""
    with (
        notify.outbox(instance) as box,
        audited(instance, author, request_id),
        instance.db.session() as session,
    ):
        found = data.get_request(session, request_id, lock=True)
        permissions.check_is_author(found, author)
        policy_check(session, author, PolicyAction.REQUEST_RELEASE, found.project_id, at=at)
        live = [f for f in found.files if not f.withdrawn]
        if not any(not f.supporting for f in live):
            raise AirlockError(f"request {request_id} has no file to release")
        returned = found.state == RequestState.RETURNED.value
        if returned:
            found.turn += 1
        run_checks(instance, session, found)
        move(session, found, RequestAction.RESUBMIT if returned else RequestAction.SUBMIT, author)
        found.submitted = found.submitted or utc_now()
        outcomes = {f.path: f.check_outcome for f in found.files if not f.withdrawn}
        box.tell(
            session,
            notify.checkers_of(session, found),
            found,
            "submitted",
            f"{author} submitted release request {found.id} (turn {found.turn}) for checking.",
            author,
        )
    return outcomes


# ---------------------------------------------------------------------------------------------
# Review (the checkers' side)


@dataclass
class ServedFile:
    """A requested file as the airlock holds it, verified: for a checker's eyes only."""

    path: str
    data: bytes
    checks: list[dict[str, Any]]
    evidence: dict[str, Any] | None = field(default=None)


def served(instance: Instance, request_id: str, viewer: str, path: str) -> ServedFile:
    """The airlock's copy of PATH in the request, for VIEWER, who must be a checker who may
    review it: before release nobody else sees a requested file, its author included. Every
    file served is audited; a copy whose sha-256 changed is refused (and audited)."""
    with audited(instance, viewer, request_id), instance.db.session() as session:
        found = data.get_request(session, request_id)
        item = next((f for f in found.files if f.path == path and not f.withdrawn), None)
        if item is None:
            raise AirlockError(f"request {request_id} has no file {path}")
        permissions.check_can_see_file(session, found, viewer, path)
        copy = store.copy_of(instance, found, item.path)
        content = store.verify(found, item, copy)
        # the airlock's own evidence when its replay verified the file; else the analyst's claim
        # (the evidence check beside it says it is not verified)
        evidence = replay.trusted_evidence(list(item.checks))
        if evidence is None and item.evidence_sha256:
            sidecar = Path(str(copy) + EVIDENCE_SUFFIX)
            evidence = json.loads(sidecar.read_text(encoding="utf-8"))
        audit.record(
            session,
            viewer,
            AirlockEvent.SERVE_FILE,
            "release_request",
            found.id,
            project=found.project_id,
            details={"file": item.path, "sha256": item.sha256, "turn": found.turn},
        )
        return ServedFile(item.path, content, list(item.checks), evidence)


def review(
    instance: Instance,
    request_id: str,
    checker: str,
    file: str,
    vote: str,
    comment: str = "",
    private: bool = False,
    sha256: str | None = None,
    override: str = "",
) -> str:
    """CHECKER's draft vote on FILE (approve or changes); returns the request's state, which a
    draft never changes: the votes count once the checker submits their review
    (:func:`submit_review`). A vote may be changed until then, never after.

    The vote binds to the sha-256 of the airlock's copy, verified now (SHA256, when given, is
    the hash the checker was shown: a different one is refused). A file whose automatic checks
    failed is approved only where the operator allows it (``[airlock]
    release_failed_with_override``), and then only with OVERRIDE, the checker's reason."""
    if vote not in tuple(VoteChoice):
        raise AirlockError(f"a vote is {VoteChoice.APPROVE} or {VoteChoice.CHANGES}, not {vote!r}")
    with audited(instance, checker, request_id), instance.db.session() as session:
        found = data.get_request(session, request_id, lock=True)
        permissions.check_can_vote(session, found, checker)
        _check_not_submitted(session, found, checker)
        target = _file(found, file)
        policies.check_votable(target)
        if sha256 is not None and sha256 != target.sha256:
            raise AirlockError(
                f"{target.path} is not the file you were shown (sha-256 {sha256[:12]}…, the "
                f"request holds {target.sha256[:12]}…); read it again before voting"
            )
        store.verify(found, target, store.copy_of(instance, found, target.path))
        override = override.strip() if vote == VoteChoice.APPROVE else ""
        if vote == VoteChoice.APPROVE:
            permissions.check_can_approve(instance, target, override)
        data.record_vote(session, found, target, checker, vote, override, utc_now())
        if comment:
            data.add_comment(session, found, checker, comment, private, utc_now(), target.id)
        audit.record(
            session,
            checker,
            AirlockEvent.VOTE,
            "release_request",
            found.id,
            project=found.project_id,
            details={
                "file": target.path,
                "vote": vote,
                "turn": found.turn,
                "sha256": target.sha256,
                "draft": True,
            }
            | ({"override": override} if override else {}),
        )
        return found.state


def _check_not_submitted(session: Session, found: ReleaseRequest, checker: str) -> None:
    submitted = data.reviews_of(session, found).get(checker)
    if submitted is not None:
        raise AirlockError(
            f"{checker} submitted their review of request {found.id} (turn {found.turn}) on "
            f"{submitted[:16].replace('T', ' ')}; a review is submitted once, and its votes are "
            "final"
        )


def submit_review(instance: Instance, request_id: str, checker: str) -> str:
    """CHECKER submits their review of this turn, once, having voted on every file (and said, in
    a comment on the file, what should change wherever they asked for changes): only now do
    their votes count toward the independent checkers the request needs. Returns the
    request's state after it (reviewed, approved… when theirs completes the review)."""
    with (
        notify.outbox(instance) as box,
        audited(instance, checker, request_id),
        instance.db.session() as session,
    ):
        found = data.get_request(session, request_id, lock=True)
        permissions.check_can_vote(session, found, checker)
        _check_not_submitted(session, found, checker)
        mine = data.drafts_of(session, found, checker)
        missing = [
            f.path for f in found.files if not f.withdrawn and not f.supporting and f.id not in mine
        ]
        if missing:
            raise AirlockError(
                f"vote on every file before submitting your review of request {found.id}: "
                f"{len(missing)} still without your vote ({', '.join(missing)})"
            )
        said = {
            c.file_id
            for c in data.comments_of(session, found)
            if c.author == checker and c.turn == found.turn
        }
        unexplained = [
            f.path
            for f in found.files
            if f.id in mine and mine[f.id].vote == VoteChoice.CHANGES and f.id not in said
        ]
        if unexplained:
            raise AirlockError(
                "say what should change: comment on each file you ask changes of before "
                f"submitting your review ({', '.join(unexplained)})"
            )
        data.add_review(session, found, checker, utc_now())
        found.first_review = found.first_review or utc_now()
        audit.record(
            session,
            checker,
            AirlockEvent.SUBMIT_REVIEW,
            "release_request",
            found.id,
            project=found.project_id,
            details={
                "turn": found.turn,
                "votes": {f.path: mine[f.id].vote for f in found.files if f.id in mine},
            },
        )
        _advance(instance, session, found, box)
        return found.state


def _file(found: ReleaseRequest, file: str) -> RequestFile:
    """The one live file of FOUND named FILE (its path, or its name when that is unique)."""
    live = [f for f in found.files if not f.withdrawn]
    matches = [f for f in live if f.path == file or Path(f.path).name == file]
    if len(matches) != 1:
        names = ", ".join(f.path for f in live)
        raise AirlockError(
            f"request {found.id} has {'no' if not matches else 'more than one'} file {file}; "
            f"its files are {names}"
        )
    return matches[0]


def _advance(
    instance: Instance, session: Session, found: ReleaseRequest, box: notify.Outbox
) -> None:
    """The moves the airlock makes after a review is submitted: reviewed (partly, or by as many
    checkers as required) once checkers have submitted reviews of every file; approved when every
    file's decision is (the author and the checkers are told)."""
    required = instance.settings.airlock.checkers
    votes = data.votes_of(session, found)
    voted = [f for f in found.files if not f.withdrawn and not f.supporting]
    complete_by: Counter[str] = Counter()
    for item in voted:
        for vote in votes.get(item.id, []):
            complete_by[vote.checker] += 1
    full = [c for c, n in complete_by.items() if n == len(voted)]
    state = RequestState(found.state)
    if state == RequestState.SUBMITTED and full:
        by_all = len(full) >= required
        move_by_airlock(
            session, found, RequestAction.REVIEW if by_all else RequestAction.REVIEW_PARTLY
        )
    if RequestState(found.state) == RequestState.PARTIALLY_REVIEWED and len(full) >= required:
        move_by_airlock(session, found, RequestAction.REVIEW)
    if RequestState(found.state) == RequestState.REVIEWED:
        decisions = [file_decision([v.vote for v in votes.get(i.id, [])], required) for i in voted]
        if all(d == FileDecision.APPROVED for d in decisions):
            move_by_airlock(session, found, RequestAction.APPROVE)
            box.tell(
                session,
                [found.author, *notify.checkers_of(session, found)],
                found,
                "approved",
                f"Release request {found.id} was approved by {required} checkers: it is ready "
                "to release.",
                "airlock",
            )


def return_request(instance: Instance, request_id: str, checker: str, reason: str) -> None:
    """Back to the author, with REASON, for changes: their next submission is a new turn."""
    _decide(instance, request_id, checker, RequestAction.RETURN, reason)


def reject(instance: Instance, request_id: str, checker: str, reason: str) -> None:
    """Refuse the request for good, with REASON."""
    _decide(instance, request_id, checker, RequestAction.REJECT, reason)


def _decide(
    instance: Instance, request_id: str, checker: str, action: RequestAction, reason: str
) -> None:
    if not reason.strip():
        raise AirlockError(f"say why: a request is {action}ed with a reason")
    with notify.outbox(instance) as box, instance.db.session() as session:
        found = data.get_request(session, request_id, lock=True)
        permissions.check_can_review(session, found, checker)
        move(session, found, action, checker, reason=reason)
        found.reason = reason
        data.add_comment(session, found, checker, f"{action}ed: {reason}", False, utc_now())
        box.tell(
            session,
            [found.author, *notify.checkers_of(session, found)],
            found,
            f"{action}ed",
            f"{checker} {action}ed release request {found.id}: {reason}",
            checker,
        )


def comment(
    instance: Instance,
    request_id: str,
    person: str,
    text: str,
    private: bool = False,
    file: str | None = None,
) -> None:
    """PERSON's comment on the request (or on its FILE): the author's are public (their reply
    to the checkers); a checker's may be private. The checkers are told of the author's (that
    they replied, never what: the reply is read on the request's page)."""
    if not text.strip():
        raise AirlockError("write the comment first: it was empty")
    with notify.outbox(instance) as box, instance.db.session() as session:
        found = data.get_request(session, request_id)
        permissions.check_can_comment(session, found, person, private)
        on = _file(found, file).id if file else None
        data.add_comment(session, found, person, text.strip(), private, utc_now(), on)
        if permissions.is_author(found, person):
            box.tell(
                session,
                notify.checkers_of(session, found),
                found,
                "replied to",
                # never the reply itself: workspace-written text stays behind the sign-in
                f"{person} replied on release request {found.id}; read it on the request page.",
                person,
            )


# ---------------------------------------------------------------------------------------------
# Reading: the queue, a request, every request, statistics


def queue(instance: Instance, checker: str, now: datetime | None = None) -> list[dict[str, Any]]:
    """Requests under review that CHECKER may review, oldest first: how long each has waited,
    its files (to release, and supporting), what the automatic checks said of them, how far
    CHECKER's own review is, and how many reviews are submitted of the number required."""
    out = []
    with instance.db.session() as session:
        for found in data.requests_in(session, UNDER_REVIEW):
            if not permissions.can_review(session, found, checker):
                continue
            live = [f for f in found.files if not f.withdrawn]
            voted = [f for f in live if not f.supporting]
            mine = data.drafts_of(session, found, checker)
            reviews = data.reviews_of(session, found)
            outcomes = Counter(plain("check", f.check_outcome) for f in voted)
            out.append(
                {
                    "id": found.id,
                    "project": found.project_id,
                    "author": found.author,
                    "state": found.state,
                    "state_words": plain("state", found.state),
                    "turn": found.turn,
                    "submitted": found.submitted,
                    "waiting": waited(found.submitted, now),
                    "files": len(voted),
                    "supporting": len(live) - len(voted),
                    "automatic": dict(sorted(outcomes.items())),
                    "my_votes": len([f for f in voted if f.id in mine]),
                    "my_review": reviews.get(checker),
                    "reviews": len(reviews),
                    "required": instance.settings.airlock.checkers,
                }
            )
    return out


def waited(since: str | None, now: datetime | None = None) -> str:
    """How long since SINCE (an ISO time), in words: "3 days", "5 hours", "under an hour"."""
    if not since:
        return "not submitted"
    now = now or datetime.fromisoformat(utc_now())
    hours = (now - datetime.fromisoformat(since)).total_seconds() / 3600
    if hours < 1:
        return "under an hour"
    if hours < 48:
        return f"{int(hours)} hour{'s' if int(hours) != 1 else ''}"
    return f"{int(hours // 24)} days"


def show(instance: Instance, request_id: str, viewer: str) -> dict[str, Any]:
    """The request as VIEWER may see it: votes blinded until the required number are in;
    private comments for checkers only; checks and evidence for checkers and the author."""
    required = instance.settings.airlock.checkers
    with instance.db.session() as session:
        found = data.get_request(session, request_id)
        is_author = permissions.is_author(found, viewer)
        if not is_author:
            permissions.check_can_review(session, found, viewer)
        votes = data.votes_of(session, found)
        mine = {} if is_author else data.drafts_of(session, found, viewer)
        reviews = data.reviews_of(session, found)
        groups = {g.name: {"context": g.context, "controls": g.controls} for g in found.groups}
        files = []
        for item in found.files:
            if item.withdrawn:
                continue
            cast = votes.get(item.id, [])
            decision = file_decision([v.vote for v in cast], required)
            visible = len(cast) >= required
            shown = [
                {"checker": v.checker, "vote": v.vote}
                for v in cast
                if visible and not is_author or v.checker == viewer
            ]
            own = mine.get(item.id)
            decided = decision if visible else FileDecision.INCOMPLETE
            files.append(
                {
                    "path": item.path,
                    "group": item.group,
                    "supporting": item.supporting,
                    "sha256": item.sha256,
                    "bytes": item.bytes,
                    "automatic": item.check_outcome,
                    "automatic_words": plain("check", item.check_outcome),
                    "checks": item.checks,
                    "votes": shown,
                    "votes_in": len(cast),
                    "decision": decided,
                    "decision_words": plain("decision", decided),
                    "my_vote": own.vote if own is not None else None,
                    "my_vote_words": plain("vote", own.vote) if own is not None else None,
                }
            )
        comments = [
            {
                "author": c.author,
                "text": c.text,
                "private": c.private,
                "turn": c.turn,
                "file": next((f.path for f in found.files if f.id == c.file_id), None),
                "at": c.at,
            }
            for c in data.comments_of(session, found)
            if not (c.private and is_author)
        ]
        return {
            "id": found.id,
            "project": found.project_id,
            "author": found.author,
            "state": found.state,
            "state_words": plain("state", found.state),
            "turn": found.turn,
            "reason": found.reason,
            "created": found.created,
            "submitted": found.submitted,
            "released": found.released,
            "required_checkers": required,
            "reviews_in": len(reviews),
            "my_review": reviews.get(viewer),
            "recipients": data.recipients_of(session, found),
            "groups": groups,
            "files": files,
            "comments": comments,
        }


def requests(instance: Instance, project_id: str | None = None) -> list[dict[str, Any]]:
    """Every request (of PROJECT_ID, when given), oldest first, in brief."""
    with instance.db.session() as session:
        return [
            {
                "id": r.id,
                "project": r.project_id,
                "author": r.author,
                "state": r.state,
                "state_words": plain("state", r.state),
                "turn": r.turn,
                "files": len([f for f in r.files if not f.withdrawn]),
            }
            for r in data.requests_of(session, project_id)
        ]


# ---------------------------------------------------------------------------------------------
# Statistics and what a person may do now


def stats(instance: Instance) -> dict[str, Any]:
    """The reviewers' statistics: time to review and to release, turns, how often checkers
    disagree and how often the automatic checks agreed with them, why requests were rejected."""

    def hours(a: str | None, b: str | None) -> float | None:
        if not a or not b:
            return None
        return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 3600

    required = instance.settings.airlock.checkers
    with instance.db.session() as session:
        found = data.requests_of(session)
        to_review = [h for r in found if (h := hours(r.submitted, r.first_review)) is not None]
        to_release = [h for r in found if (h := hours(r.submitted, r.released)) is not None]
        decisions = matched = conflicted = 0
        for r in found:
            votes = data.votes_of(session, r)
            for item in r.files:
                cast = [v.vote for v in votes.get(item.id, [])]
                if len(cast) < required or item.supporting:
                    continue
                decisions += 1
                decision = file_decision(cast, required)
                conflicted += len(set(cast)) > 1
                automatic_ok = item.check_outcome == CheckOutcome.PASS
                matched += (decision == FileDecision.APPROVED) == automatic_ok
        reasons = Counter(r.reason for r in found if r.state == RequestState.REJECTED.value)
        return {
            "requests": len(found),
            "by_state": dict(Counter(r.state for r in found)),
            "median_hours_to_first_review": _median(to_review),
            "median_hours_to_release": _median(to_release),
            "mean_turns": round(sum(r.turn for r in found) / len(found), 2) if found else None,
            "files_decided": decisions,
            "checker_disagreement_rate": round(conflicted / decisions, 3) if decisions else None,
            "automatic_matched_checkers_rate": round(matched / decisions, 3) if decisions else None,
            "rejection_reasons": dict(reasons),
        }


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    values = sorted(values)
    middle = len(values) // 2
    value = values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2
    return round(value, 3)


@dataclass(frozen=True)
class Permitted:
    """What a person may do on a request now: the buttons its page shows them."""

    vote: bool
    submit_review: bool
    release: bool


def permitted(instance: Instance, request_id: str, person: str) -> Permitted:
    """What PERSON may do on the request now (:mod:`output_checks.permissions`' answers)."""
    with instance.db.session() as session:
        found = data.get_request(session, request_id)
        reviewing = permissions.can_vote(session, found, person) and (
            person not in data.reviews_of(session, found)
        )
        return Permitted(
            vote=reviewing,
            submit_review=reviewing,
            release=permissions.can_release_request(session, found, person),
        )


# ---------------------------------------------------------------------------------------------
# After release: the released page and the recipients' downloads


def released(instance: Instance, request_id: str, viewer: str) -> dict[str, Any]:
    """The release as VIEWER may see it (its recipients, its author, its checkers): who
    receives it, its files (with their sha-256 and size) and its RO-Crate's record of checks
    and reviews. Anyone else, or a request not released, gets the same refusal."""
    with audited(instance, viewer, request_id), instance.db.session() as session:
        found = data.find_request(session, request_id)
        recipients = data.recipients_of(session, found) if found is not None else []
        if (
            found is None
            or found.state != RequestState.RELEASED.value
            or not (
                viewer in recipients
                or permissions.is_author(found, viewer)
                or permissions.can_review(session, found, viewer)
            )
        ):
            raise _not_released(request_id)
        folder = ProjectFolders.of(instance, found.project_id).releases / found.id / "data"
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        crate = json.loads((folder / "ro-crate-metadata.json").read_text(encoding="utf-8"))
        return {
            "id": found.id,
            "project": found.project_id,
            "author": found.author,
            "released": found.released,
            "released_by": manifest.get("released_by", ""),
            "recipients": recipients,
            "may_download": viewer in recipients,
            "files": [
                f | {"bytes": (folder / f["file"]).stat().st_size} for f in manifest["files"]
            ],
            "crate": [
                {
                    "name": e.get("name", e["@id"]),
                    "result": _result_words(e.get("result", "")),
                    "description": e.get("description", ""),
                }
                for e in crate.get("@graph", [])
                if e.get("@type") in ("AssessAction", "CreateAction")
            ],
        }


def _result_words(result: str) -> str:
    """A result the crate records (a check's outcome, a checker's vote) in plain words."""
    for kind in ("check", "vote"):
        if result in PLAIN_WORDS[kind]:
            return plain(kind, result)
    return result


def download(instance: Instance, request_id: str, person: str, name: str) -> bytes:
    """The released file NAME of the request, for PERSON, one of its recipients: verified
    against the release's manifest, and audited. Anyone else, any other name (the manifest and
    the crate are files of the release too), or a request not released: the same refusal, so
    nothing is learned of what exists."""
    with audited(instance, person, request_id), instance.db.session() as session:
        found = data.find_request(session, request_id)
        if (
            found is None
            or found.state != RequestState.RELEASED.value
            or person not in data.recipients_of(session, found)
        ):
            raise _not_released(request_id, name)
        # a recipient suspended, no longer accredited or in the team, or a project no longer
        # active: refused, with the policy's reasons (they know the release exists)
        permissions.check_can_receive(session, found.project_id, [person])
        folder = ProjectFolders.of(instance, found.project_id).releases / found.id / "data"
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        listed = {f["file"]: f["sha256"] for f in manifest["files"]}
        if name in ("manifest.json", "ro-crate-metadata.json"):
            content = store.read_regular(folder / name)
        elif name in listed:
            content = store.read_regular(folder / name)
            if content is None or hashlib.sha256(content).hexdigest() != listed[name]:
                raise TamperedFile(
                    f"the released copy of {name} in {request_id} does not match its manifest; "
                    "nothing was sent. Tell the operator: the release area has been changed.",
                    name,
                )
        else:
            raise _not_released(request_id, name)
        if content is None:
            raise _not_released(request_id, name)
        audit.record(
            session,
            person,
            AirlockEvent.DOWNLOAD,
            "release_request",
            found.id,
            project=found.project_id,
            details={"file": name, "sha256": hashlib.sha256(content).hexdigest()},
        )
        return content


def _not_released(request_id: str, name: str = "") -> NotReleasedToYou:
    what = f"file {name} of release {request_id}" if name else f"release {request_id}"
    return NotReleasedToYou(
        f"there is no {what} for you: released files are given only to the people their request "
        "names as recipients",
        name,
    )
