"""The automatic checks of a submitted request, run by the airlock on its own copies.

:func:`run_checks` takes the airlock's copy of every live file (:mod:`output_checks.store`),
checks each under the project's policy (:mod:`output_checks.checks`) and its tables against the
project's ledger and the request's other tables (:mod:`output_checks.ledger`), and records every
file's checks and outcome on its row, and the outcomes in the audit log.

Moved out of ``output_checks/airlock.py`` with its body unchanged, so that changes made to it
there at the same time can be carried across by hand: the store's functions are imported under
the names the body used in ``airlock.py``, and the ledger's rows are read here, not through
:mod:`output_checks.data` (the import-linter contract names this module as its one exception).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from output_checks import checks as auto
from output_checks import replay
from output_checks.data import ReleaseRequest
from output_checks.enums import AirlockEvent
from output_checks.ledger import differencing, table_entry
from output_checks.models import LedgerEntry
from output_checks.relating import related_check
from output_checks.store import copy_of as _copy_of
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
    released = [
        (f"{e.file} (released in {e.request_id})", e.table)
        for e in session.scalars(select(LedgerEntry).where(LedgerEntry.project_id == project.id))
    ]
    live = [f for f in found.files if not f.withdrawn]
    problems = {f.id: _store(instance, found, f) for f in live}
    # the airlock makes every replayable output again itself (one process for the request);
    # an evidence file is only the analyst's claim
    stored = [f for f in live if problems[f.id] is None]
    claims = {f.id: replay.read_sidecar(_copy_of(instance, found, f.path)) for f in stored}
    copies = [(_copy_of(instance, found, f.path), claims[f.id]) for f in stored]
    replayed = dict(zip(claims, replay.verify_all(copies, extract, policy), strict=True))
    pending: list[tuple[str, dict[str, Any]]] = []
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
            claimed = claims[item.id]
            evidence, verified = replayed[item.id]
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
            if claimed is not None and not item.supporting:
                entry = table_entry(verified or claimed)
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
