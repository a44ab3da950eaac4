"""Counts given back by sums the analyst derived: the sums of cost + 1 and of cost, each an
ordinary table with its counts rounded, differ by each cell's exact count (and so do the means
of both times their rounded counts). Run end to end on the airlock's side: the files are made
with sdc, replayed by the airlock, and read with the evidence its replay computed."""

import json

import numpy as np
import pandas as pd
import pytest

from output_checks import replay
from output_checks.checks import CheckOutcome
from output_checks.derived import NAME, derived_counts
from output_checks.ledger import read_table
from sdc import safe
from sdc.policy import EVIDENCE_SUFFIX, Policy
from tests.output_checks.test_replay import extract_folder, write_manifest

POLICY = Policy()  # counts rounded to 5
SIZES = {"north": 23, "south": 41, "east": 57, "west": 62, "central": 74}


@pytest.fixture
def extract(tmp_path, monkeypatch):
    folder = extract_folder(tmp_path, monkeypatch)
    rng = np.random.default_rng(7)
    areas = [a for a, k in SIZES.items() for _ in range(k)]
    pd.DataFrame(
        {
            "person": [f"P{i:05d}" for i in range(len(areas))],
            "area": areas,
            "sex": rng.choice(["F", "M"], len(areas)),
            # costs in pence-free decimals: on no lattice, so sdc keeps their sums exact
            "cost": rng.gamma(2.0, 180.0, len(areas)).round(6) + 0.123457,
            "hours": rng.gamma(3.0, 2.0, len(areas)).round(6) + 0.01,
        }
    ).to_parquet(folder / "visits.parquet", index=False)
    write_manifest(folder)
    return folder


def made(extract, tmp_path, name, select, aggfunc="sum", dims=("area",), margins=True):
    """A table made with sdc in the workspace, replayed by the airlock: as the airlock reads it."""
    query = safe.sql(f"SELECT person, area, sex, {select} AS x FROM visits", extract=extract)
    output = query.crosstab(*dims, values="x", aggfunc=aggfunc, margins=margins)
    path = output.save(tmp_path / "out" / name)
    sidecar = json.loads((path.parent / (name + EVIDENCE_SUFFIX)).read_text())
    check, evidence = replay.verify(path, sidecar, extract, POLICY)
    assert check.outcome == CheckOutcome.PASS, check.explanation
    table = read_table(path.read_bytes(), ".csv", evidence)
    assert table is not None and table.step is None and table.counts
    return table


def test_the_sums_of_cost_plus_one_and_of_cost_give_back_the_exact_counts(extract, tmp_path):
    plain = made(extract, tmp_path, "cost.csv", "cost")
    shifted = made(extract, tmp_path, "cost1.csv", "cost + 1")
    # the attack: each cell's sums differ by its exact count, which the policy rounds to 5
    got = {k[0]: shifted.cells[k] - plain.cells[k] for k in plain.cells}
    assert round(got["north"]) == 23 and round(got["All"]) == sum(SIZES.values())
    checks = derived_counts(
        [("cost1.csv (in this request)", shifted)], [("cost.csv", plain)], POLICY
    )
    check = checks["cost1.csv (in this request)"]
    assert check.name == NAME and check.outcome == CheckOutcome.FAIL
    assert "cost.csv" in check.explanation and "north (23)" in check.explanation
    # both in one request: each is blamed
    both = derived_counts([("a", plain), ("b", shifted)], [], POLICY)
    assert {both["a"].outcome, both["b"].outcome} == {CheckOutcome.FAIL}


def test_a_released_sum_and_a_requested_mean_of_the_shifted_variable(extract, tmp_path):
    """sdc publishes a mean of exact sums as sum / rounded count: mean × R is the sum again."""
    plain = made(extract, tmp_path, "cost.csv", "cost")
    means = made(extract, tmp_path, "mean1.csv", "2 * cost + 3", aggfunc="mean")
    check = derived_counts([("mean1.csv", means)], [("cost.csv", plain)], POLICY)["mean1.csv"]
    assert check.outcome == CheckOutcome.FAIL, check.explanation


def test_a_two_way_table_gives_back_its_counts_through_a_square(extract, tmp_path):
    """(x + 1)² = x² + 2x + 1: three tables of sums, none of them a shift of another."""
    dims = ("area", "sex")
    tables = [
        made(extract, tmp_path, f"{n}.csv", s, dims=dims)
        for n, s in [("sq", "cost * cost"), ("x", "cost"), ("sq1", "(cost + 1) * (cost + 1)")]
    ]
    checks = derived_counts([("sq1.csv", tables[2])], [("sq", tables[0]), ("x", tables[1])], POLICY)
    assert checks["sq1.csv"].outcome == CheckOutcome.FAIL, checks["sq1.csv"].explanation


def test_honest_sums_of_different_variables_pass(extract, tmp_path):
    cost = made(extract, tmp_path, "cost.csv", "cost")
    hours = made(extract, tmp_path, "hours.csv", "hours")
    doubled = made(extract, tmp_path, "double.csv", "2 * cost")  # a multiple: no count in it
    checks = derived_counts(
        [("hours.csv", hours), ("double.csv", doubled)], [("cost", cost)], POLICY
    )
    assert checks["hours.csv"].outcome == CheckOutcome.PASS, checks["hours.csv"].explanation
    assert checks["double.csv"].outcome == CheckOutcome.PASS, checks["double.csv"].explanation


def test_the_counts_already_given_back_by_released_tables_are_not_blamed_on_a_request(
    extract, tmp_path
):
    plain = made(extract, tmp_path, "cost.csv", "cost")
    shifted = made(extract, tmp_path, "cost1.csv", "cost + 1")
    hours = made(extract, tmp_path, "hours.csv", "hours")
    others = [("cost.csv", plain), ("cost1.csv", shifted)]
    assert derived_counts([("h", hours)], others, POLICY)["h"].outcome == CheckOutcome.PASS


def test_exact_counts_published_anyway_make_the_check_moot(extract, tmp_path):
    plain = made(extract, tmp_path, "cost.csv", "cost")
    shifted = made(extract, tmp_path, "cost1.csv", "cost + 1")
    exact = Policy(rounding_base=1)
    assert derived_counts([("c", shifted)], [("p", plain)], exact)["c"].outcome == (
        CheckOutcome.PASS
    )


# ---------------------------------------------------------------------------------------------
# In the airlock: two files of one request, made in a run with sdc and replayed by the airlock

DERIVED = """
from notebooks import workspace as ws
from sdc import safe
q = ("SELECT person, term, CAST(sessions_missed AS INTEGER) AS missed, "
     "CAST(sessions_missed AS INTEGER) + 1 AS missed1 FROM school_attendance")
safe.sql(q).crosstab("term", values="missed", aggfunc="sum").save(ws.output("missed.csv"))
safe.sql(q).crosstab("term", values="missed1", aggfunc="sum").save(ws.output("missed1.csv"))
"""


def test_the_airlock_fails_a_request_whose_sums_differ_by_the_counts(studied, tmp_path):
    from output_checks import airlock
    from tests.conftest import STUDIED_TODAY
    from tests.output_checks.conftest import run_code

    run = run_code(studied, tmp_path, DERIVED, "derived.ipynb")
    project, author = "supporting-families", "alex.analyst"
    paths = [f"{run.id}/data/{name}" for name in ("missed.csv", "missed1.csv")]
    request_id = airlock.request(studied, project, author, paths, at=STUDIED_TODAY)
    airlock.submit(studied, request_id, author, at=STUDIED_TODAY)
    try:
        shown = airlock.show(studied, request_id, "chris.checker")
        for file in shown["files"]:
            checks = {c["name"]: c for c in file["checks"]}
            assert checks["evidence"]["outcome"] == "pass", checks["evidence"]
            assert checks[NAME]["outcome"] == "fail", checks[NAME]
            assert "add up to the exact count of every cell" in checks[NAME]["explanation"]
            assert file["automatic"] == "fail"
    finally:
        airlock.withdraw(studied, request_id, author)
