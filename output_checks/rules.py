"""The rules output checkers expect, applied to what a file shows (never to its sidecar).

Everything in a workspace, an evidence sidecar included, is written by the analyst, so these
rules read the published content itself:

- :func:`count_table`: a table of counts, by hand: every cell below the threshold, zeros,
  rounding, totals against their parts (every failing cell is kept, for the checker's page);
- :func:`proportions`: shares and percentages: class disclosure (0 % and 100 % of a group) and,
  where the table shows the denominators, the numerator and its complement against the threshold;
  percentages written in text with their denominators ("3.1 % of 96") too;
- :func:`individual_values`: lists of individual values (a top ten, ranked values) and extremes
  (minimum, maximum, median, percentiles) of fewer people than the threshold;
- :func:`picture`: PNG text and metadata chunks (tEXt, zTXt, iTXt, eXIf) and bytes after the
  image's end, SVG text; a picture's numbers compared with the table behind it in the same group.

:func:`content_checks` runs the ones that apply to a file (with :mod:`output_checks.microdata`).
"""

from __future__ import annotations

import re
import zlib
from pathlib import Path

from output_checks import microdata
from output_checks.microdata import Rows, number
from output_checks.outcomes import Check, CheckOutcome
from output_checks.tables import TOTAL_LABELS
from sdc.policy import Policy

PERCENT_HEADER = re.compile(r"%|percent|pct", re.IGNORECASE)
SHARE_HEADER = re.compile(r"share|proportion|fraction|prevalence|rate|\bprop\b", re.IGNORECASE)
# statistics that live in [0, 1] without being anyone's share (a model's p-values, correlations)
NOT_SHARE = re.compile(
    r"p[_ .-]?val|^p$|^p>|coef|std|err|^se$|statistic|^ci|conf|odds|ratio|r2|r_squared|corr|"
    r"weight|survival|estimate",
    re.IGNORECASE,
)
DENOMINATOR = re.compile(
    r"^(n|n_\w+|count|counts|total|denominator|base|people|persons|records|population|"
    r"number|size|cases|group_size|of)$",
    re.IGNORECASE,
)
RANK = re.compile(
    r"(^|[_\s-])(top|rank|ranked|ranking|largest|highest|lowest|smallest|biggest|position)"
    r"([_\s-]|\d|$)|^#$|^no\.?$",
    re.IGNORECASE,
)
EXTREME = re.compile(
    r"(^|[_\s-])(min|max|minimum|maximum|median|p\d{1,2}|\d{1,2}(\.\d+)?%|q[13]|quartile|"
    r"percentile)([_\s-]|$)",
    re.IGNORECASE,
)
COUNT_LABEL = re.compile(r"^(n|count|records|people|persons|number|size|contributors)$", re.I)
# "12.5 % of 96", "12.5% (n=96)", "12 of 96 (12.5 %)"
PERCENT_OF = re.compile(
    r"(\d+(?:\.\d+)?)\s*%\s*(?:\(\s*)?(?:of\s+|n\s*=\s*)(\d[\d,]*)", re.IGNORECASE
)
K_OF_N = re.compile(
    r"\b(\d[\d,]*)\s+(?:of|out of)\s+(\d[\d,]*)\s*(?:\(\s*\d+(?:\.\d+)?\s*%|people|"
    r"persons|records|children|cases|residents|patients|families|households|clients)",
    re.IGNORECASE,
)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PNG_TEXT = {b"tEXt", b"zTXt", b"iTXt", b"eXIf"}
MAX_INFLATED = 1 << 20  # a compressed text chunk is read up to 1 MiB (no zip bombs)
HARMLESS_KEYS = {"software"}
Cell = tuple[str, str, float]


def _is_total(label: str) -> bool:
    return label.strip().lower() in TOTAL_LABELS


def _flagged(name: str, cells: list[Cell], what: str, outcome=CheckOutcome.FAIL) -> Check:
    """A check naming how many cells fail and keeping every one of them (the page marks all)."""
    row, column, value = cells[0]
    return Check(
        name,
        outcome,
        f"{len(cells)} cell{'s' if len(cells) != 1 else ''} {what}, e.g. {row} / {column} = "
        f"{value:g}",
        {"cells": [list(c) for c in cells], "count": len(cells)},
    )


# ---------------------------------------------------------------------------------------------
# Count tables


def count_table(rows: Rows, policy: Policy) -> list[Check]:
    """A CSV without evidence that looks like a count table: the count rules, by hand, on its
    counts (whole numbers; shares, percentages and other fractions are not counts and have
    their own rules)."""
    header, body = rows[0], rows[1:]
    shares = {j for j, values in _numeric_columns(rows).items() if _share_scale(rows, j, values)}
    cells = [
        (r[0], header[j], number(c)) for r in body for j, c in enumerate(r) if 0 < j < len(header)
    ]
    numbers: list[Cell] = [
        (row, column, value) for row, column, value in cells if value is not None
    ]
    if not numbers or len(numbers) < len(cells) / 2:
        return [Check("table", CheckOutcome.REVIEW, "not a table of numbers: a checker reads it")]
    columns = {name: j for j, name in enumerate(header)}
    numbers = [
        c for c in numbers if float(c[2]).is_integer() and columns.get(c[1], -1) not in shares
    ]
    if not numbers:
        return [
            Check(
                "table",
                CheckOutcome.REVIEW,
                "a table of statistics, not counts: a checker judges the counts behind them",
            )
        ]
    checks = []
    small = [c for c in numbers if 0 < c[2] < policy.threshold]
    zeros = [c for c in numbers if c[2] == 0]
    if small:
        checks.append(_flagged("threshold", small, f"below the threshold of {policy.threshold}"))
    elif zeros and policy.zeros_disclosive:
        checks.append(
            _flagged(
                "threshold",
                zeros,
                "are zero: zeros can be disclosive (an empty group says something about "
                "everyone else)",
                CheckOutcome.REVIEW,
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
            "the airlock did not make this table itself (only outputs of sdc.safe.sql(...) are "
            "replayed), so its cells' true counts and dominance are unknown: a checker must "
            "judge it",
        )
    )
    return checks


def _totals(header: list[str], body: Rows) -> Check:
    labels = [h.strip().lower() for h in header]
    if TOTAL_LABELS & set(labels[1:]):
        j = next(i for i, h in enumerate(labels) if i > 0 and h in TOTAL_LABELS)
        for row in body:
            values = [number(c) for i, c in enumerate(row) if 0 < i != j]
            parts = [p for p in values if p is not None]
            total = number(row[j]) if j < len(row) else None
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


# ---------------------------------------------------------------------------------------------
# Proportions and shares


# the last table read and its numeric columns, as one tuple (replaced whole: thread-safe)
_last_columns: list[tuple[object, dict[int, list[float | None]]]] = [(None, {})]


def _numeric_columns(rows: Rows) -> dict[int, list[float | None]]:
    """The columns (after the first) whose every non-blank cell is a number, parsed; the
    last table's are kept, as several rules read the same table."""
    last = _last_columns[0]
    if last[0] is rows:
        return last[1]
    header, body = rows[0], rows[1:]
    out = {}
    for j in range(1, len(header)):
        values: list[float | None] = []
        numeric = True
        for r in body:
            cell = r[j] if j < len(r) else ""
            value = number(cell) if cell else None
            if value is None and cell.strip():
                numeric = False
                break
            values.append(value)
        if numeric and any(v is not None for v in values):
            out[j] = values
    _last_columns[0] = (rows, out)
    return out


def _share_scale(rows: Rows, j: int, values: list[float | None]) -> float | None:
    """100 for a column of percentages, 1 for a column of shares, None for anything else."""
    name = rows[0][j]
    present = [v for v in values if v is not None]
    if not present or DENOMINATOR.match(name.strip()) or NOT_SHARE.search(name.strip()):
        return None
    if not all(0 <= v <= 100 for v in present):
        return None
    if PERCENT_HEADER.search(name) or any(
        j < len(r) and r[j].rstrip().endswith("%") for r in rows[1:]
    ):
        return 100.0
    fractions = all(0 <= v <= 1 for v in present) and any(not v.is_integer() for v in present)
    if fractions or (SHARE_HEADER.search(name) and all(0 <= v <= 1 for v in present)):
        return 1.0
    return None


def _denominator(rows: Rows, numeric: dict[int, list[float | None]], shares: set[int]):
    header = rows[0]
    counts = [
        j
        for j, values in numeric.items()
        if j not in shares and all(v is None or (v >= 0 and v.is_integer()) for v in values)
    ]
    named = [j for j in counts if DENOMINATOR.match(header[j].strip())]
    if named:
        return named[0]
    return counts[0] if len(counts) == 1 else None


def proportions(rows: Rows, policy: Policy) -> list[Check]:
    """Shares and percentages in a table: class disclosure, and numerators and denominators
    against the threshold where the table shows the denominators."""
    header, body = rows[0], rows[1:]
    numeric = _numeric_columns(rows)
    scales = {j: s for j, values in numeric.items() if (s := _share_scale(rows, j, values))}
    if not scales:
        return []
    d = _denominator(rows, numeric, set(scales))
    failing: list[Cell] = []
    why: list[str] = []
    for j, scale in scales.items():
        if _is_total(header[j]):
            continue
        for i, row in enumerate(body):
            value = numeric[j][i]
            if value is None or _is_total(row[0]):
                continue
            share = value / scale
            denominator = numeric[d][i] if d is not None else None
            if share in (0.0, 1.0):
                failing.append((row[0], header[j], value))
                why.append(
                    f"{row[0]} / {header[j]}: {'100 %' if share else '0 %'} of the group "
                    "(class disclosure: it tells something about every member)"
                )
            elif denominator is not None:
                k = round(share * denominator)
                if denominator < policy.threshold or min(k, denominator - k) < policy.threshold:
                    failing.append((row[0], header[j], value))
                    why.append(
                        f"{row[0]} / {header[j]}: {value:g} of {denominator:g} is {k} "
                        f"(and {denominator - k:g} without), fewer than {policy.threshold}"
                    )
    if failing:
        check = _flagged(
            "proportions",
            failing,
            "are shares that disclose (0 % or 100 %, or a numerator or its complement below "
            f"the threshold of {policy.threshold})",
        )
        check.explanation += "; " + "; ".join(why[:5])
        return [check]
    if d is None:
        return [
            Check(
                "proportions",
                CheckOutcome.REVIEW,
                "shares or percentages without the counts behind them: a checker needs each "
                "one's numerator and denominator (both at least the threshold)",
            )
        ]
    return [
        Check(
            "proportions",
            CheckOutcome.PASS,
            f"every share's numerator, its complement and its denominator are at least "
            f"{policy.threshold}, and none is 0 % or 100 %",
        )
    ]


def percentages_in_text(text: str, policy: Policy) -> list[Check]:
    """Percentages written with their denominators ("3.1 % of 96", "3 of 96"): the numerator
    they give, and its complement, against the threshold."""
    found = []
    for match in PERCENT_OF.finditer(text):
        share, denominator = float(match[1]) / 100, float(match[2].replace(",", ""))
        found.append((match[0], round(share * denominator), denominator))
    for match in K_OF_N.finditer(text):
        k, denominator = float(match[1].replace(",", "")), float(match[2].replace(",", ""))
        if 0 <= k <= denominator:
            found.append((match[0], round(k), denominator))
    bad = [
        (said, k, n)
        for said, k, n in found
        if n < policy.threshold or min(k, n - k) < policy.threshold
    ]
    if not bad:
        return []
    return [
        Check(
            "proportions",
            CheckOutcome.FAIL,
            f"{len(bad)} share{'s' if len(bad) != 1 else ''} written with a denominator give "
            f"fewer than {policy.threshold} people: "
            + "; ".join(f"{said!r} is {k:g} of {n:g}" for said, k, n in bad[:5]),
            {"found": [[said, k, n] for said, k, n in bad]},
        )
    ]


# ---------------------------------------------------------------------------------------------
# Lists of individual values and extremes


def individual_values(rows: Rows, policy: Policy) -> list[Check]:
    """A ranked list (top ten, largest values) is a list of people's own values; a minimum,
    maximum, median or percentile is one person's value, and with fewer people than the
    threshold behind it, everyone's."""
    header, body = rows[0], rows[1:]
    numeric = _numeric_columns(rows)
    if not numeric or not body:
        return []
    labels = [r[0].strip() for r in body if r]
    values = [v for vs in numeric.values() for v in vs if v is not None]
    ranked = RANK.search(header[0]) or any(RANK.search(header[j]) for j in numeric)
    ranked = ranked or sum(bool(RANK.search(x)) for x in labels) >= max(2, len(labels) // 2)
    positions = [number(x) for x in labels]
    consecutive = (
        len(labels) >= 5
        and all(p is not None for p in positions)
        and positions == [float(i) for i in range(1, len(labels) + 1)]
    )
    base = policy.rounding_base or 1
    counts = all(v.is_integer() and v % base == 0 for v in values)
    if consecutive and not counts and len(numeric) == 1:  # position → value, nothing else
        first = next(iter(numeric.values()))
        present = [v for v in first if v is not None]
        steps = [b - a for a, b in zip(present, present[1:], strict=False)]
        ranked = ranked or all(s <= 0 for s in steps) or all(s >= 0 for s in steps)
    if ranked and not counts:  # a top ten of counts (reasons, each 10 or more) is a table
        return [
            Check(
                "individual values",
                CheckOutcome.FAIL,
                f"a ranked list of {len(labels)} values (a top-N or largest values): each is "
                "one person's own value; publish counts of people in bands instead",
                {"rows": len(labels)},
            )
        ]
    return _extremes(rows, numeric, policy)


def _extremes(rows: Rows, numeric: dict[int, list[float | None]], policy: Policy) -> list[Check]:
    header, body = rows[0], rows[1:]
    count_row = next((i for i, r in enumerate(body) if r and COUNT_LABEL.match(r[0].strip())), None)
    count_col = next((j for j in numeric if COUNT_LABEL.match(header[j].strip())), None)
    found: list[Cell] = []
    few: list[Cell] = []
    extreme_columns = {j for j in numeric if EXTREME.search(header[j])}
    for i, row in enumerate(body):
        extreme_row = bool(row and EXTREME.search(row[0]))
        for j, values in numeric.items():
            value = values[i]
            if value is None or not (extreme_row or j in extreme_columns):
                continue
            if count_row is not None and count_row != i:
                n = numeric[j][count_row]
            elif count_col is not None and count_col != j:
                n = numeric[count_col][i]
            else:
                n = None
            cell = (row[0], header[j], value)
            found.append(cell)
            if n is not None and n < policy.threshold:
                few.append(cell)
    if few:
        return [
            _flagged(
                "individual values",
                few,
                f"are a minimum, maximum, median or percentile of fewer than {policy.threshold} "
                "people: each is one person's own value",
            )
        ]
    if found and policy.extremes_disclosive:
        return [
            _flagged(
                "individual values",
                found,
                "are a minimum, maximum, median or percentile: one person's own value, which "
                "the policy never publishes",
            )
        ]
    return []


# ---------------------------------------------------------------------------------------------
# Pictures


def png_texts(data: bytes) -> tuple[list[tuple[str, str, str]], int]:
    """The text and metadata chunks of a PNG as (chunk type, keyword, text), and how many
    bytes follow the image's end (IEND): a place to hide anything."""
    texts: list[tuple[str, str, str]] = []
    position = len(PNG_SIGNATURE)
    while position + 8 <= len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IEND":
            return texts, max(0, len(data) - position)
        if kind not in PNG_TEXT:
            continue
        name = kind.decode("ascii")
        if kind == b"eXIf":
            runs = re.findall(rb"[\x20-\x7e\t\r\n]{4,}", body)
            texts.append((name, "", b"\n".join(runs).decode("ascii")))
            continue
        key, _, rest = body.partition(b"\x00")
        keyword = key.decode("latin-1")
        if kind == b"tEXt":
            texts.append((name, keyword, rest.decode("latin-1")))
        elif kind == b"zTXt":
            texts.append((name, keyword, _inflate(rest[1:]).decode("latin-1", errors="replace")))
        else:  # iTXt: flag, method, language\0, translated keyword\0, text
            compressed = rest[:1] == b"\x01"
            _language, _, rest = rest[2:].partition(b"\x00")
            _translated, _, text = rest.partition(b"\x00")
            raw = _inflate(text) if compressed else text
            texts.append((name, keyword, raw.decode("utf-8", errors="replace")))
    return texts, 0


def _inflate(data: bytes) -> bytes:
    try:
        return zlib.decompressobj().decompress(data, MAX_INFLATED)
    except zlib.error:
        return b""


def _numbers_in(texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        for match in re.findall(r"[-−]?\d[\d,]*(?:\.\d+)?", text):
            value = number(match.replace("−", "-"))
            if value is not None:
                out.append(value)
    return out


def _key(x: float) -> str:
    return f"{x:.9g}"


def _ticks(values: list[float]) -> set[float]:
    """The VALUES that are one of at least three evenly spaced numbers (an axis's ticks),
    looking at each value's few nearest neighbours (ticks are adjacent once sorted)."""
    ordered = sorted(set(values))
    present = {_key(v) for v in ordered}
    found = set()
    for i, value in enumerate(ordered):
        for other in ordered[max(0, i - 4) : i] + ordered[i + 1 : i + 5]:
            step = abs(other - value)
            if any(
                all(_key(x) in present for x in pair)
                for pair in (
                    (value - step, value + step),
                    (value + step, value + 2 * step),
                    (value - step, value - 2 * step),
                )
            ):
                found.add(value)
                break
    return found


def _shown_as(value: float, rounded: dict[int, set[float]]) -> bool:
    """Is VALUE (as drawn, perhaps rounded) one of the table's numbers? ROUNDED holds the
    table's numbers rounded to 0…6 decimals."""
    text = f"{value:.10g}"
    decimals = min(len(text.split(".")[1]) if "." in text else 0, 6)
    return value in rounded[decimals]


def picture(path: Path, data: bytes, group_files: list[Path], policy: Policy) -> list[Check]:
    """What a picture carries besides the drawing, and its numbers against the table behind
    it (the CSVs in the same group)."""
    suffix = path.suffix.lower()
    checks: list[Check] = []
    if suffix == ".png":
        chunks, trailing = png_texts(data)
        if trailing:
            checks.append(
                Check(
                    "picture",
                    CheckOutcome.FAIL,
                    f"{trailing:,} bytes follow the end of the image: a picture must hold only "
                    "the picture",
                )
            )
        for kind, key, text in chunks:
            rows = microdata.rows_of(".txt", text.encode("utf-8"))
            if rows is not None and len(rows) >= 3:
                checks.append(
                    Check(
                        "picture",
                        CheckOutcome.FAIL,
                        f"a table of {len(rows) - 1} rows is hidden in the PNG's {kind} chunk "
                        f"{key!r}: save the picture without metadata",
                        {"chunk": kind, "key": key, "rows": len(rows) - 1},
                    )
                )
            elif key.lower() not in HARMLESS_KEYS and text.strip():
                checks.append(
                    Check(
                        "picture",
                        CheckOutcome.REVIEW,
                        f"the PNG carries text in its {kind} chunk {key!r}: "
                        f"{text.strip()[:200]!r} (a checker reads it; better saved without)",
                        {"chunk": kind, "key": key},
                    )
                )
        return checks
    texts = microdata.svg_texts(data)
    drawn = _numbers_in(texts)
    tables = [p for p in group_files if p.suffix.lower() == ".csv" and p.exists()]
    if not drawn or not tables:
        return checks
    behind: set[float] = set()
    for table in tables:
        rows = microdata.csv_rows(table.read_text(encoding="utf-8", errors="replace"))
        for row in rows or []:
            behind.update(v for c in row if (v := number(c)) is not None)
    ticks = _ticks(drawn)
    rounded = {d: {round(t, d) for t in behind} for d in range(7)}
    unexplained = sorted({v for v in drawn if v not in ticks and not _shown_as(v, rounded)})
    names = ", ".join(t.name for t in tables)
    if not unexplained:
        checks.append(
            Check(
                "picture",
                CheckOutcome.PASS,
                f"every number drawn is an axis tick or a value of the table behind it ({names})",
            )
        )
        return checks
    small = [v for v in unexplained if v.is_integer() and 0 < v < policy.threshold]
    checks.append(
        Check(
            "picture",
            CheckOutcome.FAIL if small else CheckOutcome.REVIEW,
            f"{len(unexplained)} number{'s' if len(unexplained) != 1 else ''} drawn in the "
            f"picture {'are' if len(unexplained) != 1 else 'is'} not in the table behind it "
            f"({names}): "
            + ", ".join(f"{v:g}" for v in unexplained[:10])
            + (
                f"; {len(small)} of them below the threshold of {policy.threshold}" if small else ""
            ),
            {"numbers": unexplained},
        )
    )
    return checks


# ---------------------------------------------------------------------------------------------
# All of them


def content_checks(
    path: Path,
    data: bytes,
    rows: Rows | None,
    policy: Policy,
    pseudonyms: set[str],
    group_files: list[Path],
) -> list[Check]:
    """The content rules that apply to the file at PATH (DATA its bytes, ROWS its CSV rows
    when it reads as one): microdata in every text format, proportions, individual values,
    and what a picture carries."""
    suffix = path.suffix.lower()
    population = len(pseudonyms) or None
    checks: list[Check] = []
    if suffix == ".png":
        return picture(path, data, group_files, policy)
    table = rows if suffix == ".csv" else microdata.rows_of(suffix, data)
    if table is not None:
        checks.append(microdata.check(table, pseudonyms, policy, population))
        if suffix != ".svg":
            checks += proportions(table, policy)
            checks += individual_values(table, policy)
        if suffix in (".json", ".html", ".md", ".txt"):
            # a table in a report is held to the count rules too (a CSV's are run by check_file)
            checks += [
                c
                for c in count_table(table, policy)
                if c.name == "threshold" and c.outcome == CheckOutcome.FAIL
            ]
    if suffix in (".txt", ".md", ".html"):
        checks += percentages_in_text(data.decode("utf-8", errors="replace"), policy)
    if suffix == ".svg":
        checks += picture(path, data, group_files, policy)
    return checks
