"""Frequencies and risk against sdcMicro: its own test-suite's examples, and results of sdcMicro
(built from its source, R 4.2) on the shared reference data sets."""

import numpy as np
import pandas as pd
import pytest

import sdc
from tests.sdc.conftest import KEYS

W = [18.0, 45.5, 39.0, 17.0, 92.0, 8.0, 123.5, 51]


def sample(a=(2, 3, 2, 2, 3, 3, 1, 2), c=(1, 3, 1, 2, 1, 1, 1, 1)):
    return pd.DataFrame({"A": a, "B": [3, 3, 3, 3, 3, 3, 4, 3], "C": c, "weight": W})


ABC = ["A", "B", "C"]


def test_freq_counts_without_missing_values():
    f = sdc.freq_counts(sample(), ABC, "weight")
    assert f.fk.tolist() == [3, 1, 3, 1, 2, 2, 1, 3]
    assert f.Fk.tolist() == [108.0, 45.5, 108.0, 17.0, 100.0, 100.0, 123.5, 108.0]
    assert sdc.freq_counts(sample(), ABC).Fk.tolist() == [3, 1, 3, 1, 2, 2, 1, 3]


def test_a_missing_value_matches_any_value():
    df = sample(c=(1, 3, np.nan, 2, 1, 1, np.nan, 1))
    f = sdc.freq_counts(df, ABC, "weight")
    assert f.fk.tolist() == [3, 1, 4, 2, 2, 2, 1, 3]
    assert f.Fk.tolist() == [108.0, 45.5, 125.0, 56.0, 100.0, 100.0, 123.5, 108.0]


def test_a_column_of_missing_values_and_a_record_with_every_key_missing():
    df = pd.DataFrame(
        {
            "A": [2, 3, np.nan, 2, 3, 3, 1, 2],
            "B": [3, 3, np.nan, 3, 3, 3, 4, 3],
            "C": [np.nan] * 8,
            "weight": W,
        }
    )
    f = sdc.freq_counts(df, ABC, "weight")
    assert f.fk.tolist() == [4, 4, 8, 4, 4, 4, 2, 4]
    assert f.Fk.tolist() == [125.0, 184.5, 394.0, 125.0, 184.5, 184.5, 162.5, 125.0]


def test_one_key_with_missing_values():
    df = pd.DataFrame({"A": [2, 3, np.nan, 2, 1, np.nan, 1, 2], "weight": W})
    f = sdc.freq_counts(df, ["A"], "weight")
    assert f.fk.tolist() == [5, 3, 8, 5, 4, 8, 4, 5]
    assert f.Fk.tolist() == [133.0, 92.5, 394.0, 133.0, 262.5, 394.0, 262.5, 133.0]


@pytest.mark.parametrize(
    ("alpha", "fk", "Fk"),
    [  # sdcMicro's freqCalc example on francdat with five values blanked
        (1, [3, 2, 4, 3, 3, 2, 2, 3], [149, 84.5, 194.5, 563, 566, 549, 22, 149]),
        (
            0.5,
            [2.5, 1.5, 4, 2.5, 2, 1.5, 1.5, 2.5],
            [129.5, 65, 194.5, 292.5, 553.5, 278.5, 13.5, 129.5],
        ),
        (
            0.1,
            [2.1, 1.1, 4, 2.1, 1.2, 1.1, 1.1, 2.1],
            [113.9, 49.4, 194.5, 76.1, 543.5, 62.1, 6.7, 113.9],
        ),
        (0, [2, 1, 4, 2, 1, 1, 1, 2], [110, 45.5, 194.5, 22, 541, 8, 5, 110]),
    ],
)
def test_alpha_weights_wildcard_matches_as_sdcmicro_does(francdat, alpha, fk, Fk):
    x = francdat.copy()
    x.iloc[2, 4] = x.iloc[3, 1] = x.iloc[3, 3] = x.iloc[4, 5] = x.iloc[5, 1] = np.nan
    f = sdc.freq_counts(x, ["Key1", "Key2", "Key3", "Key4"], "w", alpha=alpha)
    np.testing.assert_allclose(f.fk, fk)
    np.testing.assert_allclose(f.Fk, Fk)


APPROX = [
    0.01369863,
    0.08579129,
    0.01369863,
    0.17707583,
    0.01877883,
    0.01877883,
    0.03931625,
    0.01369863,
]
EXACT = [
    0.01355297,
    0.08579129,
    0.01355297,
    0.17707583,
    0.01877883,
    0.01877883,
    0.03931625,
    0.01355297,
]


@pytest.mark.parametrize(("method", "expected"), [("approx", APPROX), ("exact", EXACT)])
@pytest.mark.parametrize("qual", [1, 2])
def test_individual_risk_weighted(method, expected, qual):
    r = sdc.individual_risk(sample(), ABC, "weight", method=method, qual=qual)
    np.testing.assert_allclose(r, np.array(expected) * qual, rtol=1e-6)


def test_individual_risk_with_missing_values():
    df = sample(a=(2, 3, 2, 2, 3, 3, 1, np.nan), c=(1, 3, np.nan, 2, 1, 1, np.nan, 1))
    r = sdc.individual_risk(df, ABC, "weight")
    np.testing.assert_allclose(
        r,
        [
            0.013698630,
            0.085791288,
            0.010554090,
            0.032466112,
            0.009836066,
            0.009836066,
            0.039316254,
            0.005973716,
        ],
        rtol=1e-6,
    )
    exact = sdc.individual_risk(df, ABC, "weight", method="exact", qual=2)
    np.testing.assert_allclose(
        exact,
        [
            0.02710594,
            0.17158258,
            0.02100978,
            0.06493222,
            0.01951378,
            0.01951378,
            0.07863251,
            0.01192510,
        ],
        rtol=1e-6,
    )


def test_without_weights_or_survey_the_risk_is_one_over_fk():
    expected = [1 / 3, 1, 1 / 3, 1, 0.5, 0.5, 1, 1 / 3]
    np.testing.assert_allclose(sdc.individual_risk(sample(), ABC), expected)
    np.testing.assert_allclose(sdc.individual_risk(sample(), ABC, qual=2), np.multiply(expected, 2))
    np.testing.assert_allclose(
        sdc.individual_risk(sample(), ABC, "weight", survey=False, qual=2), expected
    )


def test_testdata_risk_matches_sdcmicro(testdata):
    r = sdc.individual_risk(testdata, KEYS, "sampling_weight")
    assert r.sum() == pytest.approx(10.7783, abs=1e-4)
    assert r.max() == pytest.approx(0.04651687, rel=1e-6)
    np.testing.assert_allclose(
        r.head(6),
        [9.433072e-05, 9.90001e-05, 5.713959e-05, 5.713959e-05, 0.0002221729, 0.0002272211],
        rtol=1e-6,
    )
    g = sdc.global_risk(testdata, KEYS, "sampling_weight")
    assert g.risk == pytest.approx(0.00235334, rel=1e-5)
    assert g.expected_reidentifications == pytest.approx(10.7783, abs=1e-4)
    assert g.risk_pct == pytest.approx(0.235334, rel=1e-5)
    # sdcMicro's exact method returns NaN on this data; ours stays finite and close to approx
    exact = sdc.individual_risk(testdata, KEYS, "sampling_weight", method="exact")
    assert np.isfinite(exact).all() and exact.sum() == pytest.approx(10.7755, abs=1e-3)


def test_household_risk_matches_sdcmicro(testdata):
    h = sdc.household_risk(testdata, KEYS, "ori_hid", "sampling_weight")
    assert h.mean() == pytest.approx(0.01131287, rel=1e-6)
    assert h.sum() == pytest.approx(51.81293, rel=1e-6)
    np.testing.assert_allclose(h.head(6), [0.0003075753] * 4 + [0.0008677802] * 2, rtol=1e-6)


def test_kanon_violations_on_testdata(testdata):
    assert [sdc.kanon_violations(testdata, KEYS, k) for k in (2, 3, 5)] == [157, 281, 458]
    assert sdc.kanon_violations(testdata, KEYS, 2, weight="sampling_weight") == 0


def test_ldiversity_as_sdcmicro_tests_it():
    data = pd.DataFrame(
        {
            "sex": ["female", "female", "female", "male", "male", "female", "female"],
            "occupation": [None, None, None, "teacher", "teacher", "nurse", "nurse"],
            "ethnicity": ["other"] * 5 + ["majority"] * 2,
            "sensitive": [1, 0, 2, 1, 0, 0, 1],
        }
    )
    keys = ["sex", "occupation", "ethnicity"]
    assert sdc.ldiversity(data, keys, "sensitive").tolist() == [3, 3, 3, 2, 2, 2, 2]
    entropy = sdc.ldiversity(data, keys, "sensitive", kind="entropy")
    assert entropy.iloc[0] == pytest.approx(3.0) and entropy.iloc[3] == pytest.approx(2.0)
    skewed = pd.DataFrame({"k": [1] * 6, "s": ["a", "a", "a", "a", "b", "c"]})
    # r = (4, 1, 1): l=1 always holds; l=2 needs 4 < c·(1+1); l=3 needs 4 < c·1
    assert sdc.ldiversity(skewed, ["k"], "s", kind="recursive", c=2).iloc[0] == 1
    assert sdc.ldiversity(skewed, ["k"], "s", kind="recursive", c=3).iloc[0] == 2
    assert sdc.ldiversity(skewed, ["k"], "s", kind="recursive", c=5).iloc[0] == 3


def test_risky_cells_counts_small_cells_of_every_combination(testdata2):
    result = sdc.risky_cells(testdata2, KEYS[:3], threshold=[5, 3, 2], max_dim=2)
    assert result.dim.tolist() == [1, 2]
    cells = result.attrs["cells"]
    for cell in cells:
        mask = np.logical_and.reduce(
            [
                testdata2[key] == value
                for key, value in zip(cell["keys"], cell["values"], strict=True)
            ]
        )
        assert mask.sum() == cell["count"]
    assert result.unsafe_cells.sum() == len(cells) > 0


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda d: sdc.freq_counts(d, ["nope"]), "unknown key variable 'nope'"),
        (lambda d: sdc.freq_counts(d, ["k"], weight="label"), "weight column 'label' is not"),
        (lambda d: sdc.freq_counts(d, ["k"], weight="bad_w"), "values <= 0"),
        (lambda d: sdc.freq_counts(d, ["k"], weight="gap_w"), "missing values"),
        (lambda d: sdc.freq_counts(d, ["id"]), "key variable 'id' has a unique value"),
        (lambda d: sdc.freq_counts(d.iloc[:0], ["k"]), "the data frame is empty"),
        (lambda d: sdc.freq_counts(d, []), "no key variables given"),
        (lambda d: sdc.freq_counts(d, ["k"], alpha=2), "alpha must be between 0 and 1"),
        (lambda d: sdc.kanon_violations(d, ["k"], 0), "k must be at least 1"),
    ],
)
def test_bad_input_is_a_clear_sdc_error(call, message):
    data = pd.DataFrame(
        {
            "k": [1, 1, 2, 2],
            "id": [1, 2, 3, 4],
            "label": list("abcd"),
            "bad_w": [1.0, 0.0, 2.0, 1.0],
            "gap_w": [1.0, np.nan, 1.0, 1.0],
        }
    )
    with pytest.raises(sdc.SdcError, match=message):
        call(data)


def test_results_keep_the_frame_index(testdata2):
    shuffled = testdata2.sample(frac=1, random_state=3)
    risk = sdc.individual_risk(shuffled, KEYS)
    assert risk.index.equals(shuffled.index)
    plain = sdc.individual_risk(testdata2, KEYS)
    pd.testing.assert_series_equal(risk.sort_index(), plain, check_names=False)
