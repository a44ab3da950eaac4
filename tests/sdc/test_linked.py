"""Linked tables and hierarchical dimensions (issue 20 item 1): tables that share cells, or
whose categories nest, are protected as one problem, so that no unsafe cell of one can be
recomputed with the help of another."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sdc import Policy, SdcError, tables
from sdc.tables import linked, secondary
from sdc.tables.protect import additive_values

sys.path.insert(0, str(Path(__file__).parent))
from test_protection import PLAIN, assert_protected  # noqa: E402

DISTRICTS = {"N1": "N", "N2": "N", "N3": "N", "S1": "S", "S2": "S"}


def two_levels(seed: int) -> pd.DataFrame:
    """Records by district (nested in regions) and sex, some district-sex cells rare."""
    rng = np.random.default_rng(seed)
    n = 400
    frame = pd.DataFrame(
        {"district": rng.choice(list(DISTRICTS), n), "sex": rng.choice(["F", "M"], n)}
    )
    rare = pd.DataFrame({"district": ["N2", "N2", "S1"], "sex": ["F", "F", "M"]})
    frame = frame[~frame.district.isin(["N2", "S1"]) | (rng.random(n) < 0.15)]
    frame = pd.concat([frame, rare], ignore_index=True)
    frame["v"] = rng.lognormal(3, 1, len(frame))
    return frame


def at_two_levels(frame: pd.DataFrame, **kwargs) -> list[tables.Table]:
    fine = tables.build(frame.rename(columns={"district": "area"}), "area", "sex", **kwargs)
    coarse = frame.assign(area=frame.district.map(DISTRICTS))
    return [tables.build(coarse, "area", "sex", **kwargs), fine]


def exposed_together(results: list[tables.Protected], hierarchies) -> list[str]:
    """What an attacker holding every published table and the hierarchy finds: unsafe cells
    recomputed or short of their protection, and insiders recomputing one."""
    parents = linked._parents(hierarchies)
    checked = [r.cells for r in results]
    dims = ["area", "sex"]
    cells, positions = linked._union([r.table for r in results], checked, dims)
    rels = linked._linked_relations(
        [r.table for r in results], checked, positions, cells, dims, parents
    )
    suppressed = np.zeros(len(cells), bool)
    unsafe = np.zeros(len(cells), bool)
    for result, where in zip(results, positions, strict=True):
        suppressed[where] |= result.cells.published.isna().to_numpy()
        unsafe[where] |= (result.cells.status == "u").to_numpy()
    values, lower = additive_values(cells, results[0].table.kind)
    levels = np.where(unsafe, cells["protection"].to_numpy(float), 0.0)
    reach = secondary.required(values, levels, lower)
    intervals = secondary.audit(values, suppressed, rels, lower)
    found = [
        f"{cells.area.iloc[i]}/{cells.sex.iloc[i]}"
        for i in secondary.short_of(intervals, reach, secondary.scale_of(values))
        if unsafe[i]
    ]
    alone = (cells["count"] == 1).to_numpy()
    own = secondary.shares_contributor(cells, dims, parents)
    pairs = secondary.insider_exposed(values, suppressed, rels, lower, alone, unsafe, own)
    return found + [f"insider of {a} recomputes {b}" for a, b in pairs]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("kind", ["count", "sum"])
def test_a_table_at_two_levels_leaves_nothing_recomputable_when_linked(seed, kind):
    frame = two_levels(seed)
    kwargs = {} if kind == "count" else {"values": "v", "aggfunc": "sum"}
    two = at_two_levels(frame, **kwargs)
    hierarchy = {"area": DISTRICTS}
    results = tables.protect_linked(two, PLAIN, hierarchy)
    assert exposed_together(results, hierarchy) == []
    for result in results:
        assert_protected(result)
        assert tables.recheck(result.evidence(), PLAIN) == []
        assert "linked problem of 2 tables" in result.evidence()["secondary_method"]["note"]
    # the grand total and the sex margins are one cell in both tables: published alike
    coarse, fine = (r.cells.set_index(["area", "sex"]).published for r in results)
    for sex in ("F", "M", tables.TOTAL):
        a, b = coarse.loc[(tables.TOTAL, sex)], fine.loc[(tables.TOTAL, sex)]
        assert np.isclose(a, b, rtol=1e-12, equal_nan=True)  # (summed in another order)


def test_protected_one_by_one_the_two_levels_give_a_cell_away():
    # the finding: each table safe alone, together a district cell is recomputed
    # (the region's cell less its other districts); found on some of the seeds
    hierarchy = {"area": DISTRICTS}
    leaks = 0
    for seed in range(6):
        apart = [tables.protect(t, PLAIN) for t in at_two_levels(two_levels(seed))]
        leaks += bool(exposed_together(apart, hierarchy))
        linked_results = tables.protect_linked(at_two_levels(two_levels(seed)), PLAIN, hierarchy)
        assert exposed_together(linked_results, hierarchy) == []
    assert leaks > 0


def test_three_tables_sharing_margins_and_a_persons_own_cells_across_levels():
    # a 1-D table of districts shares its cells with the fine table's district margins
    frame = two_levels(2)
    coarse, fine = at_two_levels(frame)
    districts = tables.build(frame.rename(columns={"district": "area"}), "area")
    hierarchy = {"area": DISTRICTS}
    results = tables.protect_linked([coarse, fine, districts], PLAIN, hierarchy)
    assert exposed_together(results[:2], hierarchy) == []
    margins = results[1].cells.set_index(["area", "sex"]).published
    for area, published in results[2].cells.set_index("area").published.items():
        assert np.isclose(published, margins.loc[(area, tables.TOTAL)], equal_nan=True)
    # a district's cell lies inside its region's: one person alone in both knows both
    cells, _ = linked._union([coarse, fine], [r.cells for r in results[:2]], ["area", "sex"])
    own = secondary.shares_contributor(cells, ["area", "sex"], linked._parents(hierarchy))
    where = {(a, s): i for i, (a, s) in enumerate(zip(cells.area, cells.sex, strict=True))}
    assert own(where[("N2", "F")], where[("N", "F")])
    assert own(where[("N", "F")], where[("N2", tables.TOTAL)])
    assert not own(where[("N2", "F")], where[("S", "F")])
    assert not secondary.shares_contributor(cells, ["area", "sex"])(
        where[("N2", "F")], where[("N", "F")]
    )


def test_mistakes_are_sentences():
    frame = two_levels(0)
    coarse, fine = at_two_levels(frame)
    with pytest.raises(SdcError, match="at least one table"):
        tables.protect_linked([], PLAIN)
    with pytest.raises(SdcError, match="same thing"):
        tables.protect_linked([coarse, tables.build(frame, "district", "sex", "v", "sum")])
    with pytest.raises(SdcError, match="no table has"):
        tables.protect_linked([coarse, fine], PLAIN, {"region": DISTRICTS})
    with pytest.raises(SdcError, match="cycle"):
        tables.protect_linked([coarse, fine], PLAIN, {"area": {"N1": "N", "N": "N1"}})
    wrong = {**DISTRICTS, "N3": "S"}  # N3 put under S: the counts do not add up
    with pytest.raises(SdcError, match="do not add up"):
        tables.protect_linked([coarse, fine], PLAIN, {"area": wrong})
    other = at_two_levels(frame.iloc[5:])[1]
    with pytest.raises(SdcError, match="same records"):
        tables.protect_linked([fine, other], PLAIN)
    with pytest.raises(SdcError, match="not additive"):
        tables.protect_linked([tables.build(frame, "district", "sex", "v", "median")])
    assert Policy()  # the default policy protects linked tables too


def test_a_hierarchys_partners_stay_inside_the_unsafe_cells_subgroup():
    # sdcTable's microdata2 x ecoOld with its hierarchy (A over Aa, Ab; B over Ba, Bb), in
    # synthetic records: one unsafe cell, R2/f/Bb. The least pattern is the 2 x 2 x 2 cube of
    # R1, R2 x f, m x Ba, Bb (8 cells), which keeps every subtotal A and B published. The
    # heuristic's first partners (Aa, across the subgroups) cost the subtotals, and the
    # clean-up then published nothing while publishing one cell made its sibling a point: it
    # now publishes the sibling with it (16 cells became 8)
    eco = {"Aa": "A", "Ab": "A", "Ba": "B", "Bb": "B"}
    counts = {key: 30 + 7 * k for k, key in enumerate(np.ndindex(2, 2, 4))}
    counts[(1, 0, 3)] = 2
    records = pd.DataFrame(
        [
            {"region": f"R{r + 1}", "gender": "fm"[g], "eco": list(eco)[e]}
            for (r, g, e), n in counts.items()
            for _ in range(n)
        ]
    )
    policy = Policy(threshold=4, zeros_disclosive=False, rounding_base=1)
    coarse = records.assign(eco=records.eco.map(eco))
    built = [tables.build(t, ["region"], ["gender", "eco"]) for t in (coarse, records)]
    results = tables.protect_linked(built, policy, {"eco": eco})
    coarse_cells, fine_cells = (r.cells for r in results)
    assert coarse_cells.published.notna().all()  # every subtotal A and B, and every margin
    hidden = fine_cells[fine_cells.published.isna()]
    assert len(hidden) == 8 and set(hidden.eco) == {"Ba", "Bb"}
    assert set(hidden.region) == {"R1", "R2"} and set(hidden.gender) == {"f", "m"}
    for result in results:
        assert_protected(result)
        assert tables.recheck(result.evidence(), policy) == []
