import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sdc import Policy, SdcError, tables
from sdc.tables import secondary


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    n = 3000
    return pd.DataFrame(
        {
            "area": rng.choice(list("ABCD"), n, p=[0.3, 0.3, 0.3, 0.1]),
            "sex": rng.choice(["F", "M"], n),
            "band": rng.choice(["young", "old"], n),
            "cost": rng.lognormal(4, 1, n),
            "change": rng.normal(0, 5, n),
        }
    ).assign(area=lambda d: d.area.where(d.index >= 6, "E"))


@pytest.mark.parametrize("aggfunc", ["count", "sum", "mean", "min", "max", "median", "std"])
@pytest.mark.parametrize(
    "dims", [(["area"], None), (["area"], ["sex"]), (["area", "band"], ["sex"])]
)
def test_build_matches_pandas(data, aggfunc, dims):
    rows, cols = dims
    values = None if aggfunc == "count" else "cost"
    table = tables.build(data, rows, cols, values, aggfunc)
    index = [data[r] for r in rows]
    columns = [data[c] for c in cols] if cols else [pd.Series(["x"] * len(data), name="_")]
    expected = pd.crosstab(
        index,
        columns,
        values=None if values is None else data[values],
        aggfunc=None if values is None else aggfunc,
        margins=True,
    )
    got = table.wide()
    if not cols:
        got = got.iloc[:, 0]
        expected = expected["All"] if aggfunc == "count" else expected.iloc[:, 0]
        expected.index = got.index
        np.testing.assert_allclose(got.to_numpy(float), expected.to_numpy(float), rtol=1e-9)
        return
    # pandas has no subtotals within a multi-level index (("A", "All")): compare what it has
    if len(rows) > 1:
        expected.index = pd.MultiIndex.from_tuples(
            [key if key[0] != "All" else ("All", "All") for key in expected.index]
        )
    got = got.loc[expected.index, expected.columns]
    np.testing.assert_allclose(got.to_numpy(float), expected.to_numpy(float), rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from("abc"), st.sampled_from("xy"), st.floats(-100, 1000, allow_nan=False)
        ),
        min_size=1,
        max_size=60,
    )
)
def test_cell_evidence_is_exact(records):
    frame = pd.DataFrame(records, columns=["r", "c", "v"])
    table = tables.build(frame, "r", "c", "v", "sum")
    for cell in table.cells.to_dict("records"):
        mask = np.ones(len(frame), bool)
        for dim in ("r", "c"):
            if cell[dim] != tables.TOTAL:
                mask &= (frame[dim] == cell[dim]).to_numpy()
        values = np.sort(frame.v[mask].to_numpy())[::-1]
        assert cell["count"] == len(values)
        assert cell["negatives"] == (values < 0).sum()
        if len(values):
            assert cell["sum"] == pytest.approx(values.sum())
            assert cell["top1"] == values[0] and cell["max"] == values[0]
            assert cell["min"] == values[-1]
            if len(values) > 1:
                assert cell["top2"] == values[1]
            else:
                assert np.isnan(cell["top2"])


def test_bad_tables_are_refused(data):
    with pytest.raises(SdcError, match="1 to 3 dimensions"):
        tables.build(data, ["area", "sex", "band", "cost"])
    with pytest.raises(SdcError, match="needs a values column"):
        tables.build(data, "area", aggfunc="mean")
    with pytest.raises(SdcError, match="is not numeric"):
        tables.build(data, "area", values="sex", aggfunc="sum")
    with pytest.raises(SdcError, match="that is microdata"):
        tables.build(data, "cost", "change", max_cells=1000)


def cell(count, total=None, top1=None, top2=None, negatives=0):
    return {
        "count": count,
        "sum": total,
        "top1": top1,
        "top2": top2,
        "negatives": negatives,
        "value": count,
    }


def reasons(c, kind="magnitude", aggfunc="sum", policy=None):
    return tables.rules.cell_reasons(c, kind, aggfunc, policy or Policy())[0]


def test_primary_rules_one_by_one():
    policy = Policy()
    assert reasons(cell(9), "frequency", "count")[0].startswith("threshold: 9 records")
    assert reasons(cell(10), "frequency", "count") == []
    assert reasons(cell(0), "frequency", "count")[0].startswith("zero")
    assert reasons(cell(0), "frequency", "count", Policy(zeros_disclosive=False)) == []
    # (2, 90 %) dominance: the two largest make 95 % of the cell
    assert any(r.startswith("dominance") for r in reasons(cell(20, 100, 60, 35)))
    assert not any(r.startswith("dominance") for r in reasons(cell(20, 100, 50, 30)))
    # p % rule (p = 10): others 100 - 50 - 46 = 4 < 10 % of 50
    assert any(r.startswith("p% rule") for r in reasons(cell(20, 100, 50, 46), policy=policy))
    assert not any(r.startswith("p% rule") for r in reasons(cell(20, 100, 50, 30)))
    # sdcTable's pq rule with p = 25, q = 50: 100 - 60 - 15 = 25 < 0.5 · 60
    pq = Policy(pq_p=25, pq_q=50, dominance_k=100, p_percent=0)
    assert any(r.startswith("pq rule") for r in reasons(cell(20, 100, 60, 15), policy=pq))
    assert not any(r.startswith("pq rule") for r in reasons(cell(20, 100, 40, 15), policy=pq))
    # negative contributions: dominance cannot be applied, so the cell goes for review
    _, review = tables.rules.cell_reasons(
        cell(20, 100, 60, 35, negatives=2), "magnitude", "sum", policy
    )
    assert review
    assert reasons(cell(20, 100, 10, 9), "statistic", "max")[-1].startswith("max: the value")


def test_the_mode_needs_enough_records_sharing_it():
    frame = pd.DataFrame({"g": ["a"] * 30 + ["b"] * 30, "v": [1] * 12 + [2] * 18 + list(range(30))})
    protected = tables.protect(
        tables.build(frame, "g", values="v", aggfunc="mode"), Policy(rounding_base=1)
    )
    cells = protected.cells.set_index("g")
    assert cells.loc["a", "value"] == 2 and cells.loc["a", "mode_count"] == 18
    assert cells.loc["a", "status"] == "s"
    assert cells.loc["b", "status"] == "u"  # every value of b is one record's
    assert any("mode: the value is shared by 1 record" in r for r in cells.loc["b", "reasons"])
    assert tables.recheck(protected.evidence(), Policy(rounding_base=1)) == []


def test_sdctable_freq_and_nk_defaults():
    # sdcTable's freq rule (count <= maxN = 3 unsafe) is threshold 4; nk (n = 2, k = 85)
    sdctable = Policy(threshold=4, dominance_k=85, p_percent=0)
    assert reasons(cell(3), "frequency", "count", sdctable)
    assert not reasons(cell(4), "frequency", "count", sdctable)
    assert reasons(cell(5, 100, 50, 36), policy=sdctable)
    assert not reasons(cell(5, 100, 50, 34), policy=sdctable)


def test_audit_gives_the_feasible_interval_of_every_suppressed_cell():
    # [[3, 7], [8, 2]] with margins; all four inner cells suppressed: x11 in [1, 10]
    frame = pd.DataFrame(
        {"r": ["a"] * 10 + ["b"] * 10, "c": ["x"] * 3 + ["y"] * 7 + ["x"] * 8 + ["y"] * 2}
    )
    table = tables.build(frame, "r", "c")
    cells = table.cells
    rels = secondary.relations(cells, ["r", "c"])
    assert len(rels) == 6  # two rows, two columns, and the two margins
    inner = ~cells.margin.to_numpy()
    intervals = secondary.audit(cells["count"].to_numpy(float), inner, rels)
    found = {(cells.r[i], cells.c[i]): v for i, v in intervals.items()}
    assert found[("a", "x")] == pytest.approx((1.0, 10.0))
    assert found[("b", "y")] == pytest.approx((0.0, 9.0))
    lone = np.zeros(len(cells), bool)
    lone[0] = True  # one suppressed cell is recomputed from its row total
    assert secondary.exposed(secondary.audit(cells["count"].to_numpy(float), lone, rels)) == [0]


def test_protect_never_leaves_a_recomputable_cell(data):
    for rows, cols in ((["area"], None), (["area"], ["sex"]), (["area", "band"], ["sex"])):
        protected = tables.protect(tables.build(data, rows, cols))
        cells = protected.cells
        assert (cells.status == "u").any()
        unsafe = cells[cells.status == "u"]
        assert unsafe.published.isna().all()
        for low, high in protected.intervals.values():
            assert high - low > 1e-9
        assert len(protected.intervals) == protected.suppressed
        assert tables.recheck(protected.evidence(), Policy()) == []


def test_totals_are_never_changed_by_suppression(data):
    protected = tables.protect(tables.build(data, "area", "sex"), Policy(rounding_base=1))
    grand = protected.cells[(protected.cells.area == "All") & (protected.cells.sex == "All")]
    assert grand.published.iloc[0] == len(data)


def test_rounding_is_consistent_and_opensafely_style_redaction():
    values = np.array([0, 2, 3, 7, 8, 12, 13, 2000])
    np.testing.assert_array_equal(tables.round_to_base(values, 5), [0, 0, 5, 5, 10, 10, 15, 2000])
    redacted = tables.redact_then_round(values, 7, 5)
    assert np.isnan(redacted[:4]).all()
    np.testing.assert_array_equal(redacted[4:], [10, 10, 15, 2000])


@settings(max_examples=15, deadline=None)
@given(st.lists(st.lists(st.integers(0, 40), min_size=3, max_size=3), min_size=3, max_size=4))
def test_optimal_protects_every_unsafe_cell_both_ways(grid):
    rows = [
        (f"r{i}", f"c{j}")
        for i, row in enumerate(grid)
        for j, n in enumerate(row)
        for _ in range(n)
    ]
    if not rows:
        return
    table = tables.build(pd.DataFrame(rows, columns=["r", "c"]), "r", "c")
    for mode in ("heuristic", "optimal"):
        result = tables.protect(
            table, Policy(zeros_disclosive=False, rounding_base=1, secondary=mode)
        )
        assert all(high - low > 1e-9 for low, high in result.intervals.values())
        if mode == "optimal":
            for i in np.flatnonzero((result.cells.status == "u").to_numpy()):
                low, high = result.intervals[int(i)]
                value = result.cells["count"].iloc[i]
                assert high >= value + 1 - 1e-6 and low <= value - min(1, value) + 1e-6


def test_recheck_catches_a_published_unsafe_cell_and_a_recomputable_one(data):
    protected = tables.protect(tables.build(data, "area", "sex"))
    evidence = protected.evidence()
    tampered = {**evidence, "cells": [dict(c) for c in evidence["cells"]]}
    target = next(c for c in tampered["cells"] if c["status"] == "u" and c["count"] > 0)
    target["published"] = target["value"]
    problems = tables.recheck(tampered, Policy())
    assert any("is published but fails: threshold" in p for p in problems)
    assert any("can be recomputed" in p for p in problems)
    stricter = tables.recheck(evidence, Policy(threshold=100))
    assert any("looser policy" in p for p in stricter)
