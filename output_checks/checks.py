"""Automatic checks of a file in a release request, run by the airlock itself.

Nothing computed in the analyst's kernel is trusted: an output made with ``sdc.safe.sql(...)`` is
made again by the airlock itself from its recipe, under the operator's policy (made stricter by
the project), and compared with the file (:mod:`output_checks.replay`); an evidence file is only
the analyst's claim and never passes by itself. Every file is checked by type, content, size
and shape, and one not verified by replay as if made by hand (for tables, the count rules);
released tables are tested against the project's ledger (:mod:`output_checks.ledger`).
Each check gives pass, fail or review, with a sentence a checker understands.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from linkage import nhs
from linkage.extract import PSEUDONYM
from sdc.policy import Policy


class CheckOutcome(StrEnum):
    """What one automatic check says about a file (stored in request_files and its checks)."""

    PASS = "pass"
    FAIL = "fail"
    REVIEW = "review"


ALLOWED = {".csv", ".png", ".svg", ".html", ".txt", ".json", ".md"}
IMAGES = {".png", ".svg"}
TEXT = {".csv", ".txt", ".json", ".md", ".html", ".svg"}
PERSON_COLUMN = re.compile(
    r"(^|[_\s-])(person|pseudonym|patient|nhs|nhs_?number|person_?id|record_?id|upn|nominal)"
    r"([_\s-]|$)",
    re.IGNORECASE,
)
TOTAL_LABELS = {"all", "total", "totals"}


@dataclass
class Check:
    name: str
    outcome: CheckOutcome
    explanation: str
    evidence: dict[str, Any] = field(default_factory=dict)


def outcome_of(checks: list[Check] | list[dict]) -> CheckOutcome:
    outcomes = {c.outcome if isinstance(c, Check) else c["outcome"] for c in checks}
    return (
        CheckOutcome.FAIL
        if CheckOutcome.FAIL in outcomes
        else CheckOutcome.REVIEW
        if CheckOutcome.REVIEW in outcomes
        else CheckOutcome.PASS
    )


def sniff(path: Path, data: bytes) -> Check:
    """Does the content match the extension?"""
    suffix = path.suffix.lower()
    if suffix not in ALLOWED:
        return Check(
            "file type",
            CheckOutcome.FAIL,
            f"{suffix or 'no extension'} files cannot leave the airlock; allowed: "
            + ", ".join(sorted(ALLOWED)),
        )
    if suffix == ".png":
        ok = data.startswith(b"\x89PNG\r\n\x1a\n")
    elif b"\x00" in data:
        ok = False
    else:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            ok = False
        else:
            head = text.lstrip()[:2000].lower()
            if suffix == ".svg":
                ok = "<svg" in head
            elif suffix == ".html":
                ok = "<html" in head or "<!doctype html" in head or "<div" in head
            elif suffix == ".json":
                try:
                    json.loads(text)
                    ok = True
                except json.JSONDecodeError:
                    ok = False
            else:
                ok = True
    if not ok:
        return Check(
            "file type",
            CheckOutcome.FAIL,
            f"the content of {path.name} is not what a {suffix} file holds; a file is judged by "
            "its content, not its name",
        )
    return Check("file type", CheckOutcome.PASS, f"{suffix} content, an allowed type")


def _rows(data: bytes) -> list[list[str]] | None:
    """The file as CSV rows, when it reads as a table of two or more columns."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    try:
        dialect = csv.Sniffer().sniff(text[:5000], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if r]
    if len(rows) < 2 or len(rows[0]) < 2:
        return None
    return rows


def microdata(rows: list[list[str]], pseudonyms: set[str], policy: Policy) -> Check:
    """Rows about individuals: a person-id column, identifiers in the values, one row per
    unit."""
    header, body = rows[0], rows[1:]
    named = [h for h in header if PERSON_COLUMN.search(h.strip())]
    if named:
        return Check(
            "microdata",
            CheckOutcome.FAIL,
            f"column {named[0]!r} looks like a person identifier: files of one row per person "
            "never leave the airlock",
            {"columns": named},
        )
    for j, name in enumerate(header):
        values = [r[j].strip() for r in body if j < len(r) and r[j].strip()]
        if not values:
            continue
        known = sum(v in pseudonyms for v in values)
        if known:
            return Check(
                "microdata",
                CheckOutcome.FAIL,
                f"column {name!r} holds {known} of the project's person pseudonyms",
                {"column": name},
            )
        shaped = sum(bool(PSEUDONYM.match(v)) or nhs.is_valid(v) for v in values)
        if shaped >= max(1, len(values) // 2):
            return Check(
                "microdata",
                CheckOutcome.FAIL,
                f"column {name!r} holds values shaped like NHS numbers or pseudonyms",
                {"column": name},
            )
    if len(body) > 50:
        numbers = [_number(c) for r in body for c in r[1:]]
        present = [n for n in numbers if n is not None]
        if present and all(n in (0, 1) for n in present) and len(body) >= policy.threshold:
            return Check(
                "microdata",
                CheckOutcome.FAIL,
                f"{len(body)} rows of 0/1 values: this looks like one row per person, not a table",
            )
    return Check("microdata", CheckOutcome.PASS, "no person identifiers and not one row per person")


def _number(value: str) -> float | None:
    try:
        return float(value.replace(",", "")) if value.strip() else None
    except ValueError:
        return None


def count_table(rows: list[list[str]], policy: Policy) -> list[Check]:
    """A CSV without evidence that looks like a count table: the count rules, by hand."""
    header, body = rows[0], rows[1:]
    cells = [(r[0], header[j], _number(c)) for r in body for j, c in enumerate(r) if j > 0]
    numbers = [(row, column, value) for row, column, value in cells if value is not None]
    if not numbers or len(numbers) < len(cells) / 2:
        return [Check("table", CheckOutcome.REVIEW, "not a table of numbers: a checker reads it")]
    checks = []
    small = [c for c in numbers if 0 < c[2] < policy.threshold]
    zeros = [c for c in numbers if c[2] == 0]
    if small:
        row, column, value = small[0]
        checks.append(
            Check(
                "threshold",
                CheckOutcome.FAIL,
                f"{len(small)} cells below the threshold of {policy.threshold}, e.g. {row} / "
                f"{column} = {value:g}",
                {"cells": [list(c) for c in small[:20]]},
            )
        )
    elif zeros and policy.zeros_disclosive:
        checks.append(
            Check(
                "threshold",
                CheckOutcome.REVIEW,
                f"{len(zeros)} zero cells: zeros can be disclosive (an empty group says "
                "something about everyone else)",
            )
        )
    else:
        checks.append(Check("threshold", CheckOutcome.PASS, f"no cell below {policy.threshold}"))
    base = policy.rounding_base
    if base and all(float(c[2]).is_integer() and c[2] % base == 0 for c in numbers):
        checks.append(Check("rounding", CheckOutcome.PASS, f"every count is a multiple of {base}"))
    else:
        checks.append(
            Check(
                "rounding",
                CheckOutcome.REVIEW,
                f"counts are not rounded to the policy's base of {base}",
            )
        )
    checks.append(_totals(header, body))
    checks.append(
        Check(
            "table without evidence",
            CheckOutcome.REVIEW,
            "this table was not made with sdc.safe, so its cells' evidence (counts, dominance) "
            "is unknown: a checker must judge it",
        )
    )
    return checks


def _totals(header: list[str], body: list[list[str]]) -> Check:
    labels = [h.strip().lower() for h in header]
    if TOTAL_LABELS & set(labels[1:]):
        j = next(i for i, h in enumerate(labels) if i > 0 and h in TOTAL_LABELS)
        for row in body:
            values = [_number(c) for i, c in enumerate(row) if 0 < i != j]
            parts = [p for p in values if p is not None]
            total = _number(row[j]) if j < len(row) else None
            if total is not None and len(parts) == len(values):
                if abs(sum(parts) - total) > max(5 * len(parts), 1):
                    return Check(
                        "totals",
                        CheckOutcome.REVIEW,
                        f"row {row[0]!r}: the parts add up to {sum(parts):g}, the total says "
                        f"{total:g}",
                    )
        return Check(
            "totals", CheckOutcome.PASS, "row totals agree with their parts (allowing for rounding)"
        )
    return Check("totals", CheckOutcome.PASS, "no total column to compare")


def check_file(
    path: Path,
    policy: Policy,
    pseudonyms: set[str],
    max_bytes: int,
    max_rows: int,
    group_files: list[Path],
    evidence: Check | None = None,
) -> list[Check]:
    """Every automatic check of one file (the ledger's differencing is added by the caller).
    EVIDENCE is the evidence check the caller had the airlock's replay make
    (:func:`output_checks.replay.verify`): an evidence file alone is never believed, and a file
    not verified by replay is checked as if made by hand."""
    data = path.read_bytes()
    checks = [sniff(path, data)]
    if len(data) > max_bytes:
        checks.append(
            Check(
                "size",
                CheckOutcome.FAIL,
                f"{len(data):,} bytes, more than the limit of {max_bytes:,}",
            )
        )
    rows = _rows(data) if path.suffix.lower() in (".csv", ".txt", ".md", ".png", ".json") else None
    if rows is not None or path.suffix.lower() == ".csv":
        if rows is None:
            checks.append(Check("table", CheckOutcome.FAIL, "the CSV cannot be read as a table"))
        else:
            checks.append(microdata(rows, pseudonyms, policy))
            if len(rows) - 1 > max_rows:
                checks.append(
                    Check(
                        "rows",
                        CheckOutcome.FAIL,
                        f"{len(rows) - 1:,} rows, more than the limit of {max_rows:,}",
                    )
                )
    if evidence is None:
        evidence = Check(
            "evidence",
            CheckOutcome.REVIEW,
            "evidence not verified: the airlock did not replay this file",
        )
    checks.append(evidence)
    if evidence.outcome == CheckOutcome.PASS:
        return checks  # verified by the airlock's own replay: the file is the table it made
    if path.suffix.lower() in IMAGES:
        tables = [p for p in group_files if p.suffix.lower() == ".csv"]
        checks.append(
            Check(
                "image",
                CheckOutcome.REVIEW if tables else CheckOutcome.FAIL,
                (
                    f"a picture without evidence; the table behind it should be {tables[0].name}: "
                    "a checker compares them"
                )
                if tables
                else "a picture needs the table behind it: add the table (made with sdc.safe) "
                "to the same group",
            )
        )
    elif rows is not None and path.suffix.lower() == ".csv":
        checks += count_table(rows, policy)
    elif path.suffix.lower() in (".html", ".txt", ".md", ".json", ".svg"):
        checks.append(
            Check(
                "content",
                CheckOutcome.REVIEW,
                "free text or a report: a checker reads every number in it",
            )
        )
    return checks


def as_dicts(checks: list[Check]) -> list[dict[str, Any]]:
    return [asdict(c) for c in checks]
