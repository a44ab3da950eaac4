"""The rules the field expects, in sdc.safe's own output: proportions, sums of a constant,
regressions' support, categorical models as tables of means, histogram edges. Each attack beside
a control that stays published."""

import numpy as np
import pandas as pd
import pytest

from sdc import safe
from sdc.policy import Policy

RNG = np.random.default_rng(19)


@pytest.fixture
def cohort():
    n = 2000
    team = RNG.choice(["a", "b", "c", "d"], n)
    return pd.DataFrame(
        {
            "team": team,
            "area": RNG.choice(["north", "south"], n),
            "flag": (RNG.random(n) < 0.3).astype(int),
            "cost": RNG.lognormal(7, 0.5, n),
            "age": RNG.integers(18, 90, n).astype(float),
            "one": np.ones(n),
        }
    )


def published(out):
    return out.result.to_numpy(float)


# --- proportions ------------------------------------------------------------------------------


def test_a_mean_of_a_flag_with_few_ones_is_a_proportion_and_is_suppressed(cohort):
    rare = cohort.assign(flag=0)
    rare.loc[rare.index[rare.team == "a"][:3], "flag"] = 1  # 3 of ~500 in team a
    out = safe.crosstab(rare.team, values=rare.flag, aggfunc="mean")
    assert np.isnan(out.result.loc["a"].iloc[0])
    cell = next(c for c in out.evidence["cells"] if c["dims"]["team"] == "a")
    assert any("proportion" in r for r in cell["reasons"])
    assert safe.recheck(out.evidence, Policy()) == []


def test_shares_of_0_and_100_percent_are_class_disclosure(cohort):
    everyone = cohort.assign(flag=(cohort.team != "b").astype(int))
    out = safe.crosstab(everyone.team, values=everyone.flag, aggfunc="mean")
    assert out.result.loc[["a", "b", "c", "d"]].isna().all().all()
    reasons = [r for c in out.evidence["cells"] for r in c["reasons"]]
    assert any("class disclosure" in r for r in reasons)


def test_a_mean_of_a_common_flag_is_published(cohort):
    out = safe.crosstab(cohort.team, values=cohort.flag, aggfunc="mean")
    assert out.result.notna().all().all()
    # a proportion is rounded to 1 / (its rounded count - 2.5), so its denominator is no count
    n = len(cohort)
    assert out.result.loc["All"].iloc[0] == pytest.approx(cohort.flag.mean(), abs=0.5 / (n - 5))


def test_describe_of_a_flag_checks_it_as_a_proportion(cohort):
    rare = cohort[["flag"]].assign(flag=0)
    rare.loc[rare.index[:4], "flag"] = 1
    out = safe.describe(rare, policy=Policy(extremes_disclosive=True))
    assert np.isnan(out.result.loc["mean", "flag"]) and np.isnan(out.result.loc["std", "flag"])
    common = safe.describe(cohort[["flag"]])
    assert not np.isnan(common.result.loc["mean", "flag"])


# --- a sum of a constant is a count -----------------------------------------------------------


def test_a_sum_of_a_column_of_ones_is_rounded_and_thresholded_as_a_count(cohort):
    small = pd.concat([cohort, cohort.iloc[:3].assign(team="e")], ignore_index=True)
    out = safe.crosstab(small.team, values=small.one, aggfunc="sum")
    shown = out.result.iloc[:, 0]
    assert np.isnan(shown["e"])  # 3 people
    assert (shown.dropna() % 5 == 0).all()  # rounded like counts
    assert out.evidence["aggfunc"] == "count" and out.evidence["counted"]["constant"] == 1.0
    assert safe.recheck(out.evidence, Policy()) == []


def test_a_sum_of_a_constant_two_is_twice_a_rounded_count(cohort):
    out = safe.crosstab(cohort.team, values=cohort.one * 2, aggfunc="sum")
    shown = out.result.iloc[:, 0].dropna()
    assert (shown % 10 == 0).all()
    assert safe.recheck(out.evidence, Policy()) == []


def test_a_sum_of_a_flag_is_the_count_of_ones(cohort):
    out = safe.crosstab(cohort.team, cohort.area, values=cohort.flag, aggfunc="sum")
    assert (out.result.stack().dropna() % 5 == 0).all()
    costs = safe.crosstab(cohort.team, values=cohort.cost, aggfunc="sum")
    assert costs.evidence["aggfunc"] == "sum"  # an ordinary sum stays a magnitude table


# --- regressions ------------------------------------------------------------------------------


def test_a_one_person_dummy_scaled_by_two_is_caught(cohort):
    data = cohort.assign(marker=0.0)
    data.loc[data.index[0], "marker"] = 2.0
    out = safe.ols("cost ~ age + marker", data)
    assert out.result.loc["marker"].isna().all()
    assert any("differ" in r for r in out.evidence["terms"]["marker"]["reasons"])
    assert out.result.loc["age"].notna().all()
    shifted = data.assign(marker=data.marker + 5)  # 5 for everyone, 7 for one person
    assert safe.ols("cost ~ age + marker", shifted).result.loc["marker"].isna().all()


def test_every_level_of_a_categorical_needs_the_threshold_reference_included(cohort):
    data = cohort.copy()
    data.loc[data.index[:4], "team"] = "_tiny"  # sorts first: the reference level
    out = safe.ols("cost ~ age + C(team)", data)
    assert out.result.isna().all().all()
    assert any("reference level" in b for b in out.evidence["blocked"])


def test_a_model_of_categoricals_only_is_checked_as_a_table_of_means(cohort):
    data = cohort.copy()
    data.loc[data.team == "c", "cost"] = 1.0
    data.loc[data.index[data.team == "c"][0], "cost"] = 1e7  # one person dominates team c
    out = safe.ols("cost ~ C(team)", data)
    assert out.result.isna().all().all()
    assert any("dominance" in b for b in out.evidence["blocked"])
    clean = safe.ols("cost ~ C(team) + C(area)", cohort)
    assert clean.result.notna().all().all(), clean.evidence["blocked"]


def test_a_continuous_regressor_is_published(cohort):
    out = safe.ols("cost ~ age", cohort)
    assert out.result.notna().all().all()
    assert out.evidence["terms"]["age"]["support"] >= 10


# --- histograms -------------------------------------------------------------------------------


def test_histogram_edges_are_never_the_datas_extremes_even_with_the_analysts_range(cohort):
    values = cohort.cost
    out = safe.hist(values, bins=10, range=(values.min(), values.max()))
    edges = set(out.result.low) | set(out.result.high)
    assert values.min() not in edges and values.max() not in edges
    assert out.result.low.iloc[0] < values.min() and out.result.high.iloc[-1] > values.max()
    assert out.evidence["outside_range"] == 0
    chosen = safe.hist(values, bins=5, range=(0, 5000))
    assert list(chosen.result.low) == [0, 1000, 2000, 3000, 4000]  # a round range is kept
