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


def made(extract, tmp_path, name, select="", aggfunc="sum", dims=("area",), margins=True, sql=""):
    """A table made with sdc in the workspace (of SELECT as x, or by SQL), replayed by the
    airlock: as the airlock reads it."""
    sql = sql or f"SELECT person, area, sex, {select} AS x FROM visits"
    query = safe.sql(sql, extract=extract)
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
    assert "north (23)" in check.explanation
    # both tables count the same people: the counts of both are named
    assert "every cell of cost.csv and cost1.csv (in this request)" in check.explanation
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
# An attack review's ways past a first version (each now a test)


def exact_counts(a, b, scale=1.0):
    """What the attacker computes: (sum_a - sum_b) / scale, rounded, per cell."""
    return {k: round((a.cells[k] - b.cells[k]) / scale) for k in a.cells if k in b.cells}


def test_a_harmless_subset_table_hides_the_attack(extract, tmp_path):
    plain = made(extract, tmp_path, "cost.csv", "cost")
    shifted = made(extract, tmp_path, "cost1.csv", "cost + 1")
    assert exact_counts(shifted, plain)[("north",)] == 23
    # a decoy: sums of hours over three areas only (passes every check on its own)
    decoy = made(
        extract,
        tmp_path,
        "decoy.csv",
        "CASE WHEN area IN ('north','south','east') THEN hours END",
        margins=False,
    )
    checks = derived_counts(
        [("cost1.csv", shifted), ("decoy.csv", decoy)], [("cost.csv", plain)], POLICY
    )
    assert checks["cost1.csv"].outcome == CheckOutcome.FAIL, checks["cost1.csv"].explanation


def test_four_honest_sum_tables_over_the_same_cells_hide_the_attack(extract, tmp_path):
    plain = made(extract, tmp_path, "cost.csv", "cost")
    shifted = made(extract, tmp_path, "cost1.csv", "cost + 1")
    honest = [
        (f"h{i}.csv", made(extract, tmp_path, f"h{i}.csv", s))
        for i, s in enumerate(["hours", "hours * hours", "cost * hours", "sqrt(hours)"])
    ]
    checks = derived_counts([("cost1.csv", shifted)], [("cost.csv", plain)] + honest, POLICY)
    assert checks["cost1.csv"].outcome == CheckOutcome.FAIL, checks["cost1.csv"].explanation


def test_scaled_variables_give_weights_below_the_blame_threshold(extract, tmp_path):
    plain = made(extract, tmp_path, "big.csv", "1e9 * sqrt(cost)")
    shifted = made(extract, tmp_path, "big1.csv", "1e9 * sqrt(cost) + 1e9")
    assert exact_counts(shifted, plain, 1e9) == {
        **{(a,): n for a, n in SIZES.items()},
        ("All",): sum(SIZES.values()),
    }
    checks = derived_counts([("big1.csv", shifted)], [("big.csv", plain)], POLICY)
    assert checks["big1.csv"].outcome == CheckOutcome.FAIL, checks["big1.csv"].explanation


def test_a_perturbation_below_half_a_count_defeats_the_exact_fit(extract, tmp_path):
    plain = made(extract, tmp_path, "cost.csv", "cost")
    shifted = made(extract, tmp_path, "cost1.csv", "cost + 1 + 0.001 * sin(cost * 1000)")
    assert exact_counts(shifted, plain) == {
        **{(a,): n for a, n in SIZES.items()},
        ("All",): sum(SIZES.values()),
    }
    checks = derived_counts([("cost1.csv", shifted)], [("cost.csv", plain)], POLICY)
    assert checks["cost1.csv"].outcome == CheckOutcome.FAIL, checks["cost1.csv"].explanation


def test_row_margins_of_a_two_way_table_are_not_matched_to_a_one_way_table(extract, tmp_path):
    two_way = made(extract, tmp_path, "cost2.csv", "cost", dims=("area", "sex"))
    shifted = made(extract, tmp_path, "cost1.csv", "cost + 1")
    got = {
        k[0]: shifted.cells[k] - two_way.cells[(k[0], "All")]
        for k in shifted.cells
        if k[0] != "All"
    }
    assert round(got["north"]) == 23
    checks = derived_counts([("cost1.csv", shifted)], [("cost2.csv", two_way)], POLICY)
    assert checks["cost1.csv"].outcome == CheckOutcome.FAIL, checks["cost1.csv"].explanation


def test_renamed_labels_are_matched_by_their_counts(extract, tmp_path):
    plain = made(extract, tmp_path, "cost.csv", "cost")
    # same areas, labels made in SQL: 'north' -> 'area north' (the attacker knows the map)
    shifted = made(
        extract,
        tmp_path,
        "r.csv",
        sql="SELECT person, 'area ' || area AS area, cost + 1 AS x FROM visits",
    )
    assert round(shifted.cells[("area north",)] - plain.cells[("north",)]) == 23
    checks = derived_counts([("r.csv", shifted)], [("cost.csv", plain)], POLICY)
    assert checks["r.csv"].outcome == CheckOutcome.FAIL, checks["r.csv"].explanation


def test_false_alarm_unrelated_sums_on_a_two_way_table(extract, tmp_path):
    """A 2x2 table with margins has 9 cells but 4 degrees of freedom: any 4 independent sum
    tables span every additive table, so the counts 'fit' on 9 >= 4 + 2 cells."""
    sql = "SELECT person, area, sex, {} AS x FROM visits WHERE area IN ('north', 'south')"
    tables = [
        (f"v{i}.csv", made(extract, tmp_path, f"v{i}.csv", sql=sql.format(s), dims=("area", "sex")))
        for i, s in enumerate(["cost", "hours", "cost * hours", "sqrt(hours)"])
    ]
    checks = derived_counts(tables[:1], tables[1:], POLICY)
    assert checks["v0.csv"].outcome == CheckOutcome.PASS, checks["v0.csv"].explanation


def test_describe_withholds_the_mean_of_a_column_derived_from_another(extract, tmp_path):
    """One describe of cost and cost + 1 over north: (mean_b − mean_a) × R would be north's
    exact count (23, published 25)."""
    query = safe.sql(
        "SELECT person, cost AS a, cost + 1 AS b, hours AS c FROM visits WHERE area = 'north'",
        extract=extract,
    )
    path = query.describe(["a", "b", "c"]).save(tmp_path / "out" / "d.csv")
    sidecar = json.loads((path.parent / ("d.csv" + EVIDENCE_SUFFIX)).read_text())
    check, evidence = replay.verify(path, sidecar, extract, POLICY)
    assert check.outcome == CheckOutcome.PASS, check.explanation  # the airlock makes it alike
    table = read_table(path.read_bytes(), ".csv", evidence)
    assert table.cells[("count", "b")] == 25 and table.cells[("mean", "b")] is None
    assert table.cells[("mean", "a")] is not None and table.cells[("mean", "c")] is not None
    reasons = sidecar["columns"]["b"]["reasons"]["mean"]
    assert any("give the exact count back" in r for r in reasons)
    # an unrelated column keeps its mean; cost and cost * 2 are no constant apart
    query = safe.sql("SELECT person, cost AS a, 2 * cost AS b FROM visits", extract=extract)
    assert query.describe(["a", "b"]).evidence["columns"]["b"]["published"]["mean"] is not None


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
            assert "add up to the count of every cell" in checks[NAME]["explanation"]
            assert file["automatic"] == "fail"
    finally:
        airlock.withdraw(studied, request_id, author)
