"""Microdata by content: one row per person, whatever the columns are called, in every text
format the airlock admits, and across requests. Each attack beside a control that stays clean."""

import hashlib
import json

import numpy as np
import pytest

from output_checks import microdata
from output_checks.checks import check_file
from output_checks.outcomes import CheckOutcome
from sdc.policy import Policy

POLICY = Policy()
RNG = np.random.default_rng(19)
AREAS = ["north", "south", "east", "west"]


def people(n=200):
    """Per-person rows: a hashed pseudonym, an area, an age and a cost."""
    return [
        [
            hashlib.sha256(f"pseudonym-{i}".encode()).hexdigest(),
            AREAS[i % 4],
            str(int(RNG.integers(18, 90))),
            f"{RNG.lognormal(7, 1):.2f}",
        ]
        for i in range(n)
    ]


def outcome(rows, population=None):
    return microdata.check(rows, set(), POLICY, population).outcome


def test_hashed_pseudonyms_fail_whatever_the_column_is_called():
    rows = [["count", "area", "age", "cost"]] + people()
    check = microdata.check(rows, set(), POLICY)
    assert check.outcome == CheckOutcome.FAIL and "digest" in check.explanation
    md5 = [["group", "n"]] + [[hashlib.md5(str(i).encode()).hexdigest(), "1"] for i in range(30)]
    assert outcome(md5) == CheckOutcome.FAIL


def test_recoded_tokens_unique_to_each_row_fail_but_area_codes_do_not():
    tokens = [["key", "value"]] + [
        [f"{RNG.integers(10**11):x}{i}", f"{RNG.normal(50, 10):.1f}"] for i in range(80)
    ]
    assert outcome(tokens) == CheckOutcome.FAIL
    lsoas = [["lsoa_code", "people"]] + [[f"E0100{i:04d}", "25"] for i in range(80)]
    assert outcome(lsoas) == CheckOutcome.PASS


def test_a_per_person_value_under_a_column_named_count_fails():
    rows = [["area", "count"]] + [[AREAS[i % 4], f"{RNG.lognormal(7, 1):.2f}"] for i in range(60)]
    check = microdata.check(rows, set(), POLICY)
    assert check.outcome == CheckOutcome.FAIL and "repeat" in check.explanation


def test_more_rows_than_the_population_can_fill_fail():
    rows = [["band", "value"]] + [[f"b{i}", f"{i * 1.5:.1f}"] for i in range(150)]
    assert outcome(rows, population=400) == CheckOutcome.FAIL
    assert outcome(rows, population=100_000) == CheckOutcome.PASS


def test_a_category_named_nhs_is_not_a_person_identifier():
    table = [["age_band", "council", "NHS", "police"]] + [
        [band, "120", "45", "310"] for band in ("0-17", "18-64", "65+")
    ]
    assert outcome(table) == CheckOutcome.PASS
    ids = [["nhs_number", "area"]] + [[f"{9000000 + i * 37}", AREAS[i % 4]] for i in range(20)]
    assert outcome(ids) == CheckOutcome.FAIL


def test_rows_as_json_records_fail_and_a_json_table_passes():
    rows = people(60)
    records = [{"who": r[0][:20], "area": r[1], "age": int(r[2])} for r in rows]
    assert microdata.rows_of(".json", json.dumps(records).encode())[0] == ["who", "area", "age"]
    parsed = microdata.rows_of(".json", json.dumps(records).encode())
    assert outcome(parsed) == CheckOutcome.FAIL
    table = {"area": AREAS, "people": [120, 85, 40, 60]}
    assert outcome(microdata.rows_of(".json", json.dumps(table).encode())) == CheckOutcome.PASS


def test_rows_in_an_html_table_fail_and_a_count_table_passes():
    body = "".join(f"<tr><td>{r[0]}</td><td>{r[1]}</td></tr>" for r in people(30))
    html = f"<html><table><tr><th>ref</th><th>area</th></tr>{body}</table></html>"
    assert outcome(microdata.rows_of(".html", html.encode())) == CheckOutcome.FAIL
    safe = "<html><table><tr><th>area</th><th>n</th></tr><tr><td>north</td><td>120</td></tr>"
    safe += "<tr><td>south</td><td>85</td></tr></table></html>"
    assert outcome(microdata.rows_of(".html", safe.encode())) == CheckOutcome.PASS


def test_rows_in_an_svgs_text_fail():
    texts = "".join(
        f'<text x="10" y="{20 + 12 * i}">{r[0][:40]}</text><text x="300" y="{20 + 12 * i}">'
        f"{r[3]}</text>"
        for i, r in enumerate(people(40))
    )
    svg = f'<svg xmlns="http://www.w3.org/2000/svg">{texts}</svg>'
    assert outcome(microdata.rows_of(".svg", svg.encode())) == CheckOutcome.FAIL


def test_a_markdown_table_of_people_fails():
    lines = ["| id | area | cost |", "|---|---|---|"] + [
        f"| {r[0][:32]} | {r[1]} | {r[3]} |" for r in people(20)
    ]
    rows = microdata.rows_of(".md", "\n".join(lines).encode())
    assert rows[0] == ["id", "area", "cost"] and outcome(rows) == CheckOutcome.FAIL


def split(rows, parts):
    return [rows[i::parts] for i in range(parts)]


def csv_bytes(header, rows):
    return ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode()


def test_rows_split_over_three_requests_are_related():
    header = ["area", "age_band", "cost"]
    records = [
        [AREAS[i % 4], ["18-39", "40-64", "65+"][i % 3], f"{RNG.lognormal(7, 1):.2f}"]
        for i in range(36)
    ]
    first, second, third = split(records, 3)
    for piece in (first, second, third):
        assert outcome([header, *piece]) == CheckOutcome.PASS  # each alone looks like a table
    earlier = [("a.csv", csv_bytes(header, first)), ("b.csv", csv_bytes(header, second))]
    check = microdata.related([header, *third], earlier, POLICY)
    # repeated labels could also be another period's table of means: a checker is told
    assert check.outcome == CheckOutcome.REVIEW and "a.csv" in check.explanation
    # more rows together than the population could fill with groups of 10: records, a failure
    check = microdata.related([header, *third], earlier, POLICY, population=150)
    assert check.outcome == CheckOutcome.FAIL and "b.csv" in check.explanation
    assert microdata.related([header, *third], earlier[:1], POLICY, population=150).outcome == (
        CheckOutcome.REVIEW
    )


def test_the_same_rows_requested_again_are_counted_once():
    header = ["area", "age_band", "cost"]
    rows = [[AREAS[i % 4], ["18-39", "40-64", "65+"][i % 3], f"{i}.5"] for i in range(12)]
    again = [("a.csv", csv_bytes(header, rows)), ("b.csv", csv_bytes(header, rows))]
    check = microdata.related([header, *rows], again, POLICY, population=150)
    assert check.outcome == CheckOutcome.PASS


def test_next_years_table_and_the_same_table_again_are_not_related_records():
    header = ["area", "people"]
    this_year = [[a, str(n)] for a, n in zip(AREAS * 6, range(20, 260, 10), strict=True)]
    next_year = [[a, str(int(n) + 5)] for a, n in this_year]
    earlier = [
        ("2023.csv", csv_bytes(header, this_year)),
        ("again.csv", csv_bytes(header, next_year)),
    ]
    assert microdata.related([header, *next_year], earlier, POLICY).outcome == CheckOutcome.PASS
    other = [("other.csv", csv_bytes(["band", "n"], [["a", "10"]]))]
    assert microdata.related([header, *next_year], other, POLICY).outcome == CheckOutcome.PASS


@pytest.mark.parametrize("suffix", [".json", ".html", ".svg", ".md"])
def test_check_file_looks_at_every_text_format(tmp_path, suffix):
    rows = people(60)
    if suffix == ".json":
        data = json.dumps([{"k": r[0], "v": r[3]} for r in rows])
    elif suffix == ".html":
        data = "<html><table>" + "".join(f"<tr><td>{r[0]}</td><td>{r[3]}</td></tr>" for r in rows)
        data += "</table></html>"
    elif suffix == ".svg":
        data = "<svg>" + "".join(
            f'<text y="{i}">{r[0]}</text><text y="{i}">{r[3]}</text>' for i, r in enumerate(rows)
        )
        data += "</svg>"
    else:
        data = "| k | v |\n|---|---|\n" + "\n".join(f"| {r[0]} | {r[3]} |" for r in rows)
    path = tmp_path / f"out{suffix}"
    path.write_text(data, encoding="utf-8")
    checks = check_file(path, POLICY, set(), 10**7, 5000, [])
    found = {c.name: c.outcome for c in checks}
    assert found["microdata"] == CheckOutcome.FAIL
