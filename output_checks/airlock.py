"""The airlock's workflow: requests, automatic checks, blinded two-checker review, release.

The only way anything leaves tre-kit. An analyst requests files from the project's ``outputs/``;
submitting runs the automatic checks (:mod:`output_checks.checks`, :mod:`output_checks.ledger`);
independent output checkers vote per file; an approved request is released atomically into the
release area with manifests, a ledger entry per table and a Five Safes RO-Crate.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import stat
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from notebooks import runs
from output_checks import checks as auto
from output_checks.events import EVENT_OF_MOVE, AirlockEvent
from output_checks.ledger import (
    Ledger,
    differencing,
    ledger_entry,
    read_table,
    released_tables,
    tables_in_flight,
)
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


class AuditedRefusal(TreError):
    """A refusal the airlock records in the audit log (:func:`_audited` writes the event once
    the refused transaction has rolled back, so the refusal and its record never part)."""

    event = AirlockEvent.REFUSED
    audited = True  # the edges (web, CLI) do not record it again

    def __init__(self, message: str, file: str = "") -> None:
        super().__init__(message)
        self.file = file


class RefusedFile(AuditedRefusal, Refused):
    """A file that is not the author's to request, or not the asker's to see."""


class FailedFileRefused(AuditedRefusal, AirlockError):
    """The approval or release of a file whose automatic checks failed."""


class TamperedFile(AuditedRefusal, AirlockError):
    """The airlock's copy of a file no longer holds the bytes recorded at submission."""

    event = AirlockEvent.TAMPERED
    http_status = 409


@contextmanager
def _audited(
    instance: Instance, actor: str, request_id: str | None, project_id: str | None = None
) -> Iterator[None]:
    """Record an :class:`AuditedRefusal` raised in the block (after its own transaction rolled
    back), then let it go on to the caller."""
    try:
        yield
    except AuditedRefusal as refusal:
        with instance.db.session() as session:
            found = session.get(ReleaseRequest, request_id) if request_id else None
            audit.record(
                session,
                actor,
                refusal.event,
                "release_request",
                request_id or "",
                project=found.project_id if found is not None else project_id,
                details={"file": refusal.file, "reason": str(refusal)},
            )
        raise


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
        data = folders.data.resolve()
        if str(candidate.resolve()).startswith(str(data)):
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
# The airlock's own copies: taken at submission from the outputs folder, which the workspace can
# write; read (and their sha-256 verified) by the checks, the checkers' pages, votes and release


def _copy_of(instance: Instance, found: ReleaseRequest, path: str) -> Path:
    return ProjectFolders.of(instance, found.project_id).airlock / found.id / path


def _open_regular(path: Path) -> int | None:
    """A descriptor of PATH when it is a regular file (never through a link), else None."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        return None
    return fd


def _digest_regular(path: Path) -> str | None:
    """The sha-256 of PATH when it is a regular file (never through a link), else None."""
    fd = _open_regular(path)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as reading:
        return hashlib.file_digest(reading, "sha256").hexdigest()


def _take(source: Path, copy: Path, limit: int) -> str | None:
    """Copy SOURCE (a regular file, never a link) to COPY, read-only; its sha-256, or None when
    SOURCE is not a regular file or grew past LIMIT bytes. The hash is of the bytes written,
    read once."""
    fd = _open_regular(source)
    if fd is None:
        return None
    copy.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = copy.with_name(f".{copy.name}.{secrets.token_hex(4)}.part")
    digest, size = hashlib.sha256(), 0
    try:
        with os.fdopen(fd, "rb") as reading, open(partial, "xb") as writing:
            while block := reading.read(1 << 20):
                size += len(block)
                if size > limit:
                    return None
                digest.update(block)
                writing.write(block)
        partial.chmod(0o440)
        os.replace(partial, copy)
    finally:
        partial.unlink(missing_ok=True)
    return digest.hexdigest()


def _store(instance: Instance, found: ReleaseRequest, item: RequestFile) -> str | None:
    """Make sure the airlock holds its copy of ITEM (and of its evidence): copied now from the
    outputs folder when it has none. Returns a problem (a sentence) when the outputs folder no
    longer holds the bytes recorded when the file was added; raises :class:`TamperedFile` when
    the airlock's own copy changed."""
    copy = _copy_of(instance, found, item.path)
    if copy.exists() or copy.is_symlink():
        _verify(found, item, copy)
        return None
    source = ProjectFolders.of(instance, found.project_id).outputs / item.path
    digest = _take(source, copy, item.bytes)
    if digest != item.sha256:
        _remove_copy(instance, found, item.path)
        return f"{item.path} changed or vanished after it was added; add it again"
    sidecar = Path(str(source) + EVIDENCE_SUFFIX)
    item.evidence_sha256 = ""
    if sidecar.exists() or sidecar.is_symlink():
        limit = int(instance.settings.airlock.max_file_mb * 1024 * 1024)
        evidence = _take(sidecar, Path(str(copy) + EVIDENCE_SUFFIX), limit)
        if evidence is None:
            _remove_copy(instance, found, item.path)
            return f"{item.path}'s evidence is not a regular file; run the notebook again"
        item.evidence_sha256 = evidence
    return None


def _remove_copy(instance: Instance, found: ReleaseRequest, path: str) -> None:
    copy = _copy_of(instance, found, path)
    for stale in (copy, Path(str(copy) + EVIDENCE_SUFFIX)):
        stale.unlink(missing_ok=True)


def _read_regular(path: Path) -> bytes | None:
    """The bytes of PATH when it is a regular file (never through a link), else None."""
    fd = _open_regular(path)
    if fd is None:
        return None
    with os.fdopen(fd, "rb") as reading:
        return reading.read()


def _verify(found: ReleaseRequest, item: RequestFile, copy: Path) -> bytes:
    """The bytes of the airlock's copy of ITEM, read once, when their sha-256 (and its
    evidence's) is the one recorded; else :class:`TamperedFile` (the caller's :func:`_audited`
    records it)."""
    data = _read_regular(copy)
    evidence = _read_regular(Path(str(copy) + EVIDENCE_SUFFIX)) if item.evidence_sha256 else b""
    for what, content, expected in (
        ("", data, item.sha256),
        ("the evidence of ", evidence, item.evidence_sha256 or hashlib.sha256(b"").hexdigest()),
    ):
        if content is None or hashlib.sha256(content).hexdigest() != expected:
            raise TamperedFile(
                f"the airlock's copy of {what}{item.path} in request {found.id} does not match "
                "the sha-256 recorded at submission; nothing was shown, voted on or released. "
                "Tell the operator: the airlock's store has been changed.",
                item.path,
            )
    assert data is not None
    return data


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
    with _audited(instance, viewer, request_id), instance.db.session() as session:
        found = _get(session, request_id)
        item = next((f for f in found.files if f.path == path and not f.withdrawn), None)
        if item is None:
            raise AirlockError(f"request {request_id} has no file {path}")
        if viewer == found.author:
            raise RefusedFile(
                f"{viewer} wrote request {request_id}: its files are shown only to the output "
                "checkers who review it, and leave only when they are released.",
                path,
            )
        try:
            check_can_review(session, found, viewer)
        except Refused as exc:
            raise RefusedFile(str(exc), path) from None
        copy = _copy_of(instance, found, item.path)
        data = _verify(found, item, copy)
        evidence = None
        if item.evidence_sha256:
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
        return ServedFile(item.path, data, list(item.checks), evidence)


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
    request_id = f"req-{utc_now()[:10].replace('-', '')}-{secrets.token_hex(3)}"
    with _audited(instance, author, request_id, project_id), instance.db.session() as session:
        policy_check(session, author, PolicyAction.REQUEST_RELEASE, project_id, at=at)
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
    with _audited(instance, author, request_id), instance.db.session() as session:
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
        relative, run_id = resolve_output(instance, session, found.project_id, file, author)
        path = base / relative
        digest = _digest_regular(path)
        if digest is None:
            raise RefusedFile(f"{file}: only a regular file can be requested.", relative)
        if relative in present:
            existing = present[relative]
            if existing.sha256 != digest:  # changed since: copied again at the next submission
                _remove_copy(instance, found, relative)
            existing.withdrawn, existing.sha256, existing.group = False, digest, group
            existing.supporting, existing.bytes = supporting, path.stat().st_size
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
    """Submit (or resubmit) the request: the airlock copies every file into its own store and
    the automatic checks run now, by the airlock, on those copies."""
    with _audited(instance, author, request_id), instance.db.session() as session:
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
    pseudonyms = _pseudonyms(instance, found.project_id)
    live = [f for f in found.files if not f.withdrawn]
    problems = {f.id: _store(instance, found, f) for f in live}
    # differencing: every table is compared, by content read from the airlock's own copies,
    # with the project's released tables, its other requests in flight, and this request's
    requested = {
        f.path: read_table(
            _verify(found, f, _copy_of(instance, found, f.path)), Path(f.path).suffix
        )
        for f in live
        if problems[f.id] is None and not f.supporting
    }
    compared = Ledger(
        released_tables(session, project.id)
        + tables_in_flight(session, found, lambda other, item: _held(instance, other, item))
        + [(f"{p} (in this request)", t) for p, t in requested.items() if t is not None]
    )
    for item in live:
        path = _copy_of(instance, found, item.path)
        problem = problems[item.id]
        if problem is not None:
            results = [auto.Check("integrity", auto.CheckOutcome.FAIL, problem)]
        else:
            _verify(found, item, path)
            group = [
                _copy_of(instance, found, f.path)
                for f in live
                if f.group == item.group and f is not item and problems[f.id] is None
            ]
            results = auto.check_file(
                path,
                policy,
                pseudonyms,
                int(settings.max_file_mb * 1024 * 1024),
                settings.max_csv_rows,
                group,
            )
            table = requested.get(item.path)
            if table is not None:
                mine = f"{item.path} (in this request)"
                results.append(differencing(table, compared, policy, exclude=mine))
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


def _held(instance: Instance, found: ReleaseRequest, item: RequestFile) -> bytes | None:
    """The airlock's copy of ITEM when it still holds the bytes recorded, else None."""
    data = _read_regular(_copy_of(instance, found, item.path))
    return data if data is not None and hashlib.sha256(data).hexdigest() == item.sha256 else None


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
    sha256: str | None = None,
    override: str = "",
) -> str:
    """CHECKER's vote on FILE (approve or changes); returns the request's state after it.

    The vote binds to the sha-256 of the airlock's copy, verified now (SHA256, when given, is
    the hash the checker was shown: a different one is refused). A file whose automatic checks
    failed is approved only where the operator allows it (``[airlock]
    release_failed_with_override``), and then only with OVERRIDE, the checker's reason."""
    if vote not in tuple(VoteChoice):
        raise AirlockError(f"a vote is {VoteChoice.APPROVE} or {VoteChoice.CHANGES}, not {vote!r}")
    with _audited(instance, checker, request_id), instance.db.session() as session:
        found = _get(session, request_id, lock=True)
        check_can_review(session, found, checker)
        if RequestState(found.state) not in UNDER_REVIEW:
            raise AirlockError(f"request {request_id} is {found.state}: it is not under review")
        target = _file(found, file)
        if target.supporting:
            raise AirlockError(f"{target.path} is a supporting file: it is read, not voted on")
        if sha256 is not None and sha256 != target.sha256:
            raise AirlockError(
                f"{target.path} is not the file you were shown (sha-256 {sha256[:12]}…, the "
                f"request holds {target.sha256[:12]}…); read it again before voting"
            )
        _verify(found, target, _copy_of(instance, found, target.path))
        override = override.strip() if vote == VoteChoice.APPROVE else ""
        if vote == VoteChoice.APPROVE:
            check_can_approve(instance, target, override)
        existing = session.scalar(
            select(Vote).where(
                Vote.file_id == target.id, Vote.checker == checker, Vote.turn == found.turn
            )
        )
        if existing is not None:
            existing.vote, existing.at = vote, utc_now()
            existing.sha256, existing.override = target.sha256, override
        else:
            session.add(
                Vote(
                    request_id=found.id,
                    file_id=target.id,
                    checker=checker,
                    turn=found.turn,
                    vote=vote,
                    sha256=target.sha256,
                    override=override,
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
            details={"file": target.path, "vote": vote, "turn": found.turn, "sha256": target.sha256}
            | ({"override": override} if override else {}),
        )
        session.flush()
        _advance(instance, session, found)
        return found.state


def _failed(item: RequestFile) -> str:
    """The failed automatic checks of ITEM, as a phrase."""
    return "; ".join(
        f"{c['name']}: {c['explanation']}"
        for c in item.checks
        if c["outcome"] == auto.CheckOutcome.FAIL
    )


def check_can_approve(instance: Instance, item: RequestFile, override: str) -> None:
    """Policy: may a checker approve ITEM, with OVERRIDE as their reason?"""
    if item.check_outcome != auto.CheckOutcome.FAIL:
        return
    if not instance.settings.airlock.release_failed_with_override:
        raise FailedFileRefused(
            f"{item.path} failed its automatic checks ({_failed(item)}), and a file that failed "
            "them is never released here; vote for changes, or return the request.",
            item.path,
        )
    if not override:
        raise FailedFileRefused(
            f"{item.path} failed its automatic checks ({_failed(item)}); to approve it anyway, "
            "give the reason for overriding them.",
            item.path,
        )


def check_can_release(instance: Instance, item: RequestFile, votes: list[Vote]) -> None:
    """Policy: may ITEM be released on VOTES (its votes bound to its bytes)? A file that
    failed its automatic checks only where the operator allows it, and only when every checker
    who approved it gave a reason for overriding them."""
    if item.check_outcome != auto.CheckOutcome.FAIL:
        return
    if not instance.settings.airlock.release_failed_with_override:
        raise FailedFileRefused(
            f"{item.path} failed its automatic checks ({_failed(item)}), and a file that failed "
            "them is never released here; nothing was released. Return the request to its "
            "author.",
            item.path,
        )
    silent = [v.checker for v in votes if v.vote == VoteChoice.APPROVE and not v.override]
    if silent:
        raise FailedFileRefused(
            f"{item.path} failed its automatic checks, and {', '.join(silent)} approved it "
            "without a reason for overriding them; nothing was released.",
            item.path,
        )


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
    """This turn's votes on each file, counting only votes cast on the bytes the file holds."""
    bytes_of = {f.id: f.sha256 for f in found.files}
    votes: dict[int, list[Vote]] = {}
    for vote in session.scalars(
        select(Vote).where(Vote.request_id == found.id, Vote.turn == found.turn)
    ):
        if vote.sha256 == bytes_of.get(vote.file_id):
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
    with _audited(instance, checker, request_id):
        return _release(instance, request_id, checker, recipient)


def _release(instance: Instance, request_id: str, checker: str, recipient: str) -> Release:
    with instance.db.session() as session:
        found = _get(session, request_id, lock=True)
        check_can_review(session, found, checker)
        if found.state == RequestState.RELEASED.value:
            raise AirlockError(f"request {request_id} was released on {found.released}")
        if found.state != RequestState.APPROVED.value:
            raise AirlockError(f"request {request_id} is {found.state}, not approved")
        bound = _votes(session, found)
        released_files = [f for f in found.files if not f.withdrawn and not f.supporting]
        for item in released_files:
            check_can_release(instance, item, bound.get(item.id, []))
        project = registry.project(session, found.project_id)
        described = registry.describe(session, project)
        items = [(f.path, f.sha256, f.group, f.checks, f.check_outcome) for f in released_files]
        evidence = {f.path: f.evidence_sha256 for f in released_files}
        votes = {
            f.path: [(v.checker, v.vote, v.at, v.sha256, v.override) for v in bound.get(f.id, [])]
            for f in found.files
        }
        groups = {g.name: (g.context, g.controls) for g in found.groups}
        author = found.author
        recipient = recipient or found.recipient or f"{found.author} ({found.project_id})"
    folders = ProjectFolders.of(instance, found.project_id)
    target = folders.releases / request_id
    store = folders.airlock / request_id

    def tampered(path: str, what: str = "") -> TamperedFile:
        return TamperedFile(
            f"the airlock's copy of {what}{path} in request {request_id} does not match the "
            "sha-256 recorded at submission; nothing was released. Tell the operator: the "
            "airlock's store has been changed.",
            path,
        )

    ledger: dict[str, dict[str, Any]] = {}  # the released tables, read from the verified copies
    for path, digest, *_ in items:
        if evidence[path]:
            content = _read_regular(store / (path + EVIDENCE_SUFFIX))
            if content is None or hashlib.sha256(content).hexdigest() != evidence[path]:
                raise tampered(path, "the evidence of ")
        data = _read_regular(store / path)
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            raise tampered(path)
        entry = ledger_entry(data, Path(path).suffix)
        if entry is not None:
            ledger[path] = entry
    if not target.exists():
        # resumable: what a release killed before the rename left behind is started again
        with publish(target, read_only=True, resumable=True) as staged:
            staging = staged.folder
            files = {}
            for path, digest, group, _checks, _outcome in items:
                # only the airlock's copy is released, and only the bytes the checkers saw: the
                # copy made here is hashed after it is written (what is published is what passed)
                source = store / path
                if _open_regular(source) is None:
                    raise tampered(path)
                destination = staging / Path(path).name
                if destination.exists():
                    destination = staging / path.replace("/", "_")
                shutil.copyfile(source, destination)
                if file_digest(destination) != digest:
                    raise tampered(path)
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
            for path, entry in ledger.items():
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
        for who, vote, at, sha256, override in votes.get(path, []):
            actions.append(
                crates.Entity(
                    f"#review-{len(actions)}",
                    "AssessAction",
                    {
                        "name": f"{who}'s decision on {name} (sha-256 {sha256})",
                        "additionalType": {"@id": "https://w3id.org/shp#ManualApproval"},
                        "object": crates.file_reference(name) if name in files else None,
                        "result": vote,
                        "description": f"overrides the failed automatic checks: {override}"
                        if override
                        else None,
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
