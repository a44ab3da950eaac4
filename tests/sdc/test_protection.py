"""Protection levels, insider (singleton) protection, holdings and cells marked unsafe by hand.

τ-ARGUS's definitions: a primary cell's attacker interval must reach its value plus and minus
its protection level (p % rule p/100·x1 − (T − x1 − x2), (n, k) 100/k·(x1 + x2) − T, a count's
``protection_level``); the sole contributor of a suppressed cell must not be able to recompute
another suppressed unsafe cell; a person's records are one contribution.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdc import Policy, SdcError, safe, tables
from sdc.tables import secondary
from sdc.tables.protect import additive_values

sys.path.insert(0, str(Path(__file__).parent))
from test_audit import SEEDS, seeded_table  # noqa: E402

PLAIN = Policy(zeros_disclosive=False, rounding_base=1)


def cell_of(cells: pd.DataFrame, **where) -> int:
    mask = np.ones(len(cells), bool)
    for dim, category in where.items():
        mask &= (cells[dim] == category).to_numpy()
    return int(np.flatnonzero(mask)[0])


def assert_protected(protected: tables.Protected) -> None:
    """Every primary cell's interval reaches its required protection, and no sole contributor
    of a suppressed cell recomputes a primary one."""
    cells = protected.cells
    unsafe = (cells.status == "u").to_numpy()
    for i in np.flatnonzero(unsafe & cells.published.isna().to_numpy()):
        if i not in protected.intervals:
            continue  # a table without margins (nothing to audit)
        low, high = protected.intervals[i]
        down, up = protected.required[i]
        scale = secondary.scale_of(cells["count" if protected.table.kind == "frequency" else "sum"])
        slack = 1e-9 * scale
        assert high - low > 0
        assert low <= down + slack, (i, low, down)
        assert high >= up - slack, (i, high, up)
    values, lower = additive_values(cells, protected.table.kind)
    if values is not None and protected.intervals:
        suppressed = cells.published.isna().to_numpy() & cells.status.isin(["u", "x"]).to_numpy()
        rels = secondary.relations(cells, protected.table.dims)
        alone = (cells["count"] == 1).to_numpy()
        if "holdings" in cells:
            alone = (cells["holdings"] == 1).to_numpy()
        own = secondary.shares_contributor(cells, protected.table.dims)
        exposed = secondary.insider_exposed(values, suppressed, rels, lower, alone, unsafe, own)
        assert exposed == []


def test_the_issues_dominated_cell_is_protected_by_its_p_percent_level():
    # a cell of 1,010 whose top contributor has 1,000 (then 8 and 2): the audit used to accept
    # [0, 1,013], from which the runner-up pins the top value within 0.8 %. The p % level is
    # 0.1 x 1,000 - (1,010 - 1,000 - 8) = 98 and the (2, 90 %) level 100/90 x 1,008 - 1,010
    # = 110: its interval must reach 1,120 above and 900 below
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"r": rng.integers(0, 3, 300), "c": rng.integers(0, 3, 300)})
    frame["v"] = rng.uniform(1, 2, 300)
    dominated = pd.DataFrame({"r": [3, 3, 3], "c": [0, 0, 0], "v": [1000.0, 8.0, 2.0]})
    others = pd.DataFrame({"r": [3] * 24, "c": [1] * 12 + [2] * 12, "v": np.full(24, 1.5)})
    frame = pd.concat([frame, dominated, others], ignore_index=True)
    table = tables.build(frame, "r", "c", values="v", aggfunc="sum")
    protected = tables.protect(table, PLAIN)
    i = cell_of(protected.cells, r=3, c=0)
    assert protected.cells.protection.iloc[i] == pytest.approx(110.0)
    assert protected.required[i] == pytest.approx((900.0, 1120.0))
    low, high = protected.intervals[i]
    assert low <= 900.0 and high >= 1120.0
    evidence = protected.evidence()
    stated = evidence["cells"][i]
    assert stated["protection_level"] == pytest.approx(110.0)
    assert stated["required"] == pytest.approx([900.0, 1120.0])
    assert tables.recheck(evidence, PLAIN) == []
    assert_protected(protected)


def test_the_recheck_finds_a_pattern_that_only_avoids_a_point():
    # the same cell hidden with one partner in its row and column only: not a point, but far
    # short of its level; the airlock's re-check says so
    frame = pd.DataFrame(
        {
            "r": [0] * 3 + [0] * 20 + [1] * 20 + [1] * 20,
            "c": [0] * 3 + [1] * 20 + [0] * 20 + [1] * 20,
            "v": [1000.0, 8.0, 2.0] + [1.0] * 60,
        }
    )
    protected = tables.protect(tables.build(frame, "r", "c", values="v", aggfunc="sum"), PLAIN)
    evidence = protected.evidence()
    tampered = {**evidence, "cells": [dict(c) for c in evidence["cells"]]}
    hide = {(0, 0), (0, 1), (1, 0), (1, 1)}
    for cell in tampered["cells"]:
        key = (cell["dims"]["r"], cell["dims"]["c"])
        cell["published"] = None if key in hide else cell["value"]
    problems = tables.recheck(tampered, PLAIN)
    assert any("its rule asks that it could be anywhere in" in p for p in problems), problems


def test_a_frequency_tables_protection_level_is_the_policys():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"r": rng.integers(0, 4, 400), "c": rng.integers(0, 3, 400)})
    frame.loc[:2, "r"] = 4  # a rare row of three
    table = tables.build(frame, "r", "c")
    for level in (1.0, 3.0, 8.0):
        protected = tables.protect(table, PLAIN.stricter(protection_level=level))
        primary = (protected.cells.status == "u").to_numpy()
        assert primary.any()
        assert set(protected.cells.protection[primary]) == {level}
        assert_protected(protected)
    with pytest.raises(SdcError, match="protection_level"):
        Policy(protection_level=-1)
    with pytest.raises(SdcError, match="protection_level 0.5 is looser"):
        Policy().stricter(protection_level=0.5)


def test_a_singletons_contributor_cannot_recompute_another_unsafe_cell():
    # a b / c d suppressed in a 3 x 3 table, a of one record: its contributor knows a, and
    # then b, c and d follow from their row and column totals
    frame = pd.DataFrame(
        {
            "r": [0] + [0] * 2 + [1] * 2 + [1] * 3 + [0] * 30 + [1] * 30 + [2] * 90,
            "c": [0] + [1] * 2 + [0] * 2 + [1] * 3 + [2] * 30 + [2] * 30 + [0, 1, 2] * 30,
        }
    )
    table = tables.build(frame, "r", "c")
    cells = table.cells
    block = [cell_of(cells, r=r, c=c) for r, c in ((0, 0), (0, 1), (1, 0), (1, 1))]
    hidden = np.zeros(len(cells), bool)
    hidden[block] = True
    values = cells["count"].to_numpy(float)
    rels = secondary.relations(cells, ["r", "c"])
    alone = (cells["count"] == 1).to_numpy()
    assert secondary.exposed(secondary.audit(values, hidden, rels)) == []  # not to outsiders
    own = secondary.shares_contributor(cells, ["r", "c"])
    found = secondary.insider_exposed(values, hidden, rels, 0.0, alone, hidden, own)
    assert sorted(found) == sorted((block[0], b) for b in block[1:])
    # protect() widens the pattern until the insider learns nothing exact
    protected = tables.protect(table, PLAIN)
    assert protected.insiders >= 1
    assert_protected(protected)


def test_a_persons_own_cells_are_no_insider_disclosure():
    # one person alone in a row (one cell and the row total): knowing the total, they know
    # their own cell; that is not a disclosure, and protection must not chase it forever
    frame = pd.DataFrame({"r": [0] + [1] * 40 + [2] * 40, "c": [0] + [0, 1] * 40})
    protected = tables.protect(tables.build(frame, "r", "c"), PLAIN)
    cells = protected.cells
    assert cells.published[(cells.r == 0) & (cells["count"] > 0)].isna().all()
    assert_protected(protected)


def test_a_mean_counts_a_persons_records_as_one_contribution():
    # the gap found earlier: one person with 3 records of 1,000,000 among 1,000 records of 1.
    # Record by record the two largest are 2,000,000 of 3,001,000 (67 %: published); as one
    # holding the person has 3,000,000 (99.97 %): dominance and the p % rule fail
    rows = ["a"] * 1003 + ["b"] * 500
    values = np.r_[np.full(3, 1e6), np.ones(1000), np.ones(500)]
    person = np.r_[np.zeros(3, int), np.arange(1, 1001), np.arange(1001, 1501)]
    by_record = safe.crosstab(rows, values=values, aggfunc="mean")
    assert not np.isnan(by_record.result.loc["a"].iloc[0])  # the gap, without holdings
    out = safe.crosstab(rows, values=values, aggfunc="mean", holding=person)
    assert np.isnan(out.result.loc["a"].iloc[0])
    stated = next(c for c in out.evidence["cells"] if c["dims"]["row_0"] == "a")
    assert stated["top1"] == 3e6 and stated["holdings"] == 1001 and stated["count"] == 1003
    assert any(r.startswith("dominance") for r in stated["reasons"])
    assert any(r.startswith("p% rule") for r in stated["reasons"])
    assert out.evidence["parameters"]["holding"] == "holding"
    # pivot_table finds the extract's person column by itself
    frame = pd.DataFrame({"area": rows, "cost": values, "person": person})
    pivoted = safe.pivot_table(frame, values="cost", index="area", aggfunc="mean")
    assert pivoted.evidence["parameters"]["holding"] == "person"
    assert np.isnan(pivoted.result.loc["a"].iloc[0])


def test_holdings_count_people_for_the_threshold_and_margins_add_a_persons_cells():
    # five people with two records each in every cell of a row: 10 records, 5 people
    frame = pd.DataFrame(
        {
            "r": ["x"] * 20 + ["y"] * 40,
            "c": (["p"] * 10 + ["q"] * 10) + (["p"] * 20 + ["q"] * 20),
            "person": [i % 5 for i in range(20)] + list(range(100, 140)),
            "v": np.r_[np.full(20, 2.0), np.ones(40)],
        }
    )
    table = tables.build(frame, "r", "c", values="v", aggfunc="sum", holding="person")
    cells = table.cells
    xp = cells.iloc[cell_of(cells, r="x", c="p")]
    assert (xp["count"], xp["holdings"], xp["top1"]) == (10, 5, 4.0)
    row = cells.iloc[cell_of(cells, r="x", c=tables.TOTAL)]
    assert (row["count"], row["holdings"], row["top1"], row["top2"]) == (20, 5, 8.0, 8.0)
    protected = tables.protect(table, Policy(rounding_base=1))
    reasons = protected.cells.reasons.iloc[cell_of(cells, r="x", c="p")]
    assert "threshold: 5 people (10 records), fewer than the minimum of 10" in reasons
    # evidence claiming more people than records (to pass the threshold) is impossible
    evidence = protected.evidence()
    assert tables.recheck(evidence, Policy(rounding_base=1)) == []
    forged = {**evidence, "cells": [dict(c) for c in evidence["cells"]]}
    for cell in forged["cells"]:
        if cell["dims"] == {"r": "x", "c": "p"}:
            cell["holdings"] = 12
    problems = tables.recheck(forged, Policy(rounding_base=1))
    assert "cell (r=x, c=p) claims 12 people among 10 records: evidence no table could have" in (
        problems
    )
    with pytest.raises(SdcError, match="missing"):
        tables.build(frame.assign(person=np.nan), "r", "c", holding="person")
    with pytest.raises(SdcError, match="cannot also be a dimension"):
        tables.build(frame, "r", "c", holding="r")


def test_cells_marked_unsafe_by_hand_are_protected_and_recorded(tmp_path):
    rng = np.random.default_rng(9)
    frame = pd.DataFrame({"r": rng.choice(list("abc"), 600), "c": rng.choice(list("xy"), 600)})
    table = tables.build(frame, "r", "c")
    protected = tables.protect(table, PLAIN, unsafe=[{"r": "a", "c": "x"}, ("b", tables.TOTAL)])
    cells = protected.cells
    for where in ({"r": "a", "c": "x"}, {"r": "b", "c": tables.TOTAL}):
        i = cell_of(cells, **where)
        assert cells.status.iloc[i] == "u"
        assert any(r.startswith("manual") for r in cells.reasons.iloc[i])
    evidence = protected.evidence()
    assert evidence["manual_unsafe"] == [{"r": "a", "c": "x"}, {"r": "b", "c": "All"}]
    assert tables.recheck(evidence, PLAIN) == []
    assert_protected(protected)
    # a checker's mark survives in the evidence: publishing that cell is caught
    tampered = {**evidence, "cells": [dict(c) for c in evidence["cells"]]}
    for cell in tampered["cells"]:
        if cell["dims"] == {"r": "a", "c": "x"}:
            cell["published"] = cell["value"]
    assert any("marked unsafe by hand" in p for p in tables.recheck(tampered, PLAIN))
    # through sdc.safe, recorded with the call
    out = safe.crosstab(frame.r, frame.c, unsafe=[("c", "y")])
    assert np.isnan(out.result.loc["c", "y"])
    assert out.evidence["parameters"]["unsafe"] == [{"r": "c", "c": "y"}]
    # mistakes are sentences
    for bad, message in (
        ([{"area": "a"}], "does not have"),
        ([("a",)], "has 1 categories"),
        ([("zz", "x")], "is not in the table"),
        (["a"], "one category per dimension"),
    ):
        with pytest.raises(SdcError, match=message):
            tables.protect(table, PLAIN, unsafe=bad)


@pytest.mark.parametrize("seed", SEEDS)
def test_no_seeded_pattern_leaves_a_primary_cell_short_of_its_protection(seed):
    table, policy = seeded_table(seed)
    protected = tables.protect(table, policy)
    assert_protected(protected)
    assert tables.recheck(protected.evidence(), policy) == []


tables_at_random = st.tuples(
    st.integers(0, 2**32 - 1),
    st.integers(1, 3),  # dimensions
    st.sampled_from(["count", "sum", "mean"]),
    st.sampled_from([0.0, 1.0, 4.0]),  # protection_level
    st.booleans(),  # a dominant contributor
)


@settings(max_examples=25, deadline=None)
@given(tables_at_random)
def test_no_pattern_leaves_a_primary_cell_short_of_its_protection(case):
    seed, dims, kind, level, dominant = case
    rng = np.random.default_rng(seed)
    n = int(rng.integers(40, 300))
    levels = [int(rng.integers(2, 4)) for _ in range(dims)]
    frame = pd.DataFrame({f"d{j}": rng.integers(0, k, n) for j, k in enumerate(levels)})
    frame.loc[: int(rng.integers(0, 3)), "d0"] = levels[0]
    frame["v"] = rng.lognormal(2, 1, n)
    if dominant:
        frame.loc[n - 1, "v"] = 40 * frame.v.max()
    names = [c for c in frame.columns if c.startswith("d")]
    if kind == "count":
        table = tables.build(frame, names[:1], names[1:])
    else:
        table = tables.build(frame, names[:1], names[1:], values="v", aggfunc=kind)
    policy = PLAIN.stricter(protection_level=max(level, 1.0))
    protected = tables.protect(table, policy)
    assert_protected(protected)
    assert tables.recheck(protected.evidence(), policy) == []


def small_sum_table(seed: int, dims: int, share: float):
    """A sum table of 200 records in DIMS dimensions and about SHARE of its nonzero cells
    suppressed at random: (the generator, cells, values, suppressed, relations)."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"d{j}": rng.integers(0, 2 + j % 2, 200) for j in range(dims)})
    frame["v"] = rng.lognormal(1, 1, 200)
    names = list(frame.columns[:dims])
    cells = tables.build(frame, names[:1], names[1:], values="v", aggfunc="sum").cells
    values = cells["sum"].to_numpy(float)
    hidden = (rng.random(len(cells)) < share) & (values > 0)
    return rng, cells, values, hidden, secondary.relations(cells, names)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 3), st.floats(0.3, 0.8))
def test_the_null_space_finds_what_the_insiders_programme_finds(seed, dims, share):
    # with every suppressed cell above zero, the insider's knowledge fixes a cell exactly
    # when their rows of the relations' null space are parallel: the same pairs as solving
    # the attacker's programme again with the insider's cell fixed (among the cells an
    # outsider cannot already recompute: protection has made sure of those first)
    rng, cells, values, hidden, rels = small_sum_table(seed, dims, share)
    outsiders = secondary.exposed(secondary.audit(values, hidden, rels))
    insiders = hidden & (rng.random(len(cells)) < 0.5)
    sensitive = hidden & (rng.random(len(cells)) < 0.5)
    sensitive[outsiders] = False
    if not insiders.any() or not sensitive.any():
        return
    positions = np.flatnonzero(hidden)
    known = [int(c) for c in positions if insiders[c]]
    by_algebra = secondary._insider_pairs_by_null_space(positions, known, rels, sensitive)
    by_programme = secondary._insider_pairs_by_programme(
        values, positions, known, rels, 0.0, sensitive
    )
    assert sorted(by_algebra) == sorted(by_programme)


def test_the_exact_mode_is_sparse_node_limited_and_falls_back_in_the_open(monkeypatch):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"r": rng.integers(0, 4, 300), "c": rng.integers(0, 4, 300)})
    frame.loc[:3, "r"] = 4
    table = tables.build(frame, "r", "c")
    policy = Policy(zeros_disclosive=False, rounding_base=1, secondary="optimal")
    first = tables.protect(table, policy)
    assert first.evidence()["secondary_method"] == {
        "asked": "optimal",
        "used": "optimal",
        "note": "the integer programme's optimal pattern",
    }
    # a count of nodes, not seconds: the same pattern however loaded the machine is
    assert list(tables.protect(table, policy).cells.status) == list(first.cells.status)
    assert_protected(first)
    cells = first.cells
    unsafe = (cells.status == "u").to_numpy()
    values = cells["count"].to_numpy(float)
    rels = secondary.relations(cells, ["r", "c"])
    frozen = (cells.status == "z").to_numpy()
    cost = np.where(cells.margin, 10.0, 1.0)
    runs = [secondary.optimal(values, unsafe, frozen, rels, cost, 1.0, node_limit=1)]
    runs.append(secondary.optimal(values, unsafe, frozen, rels, cost, 1.0, node_limit=1))
    (pattern, note), (again, _) = runs
    assert pattern is not None and again is not None and (pattern == again).all()
    assert note in (
        "the integer programme's optimal pattern",
        "the integer programme's best pattern after 1 nodes (not proven optimal)",
    )
    # too large for memory: the heuristic's pattern, and the evidence says why
    monkeypatch.setattr(secondary, "OPTIMAL_NONZEROS", 10)
    fallen = tables.protect(table, policy)
    method = fallen.evidence()["secondary_method"]
    assert method["used"] == "heuristic" and "nonzeros" in method["note"]
    assert "the heuristic's pattern is used" in method["note"]
    assert_protected(fallen)
    assert tables.recheck(fallen.evidence(), policy) == []


def test_the_clean_up_publishes_again_every_suppression_not_needed():
    # a 3 x 3 table of counts, one rare cell: a pattern hiding every interior cell is safe but
    # wasteful; the clean-up publishes cells again one at a time, re-audited, until each
    # suppression left is needed (publishing it alone would expose a cell)
    frame = pd.DataFrame({"r": np.repeat([0, 1, 2], 30), "c": np.tile([0, 1, 2], 30)})
    frame = pd.concat([frame, pd.DataFrame({"r": [0] * 2, "c": [0] * 2})], ignore_index=True)
    frame = frame.iloc[27:].reset_index(drop=True)  # cell 0-0 keeps few records
    table = tables.build(frame, "r", "c")
    cells = table.cells
    values = cells["count"].to_numpy(float)
    rels = secondary.relations(cells, ["r", "c"])
    primary = np.zeros(len(cells), bool)
    primary[cell_of(cells, r=0, c=0)] = True
    everything = ~cells.margin.to_numpy(bool)
    levels = np.where(primary, 1.0, 0.0)
    reach = secondary.required(values, levels, 0.0)
    cost = values + np.where(cells.margin, 1e9, 0.0)
    kept = secondary.clean_up(values, everything, primary, rels, cost, 0.0, reach)
    assert 4 <= kept.sum() < everything.sum() and kept[primary].all()
    scale = secondary.scale_of(values)
    assert secondary.short_of(secondary.audit(values, kept, rels), reach, scale) == []
    for cell in np.flatnonzero(kept & ~primary):
        trial = kept.copy()
        trial[cell] = False
        assert secondary.short_of(secondary.audit(values, trial, rels), reach, scale) != []
    # nothing more to publish: a second pass changes nothing
    again = secondary.clean_up(values, kept, primary, rels, cost, 0.0, reach)
    assert (again == kept).all()


def test_partners_are_chosen_by_value_on_magnitude_tables():
    # row 0's unsafe cell (one record) needs a partner in row 0: b has 12 records summing
    # about 3,000, c has 30 of 1 or 2; by record count b was hidden, by value c is (no cell
    # is one value: such a cell's sum is its count times the value, pinned, and rounded)
    rows = [0] * (1 + 12 + 30) + [1] * 90 + [2] * 90
    cols = [0] + [1] * 12 + [2] * 30 + [0, 1, 2] * 60
    v = [20.0] + [244.0 + k for k in range(12)] + [1.0, 2.0] * 15 + [1.0, 2.0, 3.0, 2.0] * 45
    frame = pd.DataFrame({"r": rows, "c": cols, "v": v})
    protected = tables.protect(tables.build(frame, "r", "c", values="v", aggfunc="sum"), PLAIN)
    cells = protected.cells
    assert cells.status.iloc[cell_of(cells, r=0, c=0)] == "u"
    assert cells.status.iloc[cell_of(cells, r=0, c=2)] == "x"
    assert cells.status.iloc[cell_of(cells, r=0, c=1)] == "s"
    assert_protected(protected)


@pytest.mark.parametrize("seed", [s for s in SEEDS if s % 3 == 2 and (s // 3) % 4 == 0])
def test_the_heuristic_is_within_a_fifth_of_the_exact_mode_on_3d_count_tables(seed):
    table, policy = seeded_table(seed)
    heuristic = tables.protect(table, policy)
    exact = tables.protect(table, dataclasses.replace(policy, secondary="optimal"))
    assert exact.method["used"] == "optimal"
    assert heuristic.suppressed <= 1.2 * exact.suppressed
    assert_protected(heuristic)


@settings(max_examples=20, deadline=None)
@given(st.integers(0, 2**32 - 1), st.integers(2, 3), st.floats(0.3, 0.8))
def test_the_clean_ups_basis_finds_the_points_the_attackers_programme_finds(seed, dims, share):
    # with every suppressed cell above zero, publishing cells one after another (a rank-one
    # update of one null-space basis each) leaves as points exactly the cells the attacker's
    # programme, solved afresh on what is still suppressed, finds to be points
    rng, _, values, hidden, rels = small_sum_table(seed, dims, share)
    basis = secondary._Basis(np.flatnonzero(hidden), rels)
    assert sorted(basis.points()) == sorted(
        secondary.exposed(secondary.audit(values, hidden, rels))
    )
    for cell in rng.permutation(np.flatnonzero(hidden))[:4].tolist():
        reduced = basis.publish(cell)
        if reduced is None:  # a point already: nothing is learnt by publishing it
            assert cell in basis.points()
            continue
        basis, hidden = reduced, hidden.copy()
        hidden[cell] = False
        found = secondary.exposed(secondary.audit(values, hidden, rels))
        assert sorted(basis.points()) == sorted(found)


def large_table(
    seed: int = 3, shape=(14, 12, 10), mean: int = 30, unsafe: int = 12, least: int = 1
) -> tables.Table:
    """A count table with margins, Poisson(MEAN) counts at least 10 except UNSAFE cells of
    LEAST to 9 records; by default 14 x 12 x 10 (2,145 cells: past CLOSING_CELLS), 12 unsafe."""
    rng = np.random.default_rng(seed)
    counts = np.maximum(rng.poisson(mean, shape), 10)
    rare = rng.choice(counts.size, unsafe, replace=False)
    counts.flat[rare] = rng.integers(least, 10, unsafe)
    a, b, c = np.indices(counts.shape).reshape(3, -1)
    n = counts.reshape(-1)
    frame = pd.DataFrame({"a": np.repeat(a, n), "b": np.repeat(b, n), "c": np.repeat(c, n)})
    return tables.build(frame, ["a"], ["b", "c"])


def test_a_table_past_the_closing_partners_size_is_cleaned_up(monkeypatch):
    table = large_table()
    assert len(table.cells) > secondary.CLOSING_CELLS
    cleaned = tables.protect(table, PLAIN)
    assert_protected(cleaned)
    assert tables.recheck(cleaned.evidence(), PLAIN) == []
    monkeypatch.setattr(secondary, "clean_up", lambda values, suppressed, *rest, **kw: suppressed)
    plain = tables.protect(table, PLAIN)
    assert cleaned.suppressed < plain.suppressed


def test_a_clean_up_cut_short_by_its_budget_keeps_the_pattern_and_says_so(monkeypatch):
    table, policy = seeded_table(32)
    uncut = tables.protect(table, policy)
    assert "clean-up" not in uncut.method["note"]
    monkeypatch.setattr(secondary, "CLEANUP_SOLVES", 0)
    cut = tables.protect(table, policy)
    assert "the clean-up stopped after 0 programmes" in cut.method["note"]
    assert "were not tried and stay suppressed" in cut.method["note"]
    assert cut.suppressed > uncut.suppressed  # nothing was published again
    assert_protected(cut)
    assert cut.evidence()["secondary_method"]["note"] == cut.method["note"]


def test_a_margin_that_one_relations_cheapest_cell_cannot_free_is_opened_by_a_move():
    # bench_sdc_large's generator with the seed 11: (All, 29, 0) and (All, 29, 2) stayed points
    # through fifty rounds, each round's cheapest cell of the margin's own relation closing a
    # move (with its partners) that left the margin where it was; the move through both
    # margins must pass through other slices' margins, which one relation at a time never finds
    table = large_table(11, (40, 30, 5), mean=40, unsafe=26, least=2)
    protected = tables.protect(table, PLAIN)
    assert_protected(protected)
    assert tables.recheck(protected.evidence(), PLAIN) == []
    with pytest.MonkeyPatch.context() as patch:  # the one-relation widening alone
        patch.setattr(secondary, "OPENING", False)
        with pytest.raises(SdcError, match="did not converge"):
            tables.protect(table, PLAIN)
