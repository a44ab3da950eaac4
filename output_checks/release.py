"""Release: the approved files of a request, published atomically with their manifests and
RO-Crate, and each released table entered in the project's ledger.

:func:`_release` moved out of ``output_checks/airlock.py`` with its body unchanged, so that
changes made to it there at the same time can be carried across by hand: the functions it calls
are imported under the names the body used in ``airlock.py``, and it writes the ledger's rows
itself, not through :mod:`output_checks.data` (the import-linter contract names this module as
one of its two exceptions).
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from output_checks import data, notify, replay
from output_checks.data import get_request as _get
from output_checks.data import votes_of as _votes
from output_checks.enums import FileDecision, RequestAction, RequestState, plain
from output_checks.errors import AirlockError, TamperedFile
from output_checks.history import audited
from output_checks.history import move as _move
from output_checks.ledger import ledger_entry
from output_checks.permissions import check_can_release, check_can_review
from output_checks.policies import file_decision
from output_checks.store import open_regular as _open_regular
from output_checks.store import read_regular as _read_regular
from projects import registry
from sdc.policy import EVIDENCE_SUFFIX
from tre import crate as crates
from tre.audit import utc_now
from tre.folders import ProjectFolders, publish
from tre.hashing import file_digest
from tre.instance import Instance


@dataclass
class Release:
    """A request released: its read-only folder in the release area, the files published
    there and the RO-Crate that describes them."""

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
    Re-running completes a release interrupted at any point. The request's recipients (named
    in the manifest, RECIPIENT describing them when given) alone download the files; they, the
    author and the checkers are told."""
    with notify.outbox(instance) as box, audited(instance, checker, request_id):
        return _release(instance, request_id, checker, recipient, box)


def _release(
    instance: Instance, request_id: str, checker: str, recipient: str, box: notify.Outbox
) -> Release:
    with instance.db.session() as session:
        found = _get(session, request_id, lock=True)
        check_can_review(session, found, checker)
        if found.state == RequestState.RELEASED.value:
            raise AirlockError(f"request {request_id} was released on {found.released}")
        if found.state != RequestState.APPROVED.value:
            raise AirlockError(
                f"request {request_id} is {plain('state', found.state)}, not approved"
            )
        bound = _votes(session, found)
        released_files = [f for f in found.files if not f.withdrawn and not f.supporting]
        required = instance.settings.airlock.checkers
        for item in released_files:
            votes_now = [v.vote for v in bound.get(item.id, [])]
            if file_decision(votes_now, required) != FileDecision.APPROVED:
                raise AirlockError(
                    f"{item.path} of request {request_id} is no longer approved by {required} "
                    "checkers who may review it (a checker's rights were withdrawn since their "
                    "review); nothing was released. Another checker must review it: return "
                    "the request, or ask the operator."
                )
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
        recipients = data.recipients_of(session, found)
        recipient = recipient or found.recipient or ", ".join(recipients)
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
    for path, digest, _group, checked, _outcome in items:
        if evidence[path]:
            content = _read_regular(store / (path + EVIDENCE_SUFFIX))
            if content is None or hashlib.sha256(content).hexdigest() != evidence[path]:
                raise tampered(path, "the evidence of ")
        held = _read_regular(store / path)
        if held is None or hashlib.sha256(held).hexdigest() != digest:
            raise tampered(path)
        # true counts only from the airlock's own replay, never from the analyst's sidecar
        entry = ledger_entry(held, Path(path).suffix, replay.trusted_evidence(checked))
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
                "recipients": recipients,
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
                data.add_ledger_entry(session, found, path, entry, utc_now())
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
            box.tell(
                session,
                [found.author, *recipients, *notify.checkers_of(session, found)],
                found,
                "released",
                f"{checker} released request {found.id} to {', '.join(recipients)}: "
                f"its recipients download the files from the release's page.",
                checker,
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
        for r in data.released_requests(session, project_id)
        if r.released is not None
    ]
