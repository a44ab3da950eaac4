"""Attacks on rounded counts through sums and means (an analyst on a checker's worst day).

The policy publishes counts rounded to its base (5) and suppresses those under its threshold.
Each test below builds a variable an analyst could write (or has), asks the analyst's API for its
sums or means, and recovers an exact count the policy rounds out. Those marked ``xfail`` get
through today; their reason says what the attacker reads."""

from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from sdc import safe

SIZES = {"a": 3, "b": 7, "c": 12, "d": 23, "e": 41, "f": 88, "g": 131, "h": 264}
RNG = np.random.default_rng(7)


def areas() -> pd.Series:
    return pd.Series(np.repeat(list(SIZES), list(SIZES.values())), name="area")


def truth() -> dict:
    return SIZES | {"All": sum(SIZES.values())}


def rounded_out(recovered: dict) -> dict:
    """The cells whose recovered count is exact where the policy publishes it rounded to 5
    (a count that is itself a multiple of 5 is left out: rounding does not hide it)."""
    exact = truth()
    return {k: v for k, v in recovered.items() if v == exact[k] and exact[k] % 5}


def published(out) -> dict:
    return {k: float(v) for k, v in out.result.iloc[:, 0].items() if pd.notna(v)}


def test_a_sum_of_values_on_a_lattice_with_an_offset_does_not_carry_the_count():
    values = pd.Series(1e4 * RNG.integers(1, 50, len(areas())) + 1.0, name="v")
    out = safe.crosstab(areas(), values=values, aggfunc="sum")
    recovered = {k: int(round(v % 1e4)) for k, v in published(out).items()}
    assert rounded_out(recovered) == {}


def test_a_constant_with_two_outliers_per_cell_does_not_pin_its_counts():
    rank = areas().groupby(areas()).cumcount()
    values = pd.Series(np.where(rank < 2, 1e6, 1.0), name="v")
    out = safe.crosstab(areas(), values=values, aggfunc="sum")
    # the analyst made the outliers: two per area, eight in all
    outliers = {k: (16 if k == "All" else 2) for k in truth()}
    recovered = {
        k: int(round(v - outliers[k] * 1e6)) + outliers[k] for k, v in published(out).items()
    }
    assert rounded_out(recovered) == {}


def test_a_negative_constant_with_a_negative_outlier_does_not_pin_its_counts():
    rank = areas().groupby(areas()).cumcount()
    values = pd.Series(np.where(rank < 1, -1e6, -1.0), name="v")
    out = safe.crosstab(areas(), values=values, aggfunc="sum")
    ones = {k: (8 if k == "All" else 1) for k in truth()}
    recovered = {k: int(round(-v - ones[k] * 1e6)) + ones[k] for k, v in published(out).items()}
    assert rounded_out(recovered) == {}


def denominators(out) -> dict:
    """The denominator of each published mean read as a fraction (continued fractions): the
    cell's count, or a divisor of it, where the variable is integral."""
    return {k: Fraction(v).limit_denominator(5000).denominator for k, v in published(out).items()}


@pytest.mark.xfail(
    strict=True,
    reason="a mean of an integer variable is S/n in full precision: its continued fraction "
    "gives n (whenever S and n are coprime) though the count table rounds n to 5",
)
def test_a_mean_of_whole_numbers_does_not_carry_its_exact_count():
    income = pd.Series(RNG.integers(500, 50_000, len(areas())).astype(float), name="income")
    out = safe.crosstab(areas(), values=income, aggfunc="mean")
    assert rounded_out(denominators(out)) == {}


@pytest.mark.xfail(
    strict=True,
    reason="describe publishes the count rounded and the mean of whole numbers in full "
    "precision: the mean's denominator is the exact count",
)
def test_describe_does_not_carry_the_exact_count_in_its_mean():
    income = pd.Series(RNG.integers(500, 50_000, 23).astype(float), name="income")
    out = safe.describe(pd.DataFrame({"income": income}))
    assert out.result.loc["count", "income"] == 25  # rounded, as the policy asks
    mean = float(out.result.loc["mean", "income"])
    assert Fraction(mean).limit_denominator(5000).denominator != 23


@pytest.mark.xfail(
    strict=True,
    reason="a sum and a mean of the same variable by the same dimension are each published "
    "exactly, so sum / mean is each cell's exact count (any variable, not only a nearly "
    "constant one); nothing links the two outputs",
)
def test_a_sum_and_a_mean_of_one_variable_do_not_give_the_exact_count():
    income = pd.Series(RNG.lognormal(10, 0.5, len(areas())), name="income")
    sums = published(safe.crosstab(areas(), values=income, aggfunc="sum"))
    means = published(safe.crosstab(areas(), values=income, aggfunc="mean"))
    recovered = {k: int(round(sums[k] / means[k])) for k in sums.keys() & means.keys()}
    assert rounded_out(recovered) == {}
