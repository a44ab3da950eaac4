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
from dataclasses import asdict
from pathlib import Path
from typing import Any

from linkage.extract import PSEUDONYM
from output_checks import microdata as microdata_rules
from output_checks import rules
from output_checks.outcomes import Check, CheckOutcome
from sdc.policy import Policy

__all__ = [
    "ALLOWED",
    "IMAGES",
    "PSEUDONYM",
    "TEXT",
    "Check",
    "CheckOutcome",
    "as_dicts",
    "check_file",
    "count_table",
    "microdata",
    "outcome_of",
    "sniff",
]


MAX_CELL_CHARS = 120  # a category label or a number, never a paragraph
ALLOWED = {".csv", ".png", ".svg", ".html", ".txt", ".json", ".md"}
IMAGES = {".png", ".svg"}
TEXT = {".csv", ".txt", ".json", ".md", ".html", ".svg"}


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
    try:
        rows = [r for r in csv.reader(io.StringIO(text), dialect) if r]
    except csv.Error:  # e.g. a field longer than the csv module's limit: see long_cells
        return None
    if len(rows) < 2 or len(rows[0]) < 2:
        return None
    return rows


def microdata(rows: list[list[str]], pseudonyms: set[str], policy: Policy) -> Check:
    """Rows about individuals, by content (:func:`output_checks.microdata.check`)."""
    return microdata_rules.check(rows, pseudonyms, policy)


def count_table(rows: list[list[str]], policy: Policy) -> list[Check]:
    """A CSV without evidence that looks like a count table (:func:`rules.count_table`)."""
    return rules.count_table(rows, policy)


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
        elif (longest := max((len(c) for r in rows for c in r), default=0)) > MAX_CELL_CHARS:
            checks.append(
                Check(
                    "cell length",
                    CheckOutcome.FAIL,
                    f"a cell of {longest:,} characters: a table holds short labels and numbers "
                    f"(at most {MAX_CELL_CHARS}); a long label can carry records",
                )
            )
        elif len(rows) - 1 > max_rows:
            checks.append(
                Check(
                    "rows",
                    CheckOutcome.FAIL,
                    f"{len(rows) - 1:,} rows, more than the limit of {max_rows:,}",
                )
            )
    # the content's own rules, whatever sidecar sits beside it (the analyst wrote that too)
    checks += rules.content_checks(path, data, rows, policy, pseudonyms, group_files)
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
        # the table behind a picture: the one of the same name, else every table of its group
        same = [p for p in tables if p.stem == path.stem]
        named = ", ".join(p.name for p in (same or tables))
        checks.append(
            Check(
                "image",
                CheckOutcome.REVIEW if tables else CheckOutcome.FAIL,
                (
                    "a picture is never verified by the airlock; a checker compares it with the "
                    f"table behind it ({named})"
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
