"""Attacks on rounded counts through sums and means (an analyst on a checker's worst day).

The policy publishes counts rounded to its base (5) and suppresses those under its threshold.
Each test below builds a variable an analyst could write (or has), asks the analyst's API for its
sums or means, and recovers an exact count the policy rounds out. Those marked ``xfail`` get
through today; their reason says what the attacker reads."""

import json
import re
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest

from sdc import SdcError, safe
from sdc.policy import Policy
from sdc.tables.rounding import round_to_multiple
from sdc.tables.rules import mean_note

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


def test_a_mean_of_whole_numbers_does_not_carry_its_exact_count():
    # a mean of an integer variable in full precision is S/n: its continued fraction gives n
    income = pd.Series(RNG.integers(500, 50_000, len(areas())).astype(float), name="income")
    out = safe.crosstab(areas(), values=income, aggfunc="mean")
    assert rounded_out(denominators(out)) == {}


def test_describe_does_not_carry_the_exact_count_in_its_mean():
    # describe rounds the count; a mean of whole numbers in full precision has it as denominator
    income = pd.Series(RNG.integers(500, 50_000, 23).astype(float), name="income")
    out = safe.describe(pd.DataFrame({"income": income}))
    assert out.result.loc["count", "income"] == 25  # rounded, as the policy asks
    mean = float(out.result.loc["mean", "income"])
    assert Fraction(mean).limit_denominator(5000).denominator != 23


def test_a_sum_and_a_mean_of_one_variable_do_not_give_the_exact_count():
    # two outputs nothing links: an exact sum over an exact mean is the exact count
    income = pd.Series(RNG.lognormal(10, 0.5, len(areas())), name="income")
    sums = published(safe.crosstab(areas(), values=income, aggfunc="sum"))
    means = published(safe.crosstab(areas(), values=income, aggfunc="mean"))
    recovered = {k: int(round(sums[k] / means[k])) for k in sums.keys() & means.keys()}
    assert rounded_out(recovered) == {}


def shares_left(mean: float, rounded: float) -> set[int]:
    """The counts n' the rounding leaves (ROUNDED ± 2) for which some k' ones of n' publish as
    MEAN, the attacker working the publication out again (sdc.tables.rules: a share of a table
    whose sums are rounded is rounded, counted down from 1, to 1 / (rounded - 2.5))."""
    step = 1 / (rounded - 2.5)
    return {
        n
        for n in range(int(rounded) - 2, int(rounded) + 3)
        if any(
            np.isclose(1 - round_to_multiple(np.array([1 - k / n]), step)[0], mean)
            for k in range(n + 1)
        )
    }


def test_a_mean_of_a_flag_carries_neither_its_count_nor_its_ones():
    # a 0/1 flag's mean is a proportion k/n: in full precision its denominator is the count
    flag = pd.Series((RNG.random(len(areas())) < 0.37).astype(float), name="flag")
    out = safe.crosstab(areas(), values=flag, aggfunc="mean")
    means, counts = published(out), published(safe.crosstab(areas()))
    assert rounded_out(denominators(out)) == {}
    shares = flag.groupby(areas()).mean().to_dict() | {"All": flag.mean()}
    for area, mean in means.items():
        # every count the rounding leaves has a share that publishes alike
        assert len(shares_left(mean, counts[area])) == 5, area
        assert abs(mean - shares[area]) <= 0.5 / (counts[area] - 2.5) + 1e-12


@pytest.mark.parametrize(
    "values",
    [
        pd.Series(7.0, index=range(len(areas())), name="seven"),
        pd.Series(1.0 + 1e-4 * RNG.random(len(areas())), name="nearly_one"),
    ],
    ids=["constant", "nearly-constant"],
)
def test_a_mean_of_a_nearly_constant_variable_does_not_give_its_count(values):
    # its sums are rounded as counts are (they pin them); the mean, in its precision, times
    # the rounded count must not give the count either
    means = published(safe.crosstab(areas(), values=values, aggfunc="mean"))
    counts = published(safe.crosstab(areas()))
    sums = published(safe.crosstab(areas(), values=values, aggfunc="sum"))
    level = float(values.iloc[0])
    assert rounded_out({k: int(round(means[k] * counts[k] / level)) for k in means}) == {}
    assert rounded_out({k: int(round(sums[k] / means[k])) for k in means}) == {}
    true = values.groupby(areas()).mean().to_dict() | {"All": values.mean()}
    for k, mean in means.items():  # and the mean is the mean, not a rounded sum's share
        assert mean == pytest.approx(true[k], rel=1e-9)


def test_describe_hides_the_count_of_a_flag_and_of_a_constant():
    frame = pd.DataFrame({"flag": [1.0] * 12 + [0.0] * 11, "seven": 7.0})  # 23 records
    out = safe.describe(frame)
    assert out.result.loc["count", "flag"] == 25
    share = out.result.loc["mean", "flag"]
    assert share == pytest.approx(12 / 23, abs=0.5 / 22.5) and len(shares_left(share, 25)) == 5
    assert Fraction(share).limit_denominator(5000).denominator != 23
    assert out.result.loc["mean", "seven"] == 7.0


def test_a_published_mean_stays_near_the_true_mean():
    # the price of the protection: a mean is off by at most its count's rounding (2 in 12 here)
    income = pd.Series(RNG.lognormal(10, 0.5, len(areas())), name="income")
    means = published(safe.crosstab(areas(), values=income, aggfunc="mean"))
    true = income.groupby(areas()).mean().to_dict() | {"All": income.mean()}
    for area, mean in means.items():
        n = SIZES.get(area, len(areas()))
        assert abs(mean / true[area] - 1) <= 2 / (n - 2) + 1e-12


def test_the_airlock_refuses_a_mean_published_in_full_precision():
    income = pd.Series(RNG.integers(500, 50_000, len(areas())).astype(float), name="income")
    out = safe.crosstab(areas(), values=income, aggfunc="mean")
    assert safe.recheck(out.evidence, Policy()) == []
    forged = json.loads(json.dumps(out.evidence))
    cell = next(c for c in forged["cells"] if c["published"] is not None)
    cell["published"] = cell["value"]  # the exact mean
    problems = safe.recheck(forged, Policy())
    assert problems and "but its evidence gives" in problems[0]


def test_a_survival_curve_does_not_carry_its_exact_counts():
    # Kaplan-Meier in full precision: the first reported step is 1 - d/n, whose denominator is
    # the exact number at risk (and its numerator the events), which the table rounds
    time = pd.Series([1.0] * 12 + [2.0] * 11 + [3.0] * 10 + [9.0] * 48)  # 81 people
    event = pd.Series([1.0] * 12 + [1.0] * 11 + [1.0] * 10 + [0.0] * 48)
    out = safe.survival(time, event)
    first = out.result.iloc[0]
    assert first.at_risk == 80 and first.events == 10  # 81 and 12, rounded
    step = Fraction(float(first.survival)).limit_denominator(5000)
    assert step.denominator % 5 == 0 or 81 % step.denominator  # never 81, nor 27
    assert 1 - step != Fraction(12, 81)
    # each later step is recomputed from rounded counts too
    steps = list(out.result.itertuples())
    for previous, row in zip(steps[:-1], steps[1:], strict=True):
        ratio = Fraction(float(row.survival) / float(previous.survival)).limit_denominator(5000)
        assert ratio == 1 - Fraction(int(row.events), int(row.at_risk))


def test_a_mean_of_values_on_a_lattice_does_not_carry_the_count():
    # a mean is its published sum over its rounded count: the sum must be the one a sum table
    # publishes (rounded for its lattice), or mean × rounded count modulo K is the count
    values = pd.Series(1e4 * RNG.integers(1, 50, len(areas())) + 1.0, name="v")
    means = published(safe.crosstab(areas(), values=values, aggfunc="mean"))
    counts = published(safe.crosstab(areas()))
    recovered = {k: int(round(means[k] * counts[k] % 1e4)) for k in means}
    assert rounded_out(recovered) == {}


def test_a_mean_of_a_constant_behind_outliers_does_not_carry_the_count():
    rank = areas().groupby(areas()).cumcount()
    values = pd.Series(np.where(rank < 2, 1e6, 1.0), name="v")
    means = published(safe.crosstab(areas(), values=values, aggfunc="mean"))
    counts = published(safe.crosstab(areas()))
    outliers = {k: (16 if k == "All" else 2) for k in truth()}
    recovered = {
        k: int(round(means[k] * counts[k] - outliers[k] * 1e6)) + outliers[k] for k in means
    }
    assert rounded_out(recovered) == {}


def test_each_output_says_why_its_values_differ_from_the_plain_statistic():
    income = pd.Series(RNG.lognormal(10, 0.5, len(areas())), name="income")
    mean = safe.crosstab(areas(), values=income, aggfunc="mean")
    assert any("rounded to 5" in note for note in mean.notes())
    assert "note: each mean is published as its sum over its count rounded" in repr(mean)
    assert any("rounded to 5" in n for n in safe.describe(income.to_frame()).notes())
    time = pd.Series(RNG.exponential(10, 300).round())
    assert safe.survival(time, RNG.random(300) < 0.7).notes()
    # a sum of an ordinary variable is exact, and says nothing
    assert safe.crosstab(areas(), values=income, aggfunc="sum").notes() == []
    assert mean_note(1) is None  # a policy that does not round counts keeps means exact


def nested_survival(n: int):
    # an analyst's bins: of n people, 11 have an event at each of t = 1..5, the rest are
    # censored at t = 9; rounded row by row, at_risk = round(n - 11k) ran through every
    # residue of n modulo 5, and together the rows named n
    time = [float(1 + k // 11) if k < 55 else 9.0 for k in range(n)]
    event = [1.0 if k < 55 else 0.0 for k in range(n)]
    return safe.survival(pd.Series(time), pd.Series(event))


def test_a_survival_tables_rows_together_do_not_carry_the_exact_count():
    published = {n: nested_survival(n).result.to_csv() for n in range(58, 63)}  # all round to 60
    assert len(set(published.values())) == 1
    assert nested_survival(58).result.at_risk.tolist()[:3] == [60.0, 50.0, 40.0]


@pytest.mark.parametrize(
    ("time", "event", "says"),
    [
        ([1.0, 2.0, 3.0], [1, 0], "3 times and 2 events"),
        (["a", "b"], [1, 0], "time must be numbers"),
        ([1.0, 2.0], ["yes", "no"], "give events as 1 (event) or 0 (censored)"),
        ([], [], "at least one person"),
        ([1.0, 2.0], [2, 0], "event must be 1 (event) or 0 (censored)"),
    ],
)
def test_a_survival_of_bad_input_says_what_is_wrong(time, event, says):
    with pytest.raises(SdcError, match=re.escape(says)):
        safe.survival(
            pd.Series(time, dtype=object if time and isinstance(time[0], str) else float),
            pd.Series(event),
        )


def test_describes_std_of_a_flag_does_not_carry_the_count():
    # a flag's std is sqrt(k(n - k)/(n(n - 1))): with its count rounded it named n (57 of 55)
    flag = pd.Series([1.0] * 23 + [0.0] * 34)  # 57 records, 23 ones
    out = safe.describe(flag.to_frame("flag"))
    count, share, std = (float(out.result.loc[s, "flag"]) for s in ("count", "mean", "std"))
    assert count == 55
    # a function of the published share and rounded count alone
    assert std == pytest.approx(np.sqrt(share * (1 - share) * count / (count - 1)), rel=1e-12)
    fits = {
        n
        for n in range(53, 58)
        for k in range(n + 1)
        if np.isclose(std**2, k * (n - k) / (n * (n - 1)))
    }
    assert fits != {57}


def test_a_std_of_whole_numbers_does_not_carry_the_count():
    # var·(n' - 1) + S²/n' is the sum of squares, a whole number, for the true n' only
    ages = pd.Series(RNG.integers(18, 90, len(areas())).astype(float), name="age")
    stds = published(safe.crosstab(areas(), values=ages, aggfunc="std"))
    sums = ages.groupby(areas()).sum().to_dict() | {"All": ages.sum()}  # exact, as published
    counts = published(safe.crosstab(areas()))
    for area, std in stds.items():
        r = int(counts[area])
        whole = {
            n
            for n in range(r - 2, r + 3)
            if abs((q := std**2 * (n - 1) + sums[area] ** 2 / n) - round(q)) < 1e-6
        }
        assert whole != {truth()[area]} or truth()[area] % 5 == 0, area
    true = ages.groupby(areas()).std().to_dict() | {"All": ages.std()}
    for area, std in stds.items():
        assert std == pytest.approx(true[area], rel=1e-3)


def costs(seed: int, standard_share: float) -> pd.DataFrame:
    """Costs in pennies; the standard treatment costs a flat 120.00 (a tariff): its cells pin
    their counts, so the table's sums are rounded."""
    rng = np.random.default_rng(seed)
    sizes = {"a": 13, "b": 17, "c": 22, "d": 28}
    area = np.repeat(list(sizes), list(sizes.values()))
    treat = np.where(rng.random(len(area)) < standard_share, "standard", "special")
    cost = np.where(treat == "standard", 120.0, np.round(rng.uniform(20, 110, len(area)), 2))
    return pd.DataFrame({"area": area, "treat": treat, "cost": cost})


def test_a_precise_mean_beside_another_tables_exact_sum_does_not_give_the_count():
    # the area margins' sums are rounded only because of the flat-tariff cells beside them; a
    # one-way table of the same records publishes them exactly: a precise mean there gave n
    frame = costs(3, 0.2)
    means = safe.pivot_table(frame, values="cost", index="area", columns="treat", aggfunc="mean")
    total = safe.pivot_table(frame, values="cost", index="area", aggfunc="sum").result["cost"]
    sizes = frame.area.value_counts().to_dict()
    recovered = {k: round(total[k] / means.result.loc[k, "All"]) for k in sizes}
    assert {k: n for k, n in recovered.items() if n == sizes[k] and n % 5} == {}


def test_one_mean_table_with_a_constant_column_does_not_give_its_counts():
    # cells, margins and the constant column: n_standard / n_special = (m_sp - M) / (M - 120)
    frame = costs(4, 0.45)
    t = safe.pivot_table(frame, values="cost", index="area", columns="treat", aggfunc="mean")
    c = safe.pivot_table(frame, values="cost", index="area", columns="treat", aggfunc="count")
    exact = pd.crosstab(frame.area, frame.treat)
    for k in exact.index:
        m_sp, m_st, whole = (t.result.loc[k, col] for col in ("special", "standard", "All"))
        if np.isnan([m_sp, m_st, whole]).any():
            continue
        ratio = (m_sp - whole) / (whole - m_st)
        near = {
            (a, b)
            for a in range(int(c.result.loc[k, "special"]) - 2, int(c.result.loc[k, "special"]) + 3)
            for b in range(
                int(c.result.loc[k, "standard"]) - 2, int(c.result.loc[k, "standard"]) + 3
            )
            if abs(a + b - c.result.loc[k, "All"]) <= 2 and abs(b / a - ratio) < 1e-3
        }
        truth = (exact.loc[k, "special"], exact.loc[k, "standard"])
        assert near != {truth} or (truth[0] % 5 == 0 and truth[1] % 5 == 0), k
