import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sdc
from tests.sdc.conftest import KEYS

FRANC_KEYS = ["Key1", "Key2", "Key3", "Key4"]


def test_global_recode_follows_r_cut():
    df = pd.DataFrame({"x": [1, 2, 3, 4, 5, 6, 7, 8, 9, 10.0]})
    result = sdc.global_recode(df, "x", [1, 5, 10])
    assert pd.isna(result.data.x.iloc[0])  # equal to the lowest break: outside (1, 5]
    assert result.data.x.iloc[1:].astype(str).tolist() == ["(1,5]"] * 4 + ["(5,10]"] * 5
    assert result.record["values_made_missing"] == 1
    lowest = sdc.global_recode(df, "x", [1, 5, 10], include_lowest=True).data.x
    assert lowest.iloc[0] == "[1,5]"
    # cut(1:10, 3): the range split evenly and pushed out by 0.1 %
    three = sdc.global_recode(df, "x", 3)
    assert list(three.data.x.cat.categories) == ["(0.991,4]", "(4,7]", "(7,10]"]
    assert three.data.x.value_counts().tolist() == [4, 3, 3]
    left = sdc.global_recode(df, "x", [0, 5, 11], right=False).data.x
    assert left.iloc[4] == "[5,11)" and left.iloc[3] == "[0,5)"
    assert df.x.iloc[0] == 1  # the input is never changed


def test_group_categories_and_top_bottom_coding(testdata2):
    grouped = sdc.group_categories(testdata2, "roof", {"5+": [5, 6, 9]})
    assert set(grouped.data.roof.unique()) <= {1, 2, 3, 4, "5+"}
    assert grouped.record["records_changed"] == int(testdata2.roof.isin([5, 6, 9]).sum())
    with pytest.raises(sdc.SdcError, match="do not occur"):
        sdc.group_categories(testdata2, "roof", {"x": [77]})
    top = sdc.top_bottom_code(testdata2, "age", 60, 60, kind="top")
    assert top.data.age.max() == 60
    assert top.record["records_changed"] == int((testdata2.age > 60).sum())
    bottom = sdc.top_bottom_code(testdata2, "age", 10, 10, kind="bottom")
    assert bottom.data.age.min() == 10 and (bottom.data.age == 10).sum() >= 1


def test_local_suppression_reaches_k_anonymity_with_fewer_suppressions_than_sdcmicro(
    testdata2, testdata
):
    # sdcMicro's counts on the same data: 97 (testdata2, k=2), 293 (testdata, k=3)
    for data, k, sdcmicro in ((testdata2, 2, 97), (testdata, 3, 293), (testdata, 5, 500)):
        result = sdc.local_suppression(data, KEYS, k=k)
        assert sdc.kanon_violations(result.data, KEYS, k) == 0
        assert 0 < result.suppressed <= sdcmicro
        assert result.suppressed == int(result.data[KEYS].isna().sum().sum())
        assert sum(result.record["suppressed_per_key"].values()) == result.suppressed


def test_local_suppression_with_strata(testdata2):
    data = testdata2.copy()
    data["ageG"] = sdc.global_recode(
        data, "age", 5, labels=[f"AG{i}" for i in range(1, 6)]
    ).data.age
    result = sdc.local_suppression(data, KEYS, strata="ageG")
    assert sdc.kanon_violations(result.data, KEYS + ["ageG"], 2) == 0
    assert result.data.ageG.notna().all()  # the stratum itself is never suppressed
    assert result.suppressed <= 109  # sdcMicro's kAnon with strata


def test_importance_keeps_important_keys(testdata2):
    ranks = {key: i + 1 for i, key in enumerate(KEYS)}  # urbrur most important
    result = sdc.local_suppression(testdata2, KEYS, importance=ranks)
    per_key = result.record["suppressed_per_key"]
    assert per_key["urbrur"] <= per_key["sex"] + per_key["relat"]


def test_exact_local_suppression_is_minimal_on_francdat(francdat):
    for k, sdcmicro in ((2, 4), (3, 9)):
        heuristic = sdc.local_suppression(francdat, FRANC_KEYS, k=k)
        exact = sdc.local_suppression(francdat, FRANC_KEYS, k=k, exact=True)
        assert exact.record["optimal"] is True
        assert sdc.kanon_violations(exact.data, FRANC_KEYS, k) == 0
        assert exact.suppressed <= heuristic.suppressed <= sdcmicro
    assert sdc.local_suppression(francdat, FRANC_KEYS, k=2, exact=True).suppressed == 3


def test_exact_mode_refuses_large_data(testdata):
    with pytest.raises(sdc.SdcError, match="at most 150 records"):
        sdc.local_suppression(testdata, KEYS, exact=True)


def test_k_anonymity_impossible_in_a_tiny_stratum():
    data = pd.DataFrame({"a": [1, 2, 1, 2], "s": ["x", "x", "x", "y"]})
    with pytest.raises(sdc.SdcError, match="fewer than 2 records"):
        sdc.local_suppression(data, ["a"], k=2, strata="s")


def test_threshold_suppression_lowers_risk(francdat):
    before = sdc.individual_risk(francdat, FRANC_KEYS, "w")
    result = sdc.threshold_suppression(francdat, FRANC_KEYS, 0.15, weight="w", key="Key4")
    after = sdc.individual_risk(result.data, FRANC_KEYS, "w")
    assert (before - after >= -1e-12).all()
    assert result.suppressed == int((before > 0.15).sum())


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31), st.floats(0.5, 0.95), st.floats(0.1, 1.0))
def test_pram_matrix_is_a_transition_matrix_that_keeps_the_tabulation(seed, pd_min, alpha):
    rng = np.random.default_rng(seed)
    frequencies = rng.integers(1, 500, rng.integers(2, 8)).astype(float)
    matrix = sdc.perturb.pram_matrix(frequencies, pd_min, alpha, rng)
    np.testing.assert_allclose(matrix.sum(axis=1), 1.0)
    assert (matrix >= -1e-12).all()
    np.testing.assert_allclose(frequencies @ matrix, frequencies, rtol=1e-9)  # invariance


def test_pram_keeps_the_tabulation_in_expectation_and_is_reproducible():
    rng = np.random.default_rng(1)
    data = pd.DataFrame({"c": rng.choice(["a", "b", "c", "d"], 20000, p=[0.4, 0.3, 0.2, 0.1])})
    first = sdc.pram(data, "c", seed=5)
    again = sdc.pram(data, "c", seed=5)
    pd.testing.assert_frame_equal(first.data, again.data)
    before = data.c.value_counts(normalize=True).sort_index()
    after = first.data.c.value_counts(normalize=True).sort_index()
    assert np.abs(before - after).max() < 0.015
    assert 0 < first.record["records_changed"] < len(data)
    assert first.transition.shape == (4, 4)
    assert (np.diag(first.transition) >= 0.8 * 0.5).all()


@settings(max_examples=20, deadline=None)
@given(st.integers(10, 120), st.integers(2, 5), st.integers(0, 10_000))
def test_mdav_groups_have_at_least_k_members_and_keep_group_means(n, k, seed):
    rng = np.random.default_rng(seed)
    data = pd.DataFrame({"x": rng.lognormal(size=n), "y": rng.normal(size=n)})
    if k > n:
        return
    result = sdc.microaggregation(data, ["x", "y"], k=k)
    groups = result.groups
    assert groups.value_counts().min() >= k
    original_means = data.groupby(groups).mean()
    np.testing.assert_allclose(result.data.groupby(groups).mean(), original_means)
    np.testing.assert_allclose(result.data.mean(), data.mean())


@pytest.mark.parametrize("method", ["additive", "correlated"])
def test_noise_has_the_documented_spread(method):
    rng = np.random.default_rng(2)
    x = rng.normal(10, 3, 50000)
    data = pd.DataFrame({"x": x, "y": 2 * x + rng.normal(0, 1, 50000)})
    result = sdc.add_noise(data, ["x", "y"], noise=0.2, method=method, seed=9)
    added = result.data - data
    np.testing.assert_allclose(added.std(), 0.2 * data.std(), rtol=0.03)
    assert abs(added.mean()).max() < 0.05
    pd.testing.assert_frame_equal(
        result.data, sdc.add_noise(data, ["x", "y"], noise=0.2, method=method, seed=9).data
    )
    if method == "correlated":
        assert result.data.corr().iloc[0, 1] == pytest.approx(data.corr().iloc[0, 1], abs=0.01)


def test_rank_swap_keeps_each_distribution_and_moves_values_a_little():
    rng = np.random.default_rng(4)
    data = pd.DataFrame({"x": rng.normal(size=2000)})
    result = sdc.rank_swap(data, ["x"], p=5, seed=1)
    assert sorted(result.data.x) == sorted(data.x)
    ranks_before = data.x.rank()
    ranks_after = pd.Series(result.data.x.values).rank()
    assert (np.abs(ranks_before.values - data.x.rank().values) == 0).all()
    moved = np.abs(result.data.x.rank().values - ranks_before.values)
    assert moved.max() <= 0.05 * len(data) + 1 and (moved > 0).mean() > 0.9
    assert ranks_after.notna().all()


def test_utility_measures(testdata2):
    numeric = ["expend", "income", "savings"]
    assert sdc.utility.il1s(testdata2, testdata2, numeric) == 0
    noisy = sdc.add_noise(testdata2, numeric, noise=0.5, seed=1).data
    assert sdc.utility.il1s(testdata2, noisy, numeric) > 0.1
    assert sdc.utility.eigen(testdata2, testdata2, numeric) == pytest.approx(0)
    assert sdc.utility.eigen(testdata2, noisy, numeric) > 0
    suppressed = sdc.local_suppression(testdata2, KEYS).data
    table = sdc.utility.compare_tabulations(testdata2, suppressed, ["water"])
    assert table.before.sum() == table.after.sum() == len(testdata2)
    assert (table.category == "(missing)").any()
