"""The airlock's workflow: requests, automatic checks, blinded two-checker review, release.

The only way anything leaves tre-kit. An analyst requests files from the project's ``outputs/``;
submitting runs the automatic checks (:mod:`output_checks.checks`, :mod:`output_checks.ledger`);
independent output checkers vote per file; an approved request is released atomically into the
release area with manifests, a ledger entry per table and a Five Safes RO-Crate.
"""

from __future__ import annotations

import json
import secrets
import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notebooks import runs
from output_checks import checks as auto
from output_checks.events import EVENT_OF_MOVE, AirlockEvent
from output_checks.ledger import differencing, table_entry
from output_checks.models import (
    Comment,
    LedgerEntry,
    ReleaseRequest,
    RequestFile,
    RequestGroup,
    Vote,
)
from output_checks.states import (
    EDITABLE,
    UNDER_REVIEW,
    WORKFLOW,
    FileDecision,
    RequestAction,
    RequestState,
    VoteChoice,
)
from projects import registry
from projects.policy import PolicyAction
from projects.policy import check as policy_check
from sdc.policy import EVIDENCE_SUFFIX
from tre import audit
from tre import crate as crates
from tre.audit import utc_now
from tre.errors import Refused, TreError
from tre.folders import ProjectFolders, publish
from tre.hashing import file_digest
from tre.instance import Instance
from tre.states import MoveNotAllowed

DEFAULT_GROUP = "outputs"


class AirlockError(TreError):
    """The request cannot be changed that way; nothing was changed."""


# ---------------------------------------------------------------------------------------------
# Paths: only a project's own outputs, of a run that succeeded


def resolve_output(
    instance: Instance, session: Session, project_id: str, file: str | Path
) -> tuple[str, str]:
    """The path of FILE relative to the project's outputs folder and its run, or a refusal."""
    folders = ProjectFolders.of(instance, project_id)
    base = folders.outputs.resolve()
    given = Path(file)
    if ".." in given.parts:
        raise Refused(f"{file}: '..' is not allowed in a requested path")
    candidate = given if given.is_absolute() else base / given
    if candidate.is_symlink() or any(p.is_symlink() for p in candidate.parents if p != p.parent):
        raise Refused(f"{file}: a symbolic link cannot be requested (request the file itself)")
    try:
        relative = candidate.resolve().relative_to(base)
    except ValueError:
        data = folders.data.resolve()
        if str(candidate.resolve()).startswith(str(data)):
            raise Refused(f"{file}: the project's extract can never be released") from None
        raise Refused(
            f"{file}: only files in project {project_id}'s outputs folder ({base}) can be requested"
        ) from None
    if not candidate.is_file():
        raise Refused(f"{file}: no such file in the outputs folder")
    run_id = runs.run_of_output(relative)
    if run_id is None:
        raise Refused(f"{file}: request the files of a run (outputs/RUN/data/FILE)")
    if relative.name.endswith(EVIDENCE_SUFFIX):
        raise Refused(
            f"{file}: evidence files stay in the airlock (they hold unprotected counts); request "
            "the output itself"
        )
    run = runs.run_record(session, run_id)
    if run is None:
        raise Refused(f"{file}: {run_id} is not a recorded run")
    if run.project_id != project_id:
        raise Refused(f"{file}: run {run_id} belongs to another project")
    if run.status != runs.SUCCEEDED:
        raise Refused(
            f"{file}: run {run_id} {run.status}; nothing of a failed run can be requested"
        )
    if runs.is_record(relative.name):
        raise Refused(
            f"{file}: a run's notebook and records stay inside (request its HTML report "
            "without code, or its outputs)"
        )
    return relative.as_posix(), run_id


# ---------------------------------------------------------------------------------------------
# Requests (the author's side)


def _get(session: Session, request_id: str, lock: bool = False) -> ReleaseRequest:
    found = session.get(ReleaseRequest, request_id, with_for_update=lock)
    if found is None:
        raise AirlockError(f"there is no release request {request_id} (`tre outputs list`)")
    return found


def _move(
    session: Session, found: ReleaseRequest, action: RequestAction, actor: str, **details
) -> None:
    source = RequestState(found.state)
    try:
        rule = WORKFLOW.transition(source, action, f"request {found.id}")
    except MoveNotAllowed:
        raise AirlockError(f"request {found.id} is {source}: it cannot be {action}ed now") from None
    found.state = rule.target.value
    audit.record(
        session,
        actor,
        EVENT_OF_MOVE[action],
        "release_request",
        found.id,
        project=found.project_id,
        details={"from": source.value, "to": rule.target.value, "turn": found.turn} | details,
    )


def _check_author(session: Session, found: ReleaseRequest, actor: str) -> None:
    if actor != found.author:
        raise Refused(f"only {found.author}, its author, may change request {found.id}")


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
) -> str:
    """A new request (PENDING) holding FILES in GROUP; returns its id."""
    with instance.db.session() as session:
        policy_check(session, author, PolicyAction.REQUEST_RELEASE, project_id, at=at)
        request_id = f"req-{utc_now()[:10].replace('-', '')}-{secrets.token_hex(3)}"
        found = ReleaseRequest(
            id=request_id,
            project_id=project_id,
            author=author,
            state=RequestState.PENDING.value,
            turn=1,
            recipient="",
            reason="",
            created=utc_now(),
        )
        session.add(found)
        session.flush()
        audit.record(
            session, author, AirlockEvent.CREATE, "release_request", request_id, project=project_id
        )
        _add(instance, session, found, author, files, group, context, controls, supporting)
    return request_id


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
    with instance.db.session() as session:
        found = _get(session, request_id, lock=True)
        _add(instance, session, found, author, files, group, context, controls, supporting)


def _add(instance, session, found, author, files, group, context, controls, supporting) -> None:
    _check_author(session, found, author)
    if RequestState(found.state) not in EDITABLE:
        raise AirlockError(
            f"request {found.id} is {found.state}: files can be added only while "
            "it is pending or returned"
        )
    if not files:
        raise AirlockError("name at least one file to request")
    known = {g.name: g for g in found.groups}
    if group not in known:
        found.groups.append(RequestGroup(name=group, context=context, controls=controls))
    else:
        known[group].context = context or known[group].context
        known[group].controls = controls or known[group].controls
    present = {f.path: f for f in found.files}
    base = ProjectFolders.of(instance, found.project_id).outputs
    for file in files:
        relative, run_id = resolve_output(instance, session, found.project_id, file)
        path = base / relative
        digest = file_digest(path)
        if relative in present:
            existing = present[relative]
            existing.withdrawn, existing.sha256, existing.group = False, digest, group
            existing.supporting = supporting
            continue
        found.files.append(
            RequestFile(
                group=group,
                path=relative,
                run_id=run_id,
                sha256=digest,
                bytes=path.stat().st_size,
                supporting=supporting,
                withdrawn=False,
                check_outcome="",
                checks=[],
            )
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


def withdraw_file(instance: Instance, request_id: str, author: str, file: str) -> None:
    with instance.db.session() as session:
        found = _get(session, request_id, lock=True)
        _check_author(session, found, author)
        if RequestState(found.state) not in EDITABLE:
            raise AirlockError(f"request {found.id} is {found.state}: its files cannot change")
        target = next((f for f in found.files if f.path == file or Path(f.path).name == file), None)
        if target is None:
            raise AirlockError(f"request {request_id} has no file {file}")
        target.withdrawn = True
        audit.record(
            session,
            author,
            AirlockEvent.WITHDRAW_FILE,
            "release_request",
            found.id,
            project=found.project_id,
            details={"file": target.path},
        )


def withdraw(instance: Instance, request_id: str, author: str) -> None:
    with instance.db.session() as session:
        found = _get(session, request_id, lock=True)
        _check_author(session, found, author)
        _move(session, found, RequestAction.WITHDRAW, author)


def submit(instance: Instance, request_id: str, author: str, at: date | None = None) -> dict:
    """Submit (or resubmit) the request: the automatic checks run now, by the airlock."""
    with instance.db.session() as session:
        found = _get(session, request_id, lock=True)
        _check_author(session, found, author)
        policy_check(session, author, PolicyAction.REQUEST_RELEASE, found.project_id, at=at)
        live = [f for f in found.files if not f.withdrawn]
        if not any(not f.supporting for f in live):
            raise AirlockError(f"request {request_id} has no file to release")
        returned = found.state == RequestState.RETURNED.value
        if returned:
            found.turn += 1
        run_checks(instance, session, found)
        _move(session, found, RequestAction.RESUBMIT if returned else RequestAction.SUBMIT, author)
        found.submitted = found.submitted or utc_now()
        outcomes = {f.path: f.check_outcome for f in found.files if not f.withdrawn}
    return outcomes


def run_checks(instance: Instance, session: Session, found: ReleaseRequest) -> None:
    project = registry.project(session, found.project_id)
    policy = registry.project_policy(project, instance.settings.policy)
    settings = instance.settings.airlock
    base = ProjectFolders.of(instance, found.project_id).outputs
    pseudonyms = _pseudonyms(instance, found.project_id)
    released = [
        (f"{e.file} (released in {e.request_id})", e.table)
        for e in session.scalars(select(LedgerEntry).where(LedgerEntry.project_id == project.id))
    ]
    live = [f for f in found.files if not f.withdrawn]
    pending: list[tuple[str, dict[str, Any]]] = []
    for item in live:
        path = base / item.path
        if not path.exists() or file_digest(path) != item.sha256:
            results = [
                auto.Check(
                    "integrity",
                    auto.CheckOutcome.FAIL,
                    f"{item.path} changed or vanished after it was added; add it again",
                )
            ]
        else:
            group = [base / f.path for f in live if f.group == item.group and f is not item]
            results = auto.check_file(
                path,
                policy,
                pseudonyms,
                int(settings.max_file_mb * 1024 * 1024),
                settings.max_csv_rows,
                group,
            )
            sidecar = Path(str(path) + EVIDENCE_SUFFIX)
            if sidecar.exists() and not item.supporting:
                entry = table_entry(json.loads(sidecar.read_text(encoding="utf-8")))
                if entry is not None:
                    results.append(differencing(entry, released + pending, policy))
                    pending.append((f"{item.path} (in this request)", entry))
        item.checks = auto.as_dicts(results)
        item.check_outcome = auto.outcome_of(results)
    audit.record(
        session,
        "airlock",
        AirlockEvent.CHECKS,
        "release_request",
        found.id,
        project=found.project_id,
        details={"turn": found.turn, "outcomes": {f.path: f.check_outcome for f in live}},
    )


def _pseudonyms(instance: Instance, project_id: str) -> set[str]:
    import pyarrow.parquet as pq

    data = ProjectFolders.of(instance, project_id).data
    found: set[str] = set()
    for path in data.glob("*.parquet"):
        schema = pq.ParquetFile(path).schema_arrow
        if "person" in schema.names:
            found.update(pq.read_table(path, columns=["person"]).column(0).drop_null().to_pylist())
    return found


# ---------------------------------------------------------------------------------------------
# Review (the checkers' side)


def check_can_review(session: Session, found: ReleaseRequest, checker: str) -> None:
    if checker == found.author:
        raise Refused(f"{checker} is the author of request {found.id} and cannot review it")
    policy_check(session, checker, PolicyAction.REVIEW_RELEASE, found.project_id)


def file_decision(votes: list[str], required: int) -> FileDecision:
    if len(votes) < required:
        return FileDecision.INCOMPLETE
    counts = Counter(votes)
    approve, changes = counts[VoteChoice.APPROVE], counts[VoteChoice.CHANGES]
    if approve > changes:
        return (
            FileDecision.APPROVED
            if changes == 0 or len(votes) > required
            else FileDecision.CONFLICTED
        )
    if changes > approve:
        return (
            FileDecision.CHANGES_REQUESTED
            if approve == 0 or len(votes) > required
            else FileDecision.CONFLICTED
        )
    return FileDecision.CONFLICTED


def review(
    instance: Instance,
    request_id: str,
    checker: str,
    file: str,
    vote: str,
    comment: str = "",
    private: bool = False,
) -> str:
    """CHECKER's vote on FILE (approve or changes); returns the request's state after it."""
    if vote not in tuple(VoteChoice):
        raise AirlockError(f"a vote is {VoteChoice.APPROVE} or {VoteChoice.CHANGES}, not {vote!r}")
    with instance.db.session() as session:
        found = _get(session, request_id, lock=True)
        check_can_review(session, found, checker)
        if RequestState(found.state) not in UNDER_REVIEW:
            raise AirlockError(f"request {request_id} is {found.state}: it is not under review")
        target = _file(found, file)
        if target.supporting:
            raise AirlockError(f"{target.path} is a supporting file: it is read, not voted on")
        existing = session.scalar(
            select(Vote).where(
                Vote.file_id == target.id, Vote.checker == checker, Vote.turn == found.turn
            )
        )
        if existing is not None:
            existing.vote, existing.at = vote, utc_now()
        else:
            session.add(
                Vote(
                    request_id=found.id,
                    file_id=target.id,
                    checker=checker,
                    turn=found.turn,
                    vote=vote,
                    at=utc_now(),
                )
            )
        if comment:
            session.add(
                Comment(
                    request_id=found.id,
                    file_id=target.id,
                    author=checker,
                    turn=found.turn,
                    private=private,
                    text=comment,
                    at=utc_now(),
                )
            )
        found.first_review = found.first_review or utc_now()
        audit.record(
            session,
            checker,
            AirlockEvent.VOTE,
            "release_request",
            found.id,
            project=found.project_id,
            details={"file": target.path, "vote": vote, "turn": found.turn},
        )
        session.flush()
        _advance(instance, session, found)
        return found.state


def _file(found: ReleaseRequest, file: str) -> RequestFile:
    live = [f for f in found.files if not f.withdrawn]
    matches = [f for f in live if f.path == file or Path(f.path).name == file]
    if len(matches) != 1:
        names = ", ".join(f.path for f in live)
        raise AirlockError(
            f"request {found.id} has {'no' if not matches else 'more than one'} file {file}; "
            f"its files are {names}"
        )
    return matches[0]


def _votes(session: Session, found: ReleaseRequest) -> dict[int, list[Vote]]:
    votes: dict[int, list[Vote]] = {}
    for vote in session.scalars(
        select(Vote).where(Vote.request_id == found.id, Vote.turn == found.turn)
    ):
        votes.setdefault(vote.file_id, []).append(vote)
    return votes


def _advance(instance: Instance, session: Session, found: ReleaseRequest) -> None:
    required = instance.settings.airlock.checkers
    votes = _votes(session, found)
    voted = [f for f in found.files if not f.withdrawn and not f.supporting]
    complete_by: Counter[str] = Counter()
    for item in voted:
        for vote in votes.get(item.id, []):
            complete_by[vote.checker] += 1
    full = [c for c, n in complete_by.items() if n == len(voted)]
    state = RequestState(found.state)
    if state == RequestState.SUBMITTED and full:
        by_all = len(full) >= required
        _move_to(session, found, RequestAction.REVIEW if by_all else RequestAction.REVIEW_PARTLY)
    if RequestState(found.state) == RequestState.PARTIALLY_REVIEWED and len(full) >= required:
        _move_to(session, found, RequestAction.REVIEW)
    if RequestState(found.state) == RequestState.REVIEWED:
        decisions = [file_decision([v.vote for v in votes.get(i.id, [])], required) for i in voted]
        if all(d == FileDecision.APPROVED for d in decisions):
            _move_to(session, found, RequestAction.APPROVE)


def _move_to(session: Session, found: ReleaseRequest, action: RequestAction) -> None:
    """A move the airlock itself makes (the system owns it): audited as the actor airlock."""
    source = found.state
    target = WORKFLOW.transition(RequestState(source), action, f"request {found.id}").target
    found.state = target.value
    audit.record(
        session,
        "airlock",
        EVENT_OF_MOVE[action],
        "release_request",
        found.id,
        project=found.project_id,
        details={"from": source, "to": target.value, "turn": found.turn},
    )


def return_request(instance: Instance, request_id: str, checker: str, reason: str) -> None:
    _decide(instance, request_id, checker, RequestAction.RETURN, reason)


def reject(instance: Instance, request_id: str, checker: str, reason: str) -> None:
    _decide(instance, request_id, checker, RequestAction.REJECT, reason)


def _decide(
    instance: Instance, request_id: str, checker: str, action: RequestAction, reason: str
) -> None:
    if not reason.strip():
        raise AirlockError(f"say why: a request is {action}ed with a reason")
    with instance.db.session() as session:
        found = _get(session, request_id, lock=True)
        check_can_review(session, found, checker)
        _move(session, found, action, checker, reason=reason)
        found.reason = reason
        session.add(
            Comment(
                request_id=found.id,
                file_id=None,
                author=checker,
                turn=found.turn,
                private=False,
                text=f"{action}ed: {reason}",
                at=utc_now(),
            )
        )


def comment(
    instance: Instance, request_id: str, person: str, text: str, private: bool = False
) -> None:
    with instance.db.session() as session:
        found = _get(session, request_id)
        if person != found.author:
            check_can_review(session, found, person)
        elif private:
            raise AirlockError("private comments are for checkers; the author's are public")
        session.add(
            Comment(
                request_id=found.id,
                file_id=None,
                author=person,
                turn=found.turn,
                private=private,
                text=text,
                at=utc_now(),
            )
        )


def queue(instance: Instance, checker: str) -> list[dict[str, Any]]:
    """Requests under review that CHECKER may review, oldest first."""
    out = []
    with instance.db.session() as session:
        states = [s.value for s in UNDER_REVIEW]
        for found in session.scalars(
            select(ReleaseRequest)
            .where(ReleaseRequest.state.in_(states))
            .order_by(ReleaseRequest.submitted)
        ):
            try:
                check_can_review(session, found, checker)
            except Refused:
                continue
            mine = [v for vs in _votes(session, found).values() for v in vs if v.checker == checker]
            out.append(
                {
                    "id": found.id,
                    "project": found.project_id,
                    "author": found.author,
                    "state": found.state,
                    "turn": found.turn,
                    "submitted": found.submitted,
                    "files": len([f for f in found.files if not f.withdrawn]),
                    "my_votes": len(mine),
                }
            )
    return out


def show(instance: Instance, request_id: str, viewer: str) -> dict[str, Any]:
    """The request as VIEWER may see it: votes blinded until the required number are in;
    private comments for checkers only; checks and evidence for checkers and the author."""
    required = instance.settings.airlock.checkers
    with instance.db.session() as session:
        found = _get(session, request_id)
        is_author = viewer == found.author
        if not is_author:
            check_can_review(session, found, viewer)
        votes = _votes(session, found)
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
            files.append(
                {
                    "path": item.path,
                    "group": item.group,
                    "supporting": item.supporting,
                    "sha256": item.sha256,
                    "bytes": item.bytes,
                    "automatic": item.check_outcome,
                    "checks": item.checks,
                    "votes": shown,
                    "votes_in": len(cast),
                    "decision": decision if visible else FileDecision.INCOMPLETE,
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
            for c in session.scalars(
                select(Comment).where(Comment.request_id == found.id).order_by(Comment.id)
            )
            if not (c.private and is_author)
        ]
        return {
            "id": found.id,
            "project": found.project_id,
            "author": found.author,
            "state": found.state,
            "turn": found.turn,
            "reason": found.reason,
            "created": found.created,
            "submitted": found.submitted,
            "released": found.released,
            "required_checkers": required,
            "groups": groups,
            "files": files,
            "comments": comments,
        }


def requests(instance: Instance, project_id: str | None = None) -> list[dict[str, Any]]:
    with instance.db.session() as session:
        query = select(ReleaseRequest).order_by(ReleaseRequest.created)
        if project_id:
            query = query.where(ReleaseRequest.project_id == project_id)
        return [
            {
                "id": r.id,
                "project": r.project_id,
                "author": r.author,
                "state": r.state,
                "turn": r.turn,
                "files": len([f for f in r.files if not f.withdrawn]),
            }
            for r in session.scalars(query)
        ]


# ---------------------------------------------------------------------------------------------
# Release


@dataclass
class Release:
    request_id: str
    folder: Path
    files: list[str]
    crate: Path


def release(
    instance: Instance,
    request_id: str,
    checker: str,
    recipient: str = "",
) -> Release:
    """Copy the approved files into the release area, atomically: a staging folder is filled,
    manifested and bagged, then renamed into place; the database records the release after.
    Re-running completes a release interrupted at any point."""
    with instance.db.session() as session:
        found = _get(session, request_id, lock=True)
        check_can_review(session, found, checker)
        if found.state == RequestState.RELEASED.value:
            raise AirlockError(f"request {request_id} was released on {found.released}")
        if found.state != RequestState.APPROVED.value:
            raise AirlockError(f"request {request_id} is {found.state}, not approved")
        project = registry.project(session, found.project_id)
        described = registry.describe(session, project)
        items = [
            (f.path, f.sha256, f.group, f.checks, f.check_outcome)
            for f in found.files
            if not f.withdrawn and not f.supporting
        ]
        votes = {
            f.path: [(v.checker, v.vote, v.at) for v in _votes(session, found).get(f.id, [])]
            for f in found.files
        }
        groups = {g.name: (g.context, g.controls) for g in found.groups}
        author = found.author
        recipient = recipient or found.recipient or f"{found.author} ({found.project_id})"
    folders = ProjectFolders.of(instance, found.project_id)
    target = folders.releases / request_id
    base = folders.outputs
    if not target.exists():
        # resumable: what a release killed before the rename left behind is started again
        with publish(target, read_only=True, resumable=True) as staged:
            staging = staged.folder
            files = {}
            for path, digest, group, _checks, _outcome in items:
                source = base / path
                if file_digest(source) != digest:
                    raise AirlockError(f"{path} changed after it was checked; nothing was released")
                destination = staging / Path(path).name
                if destination.exists():
                    destination = staging / path.replace("/", "_")
                shutil.copyfile(source, destination)
                files[destination.name] = {
                    "name": destination.name,
                    "sha256": digest,
                    "description": groups.get(group, ("", ""))[0],
                }
            manifest = {
                "request": request_id,
                "project": found.project_id,
                "recipient": recipient,
                "released_by": checker,
                "at": utc_now(),
                "files": [
                    {"file": n, "sha256": p["sha256"], "sha512": file_digest(staging / n, "sha512")}
                    for n, p in files.items()
                ],
            }
            (staging / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
            files["manifest.json"] = {
                "name": "release manifest",
                "encodingFormat": "application/json",
            }
            _release_crate(
                staging, request_id, described, author, checker, recipient, files, items, votes
            )
    with instance.db.session() as session:
        found = _get(session, request_id, lock=True)
        if found.state != RequestState.RELEASED.value:
            for path, _, _, _, _ in items:
                sidecar = base / (path + EVIDENCE_SUFFIX)
                if sidecar.exists():
                    entry = table_entry(json.loads(sidecar.read_text(encoding="utf-8")))
                    if entry is not None:
                        session.add(
                            LedgerEntry(
                                project_id=found.project_id,
                                request_id=found.id,
                                file=path,
                                table=entry,
                                at=utc_now(),
                            )
                        )
            found.recipient = recipient
            found.released = utc_now()
            _move(
                session,
                found,
                RequestAction.RELEASE,
                checker,
                folder=str(target),
                recipient=recipient,
            )
    released = sorted(p.name for p in (target / "data").iterdir())
    return Release(request_id, target, released, target / "data" / "ro-crate-metadata.json")


def _release_crate(
    folder, request_id, described, author, checker, recipient, files, items, votes
) -> None:
    project_entity, agent = crates.project_entities(
        described["spec"] | {"version": described["version"]}, author, None
    )
    actions: list[crates.Entity] = []
    for path, _digest, _group, checks, _outcome in items:
        name = Path(path).name
        for check in checks:
            actions.append(
                crates.Entity(
                    f"#check-{len(actions)}",
                    "AssessAction",
                    {
                        "name": f"automatic check '{check['name']}' of {name}",
                        "additionalType": {"@id": "https://w3id.org/shp#DisclosureCheck"},
                        "object": crates.file_reference(name) if name in files else None,
                        "result": check["outcome"],
                        "description": check["explanation"],
                        "agent": crates.Entity(
                            "#airlock", "SoftwareApplication", {"name": "tre-kit airlock"}
                        ),
                    },
                )
            )
        for who, vote, at in votes.get(path, []):
            actions.append(
                crates.Entity(
                    f"#review-{len(actions)}",
                    "AssessAction",
                    {
                        "name": f"{who}'s decision on {name}",
                        "additionalType": {"@id": "https://w3id.org/shp#ManualApproval"},
                        "object": crates.file_reference(name) if name in files else None,
                        "result": vote,
                        "endTime": at,
                        "agent": crates.Entity(f"#person-{who}", "Person", {"name": who}),
                    },
                )
            )
    actions.append(
        crates.Entity(
            f"#{request_id}",
            "CreateAction",
            {
                "name": f"release {request_id} to {recipient}",
                "agent": crates.Entity(f"#person-{checker}", "Person", {"name": checker}),
                "object": [crates.file_reference(n) for n in files],
                "actionStatus": {"@id": "http://schema.org/CompletedActionStatus"},
                "sourceOrganization": project_entity,
                "recipient": recipient,
                "requestedBy": agent,
            },
        )
    )
    for action in actions:
        action.properties = {k: v for k, v in action.properties.items() if v is not None}
    crates.package(
        folder,
        name=f"release {request_id}",
        description=f"Outputs released from project {described['id']}",
        files=files,
        entities=[project_entity],
        mentions=actions,
        bag_info={"External-Identifier": request_id},
    )


def release_dates(session: Session, project_id: str) -> list[str]:
    """For the transparency register: the date of each release of PROJECT_ID."""
    return [
        r.released[:10]
        for r in session.scalars(
            select(ReleaseRequest).where(
                ReleaseRequest.project_id == project_id,
                ReleaseRequest.state == RequestState.RELEASED.value,
            )
        )
        if r.released is not None
    ]


# ---------------------------------------------------------------------------------------------
# Statistics


def stats(instance: Instance) -> dict[str, Any]:
    def hours(a: str | None, b: str | None) -> float | None:
        if not a or not b:
            return None
        return (datetime.fromisoformat(b) - datetime.fromisoformat(a)).total_seconds() / 3600

    required = instance.settings.airlock.checkers
    with instance.db.session() as session:
        found = list(session.scalars(select(ReleaseRequest)))
        to_review = [h for r in found if (h := hours(r.submitted, r.first_review)) is not None]
        to_release = [h for r in found if (h := hours(r.submitted, r.released)) is not None]
        decisions = matched = conflicted = 0
        for r in found:
            votes = _votes(session, r)
            for item in r.files:
                cast = [v.vote for v in votes.get(item.id, [])]
                if len(cast) < required or item.supporting:
                    continue
                decisions += 1
                decision = file_decision(cast, required)
                conflicted += len(set(cast)) > 1
                automatic_ok = item.check_outcome == auto.CheckOutcome.PASS
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
