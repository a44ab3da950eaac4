"""The automatic checks of a submitted request, run by the airlock on its own copies.

:func:`run_checks` takes the airlock's copy of every live file (:mod:`output_checks.store`),
has the airlock's replay make every replayable output again (:mod:`output_checks.replay`),
checks each file under the project's policy (:mod:`output_checks.checks`), and compares every
table, read from the copies by content, with the project's ledger, its requests in flight and
the request's other tables (:mod:`output_checks.ledger`), audits them all together as one
linked problem (:mod:`output_checks.joint`), and asks whether their exact sums together give
back counts the policy rounds (:mod:`output_checks.derived`); it records every file's checks and
outcome on its row, and the outcomes in the audit log.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy.orm import Session

from output_checks import checks as auto
from output_checks import replay
from output_checks.data import ReleaseRequest, RequestFile
from output_checks.derived import derived_counts
from output_checks.enums import AirlockEvent
from output_checks.joint import joint_audit
from output_checks.ledger import Ledger, differencing, read_table, released_tables, tables_in_flight
from output_checks.relating import related_check
from output_checks.store import copy_of as _copy_of
from output_checks.store import read_regular as _read_regular
from output_checks.store import store as _store
from output_checks.store import verify as _verify
from projects import registry
from tre import audit
from tre.folders import ProjectFolders
from tre.instance import Instance


def run_checks(instance: Instance, session: Session, found: ReleaseRequest) -> None:
    project = registry.project(session, found.project_id)
    policy = registry.project_policy(project, instance.settings.policy)
    settings = instance.settings.airlock
    pseudonyms = _pseudonyms(instance, found.project_id)
    extract = ProjectFolders.of(instance, found.project_id).data
    live = [f for f in found.files if not f.withdrawn]
    problems = {f.id: _store(instance, found, f) for f in live}
    # the airlock makes every replayable output again itself (one process for the request);
    # an evidence file is only the analyst's claim
    stored = [f for f in live if problems[f.id] is None]
    claims = {f.id: replay.read_sidecar(_copy_of(instance, found, f.path)) for f in stored}
    copies = [(_copy_of(instance, found, f.path), claims[f.id]) for f in stored]
    replayed = dict(
        zip(
            claims,
            replay.verify_all(copies, extract, policy, project=found.project_id),
            strict=True,
        )
    )
    # differencing: every table is compared, by content read from the airlock's own copies
    # (with the true counts only where its replay computed them), with the project's released
    # tables, its other requests in flight, and this request's other tables
    requested = {
        f.path: read_table(
            _verify(found, f, _copy_of(instance, found, f.path)),
            Path(f.path).suffix,
            replayed[f.id][1],
        )
        for f in stored
        if not f.supporting
    }
    others = released_tables(session, project.id) + tables_in_flight(
        session,
        found,
        lambda other, item: _held(instance, other, item),
        lambda item: replay.trusted_evidence(list(item.checks)),
    )
    mine = [(f"{p} (in this request)", t) for p, t in requested.items() if t is not None]
    compared = Ledger(others + mine)
    # and every table of counts of them together, as one linked problem
    linked = joint_audit(mine, others, policy)
    # and whether exact sums of them together give back counts the policy rounds
    derived = derived_counts(mine, others, policy)
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
            evidence, _verified = replayed[item.id]
            results = auto.check_file(
                path,
                policy,
                pseudonyms,
                int(settings.max_file_mb * 1024 * 1024),
                settings.max_csv_rows,
                group,
                evidence,
            )
            results += related_check(instance, session, found, item, path, policy, pseudonyms)
            table = requested.get(item.path)
            if table is not None:
                name = f"{item.path} (in this request)"
                results.append(differencing(table, compared, policy, exclude=name))
                if name in linked:
                    results.append(linked[name])
                if name in derived:
                    results.append(derived[name])
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
    content = _read_regular(_copy_of(instance, found, item.path))
    if content is None or hashlib.sha256(content).hexdigest() != item.sha256:
        return None
    return content


def _pseudonyms(instance: Instance, project_id: str) -> set[str]:
    import pyarrow.parquet as pq

    data = ProjectFolders.of(instance, project_id).data
    found: set[str] = set()
    for path in data.glob("*.parquet"):
        schema = pq.ParquetFile(path).schema_arrow
        if "person" in schema.names:
            found.update(pq.read_table(path, columns=["person"]).column(0).drop_null().to_pylist())
    return found
