"""The demo's disclosure-control step: measure the re-identification risk of an agency file's
quasi-identifiers, anonymise it step by step with a report, and publish one protected table
with its evidence, re-checked under the instance's policy."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import sdc
from sdc import safe

REFERENCE_DATE = np.datetime64("2026-03-31")
QUASI_IDENTIFIERS = ["age", "sex", "lsoa_code"]
AGE_BREAKS = [-1, *range(4, 90, 5), 120]  # five-year bands, 90 and over


@dataclass
class DisclosureDemo:
    records: int
    violations_before: int
    violations_after: int
    violations_recoded: int
    suppressed_values: int
    table_cells: int
    table_suppressed: int
    recheck_problems: list[str]
    report: Path
    table: Path


def attendances(data: Path) -> pd.DataFrame:
    """A&E attendances with their quasi-identifiers: age in years, sex, LSOA."""
    frame = pd.read_csv(data / "ae_attendances.csv", dtype=str)
    lookup = pd.read_csv(data / "postcode_lsoa.csv", dtype=str)
    frame = frame.merge(lookup, on="postcode", how="left")
    born = pd.to_datetime(frame.date_of_birth, errors="coerce")
    age = (pd.Timestamp(REFERENCE_DATE) - born).dt.days // 365
    frame["age"] = age
    frame["sex"] = frame.sex.map({"1": "male", "2": "female"})
    return frame


def run(data: Path, out: Path, policy: sdc.Policy) -> DisclosureDemo:
    out.mkdir(parents=True, exist_ok=True)
    frame = attendances(data)
    session = sdc.Session(frame, keys=QUASI_IDENTIFIERS)
    before = sdc.kanon_violations(frame, QUASI_IDENTIFIERS, 5)
    session.apply(sdc.global_recode, "age", AGE_BREAKS)
    result = session.apply(sdc.local_suppression, k=5)
    after = sdc.kanon_violations(session.current, QUASI_IDENTIFIERS, 5)
    report = out / "anonymisation-report.html"
    session.report(report)

    table = safe.crosstab(
        frame.lsoa_code.rename("LSOA"), frame.chief_complaint.rename("complaint"), policy=policy
    )
    path = table.save(out / "attendances-by-lsoa-and-complaint.csv")
    evidence = safe.read_evidence(path)
    problems = safe.recheck(evidence, policy) + safe.verify_output(path, evidence)
    return DisclosureDemo(
        records=len(frame),
        violations_before=before,
        violations_after=after,
        violations_recoded=int(session.steps[0].risk_after["violating 5-anonymity"]),
        suppressed_values=result.suppressed,
        table_cells=table.evidence["summary"]["cells"],
        table_suppressed=table.suppressed,
        recheck_problems=problems,
        report=report,
        table=path,
    )
