"""Row validation against a schema, vectorised over a chunk of text columns (Arrow compute).

Frictionless validates row by row in Python (``benchmarks/bench_ingest.py`` measures it at about
a twentieth of the kit's rate), below the target of 200,000 rows a second, so the same
constraints are checked here over whole columns with pyarrow's compute kernels: required,
type (whole numbers, numbers, dates and times in their declared format and real on the
calendar: no day rolled over, no two-digit year read as the first century), minimum, enum, pattern,
the NHS number's mod-11 check digit, and uniqueness across the whole file.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from linkage.dictionary import Field, Schema
from linkage.nhs import valid_numbers


def _mask(array) -> np.ndarray:
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


# the numeric parts of a date or time format, with the digits each takes: each is compared with
# the same part of the timestamp strptime made of it (see _clock)
_PARTS = {"d": 2, "m": 2, "Y": 4, "y": 2, "H": 2, "M": 2, "S": 2}


def _clock(stamps: pa.Array, parts: tuple[str, ...]) -> dict[str, np.ndarray]:
    """PARTS of each timestamp (nulls read as the epoch), by their strptime directives: the
    civil calendar in integer arithmetic (H. Hinnant's days-to-civil), far faster than numpy's
    month and year units."""
    seconds = pc.fill_null(pc.cast(stamps, pa.int64()), 0).to_numpy()
    days = (seconds // 86_400).astype(np.int32)
    time = (seconds - days.astype(np.int64) * 86_400).astype(np.int32)
    era = (days + 719_468) // 146_097
    day_of_era = days + 719_468 - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted = (5 * day_of_year + 2) // 153  # months from March
    month = np.where(shifted < 10, shifted + 3, shifted - 9)
    year = year_of_era + era * 400 + (month <= 2)
    every = {
        "Y": lambda: year,
        "y": lambda: year % 100,
        "m": lambda: month,
        "d": lambda: day_of_year - (153 * shifted + 2) // 5 + 1,
        "H": lambda: time // 3600,
        "M": lambda: time // 60 % 60,
        "S": lambda: time % 60,
    }
    return {name: every[name]() for name in parts}


@dataclass(frozen=True)
class _Layout:
    """A date format read two ways. PATTERN: an anchored regular expression with one named group
    per numeric part (a day or month may drop its leading zero). Padded, every part at full
    width (the usual case, read fast from fixed places): WIDTH characters, with LITERALS (place,
    byte) and PLACES (part, first and past-the-end place); WIDTH is 0 if the format has parts of
    no fixed width or other than ASCII."""

    pattern: str
    short_year: str | None  # PATTERN with a two-digit year where the format says %Y
    parts: tuple[str, ...]  # the numeric parts, in order
    width: int
    literals: tuple[tuple[int, int], ...]
    places: tuple[tuple[str, int, int], ...]


@functools.lru_cache(maxsize=64)
def _layout(form: str) -> _Layout:
    tokens = re.findall(r"%.|[^%]", form)
    numeric = [t.startswith("%") and t[1:] in _PARTS for t in tokens]

    def regex(year_digits: int) -> str:
        out = []
        for i, token in enumerate(tokens):
            if not token.startswith("%"):
                out.append(re.escape(token))
            elif token == "%%":
                out.append("%")
            elif numeric[i]:
                width = year_digits if token == "%Y" else _PARTS[token[1:]]
                # between two numeric parts (20250203) the width is fixed; apart, a day or
                # month may drop its leading zero (1/2/2025)
                packed = (i and numeric[i - 1]) or (i + 1 < len(tokens) and numeric[i + 1])
                low = width if packed or token in ("%Y", "%y") else 1
                out.append(f"(?P<{token[1:]}>[0-9]{{{low},{width}}})")
            else:  # month names, AM/PM, zones: strptime alone judges them
                out.append(".+?")
        return "^" + "".join(out) + "$"

    literals, places, at = [], [], 0
    for i, token in enumerate(tokens):
        if numeric[i]:
            places.append((token[1:], at, at + _PARTS[token[1:]]))
            at += _PARTS[token[1:]]
        elif (token.startswith("%") and token != "%%") or not token[-1].isascii():
            literals, places, at = [], [], 0
            break
        else:
            literals.append((at, ord(token[-1])))
            at += 1
    return _Layout(
        regex(4),
        regex(2) if "%Y" in tokens else None,
        tuple(t[1:] for t, n in zip(tokens, numeric, strict=True) if n),
        at,
        tuple(literals),
        tuple(places),
    )


@dataclass
class DateCheck:
    """A column of dates read strictly: PARSED is null wherever the text is not a real date."""

    parsed: pa.Array
    two_digit_year: np.ndarray  # the format wants four digits; the text has two
    impossible: np.ndarray  # in the format's shape but no such day or time (31/02, 24:00)
    malformed: np.ndarray  # not in the format at all


def check_dates(values: pa.Array, field: Field) -> DateCheck:
    """Dates (or times) in the field's format, read so that no value changes its meaning.

    pyarrow's strptime rolls an impossible date over (31/02/2025 becomes 3 March) and reads a
    two-digit year under %Y as the year 25, so each part of the text is compared with the part
    of the timestamp strptime made of it; where any differs the value is not a date at all.
    The parts of values written at full width (the usual case) are cut from fixed places; only
    the rest are taken apart by the slower regular expression."""
    layout = _layout(field.format)
    raw = pc.strptime(values, format=field.format, unit="s", error_is_null=True)
    present = ~_mask(pc.equal(values, ""))
    shaped, digits = np.zeros(len(values), bool), {}
    if layout.width:
        shaped, digits = _padded(values, layout)
    rest = present & ~shaped
    if rest.any():
        text = pa.scalar(None, values.type)
        groups = pc.extract_regex(pc.if_else(pa.array(rest), values, text), layout.pattern)
        loose = _mask(pc.is_valid(groups))
        for name in layout.parts:
            found = pc.fill_null(pc.cast(pc.struct_field(groups, name), pa.int64()), -1)
            digits[name] = np.where(loose, found.to_numpy(), digits.get(name, -1))
        shaped |= loose
    good = shaped & _mask(pc.is_valid(raw))
    clock = _clock(raw, layout.parts)
    for name, column in digits.items():
        good &= column == clock[name]
    short = np.zeros(len(values), bool)
    if layout.short_year and (present & ~shaped).any():
        short = present & ~shaped & _mask(pc.match_substring_regex(values, layout.short_year))
    return DateCheck(
        pc.if_else(pa.array(good), raw, pa.scalar(None, raw.type)),
        short,
        present & shaped & ~good,
        present & ~shaped & ~short,
    )


def _padded(values: pa.Array, layout: _Layout) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Which values are in LAYOUT's padded shape, and the number at each of its places, read
    straight from the Arrow buffers (a regular expression and a cast per part take several
    times as long); the numbers mean nothing where the shape does not hold."""
    values = values.cast(pa.large_string())
    length = len(values)
    offsets = np.frombuffer(values.buffers()[1], np.int64)[
        values.offset : values.offset + length + 1
    ]
    data = values.buffers()[2]
    shaped = np.diff(offsets) == layout.width
    if data is None or not shaped.any():
        return np.zeros(length, bool), {}
    data = np.frombuffer(data, np.uint8)
    starts = offsets[:-1]
    if shaped.all():  # all of the padded width, back to back: the buffer is a table of bytes
        block = data[starts[0] : starts[0] + length * layout.width].reshape(length, -1)

        def byte(at: int) -> np.ndarray:
            return block[:, at]
    else:
        data = np.concatenate([data, np.zeros(layout.width, np.uint8)])

        def byte(at: int) -> np.ndarray:
            return data[starts + at]

    for at, code in layout.literals:
        shaped &= byte(at) == code
    numbers = {}
    for name, start, stop in layout.places:
        number = np.zeros(length, np.int32)
        for at in range(start, stop):
            digit = byte(at) - np.uint8(48)  # a byte below "0" wraps round to above 9
            shaped &= digit <= 9
            number = number * 10 + digit
        numbers[name] = number
    return shaped, numbers


def check_field(
    values: pa.Array, field: Field, parsed: dict[str, pa.Array] | None = None
) -> list[tuple[np.ndarray, str]]:
    """(rows that fail, reason) for one field of a chunk; empty text means missing. A date's
    values as read (null where not a real date) are kept in PARSED under the field's name."""
    failures = []
    empty = _mask(pc.equal(values, ""))
    present = ~empty
    if field.required:
        failures.append((empty, "required value missing"))
    if not present.any():
        return failures
    if field.type in ("date", "datetime"):
        dates = check_dates(values, field)
        if parsed is not None:
            parsed[field.name] = dates.parsed
        failures += [
            (dates.malformed, f"not a {field.type} in the format {field.format}"),
            (
                dates.impossible,
                f"not a real calendar {field.type}: no such day, month or time "
                "(as 31/02 or 24:00 would be)",
            ),
            (
                dates.two_digit_year,
                f"two-digit year: ambiguous for the format {field.format}, "
                "which needs all four digits",
            ),
        ]
    elif field.type == "integer":
        failures.append(
            (
                present & ~_mask(pc.match_substring_regex(values, r"^-?[0-9]+$")),
                "not a whole number",
            )
        )
    elif field.type == "number":
        pattern = r"^-?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$"
        failures.append(
            (present & ~_mask(pc.match_substring_regex(values, pattern)), "not a number")
        )
    if field.minimum is not None and field.type in ("integer", "number"):
        numbers = pc.cast(
            pc.if_else(pc.match_substring_regex(values, r"^-?[0-9.]+$"), values, None),
            pa.float64(),
            safe=False,
        )
        failures.append(
            (
                present & _mask(pc.less(numbers, field.minimum)),
                f"below the minimum of {field.minimum:g}",
            )
        )
    if field.enum is not None:
        failures.append(
            (
                present & ~_mask(pc.is_in(values, value_set=pa.array(field.enum))),
                f"not one of {', '.join(field.enum)}",
            )
        )
    if field.is_nhs_number:
        failures.append(
            (
                present & ~valid_numbers(values),
                "not a valid NHS number (10 digits with a mod-11 check digit)",
            )
        )
    elif field.pattern:
        failures.append(
            (
                present & ~_mask(pc.match_substring_regex(values, field.pattern)),
                f"does not match the pattern {field.pattern}",
            )
        )
    return failures


def _repeats(values: pa.Array, earlier: list[pa.Array]) -> np.ndarray:
    """True where a non-empty value appeared before, in this chunk or an EARLIER one (which
    this chunk's values then join)."""
    present = ~_mask(pc.equal(values, ""))
    codes = pc.dictionary_encode(values).indices.to_numpy(zero_copy_only=False)
    first = np.zeros(len(values), bool)
    first[np.unique(codes, return_index=True)[1]] = True
    repeated = present & ~first
    if earlier:
        repeated |= present & _mask(pc.is_in(values, value_set=pa.concat_arrays(earlier)))
    earlier.append(values.filter(pa.array(present)))
    return repeated


def check_chunk(
    chunk: pa.Table,
    schema: Schema,
    seen: dict[str, list],
    parsed: dict[str, pa.Array] | None = None,
) -> list[tuple]:
    """Every problem of a chunk as (row position in the chunk, field, reason).

    SEEN holds the values of unique fields met in earlier chunks, so uniqueness holds across
    the whole file; PARSED receives the dates as read (see check_field)."""
    problems = []
    for field in schema.fields:
        values = chunk.column(field.name).combine_chunks()
        for bad, reason in check_field(values, field, parsed):
            problems.extend((int(p), field.name, reason) for p in np.flatnonzero(bad))
        if field.unique:
            repeated = _repeats(values, seen.setdefault(field.name, []))
            problems.extend(
                (int(p), field.name, "repeats a value that must be unique")
                for p in np.flatnonzero(repeated)
            )
    return problems
