"""The airlock's own reading of table files (CSV as sdc.safe writes it, hand-made layouts, XLSX)."""

import io
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

from output_checks.tables import (
    Table,
    UnsafeWorkbook,
    parse_table,
    parse_tables,
    xlsx_problems,
)
from sdc import safe


@pytest.fixture(scope="module")
def people():
    rng = np.random.default_rng(3)
    n = 3000
    return pd.DataFrame(
        {
            "area": rng.choice(["north", "south", "east", "west"], n),
            "age": rng.choice(["0-17", "18-64", "65+"], n),
            "sex": rng.choice(["F", "M"], n),
            "month": rng.integers(1, 13, n).astype(str),
            "cost": rng.gamma(2, 10, n),
        }
    )


def read(out) -> Table:
    table = parse_table(out.csv().encode(), ".csv")
    assert table is not None
    return table


def test_an_sdc_safe_crosstab_is_read_cell_by_cell_with_its_margins(people):
    out = safe.crosstab(people.area, people.age)
    table = read(out)
    assert table.dims[0] == "area" and len(table.dims) == 2
    assert table.margin == "All" and table.kind == "counts" and table.base == 5
    published = {
        tuple(str(c["dims"][d]) for d in ("area", "age")): c["published"]
        for c in out.evidence["cells"]
    }
    assert table.cells == published  # every cell, margins included, as the file publishes it


@pytest.mark.parametrize(
    ("rows", "cols", "dims"),
    [
        (["area", "sex"], ["age"], 3),  # two row dimensions: two label columns
        (["area"], ["age", "sex"], 3),  # two column dimensions: pandas' multi-level header
        (["month"], ["age"], 2),  # numeric labels down the side
        (["age"], ["month"], 2),  # numeric labels across the top
    ],
)
def test_every_layout_of_sdc_safe_is_read(people, rows, cols, dims):
    out = safe.crosstab([people[r] for r in rows], [people[c] for c in cols])
    table = read(out)
    assert len(table.dims) == dims
    published = {
        tuple(str(c["dims"][d]) for d in rows + cols): c["published"] for c in out.evidence["cells"]
    }
    assert table.cells == published


def test_suppressed_cells_are_blank_and_values_tables_are_told_apart(people):
    small = people.iloc[:400]
    counts = read(safe.crosstab(small.area, small.month))
    assert any(v is None for v in counts.cells.values())
    means = read(safe.crosstab(people.area, people.age, values=people.cost, aggfunc="mean"))
    assert means.kind == "values" and means.base == 1


def test_hand_made_layouts_are_read():
    wide = parse_table(b"area,police,fire\nnorth,120,35\nsouth,3,80\n", ".csv")
    assert wide is not None and wide.cells[("south", "police")] == 3 and wide.margin is None
    long = parse_table(b"area,agency,n\nnorth,police,120\nnorth,fire,35\nsouth,police,3\n", ".csv")
    assert long is not None and long.dims == ["area", "agency"]
    assert long.cells[("south", "police")] == 3
    one = parse_table(b"district;people\nnorth;1,200\nTotal;1,200\n", ".csv")
    assert one is not None and one.cells[("north",)] == 1200 and one.margin == "Total"
    assert one.base == 1  # two counts say nothing of rounding


def test_decorated_numbers_and_withheld_marks_do_not_take_a_table_out():
    table = parse_table(b'area,police,fire\nnorth,"1,200",35*\nsouth,[c],<5\neast,x,80\n', ".csv")
    assert table is not None
    assert table.cells[("north", "police")] == 1200 and table.cells[("north", "fire")] == 35
    assert table.cells[("south", "police")] is None and table.cells[("south", "fire")] is None
    assert table.cells[("east", "police")] is None


def test_describe_outputs_are_read_either_way_round(people):
    out = safe.describe(people[["cost"]])
    table = read(out)
    assert table.kind == "describe" and table.cells[("count", "cost")] == 3000
    across = parse_table(people[["cost"]].describe().T.to_csv().encode(), ".csv")
    assert across is not None and across.kind == "describe"
    assert across.cells[("mean", "cost")] == pytest.approx(people.cost.mean())


def test_files_that_are_not_tables_give_none():
    assert parse_table(b"# a note\n", ".csv") is None
    assert parse_table(b"area,count\nnorth,many\nsouth,few\n", ".csv") is None
    assert parse_table(b"\xff\xfe\x00", ".csv") is None
    assert parse_table(b"a,b\n1,2\n", ".png") is None


def test_counts_come_only_from_evidence_the_caller_passes(people):
    out = safe.crosstab(people.area, people.age)
    assert read(out).counts is None
    with_counts = parse_table(out.csv().encode(), ".csv", evidence=out.evidence)
    assert with_counts is not None and with_counts.counts is not None
    cell = next(c for c in out.evidence["cells"] if c["dims"] == {"area": "east", "age": "65+"})
    assert with_counts.counts[("east", "65+")] == cell["count"]
    described = safe.describe(people[["cost"]].iloc[1:])
    table = parse_table(described.csv().encode(), ".csv", evidence=described.evidence)
    assert table is not None and table.counts == {("count", "cost"): 2999.0}


def test_a_table_survives_the_ledger_round_trip(people):
    table = parse_table(safe.crosstab(people.area, people.age).csv().encode(), ".csv")
    assert table is not None
    assert Table.from_json(table.to_json()) == table


def workbook(*sheets, formula=False) -> bytes:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for row in rows:
            sheet.append(row)
    if formula:
        book.worksheets[0]["D2"] = "=B2+C2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def test_every_sheet_of_a_workbook_is_read_as_a_table():
    data = workbook(
        ("by area", [["area", "police", "fire"], ["north", 120, 35], ["south", 40, 80]]),
        ("by age", [["age", "count"], ["0-17", 300], ["18+", 700]]),
    )
    assert xlsx_problems(data) == []
    tables = parse_tables(data, ".xlsx")
    assert [t.sheet for t in tables] == ["by area", "by age"]
    assert tables[0].cells[("south", "fire")] == 80
    assert tables[1].cells[("0-17",)] == 300


def test_a_workbook_with_formulas_or_macros_is_refused_never_evaluated():
    data = workbook(("t", [["area", "a", "b"], ["north", 12, 30]]), formula=True)
    assert "formula" in xlsx_problems(data)[0]
    with pytest.raises(UnsafeWorkbook, match="D2 holds a formula"):
        parse_tables(data, ".xlsx")
    buffer = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook(("t", [["a", "b"], ["x", 1]])))) as source:
        with zipfile.ZipFile(buffer, "w") as target:
            for item in source.infolist():
                target.writestr(item, source.read(item))
            target.writestr("xl/vbaProject.bin", b"macro")
    assert "macros" in xlsx_problems(buffer.getvalue())[0]
    assert "not an XLSX" in xlsx_problems(b"area,count\n")[0]
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        target.writestr("xl/workbook.xml", b"<workbook/>")
        target.writestr("xl/worksheets/sheet1.xml", b" " * (65 << 20))
    assert "unpacks to" in xlsx_problems(bomb.getvalue())[0]


def test_the_airlock_reads_only_types_that_may_leave():
    from output_checks.ledger import read_table

    data = workbook(("t", [["area", "a", "b"], ["north", 12, 30]]))
    assert parse_table(data, ".xlsx") is not None  # readable, but not yet allowed out
    assert read_table(data, ".xlsx") is None
    assert read_table(b"area,count\nnorth,12\nsouth,30\n", ".csv") is not None


def test_ledger_rows_written_before_from_sidecars_are_read_without_their_counts():
    old = {
        "dims": ["area", "kind"],
        "categories": {"area": ["north"], "kind": ["a", "b"]},
        "values": None,
        "aggfunc": "count",
        "population": 40,
        "cells": [
            {"dims": {"area": "north", "kind": "a"}, "count": 17, "published": 15.0},
            {"dims": {"area": "north", "kind": "b"}, "count": 3, "published": None},
            {"dims": {"area": "north", "kind": "All"}, "count": 20, "published": 20.0},
        ],
    }
    table = Table.from_json(old)
    assert table.cells == {("north", "a"): 15.0, ("north", "b"): None, ("north", "All"): 20.0}
    assert table.margin == "All" and table.kind == "counts" and table.counts is None
