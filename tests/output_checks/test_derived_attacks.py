# ruff: noqa: F811 (the extract fixture is imported)
"""A second attack review of the check *counts from sums* (output_checks/derived.py) and of
describe's related means (sdc/safe.py), as tests: each asserts what should happen, and what is
not yet so is a strict xfail saying why (docs/airlock-trust.md lists it as not covered)."""

import json

import numpy as np
import pytest

from output_checks import replay
from output_checks.checks import CheckOutcome
from output_checks.derived import derived_counts
from output_checks.ledger import read_table
from output_checks.tables import Table
from sdc import safe
from sdc.policy import EVIDENCE_SUFFIX, Policy
from tests.output_checks.test_derived import SIZES, extract, made  # noqa: F401, F811 (fixture)

POLICY = Policy()
ALL = {**{(a,): n for a, n in SIZES.items()}, ("All",): sum(SIZES.values())}


def diff(a, b, wa=1.0, wb=-1.0):
    """What the attacker computes: wa*a + wb*b per cell, rounded."""
    return {k: round(wa * a.cells[k] + wb * b.cells[k]) for k in a.cells if k in b.cells}


# ---------------------------------------------------------------------------------------------
# 1. Flooding the 24 columns: honest tables, with margins, ahead of the released partner


DECOY = "power(hours, {:.1f}) * (1 + sin({} * cost))"  # honest variables, none derived


@pytest.mark.parametrize("requested", [True, False])
def test_twenty_three_honest_tables_push_the_partner_out_of_the_24_columns(
    extract, tmp_path, requested
):
    dims = ("area", "sex")
    shifted = made(extract, tmp_path, "cost1.csv", "cost + 1", dims=dims)
    # the partner released without margins: 10 shared cells where the decoys share 18
    plain = made(extract, tmp_path, "cost.csv", "cost", dims=dims, margins=False)
    assert diff(shifted, plain)[("north", "F")] == shifted.counts[("north", "F")]
    decoys = [
        (
            f"d{i}.csv",
            made(extract, tmp_path, f"d{i}.csv", DECOY.format(0.1 * (i + 1), i + 1), dims=dims),
        )
        for i in range(26)
    ]
    decoys = [(n, t) for n, t in decoys if None not in t.cells.values()][:23]
    assert len(decoys) == 23
    if requested:  # the decoys in the same request
        checks = derived_counts([("cost1.csv", shifted)] + decoys, [("cost.csv", plain)], POLICY)
    else:  # the decoys released before the partner
        checks = derived_counts([("cost1.csv", shifted)], decoys + [("cost.csv", plain)], POLICY)
    assert checks["cost1.csv"].outcome == CheckOutcome.FAIL, checks["cost1.csv"].explanation


def test_false_alarm_honest_sums_by_five_areas(extract, tmp_path):
    """Three of many honest tables of five cells fit the counts to within half, in ratios with
    denominators up to 12, by chance."""
    honest = [
        (f"d{i}.csv", made(extract, tmp_path, f"d{i}.csv", DECOY.format(0.1 * (i + 1), i + 1)))
        for i in range(24)
    ]
    checks = derived_counts(honest[:1], honest[1:], POLICY)
    assert checks["d0.csv"].outcome == CheckOutcome.PASS, checks["d0.csv"].explanation


# ---------------------------------------------------------------------------------------------
# 2. Near fits in ratios the analyst knows but that are not "simple"


@pytest.mark.xfail(
    strict=True,
    reason="not yet: a near fit in ratios other than simple ones needs 4 cells more than tables "
    "(on fewer, honest tables come near counts by chance); caught on 10 cells below",
)
@pytest.mark.parametrize("factor", ["13", "pi()"])
def test_a_near_fit_in_a_non_simple_ratio(extract, tmp_path, factor):
    plain = made(extract, tmp_path, "cost.csv", "cost")
    odd = made(extract, tmp_path, "odd.csv", f"{factor} * cost + 1 + 0.001 * sin(cost * 1000)")
    w = 13.0 if factor == "13" else np.pi
    assert diff(odd, plain, 1.0, -w) == ALL
    checks = derived_counts([("odd.csv", odd)], [("cost.csv", plain)], POLICY)
    assert checks["odd.csv"].outcome == CheckOutcome.FAIL, checks["odd.csv"].explanation


# ---------------------------------------------------------------------------------------------
# 3. Four tables on a five-cell table, with a fifth (honest) table in the project


@pytest.mark.parametrize("factor", ["13", "pi()"])
def test_a_near_fit_in_a_non_simple_ratio_on_enough_cells(extract, tmp_path, factor):
    dims = ("area", "sex")
    plain = made(extract, tmp_path, "cost.csv", "cost", dims=dims)
    odd = made(
        extract, tmp_path, "odd.csv", f"{factor} * cost + 1 + 0.001 * sin(cost * 1000)", dims=dims
    )
    checks = derived_counts([("odd.csv", odd)], [("cost.csv", plain)], POLICY)
    assert checks["odd.csv"].outcome == CheckOutcome.FAIL, checks["odd.csv"].explanation


def test_a_combination_of_four_tables_with_one_more_honest_table(extract, tmp_path):
    parts = ["cost", "hours", "cost * hours"]
    t = [made(extract, tmp_path, f"p{i}.csv", s, margins=False) for i, s in enumerate(parts)]
    last = made(extract, tmp_path, "last.csv", "cost + hours + cost * hours + 1", margins=False)
    got = {k: round(last.cells[k] - sum(x.cells[k] for x in t)) for k in last.cells}
    assert got == {k: v for k, v in ALL.items() if k != ("All",)}
    honest = made(extract, tmp_path, "h.csv", "sqrt(hours)", margins=False)
    others = [(f"p{i}.csv", x) for i, x in enumerate(t)] + [("h.csv", honest)]
    checks = derived_counts([("last.csv", last)], others, POLICY)
    assert checks["last.csv"].outcome == CheckOutcome.FAIL, checks["last.csv"].explanation


# ---------------------------------------------------------------------------------------------
# 4. describe: a related pair kept by a third column with one blank, or by a tiny perturbation


def described(extract, tmp_path, name, select, columns):
    query = safe.sql(f"SELECT person, {select} FROM visits WHERE area = 'north'", extract=extract)
    path = query.describe(columns).save(tmp_path / "out" / name)
    sidecar = json.loads((path.parent / (name + EVIDENCE_SUFFIX)).read_text())
    check, evidence = replay.verify(path, sidecar, extract, POLICY)
    assert check.outcome == CheckOutcome.PASS, check.explanation
    return read_table(path.read_bytes(), ".csv", evidence)


def count_from_means(table, a="a", b="b"):
    return round((table.cells[("mean", b)] - table.cells[("mean", a)]) * table.cells[("count", b)])


def test_describe_keeps_both_means_when_another_column_has_one_blank(extract, tmp_path):
    table = described(
        extract,
        tmp_path,
        "d.csv",
        "cost AS a, cost + 1 AS b, CASE WHEN hours > 4 THEN hours END AS c",
        ["a", "b", "c"],
    )
    assert table.cells[("count", "c")] < table.cells[("count", "a")]  # c has blanks
    assert table.cells[("mean", "b")] is None and table.cells[("mean", "a")] is not None


@pytest.mark.xfail(
    strict=True,
    reason="not yet: describe looks only for exact relations between its columns (a near one's "
    "constant is the analyst's to know); docs/airlock-trust.md",
)
def test_describe_keeps_both_means_of_a_slightly_perturbed_pair(extract, tmp_path):
    table = described(
        extract,
        tmp_path,
        "d.csv",
        "cost AS a, cost + 1 + 0.001 * sin(cost * 1000) AS b",
        ["a", "b"],
    )
    assert count_from_means(table) != 23, "north's exact count, published as 25"


@pytest.mark.xfail(
    strict=True,
    reason="not yet: a describe is one cell per column, and one cell fits any two columns; the "
    "relation is between records, which the airlock does not compare across files",
)
def test_describe_of_each_column_in_its_own_file(extract, tmp_path):
    a = described(extract, tmp_path, "a.csv", "cost AS a", ["a"])
    b = described(extract, tmp_path, "b.csv", "cost + 1 AS b", ["b"])
    got = round((b.cells[("mean", "b")] - a.cells[("mean", "a")]) * b.cells[("count", "b")])
    checks = derived_counts([("b.csv", b)], [("a.csv", a)], POLICY)
    assert got != 23 or checks.get("b.csv") and checks["b.csv"].outcome == CheckOutcome.FAIL


# ---------------------------------------------------------------------------------------------
# 5. Honest tables with an exact relation that does not involve the count; odd tables


def test_honest_sessions_possible_missed_and_attended(extract, tmp_path):
    cols = {
        "possible.csv": "cost / 3 + 20 * sqrt(hours)",
        "missed.csv": "cost / 7",
        "attended.csv": "cost / 3 + 20 * sqrt(hours) - cost / 7",
        "pounds.csv": "cost",
    }
    t = [(n, made(extract, tmp_path, n, s, dims=("area", "sex"))) for n, s in cols.items()]
    checks = derived_counts(t[2:3], t[:2] + t[3:], POLICY)
    assert checks["attended.csv"].outcome == CheckOutcome.PASS, checks["attended.csv"].explanation


def table(cells, counts, statistic="sum"):
    return Table(dims=["area"], cells=cells, kind="values", counts=counts, statistic=statistic)


@pytest.mark.parametrize(
    "mine, theirs",
    [
        ({("a",): 5.0}, {("a",): 1.0}),  # one cell
        ({("a",): float("nan"), ("b",): float("nan")}, {("a",): 3.0, ("b",): 4.0}),  # all NaN
        ({("a",): 0.0, ("b",): 0.0, ("c",): 0.0}, {("a",): 0.0, ("b",): 0.0, ("c",): 0.0}),
        ({("a",): None, ("b",): None, ("c",): 2.0}, {("a",): 0.0, ("b",): 0.0, ("c",): 0.0}),
        ({("a",): float("inf"), ("b",): 1.0, ("c",): 2.0}, {("a",): 1.0, ("b",): 2.0, ("c",): 3.0}),
    ],
)
def test_odd_tables_do_not_crash(mine, theirs):
    t = table(mine, theirs)
    checks = derived_counts([("t", t)], [("u", table(mine, theirs, "mean"))], POLICY)
    assert checks["t"].outcome in (CheckOutcome.PASS, CheckOutcome.FAIL)


# ---------------------------------------------------------------------------------------------
# 6. Speed: 100 released tables of 2,000 cells, each of its own population, with suppressed
# cells in other places (so that no cell is shared by all 24 columns: the prefilter gives up)


@pytest.mark.xfail(
    strict=True,
    reason="a replay false alarm, outside this check: cost × 1.2 is read as a lattice of 1.2e-06",
)
def test_side_finding_a_sum_of_cost_times_1_2_replays(extract, tmp_path):
    """Not this check: the replay refuses the sdc table of cost × 1.2 (VAT added) by area × sex
    ("claims its non-zero values are 1.2e-06 apart ... evidence no table could have")."""
    made(extract, tmp_path, "vat.csv", "cost * 1.2", dims=("area", "sex"))
