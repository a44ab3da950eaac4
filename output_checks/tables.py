"""The airlock's own reading of a table file into cells.

The differencing checks (:mod:`output_checks.ledger`) compare tables by what they publish, not by
what a sidecar says they are: whatever is in the analyst's workspace, evidence included, was
written by the analyst. So the airlock reads the file itself: a CSV as ``sdc.safe`` writes it
(row-label columns, then one or more header rows for the column dimensions), a hand-made CSV (a
first column of labels and numeric columns, or the long format ``dim1,dim2,value``), a
``describe`` table, or an XLSX workbook (every sheet; formulas are refused, never evaluated).

A :class:`Table` holds the labels and published values of every cell. Names of dimensions are
kept as the file gives them, for explanations only: they are never used for matching. True
counts (``counts``) are filled only from evidence the caller vouches for (the airlock's own
replay of a table); a sidecar from the workspace must never be passed here.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

TOTAL_LABELS = {"all", "total", "totals", "grand total", "overall"}  # a margin's label
DESCRIBE_STATISTICS = {"count", "mean", "std", "min", "25%", "50%", "75%", "max"}
MAX_BASE = 10
MAX_CELLS = 200_000  # a table larger than this is not a table a checker reads: not parsed
XLSX_PARTS = "xl/workbook.xml"
XLSX_MAX_UNPACKED = 64 << 20  # a zip that unpacks to more is refused before it is read
# parts of an XLSX that carry content a checker would not see in its cells: refused
XLSX_FORBIDDEN = ("xl/vbaProject.bin", "xl/externalLinks/", "xl/embeddings/", "xl/activeX/")

# marks statistical offices and analysts put in place of a withheld value: read as blanks
WITHHELD = {"[c]", "[x]", "[z]", "c", "x", "z", "..", ".", "-", "–", "*", "suppressed", "n/a", "na"}
BELOW = re.compile(r"^(<|&lt;|fewer than |under )\s*\d+$")
FOOTNOTES = "*†‡^"

Key = tuple[str, ...]


def normal_label(label: str) -> str:
    """A label as tables are matched by it: compatibility forms folded (NFKC: a full-width
    "ｓｏｕｔｈ" is "south"), invisible format characters (zero-width spaces, joiners, direction
    marks) removed, case and runs of white space ignored."""
    folded = unicodedata.normalize("NFKC", label)
    visible = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    return " ".join(visible.lower().split())


def _unmatchable(label: str) -> str | None:
    """Why LABEL (stripped of its padding) cannot be matched by its text, or None: control
    characters (tabs, line breaks…), or Latin letters mixed with Cyrillic or Greek ones (a
    Cyrillic "о" in "sоuth" looks like the Latin letter and is another label)."""
    if any(unicodedata.category(c) == "Cc" for c in label):
        return f"the label {label!r} holds control characters"
    scripts = {unicodedata.name(c, "?").split()[0] for c in label if c.isalpha()}
    if "LATIN" in scripts and scripts & {"CYRILLIC", "GREEK"}:
        return f"the label {label!r} mixes Latin letters with Cyrillic or Greek ones"
    return None


@dataclass
class Table:
    """A table as the airlock read it from the file.

    ``cells`` maps each cell's labels (one per dimension, in ``dims`` order) to its published
    value (None: blank, i.e. suppressed). ``margin`` is the label the file uses for totals
    ("All", "Total"…), if any. ``kind`` is ``counts`` (every published value a non-negative whole
    number), ``values`` (means, sums, rates…) or ``describe`` (dims: statistic, variable).
    ``counts`` holds true counts per cell, only when the airlock computed them itself, and
    ``statistic`` what its replay says the cells are (``sum``, ``mean``…). ``problem`` says why
    the reading cannot be trusted (two cells with the same labels, labels that cannot be
    matched): the checks that compare tables give it review."""

    dims: list[str]
    cells: dict[Key, float | None]
    margin: str | None = None
    kind: str = "counts"
    counts: dict[Key, float] | None = field(default=None)
    sheet: str = ""
    statistic: str | None = None  # the aggfunc the airlock's own replay computed (sum, mean…)
    # the multiple its replayed sums are rounded to, where they pin counts (sdc rounds the sums
    # of a nearly constant variable, or of values on a lattice, as counts:
    # sdc.tables.rules.sum_rounding); None: exact
    step: float | None = None
    problem: str = ""  # why the airlock cannot trust its reading (duplicate cells…): review

    @cached_property
    def base(self) -> int:
        """The rounding base the published counts are consistent with (1: not rounded): the
        greatest common divisor of three or more non-zero published counts, when it is between
        2 and 10 (the bases in use)."""
        if self.kind == "describe":
            counts = [v for (stat, _), v in self.cells.items() if stat == "count" and v]
        elif self.kind == "counts":
            counts = [v for v in self.cells.values() if v]
        else:
            return 1
        divisor = 0
        for value in counts:
            divisor = math.gcd(divisor, int(round(value)))
        return divisor if 2 <= divisor <= MAX_BASE and len(counts) >= 3 else 1

    def inner(self) -> dict[Key, float | None]:
        """The cells that are not totals (no label is the margin label)."""
        if self.margin is None:
            return dict(self.cells)
        return {k: v for k, v in self.cells.items() if self.margin not in k}

    def to_json(self) -> dict[str, Any]:
        """What the ledger stores (JSON: labels and values, counts when the airlock had them)."""
        return {
            "format": 2,
            "kind": self.kind,
            "dims": list(self.dims),
            "margin": self.margin,
            "sheet": self.sheet,
            "statistic": self.statistic,
            "step": self.step,
            "problem": self.problem,
            "cells": [[list(k), v] for k, v in self.cells.items()],
            "counts": None
            if self.counts is None
            else [[list(k), v] for k, v in self.counts.items()],
        }

    @classmethod
    def from_json(cls, stored: dict[str, Any]) -> Table:
        """A table back from the ledger: this module's format, or the entries written before it
        from ``sdc.safe`` evidence (their published values only: their counts came from a
        sidecar, which is not trusted)."""
        if stored.get("format") == 2:
            counts = stored.get("counts")
            return cls(
                dims=list(stored["dims"]),
                cells={tuple(k): v for k, v in stored["cells"]},
                margin=stored.get("margin"),
                kind=stored.get("kind", "counts"),
                counts=None if counts is None else {tuple(k): v for k, v in counts},
                sheet=stored.get("sheet", ""),
                statistic=stored.get("statistic"),
                step=stored.get("step"),
                problem=stored.get("problem", ""),
            )
        dims = list(stored.get("dims", []))
        cells = {
            tuple(str(c["dims"][d]) for d in dims): c.get("published") for c in stored["cells"]
        }
        kind = "counts" if stored.get("values") is None else "values"
        table = cls(dims, cells, "All" if any("All" in k for k in cells) else None, kind)
        return table


# ---------------------------------------------------------------------------------------------
# Reading


def parse_table(data: bytes, suffix: str, evidence: dict[str, Any] | None = None) -> Table | None:
    """The first table in DATA (a ``.csv`` or ``.xlsx`` file), or None when it holds none.

    EVIDENCE, when given, must be evidence the airlock computed itself (never a workspace
    sidecar): its true counts fill :attr:`Table.counts` for the cells the file publishes."""
    tables = parse_tables(data, suffix, evidence)
    return tables[0] if tables else None


def parse_tables(data: bytes, suffix: str, evidence: dict[str, Any] | None = None) -> list[Table]:
    """Every table in DATA: one for a CSV, one per sheet for an XLSX workbook."""
    suffix = suffix.lower()
    # the airlock's own replay knows how many row dimensions it wrote (a row dimension of
    # numbers, such as years, looks like a column of values)
    row_dims = (
        len(evidence.get("rows") or []) if evidence and evidence.get("kind") == "table" else 0
    )
    if suffix == ".csv":
        rows = csv_rows(data)
        found = [_from_rows(rows, "", row_dims)] if rows is not None else []
    elif suffix == ".xlsx":
        found = [_from_rows(rows, name, row_dims) for name, rows in xlsx_rows(data)]
    else:
        return []
    tables = [t for t in found if t is not None]
    if evidence is not None:
        for table in tables:
            fill_counts(table, evidence)
    return tables


def csv_rows(data: bytes) -> list[list[str]] | None:
    """The rows of a CSV file (delimiter sniffed among , ; tab |), or None when not text."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    try:
        dialect: Any = csv.Sniffer().sniff(text[:5000], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        return [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    except csv.Error:
        return None


class UnsafeWorkbook(ValueError):
    """An XLSX workbook the airlock will not read: the sentence says why."""


def xlsx_problems(data: bytes) -> list[str]:
    """What makes DATA an XLSX workbook that cannot leave: not a workbook, macros, links to
    other files, embedded objects, or formulas (a formula is recomputed by whoever opens the
    file, so its cell may show something other than what the checkers saw)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        return ["not an XLSX workbook (not a zip archive)"]
    names = archive.namelist()
    unpacked = sum(info.file_size for info in archive.infolist())
    if unpacked > XLSX_MAX_UNPACKED:
        return [
            f"the workbook unpacks to {unpacked:,} bytes, more than {XLSX_MAX_UNPACKED:,}: "
            "save the table alone"
        ]
    if XLSX_PARTS not in names:
        return ["not an XLSX workbook (no xl/workbook.xml)"]
    problems = [
        f"the workbook holds {name} (macros, links or embedded objects cannot leave)"
        for name in names
        if any(name.startswith(part) for part in XLSX_FORBIDDEN)
    ]
    if problems:
        return problems
    try:
        workbook = _workbook(data, formulas=True)
    except Exception as exc:  # openpyxl raises many kinds of errors for broken files
        return [f"the workbook cannot be read: {exc}"]
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    return [
                        f"sheet {sheet.title!r} cell {cell.coordinate} holds a formula: save the "
                        "values only"
                    ]
    return []


def _workbook(data: bytes, formulas: bool):
    import openpyxl  # type: ignore[import-untyped]  # no stubs in the locks

    return openpyxl.load_workbook(
        io.BytesIO(data), read_only=True, data_only=not formulas, keep_links=False
    )


def xlsx_rows(data: bytes) -> list[tuple[str, list[list[str]]]]:
    """Every sheet of an XLSX workbook as rows of text; raises :class:`UnsafeWorkbook` for a
    workbook :func:`xlsx_problems` refuses (formulas are never evaluated)."""
    problems = xlsx_problems(data)
    if problems:
        raise UnsafeWorkbook("; ".join(problems))
    workbook = _workbook(data, formulas=False)
    sheets = []
    for sheet in workbook.worksheets:
        rows = [
            ["" if v is None else _text(v) for v in row]
            for row in sheet.iter_rows(values_only=True)
        ]
        sheets.append((sheet.title, [r for r in rows if any(c.strip() for c in r)]))
    return sheets


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(value)
    return str(value)


def number(text: str) -> float | None:
    """A cell's number, or None when it is not one. Thousands separators, footnote marks and
    a percent sign around it are allowed (``1,200``, ``35*``, ``12%``): decorations must not
    take a table out of differencing."""
    text = text.strip().replace(",", "").strip(FOOTNOTES).removesuffix("%").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _withheld(text: str) -> bool:
    """Is TEXT a mark for a withheld value (blank, ``[c]``, ``x``, ``..``, ``<5``…)?"""
    text = text.strip().lower()
    return not text or text in WITHHELD or bool(BELOW.match(text))


def _numeric_or_blank(text: str) -> bool:
    return _withheld(text) or number(text) is not None


def _from_rows(rows: list[list[str]], sheet: str = "", written: int = 0) -> Table | None:
    """A table from rows of text: the layout is worked out from the content (at least
    WRITTEN columns of labels, when the airlock's replay wrote the file)."""
    if len(rows) < 2:
        return None
    width = max(len(r) for r in rows)
    if width < 2 or width * len(rows) > MAX_CELLS:
        return None
    rows = [[c.strip() for c in r] + [""] * (width - len(r)) for r in rows]
    described = _describe(rows)
    if described is not None:
        described.sheet = sheet
        return described
    # header rows: the first row always; then rows whose last value is not a number (column
    # labels of further column dimensions) or that are blank after the first cell (pandas'
    # row of index names under a multi-level header)
    end = 1
    while end < len(rows) and not _numeric_or_blank(rows[end][-1]):
        end += 1
    names_row = None
    if end >= 2 and end < len(rows) and all(not c for c in rows[end][1:]):
        names_row = rows[end]
        end += 1
    header, body = rows[:end], rows[end:]
    if not body:
        return None
    # label columns: the first always; then every column with a value that is not a number
    labels = 1
    for row in body:
        for j in range(width - 1, 0, -1):
            if not _numeric_or_blank(row[j]):
                labels = max(labels, j + 1)
                break
    if names_row is not None:
        labels = max(labels, sum(1 for c in names_row if c) or 1)
    labels = max(labels, written)
    if labels >= width:
        return None
    if names_row is not None:  # pandas' multi-level header: one row per column dimension
        levels = header[:-1]
        row_dims = names_row[:labels]
        column_dims = [h[labels - 1] or f"columns {i + 1}" for i, h in enumerate(levels)]
    elif width - labels == 1:  # one value column: a one-dimensional or long-format table
        levels = []
        row_dims = header[-1][:labels]
        column_dims = []
    else:  # the header's cells label the value columns (pandas loses their dimension's name)
        levels = header
        row_dims = header[-1][:labels]
        column_dims = [
            f"columns {i + 1}" if len(levels) > 1 else "columns" for i in range(len(levels))
        ]
    column_labels = [tuple(h[j] for h in levels) for j in range(labels, width)]
    dims = [d or f"rows {i + 1}" for i, d in enumerate(row_dims)] + column_dims
    cells: dict[Key, float | None] = {}
    seen: dict[Key, Key] = {}
    problems: list[str] = []
    for row in body:
        key = tuple(row[:labels])
        for j, column in enumerate(column_labels):
            text = row[labels + j]
            value = number(text)
            if value is None and not _withheld(text):
                return None  # a word among the values: not a table of numbers
            full = key + column
            normal = tuple(normal_label(label) for label in full)
            if normal in seen and not problems:
                problems.append(
                    f"the airlock reads two cells {', '.join(seen[normal])} and "
                    f"{', '.join(full)} as one (labels that differ only by case, spaces or "
                    "invisible characters, or a column of numbers that is a dimension, such as "
                    "years, read as values): it cannot tell which the file publishes"
                )
            seen.setdefault(normal, full)
            cells[full] = value
    published = [v for v in cells.values() if v is not None]
    if not published:
        return None
    if not problems:
        labels_found = {label for key in cells for label in key}
        problems += [
            f"{why}: the airlock cannot match it with other tables' labels"
            for why in filter(None, map(_unmatchable, sorted(labels_found)))
        ][:1]
    if not problems and not written and len(body) >= 2:
        problems += [
            f"the column {'/'.join(column) or j + 1} holds {what} in every row: a dimension "
            "(such as years) the airlock would read as values"
            for j, column in enumerate(column_labels[:-1])
            for what in [_label_like([number(row[labels + j]) for row in body])]
            if what
        ][:1]
    margin = next((label for key in cells for label in key if label.lower() in TOTAL_LABELS), None)
    kind = "counts" if all(v >= 0 and float(v).is_integer() for v in published) else "values"
    return Table(dims, cells, margin, kind, sheet=sheet, problem="; ".join(problems))


def _label_like(values: list[float | None]) -> str | None:
    """What makes a column of VALUES (every row's, not the last column) look like labels rather
    than counts: years (whole numbers 1900 to 2100) in every row. (One number in every row is
    no sign: a rounded table's column of 10s.)"""
    if all(v is not None and v.is_integer() and 1900 <= v <= 2100 for v in values):
        return "years"
    return None


def _describe(rows: list[list[str]]) -> Table | None:
    """A ``describe`` table (statistics down the first column, or across the header)."""
    down = {r[0].lower() for r in rows[1:]}
    cells: dict[Key, float | None]
    if {"count", "mean"} <= down and down <= DESCRIBE_STATISTICS:
        variables = rows[0][1:]
        cells = {
            (r[0].lower(), variables[j] or f"column {j + 1}"): number(r[1 + j])
            for r in rows[1:]
            for j in range(len(variables))
        }
    else:
        across = [c.lower() for c in rows[0][1:]]
        if not ({"count", "mean"} <= set(across) and set(across) <= DESCRIBE_STATISTICS):
            return None
        cells = {
            (stat, r[0] or f"row {i + 1}"): number(r[1 + j])
            for i, r in enumerate(rows[1:])
            for j, stat in enumerate(across)
        }
    return Table(["statistic", "variable"], cells, None, "describe")


def fill_counts(table: Table, evidence: dict[str, Any]) -> None:
    """Fill TABLE's true counts from EVIDENCE in ``sdc.safe``'s shape (``kind`` table: cells
    with ``dims`` and ``count``; ``kind`` describe: columns with their evidence's ``count``),
    for the cells the file publishes, and the statistic its cells are (``aggfunc``: sum,
    mean…). Only evidence the airlock computed may be passed."""
    counts: dict[Key, float] = {}
    if evidence.get("kind") == "table" and table.kind != "describe":
        aggfunc = evidence.get("aggfunc")
        table.statistic = str(aggfunc) if aggfunc is not None else None
        if (evidence.get("counted") or {}).get("constant") == 1.0:
            table.statistic = "count"  # a sum of a 0/1 flag: published as the count of ones
        rounded = [
            (evidence.get(note) or {}).get("rounded_to") for note in ("nearly_constant", "lattice")
        ]
        table.step = max((r for r in rounded if r), default=None)
        order = list(evidence.get("rows", [])) + list(evidence.get("cols", []))
        for cell in evidence.get("cells", []):
            key = tuple(str(cell["dims"][d]) for d in order)
            if key in table.cells and cell.get("count") is not None:
                counts[key] = float(cell["count"])
    elif evidence.get("kind") in ("regression", "survival"):
        table.statistic = str(evidence["kind"])  # a model's estimates: not counts
    elif evidence.get("kind") == "describe" and table.kind == "describe":
        for column, info in evidence.get("columns", {}).items():
            key = ("count", str(column))
            if key in table.cells and info.get("evidence", {}).get("count") is not None:
                counts[key] = float(info["evidence"]["count"])
    table.counts = counts or None
