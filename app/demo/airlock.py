"""The demo's airlock step: a request from a study's outputs, its automatic checks, two blinded
checkers' approval, and the release with its crate."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from notebooks.runs import REPORT_NO_CODE, output_path
from output_checks import airlock
from output_checks.enums import CheckOutcome
from tre.instance import Instance

AUTHOR = "alex.analyst"
CHECKERS = ("chris.checker", "dana.checker")


@dataclass
class AirlockDemo:
    request: str
    files: int
    outcomes: str
    flagged: str
    folder: Path
    crate: Path


def run(instance: Instance, project: str, study) -> AirlockDemo:
    tables = [o["file"] for o in study.outputs if o["has_evidence"] and not o["evidence_of"]]
    request_id = airlock.request(
        instance,
        project,
        AUTHOR,
        [output_path(study.id, name) for name in tables],
        group="caseload",
        context="The Supporting Families caseload by criterion, combination and neighbourhood",
        controls="Every table made with sdc.safe: small cells suppressed, counts rounded to 5",
    )
    airlock.add(
        instance,
        request_id,
        AUTHOR,
        [output_path(study.id, REPORT_NO_CODE)],
        group="report",
        context="The study's report without code, for the reader of the tables",
        controls="It shows only the tables above",
    )
    outcomes = airlock.submit(instance, request_id, AUTHOR)
    shown = airlock.show(instance, request_id, CHECKERS[0])
    flagged = next(
        (
            f"{Path(f['path']).name}: {c['name']}: {c['explanation']}"
            for f in shown["files"]
            for c in f["checks"]
            if c["outcome"] != CheckOutcome.PASS
        ),
        "nothing",
    )
    suppressed = [
        f"{Path(f['path']).name} has {c['evidence']['summary']['suppressed']} suppressed cells"
        for f in shown["files"]
        for c in f["checks"]
        if c["name"] == "evidence" and c["evidence"].get("summary", {}).get("suppressed")
    ]
    if suppressed:
        flagged += "; " + suppressed[0]
    for checker in CHECKERS:
        for item in shown["files"]:
            airlock.review(instance, request_id, checker, item["path"], "approve")
        airlock.submit_review(instance, request_id, checker)
    done = airlock.release(instance, request_id, CHECKERS[0], recipient="Treton Partnership Board")
    summary = ", ".join(f"{n} {o}" for o, n in Counter(outcomes.values()).items())
    return AirlockDemo(request_id, len(outcomes), summary, flagged, done.folder, done.crate)
