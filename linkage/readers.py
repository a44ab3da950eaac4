"""Agency files as they arrive (CSV, Parquet or XLSX), read as text: ingest and prepare both read
them here, so a file is read the same way whichever path it takes."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tre.errors import TreError

FORMATS = (".csv", ".parquet", ".xlsx")


class IngestError(TreError):
    """The file cannot be read or ingested as it is; nothing was stored."""


def _text(table: pa.Table) -> pa.Table:
    """Every column as text, missing values as empty text (how agencies' CSVs arrive)."""
    columns = [pc.fill_null(pc.cast(column, pa.string()), "") for column in table.columns]
    return pa.table(columns, names=table.column_names)


def read_chunks(path: Path, rows: int) -> Iterator[pa.Table]:
    """An agency file (CSV, Parquet or XLSX) in tables of ROWS rows, every value as text."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        header = read_header(path)
        try:
            reader = pacsv.open_csv(
                path,
                read_options=pacsv.ReadOptions(block_size=max(1 << 20, rows * 120)),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in header},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            for batch in reader:
                yield pa.Table.from_batches([batch])
        except pa.ArrowInvalid as exc:
            if "UTF8" in str(exc) or "utf8" in str(exc).lower():
                raise IngestError(
                    f"{path.name} is not UTF-8 text; save it as UTF-8 and ingest it again"
                ) from None
            raise IngestError(f"{path.name} is not a well-formed CSV file: {exc}") from None
    elif suffix == ".parquet":
        try:
            handle = pq.ParquetFile(path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise IngestError(f"{path.name} is not a readable Parquet file ({exc})") from None
        for batch in handle.iter_batches(batch_size=rows):
            yield _text(pa.Table.from_batches([batch]))
    else:
        from openpyxl import load_workbook

        try:
            book = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises several types for a bad file
            raise IngestError(f"{path.name} is not a readable XLSX file ({exc})") from None
        lines = book.worksheets[0].iter_rows(values_only=True)
        header = [str(h) for h in next(lines, ())]
        buffer: list[list[str]] = []

        def table() -> pa.Table:
            columns = list(zip(*buffer, strict=True)) if buffer else [[] for _ in header]
            return pa.table(
                {
                    name: pa.array(list(col), pa.string())
                    for name, col in zip(header, columns, strict=True)
                }
            )

        for line in lines:
            buffer.append(["" if v is None else str(v) for v in line])
            if len(buffer) == rows:
                yield table()
                buffer = []
        if buffer:
            yield table()
        book.close()


def _first_line(path: Path) -> str:
    """The header line of a CSV file as text: a UTF-8 byte-order mark (Excel's "CSV UTF-8"
    writes one) is not part of the first column's name, and CRLF is a line ending."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as handle:
            return handle.readline(1 << 20).rstrip("\r\n")
    except UnicodeDecodeError:
        raise IngestError(f"{path.name} is not UTF-8 text; save it as UTF-8") from None


def read_header(path: Path) -> list[str]:
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return next(csv.reader([_first_line(path)]), [])
    if suffix == ".parquet":
        try:
            return pq.ParquetFile(path).schema_arrow.names
        except (pa.ArrowInvalid, OSError) as exc:
            raise IngestError(f"{path.name} is not a readable Parquet file ({exc})") from None
    return list(next(read_chunks(path, 1)).column_names)


DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe", ",": "comma"}


def refuse_other_delimiter(path: Path, names: list[str], schema: str) -> None:
    """Refuse a CSV file whose header row is split by another delimiter than the comma the
    schemas expect (it splits into more of the schema's NAMES), naming that delimiter."""
    if path.suffix.lower() != ".csv":
        return
    line = _first_line(path)
    known = set(names)

    def hits(delimiter: str) -> int:
        return len(known & {c.strip() for c in next(csv.reader([line], delimiter=delimiter))})

    best = max(DELIMITERS, key=hits)
    if best != "," and hits(best) > hits(","):
        raise IngestError(
            f"{path.name} looks {DELIMITERS[best]}-delimited; the schema of {schema} expects "
            "commas; re-save it as comma-separated CSV (in Excel: CSV UTF-8 (Comma delimited)) "
            "and try again; nothing was stored"
        )


def read_agency_file(path: Path) -> pd.DataFrame:
    """An agency's CSV, Parquet or XLSX file, every value as text (missing values empty), read
    as ingest reads it."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise IngestError(f"{path.name}: prepare takes CSV, Parquet or XLSX files")
    if not path.is_file() or path.stat().st_size == 0:
        raise IngestError(f"{path.name} is missing or empty; nothing was written")
    chunks = [chunk for chunk in read_chunks(path, 250_000) if chunk.num_rows]
    if not chunks:
        raise IngestError(f"{path.name} is empty: it has a header row but no records")
    return pa.concat_tables(chunks).to_pandas()
