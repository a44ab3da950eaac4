"""Sums of values on a lattice with an offset carry their counts (sdc.tables.rules.on_a_lattice).

Values a + D·w sum, in a cell of n records, to n·a + D·W: the sum modulo D is n·a modulo D, and
an analyst who chose a and D reads n from it. Each attack below is first run on the exact sums
(it must recover the counts there, or it proves nothing), then on what sdc publishes."""

import numpy as np
import pandas as pd
import pytest

from sdc import Policy, safe

SIZES = {"a": 3, "b": 7, "c": 12, "d": 23, "e": 41, "f": 88, "g": 131, "h": 264}
RNG = np.random.default_rng(11)
N = sum(SIZES.values())


def areas() -> pd.Series:
    return pd.Series(np.repeat(list(SIZES), list(SIZES.values())), name="area")


def rounded_out(recovered: dict) -> dict:
    """The cells whose recovered count is exact where the policy publishes it rounded to 5."""
    exact = SIZES | {"All": N}
    return {k: v for k, v in recovered.items() if v == exact[k] and exact[k] % 5}


def recover(sums: dict, scale: float, spacing: int, offsets: dict) -> dict:
    """The attacker's reading: n = (sum modulo D) / a modulo D, in whole units of 1/SCALE."""
    found = {}
    for area, total in sums.items():
        offset = offsets.get(area, offsets.get("*"))
        if offset is None:
            continue
        residue = int(round(total * scale)) % spacing
        found[area] = residue * pow(offset, -1, spacing) % spacing
    return found


def exact_sums(values: pd.Series) -> dict:
    return values.groupby(areas()).sum().to_dict() | {"All": float(values.sum())}


def published(out) -> dict:
    return {k: float(v) for k, v in out.result.iloc[:, 0].items() if pd.notna(v)}


CODES = dict(zip(SIZES, [1, 3, 7, 9, 11, 13, 17, 19], strict=True))


def crafted(kind: str) -> tuple[pd.Series, float, int, dict]:
    """A variable, its scale, its spacing (whole units) and its offsets (whole units)."""
    w = RNG.integers(1, 50, N)
    if kind == "decimal offset":  # 0.1·w + 0.01: hundredths, spacing 10, offset 1
        return pd.Series(0.1 * w + 0.01), 100.0, 10, {"*": 1}
    if kind == "binary fraction":  # w + 2⁻²⁰: exact in a float, and in its sums
        return pd.Series(w + 2.0**-20), 2.0**20, 2**20, {"*": 1}
    if kind == "both signs":  # ±10⁴·w + 1
        return pd.Series(1e4 * w * RNG.choice([-1, 1], N) + 1), 1.0, 10_000, {"*": 1}
    # an offset per area: the table's values share no lattice, each cell's do
    code = areas().map(CODES).to_numpy()
    return pd.Series(1e4 * w + code), 1.0, 10_000, dict(CODES)


@pytest.mark.parametrize("kind", ["decimal offset", "binary fraction", "both signs", "per area"])
def test_a_lattice_with_an_offset_does_not_carry_the_count(kind):
    values, scale, spacing, offsets = crafted(kind)
    values = values.rename("v")
    assert rounded_out(recover(exact_sums(values), scale, spacing, offsets))  # a real attack
    out = safe.crosstab(areas(), values=values, aggfunc="sum")
    assert rounded_out(recover(published(out), scale, spacing, offsets)) == {}
    note = out.evidence["lattice"]
    step = note["rounded_to"]
    assert step == pytest.approx(5 * spacing / scale) and "rounded" in note["note"]
    for value in published(out).values():  # every sum a multiple of base × spacing
        assert value / step == pytest.approx(round(value / step), abs=1e-6)
    assert out.result.iloc[:, 0][["f", "g", "h"]].notna().all()  # rounded, not suppressed
    assert safe.recheck(out.evidence, Policy()) == []


@pytest.mark.parametrize("kind", ["incomes", "ages", "lognormal", "pennies", "with zeros"])
def test_ordinary_values_are_not_on_a_lattice(kind):
    if kind == "incomes":
        values = RNG.integers(500, 50_000, N).astype(float)
    elif kind == "ages":
        values = RNG.integers(0, 100, N).astype(float)
    elif kind == "lognormal":
        values = RNG.lognormal(10, 0.5, N)
    elif kind == "pennies":
        values = np.round(RNG.lognormal(5, 1, N), 2)
    else:
        values = np.where(RNG.random(N) < 0.3, 0.0, RNG.integers(1, 400, N).astype(float))
    values = pd.Series(values, name="v")
    out = safe.crosstab(areas(), values=values, aggfunc="sum")
    assert "lattice" not in out.evidence and "nearly_constant" not in out.evidence
    exact = exact_sums(values)
    shown = published(out)
    assert set(shown) >= {"c", "d", "e", "f", "g", "h", "All"}
    assert all(shown[k] == pytest.approx(exact[k], rel=1e-12) for k in shown)


def test_one_value_per_area_is_a_count_by_area():
    # the sum of age by single year of age: every cell one value, so its sum is n times it
    age = {k: 20.0 + i for i, k in enumerate(SIZES)}
    values = pd.Series(areas().map(age), name="age")
    exact = exact_sums(values)
    assert rounded_out({k: int(round(exact[k] / age[k])) for k in SIZES})
    out = safe.crosstab(areas(), values=values, aggfunc="sum")
    step = out.evidence["lattice"]["rounded_to"]
    assert step == 5 * 27.0  # the base times the largest value of a cell of one value
    for area, value in published(out).items():
        if area != "All":  # the counts a published sum leaves possible: at least the base
            possible = [k for k in range(400) if abs(k * age[area] - value) <= step / 2]
            assert len(possible) >= 5 and SIZES[area] in possible
    assert safe.recheck(out.evidence, Policy()) == []


def lattice_evidence():
    values = pd.Series(1e4 * RNG.integers(1, 50, N) + 1.0, name="v")
    return safe.crosstab(areas(), values=values, aggfunc="sum").evidence


def test_the_recheck_rounds_again_whatever_the_evidence_says_of_the_lattice():
    evidence = lattice_evidence()
    assert safe.recheck(evidence, Policy()) == []
    # exact sums published, the derived lattice and its note taken out: worked out again
    forged = {k: v for k, v in evidence.items() if k != "lattice"} | {
        "cells": [
            c | {"lattice": None, "published": c["value"] if c["published"] is not None else None}
            for c in evidence["cells"]
        ]
    }
    problems = safe.recheck(forged, Policy())
    assert any("area=h" in p and "published as" in p for p in problems)


def test_the_recheck_refuses_a_spacing_its_cell_contradicts():
    evidence = lattice_evidence()
    lied = evidence | {
        "cells": [
            c | {"spacing": 7.0, "lattice": None} if c["dims"]["area"] == "h" else c
            for c in evidence["cells"]
        ]
    }
    problems = safe.recheck(lied, Policy())
    assert any("area=h" in p and "no table could have" in p for p in problems)
    # a spacing the cell's records and sum agree with is not a problem
    assert not any("area=g" in p for p in problems)
