"""Row validation against a schema, vectorised over a chunk of text columns (Arrow compute).

Frictionless validates row by row in Python (``benchmarks/bench_ingest.py`` measures it at about
a twentieth of the kit's rate), below the target of 200,000 rows a second, so the same
constraints are checked here over whole columns with pyarrow's compute kernels: required,
type (whole numbers, numbers, dates and times in their declared format), minimum, enum, pattern,
the NHS number's mod-11 check digit, and uniqueness across the whole file.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from linkage.dictionary import Field, Schema
from linkage.nhs import valid_numbers


def _mask(array) -> np.ndarray:
    return np.asarray(pc.fill_null(array, False).to_numpy(zero_copy_only=False), dtype=bool)


def parse_dates(values: pa.Array, field: Field) -> pa.Array:
    """Dates (or times) in the field's format; null where empty or not in that format."""
    return pc.strptime(values, format=field.format, unit="s", error_is_null=True)


def check_field(values: pa.Array, field: Field) -> list[tuple[np.ndarray, str]]:
    """(rows that fail, reason) for one field of a chunk; empty text means missing."""
    failures = []
    empty = _mask(pc.equal(values, ""))
    present = ~empty
    if field.required:
        failures.append((empty, "required value missing"))
    if not present.any():
        return failures
    if field.type in ("date", "datetime"):
        failures.append(
            (
                present & _mask(pc.is_null(parse_dates(values, field))),
                f"not a {field.type} in the format {field.format}",
            )
        )
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


def check_chunk(chunk: pa.Table, schema: Schema, seen: dict[str, list]) -> list[tuple]:
    """Every problem of a chunk as (row position in the chunk, field, reason).

    SEEN holds the values of unique fields met in earlier chunks, so uniqueness holds across
    the whole file."""
    problems = []
    for field in schema.fields:
        values = chunk.column(field.name).combine_chunks()
        for bad, reason in check_field(values, field):
            problems.extend((int(p), field.name, reason) for p in np.flatnonzero(bad))
        if field.unique:
            repeated = _repeats(values, seen.setdefault(field.name, []))
            problems.extend(
                (int(p), field.name, "repeats a value that must be unique")
                for p in np.flatnonzero(repeated)
            )
    return problems
