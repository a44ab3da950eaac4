"""Microdata by content: is a file one row per person, whatever its columns are called?

A careful analyst renames a pseudonym column ``count``, hashes the pseudonyms again, writes the
rows as JSON records, as an HTML table or as the labels of a picture, or splits them over several
requests. So the test looks at what the file holds, in every text format the airlock admits
(CSV, TXT and Markdown tables, JSON records, HTML tables, SVG text), not at its column names:

- values that are the project's pseudonyms, NHS numbers, or shaped like a digest (32 or more hex
  digits, as sha256/md5 of a pseudonym give) or like a random token unique to each row;
- a person-id column name only counts where the column's values look like identifiers (a
  category called ``NHS`` over counts is a table, not an identifier);
- rows that are not a table's cells: labels repeated with different values (a table has one row
  per combination), more rows than the project's population could fill with groups of the
  threshold, long unlabelled lists of numbers, long lists of 0/1 flags;
- :func:`related`: the same columns in earlier files of the project (released or in flight)
  whose rows, put together with these, are one row per person.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

from linkage import nhs
from linkage.extract import PSEUDONYM
from output_checks.outcomes import Check, CheckOutcome
from sdc.policy import Policy

Rows = list[list[str]]

PERSON_COLUMN = re.compile(
    r"(^|[_\s-])(person|pseudonym|patient|nhs|nhs_?number|person_?id|record_?id|upn|nominal|"
    r"id|uid|hash)([_\s-]|$)",
    re.IGNORECASE,
)
HEX_DIGEST = re.compile(r"^(0x)?[0-9a-f]{32,}$", re.IGNORECASE)
TOKEN = re.compile(r"^[A-Za-z0-9+/=_-]{8,}$")
LONG_FILE = 50  # rows from which a column unique to each row is suspicious
REPEATED_LABELS = 20  # rows from which repeated labels say "records, not cells"


# ---------------------------------------------------------------------------------------------
# Reading every text format as rows


def rows_of(suffix: str, data: bytes) -> Rows | None:
    """The file's content as rows of text cells (the first row the header), in whichever text
    format the allow-list admits; None when it holds no table."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    suffix = suffix.lower()
    if suffix == ".json":
        return _json_rows(text)
    if suffix in (".html", ".htm"):
        return _markup_rows(text, svg=False)
    if suffix == ".svg":
        return _markup_rows(text, svg=True)
    if suffix in (".md", ".txt"):
        piped = _pipe_rows(text)
        if piped is not None:
            return piped
    if suffix in (".csv", ".txt", ".md"):
        return csv_rows(text, strict=suffix != ".csv")
    return None


def csv_rows(text: str, strict: bool = False) -> Rows | None:
    """TEXT as delimited rows, when it reads as a table of two or more columns (STRICT: most
    rows have the header's width, so that prose with commas is not taken for a table)."""
    try:
        dialect: Any = csv.Sniffer().sniff(text[:5000], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [r for r in csv.reader(io.StringIO(text), dialect) if r]
    if len(rows) < 2 or len(rows[0]) < 2:
        return None
    if strict and sum(len(r) == len(rows[0]) for r in rows) < 0.8 * len(rows):
        return None
    return rows


def _pipe_rows(text: str) -> Rows | None:
    lines = [line.strip() for line in text.splitlines() if line.strip().count("|") >= 1]
    rows = []
    for line in lines:
        cells = [c.strip() for c in line.strip("|").split("|")]
        if all(re.fullmatch(r":?-{3,}:?", c) for c in cells if c):
            continue
        rows.append(cells)
    if len(rows) < 2 or len(rows[0]) < 2:
        return None
    return rows


def _json_rows(text: str) -> Rows | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return _records(value)


def _records(value: Any) -> Rows | None:
    """Records in any of the shapes pandas and people write: a list of objects, a list of
    lists, columns of lists ({"a": [..], "b": [..]}), pandas' "split" and "index" orients, or
    one key holding any of these ({"data": [...]})."""
    if isinstance(value, list) and value:
        if all(isinstance(v, dict) for v in value):
            header: list[str] = []
            for record in value:
                header += [str(k) for k in record if str(k) not in header]
            return [header] + [[_text(r.get(k)) for k in header] for r in value]
        if all(isinstance(v, list) for v in value):
            return [[_text(c) for c in row] for row in value]
        return [["value"]] + [[_text(v)] for v in value]
    if isinstance(value, dict) and value:
        if {"columns", "data"} <= set(value) and isinstance(value["data"], list):
            index = value.get("index")
            rows = [[_text(c) for c in row] for row in value["data"] if isinstance(row, list)]
            header = [_text(c) for c in value["columns"]]
            if isinstance(index, list) and len(index) == len(rows):
                return [["index", *header]] + [
                    [_text(i), *r] for i, r in zip(index, rows, strict=False)
                ]
            return [header] + rows
        lists = {k: v for k, v in value.items() if isinstance(v, list)}
        if len(lists) >= 2 and len({len(v) for v in lists.values()}) == 1:
            header = list(lists)
            return [header] + [list(map(_text, row)) for row in zip(*lists.values(), strict=False)]
        if len(lists) == 1 and len(value) <= 3:
            return _records(next(iter(lists.values())))
        if all(isinstance(v, dict) for v in value.values()):
            inner = [dict({"key": k}, **v) for k, v in value.items()]
            return _records(inner)
        return [["key", "value"]] + [[str(k), _text(v)] for k, v in value.items()]
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


class _Markup(HTMLParser):
    """Cells of HTML tables, and the text of an SVG (text, tspan, title, desc and comments:
    matplotlib writes each label's text in a comment beside its glyphs)."""

    def __init__(self, svg: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.svg = svg
        self.tables: list[Rows] = []
        self.row: list[str] | None = None
        self.cell: list[str] | None = None
        self.texts: list[tuple[str, str]] = []  # (y, text)
        self.y: list[str] = []
        self.depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.svg:
            if tag in ("text", "title", "desc", "tspan"):
                given = dict(attrs).get("y")
                self.y.append(given if given is not None else (self.y[-1] if self.y else ""))
                self.cell = [] if self.cell is None else self.cell
                self.depth += 1
            return
        if tag == "table":
            self.tables.append([])
        elif tag == "tr" and self.tables:
            self.row = []
            self.tables[-1].append(self.row)
        elif tag in ("td", "th") and self.row is not None:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if self.svg:
            if tag in ("text", "title", "desc") and self.cell is not None:
                text = " ".join("".join(self.cell).split())
                if text:
                    self.texts.append((self.y[-1] if self.y else "", text))
                self.cell = None
            if tag in ("text", "title", "desc", "tspan") and self.y:
                self.y.pop()
            return
        if tag in ("td", "th") and self.cell is not None and self.row is not None:
            self.row.append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)

    def handle_comment(self, data: str) -> None:
        if self.svg and data.strip() and "Created with" not in data:
            self.texts.append(("", data.strip()))


def _markup_rows(text: str, svg: bool) -> Rows | None:
    parser = _Markup(svg)
    try:
        parser.feed(text)
        parser.close()
    except (ValueError, AssertionError):
        return None
    if not svg:
        tables = [t for t in parser.tables if len(t) >= 2]
        if not tables:
            return None
        table = max(tables, key=len)
        return table
    return svg_rows(parser.texts)


def svg_texts(data: bytes) -> list[str]:
    """Every piece of text in an SVG (labels, titles, descriptions, comments)."""
    parser = _Markup(svg=True)
    try:
        parser.feed(data.decode("utf-8", errors="replace"))
        parser.close()
    except (ValueError, AssertionError):
        return []
    return [t for _, t in parser.texts]


def svg_rows(texts: list[tuple[str, str]]) -> Rows | None:
    """An SVG's texts as rows: texts on the same line (the same y) are one row, the way a table
    drawn as a picture is laid out; without positions each text is a row of its own."""
    if not texts:
        return None
    lines: dict[str, list[str]] = {}
    for y, value in texts:
        lines.setdefault(y or f"#{len(lines)}", []).append(value)
    rows = list(lines.values())
    width = max(len(r) for r in rows)
    if width < 2:
        return [["text"]] + rows
    return rows


# ---------------------------------------------------------------------------------------------
# The test


@lru_cache(maxsize=1 << 16)
def number(value: str) -> float | None:
    """VALUE as a number (thousands separators and a trailing % allowed), else None (cached:
    a table's cells repeat, and several rules read them)."""
    text = value.strip().replace(",", "").rstrip("%").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        return None


def _columns(rows: Rows) -> list[list[str]]:
    width = max(len(r) for r in rows)
    return [[r[j].strip() for r in rows[1:] if j < len(r) and r[j].strip()] for j in range(width)]


def _identifier_shaped(value: str) -> bool:
    return bool(PSEUDONYM.match(value) or HEX_DIGEST.match(value) or nhs.is_valid(value))


def _looks_like_identifiers(values: list[str]) -> bool:
    """Do VALUES look like one identifier per row (not category labels, not counts)?"""
    if len(values) < 2 or len(set(values)) < 0.9 * len(values):
        return False
    numbers = [number(v) for v in values]
    if all(n is not None for n in numbers):
        present = [n for n in numbers if n is not None]
        if all(float(n).is_integer() for n in present):
            ordered = sorted(present)
            consecutive = ordered == [ordered[0] + i for i in range(len(ordered))]
            return consecutive or min(abs(n) for n in present) >= 100_000
        return False
    return sum(bool(TOKEN.match(v)) and any(c.isdigit() for c in v) for v in values) >= 0.8 * len(
        values
    )


def _random_tokens(values: list[str]) -> bool:
    """Unique, random-looking tokens (a re-hashed or re-coded pseudonym), not codes with a
    shared prefix such as LSOA codes (E01…)."""
    if len(set(values)) < len(values) or not values:
        return False
    tokens = [v for v in values if TOKEN.match(v) and any(c.isdigit() for c in v)]
    if len(tokens) < 0.9 * len(values):
        return False
    prefixes: dict[str, int] = {}
    for v in tokens:
        prefixes[v[:2]] = prefixes.get(v[:2], 0) + 1
    return max(prefixes.values()) < 0.3 * len(tokens)


def _count_like(values: list[float], policy: Policy) -> bool:
    base = policy.rounding_base or 1
    return all(
        v == 0 or (v >= policy.threshold and v.is_integer() and v % base == 0) for v in values
    )


def check(
    rows: Rows,
    pseudonyms: Iterable[str] | set[str],
    policy: Policy,
    population: int | None = None,
) -> Check:
    """Is ROWS (a header and its rows) one row per person? POPULATION is the number of people
    in the project's extract, when known."""
    known_set = pseudonyms if isinstance(pseudonyms, set) else set(pseudonyms)
    rows = [r for r in rows if any(c.strip() for c in r)]
    if len(rows) < 2:
        return Check("microdata", CheckOutcome.PASS, "no rows of data")
    header, body = [h.strip() for h in rows[0]], rows[1:]
    every = [c.strip() for r in rows for c in r if c.strip()]
    known = sum(v in known_set for v in every)
    if known:
        return Check(
            "microdata",
            CheckOutcome.FAIL,
            f"the file holds {known} of the project's person pseudonyms",
            {"pseudonyms": known},
        )
    columns = _columns(rows)
    for j, values in enumerate(columns):
        name = header[j] if j < len(header) else f"column {j + 1}"
        if not values:
            continue
        shaped = sum(_identifier_shaped(v) for v in values)
        if shaped >= max(1, len(values) // 2):
            return Check(
                "microdata",
                CheckOutcome.FAIL,
                f"column {name!r} holds {shaped} values shaped like NHS numbers, pseudonyms or "
                "digests of them (32 or more hex digits): one row per person",
                {"column": name},
            )
    shaped_header = sum(_identifier_shaped(h) for h in header)
    if shaped_header >= 2 and shaped_header >= len(header) // 2:
        return Check(
            "microdata",
            CheckOutcome.FAIL,
            f"{shaped_header} column names are shaped like pseudonyms or digests: one column "
            "per person",
        )
    for j, values in enumerate(columns):
        name = header[j] if j < len(header) else ""
        if PERSON_COLUMN.search(name) and _looks_like_identifiers(values):
            return Check(
                "microdata",
                CheckOutcome.FAIL,
                f"column {name!r} is named like a person identifier and holds one distinct "
                "identifier-like value per row: files of one row per person never leave the "
                "airlock",
                {"columns": [name]},
            )
        if len(values) >= LONG_FILE and _random_tokens(values):
            return Check(
                "microdata",
                CheckOutcome.FAIL,
                f"column {name or j + 1!r} holds a different random-looking code on each of its "
                f"{len(values)} rows: a re-coded person identifier",
                {"column": name},
            )
    return _shape(header, body, policy, population)


def _shape(header: list[str], body: Rows, policy: Policy, population: int | None) -> Check:
    """Rows that cannot be a table's cells, whatever the values are called."""
    width = max(len(header), *(len(r) for r in body))
    padded = [[(r[j].strip() if j < len(r) else "") for j in range(width)] for r in body]
    numeric = [
        j
        for j in range(width)
        if (present := [padded[i][j] for i in range(len(padded)) if padded[i][j]])
        and all(number(v) is not None for v in present)
    ]
    labels = [j for j in range(width) if j not in numeric]
    data_rows = [r for r in padded if any(number(r[j]) is not None for j in numeric)]
    if population and len(data_rows) > max(REPEATED_LABELS, 2 * population / policy.threshold):
        return Check(
            "microdata",
            CheckOutcome.FAIL,
            f"{len(data_rows):,} rows for a population of {population:,}: groups of at least "
            f"{policy.threshold} could fill at most {population // policy.threshold:,} rows "
            "(twice that is allowed, for margins), so these rows are about individuals or tiny "
            "groups",
            {"rows": len(data_rows), "population": population},
        )
    values = [v for r in data_rows for j in numeric if (v := number(r[j])) is not None]
    if labels and numeric and len(data_rows) >= REPEATED_LABELS:
        keys, last = [], [""] * width
        for r in data_rows:
            # a sparsified index (pandas' to_html, a report) leaves repeated labels blank
            key = tuple((r[j] or last[j]) for j in labels)
            last = [r[j] or last[j] for j in range(width)]
            keys.append(key)
        repeated = len(keys) - len(set(keys))
        if repeated >= 0.2 * len(keys) and not _count_like(values, policy):
            return Check(
                "microdata",
                CheckOutcome.FAIL,
                f"{repeated} of {len(keys)} rows repeat another row's labels with different "
                "values: a table has one row per combination, so these are records",
                {"rows": len(keys), "repeated": repeated},
            )
    if numeric and not labels and len(data_rows) >= LONG_FILE:
        first = [number(r[numeric[0]]) for r in data_rows]
        steps = [
            b - a for a, b in zip(first, first[1:], strict=False) if a is not None and b is not None
        ]
        if not (all(s >= 0 for s in steps) or all(s <= 0 for s in steps)):
            return Check(
                "microdata",
                CheckOutcome.FAIL,
                f"{len(data_rows)} unlabelled rows of numbers in no order: one row per person, "
                "not a table",
            )
    if (
        len(body) > LONG_FILE
        and values
        and all(v in (0, 1) for v in values)
        and len(body) >= policy.threshold
    ):
        return Check(
            "microdata",
            CheckOutcome.FAIL,
            f"{len(body)} rows of 0/1 values: this looks like one row per person, not a table",
        )
    return Check("microdata", CheckOutcome.PASS, "no person identifiers and not one row per person")


# ---------------------------------------------------------------------------------------------
# Rows split over several requests


def row_fingerprints(rows: Rows) -> set[str]:
    """A short hash of each data row (cells stripped, numbers normalised): what the airlock
    needs to know that two files hold the same rows."""
    return {_fingerprint(row) for row in rows[1:]}


def _fingerprint(row: list[str]) -> str:
    cells = [(f"{n:g}" if (n := number(c)) is not None else c.strip()) for c in row]
    return hashlib.sha256("\x1f".join(cells).encode()).hexdigest()[:16]


def _signature(header: list[str]) -> tuple[str, ...]:
    return tuple(re.sub(r"[\W_]+", "", h).lower() for h in header)


def related(
    new_rows: Rows,
    earlier_files: Sequence[tuple[str, bytes]],
    policy: Policy | None = None,
    pseudonyms: Iterable[str] = (),
    population: int | None = None,
) -> Check:
    """Are NEW_ROWS, with the rows of EARLIER_FILES (name, bytes: the project's released files
    and those in flight) that have the same columns, one row per person? Rows that are in both
    are counted once, so a table requested twice is not mistaken for records."""
    policy = policy or Policy()
    if len(new_rows) < 2:
        return Check("related rows", CheckOutcome.PASS, "no rows to relate")
    signature = _signature(new_rows[0])
    union, seen, names = [new_rows[0]], set(), []
    for name, data in [("this file", b""), *earlier_files]:
        rows = new_rows if name == "this file" else rows_of(Path(name).suffix, data)
        if not rows or _signature(rows[0]) != signature:
            continue
        added = 0
        for row in rows[1:]:
            key = _fingerprint(row)
            if key not in seen:
                seen.add(key)
                union.append(row)
                added += 1
        if name != "this file" and added:
            names.append(name)
    if not names:
        return Check(
            "related rows", CheckOutcome.PASS, "no earlier file of the project has these columns"
        )
    together = check(union, set(pseudonyms), policy, population)
    if together.outcome == CheckOutcome.FAIL:
        # repeated labels alone do not prove records here: two periods' tables of means have
        # the same columns and labels too, so a checker judges that case
        repeated_only = "repeated" in together.evidence
        return Check(
            "related rows",
            CheckOutcome.REVIEW if repeated_only else CheckOutcome.FAIL,
            f"with {', '.join(names)} (the same columns), these rows make {len(union) - 1} "
            + (
                "rows that repeat each other's labels with different values: rows about "
                "people split over requests, or the same table of another period (a checker "
                "judges which)"
                if repeated_only
                else f"rows that together are one row per person: {together.explanation}"
            ),
            {"files": names, "rows": len(union) - 1},
        )
    return Check(
        "related rows",
        CheckOutcome.PASS,
        f"with {', '.join(names)} (the same columns) the rows are still not one row per person",
        {"files": names},
    )
