import pandas as pd
import pytest

import sdc
from tests.sdc.conftest import KEYS


def test_suda_book_example():
    tab = pd.DataFrame(
        {
            "age": ["20s"] * 7 + ["60s"],
            "gender": ["male"] * 4 + ["female"] * 3 + ["male"],
            "income": ["50k+", "50k+"] + ["50k-"] * 6,
            "education": ["highschool"] * 4
            + ["university", "highschool", "middleschool", "university"],
        }
    )
    assert sdc.suda2(tab, list(tab)).score.tolist() == [0, 0, 0, 0, 4, 2, 6, 8]


def test_suda_sdc_practice_guide_example():
    data = pd.DataFrame(
        {
            "residence": ["Urban"] * 4 + ["Rural"] + ["Urban"] * 5,
            "gender": [
                "Female",
                "Female",
                "Female",
                "Male",
                "Female",
                "Male",
                "Female",
                "Male",
                "Female",
                "Female",
            ],
            "education": [
                "Secondary incomplete",
                "Secondary incomplete",
                "Primary incomplete",
                "Secondary complete",
                "Secondary complete",
                "Secondary complete",
                "Primary complete",
                "Post-secondary",
                "Secondary incomplete",
                "Secondary incomplete",
            ],
            "labour": [
                "Employed",
                "Employed",
                "Non-LF",
                "Employed",
                "Unemployed",
                "Employed",
                "Non-LF",
                "Unemployed",
                "Non-LF",
                "Non-LF",
            ],
        }
    )
    assert sdc.suda2(data, list(data)).score.tolist() == [0, 0, 6, 0, 12, 0, 6, 10, 0, 0]


def test_suda_contributions():
    data = pd.DataFrame({"a": [2, 1, 1], "b": [0, 3, 0], "c": [0, 6, 0]})
    assert sdc.suda2(data, list(data)).attrs["contributions"] == {"a": 50, "b": 37.5, "c": 37.5}


def test_suda_on_testdata2_matches_sdcmicro(testdata2):
    result = sdc.suda2(testdata2, KEYS)
    assert result.score.head(10).tolist() == [180, 18, 74, 60, 150, 4, 122, 16, 28, 16]
    assert result.score.sum() == 7321
    assert result.dis_score.sum() == pytest.approx(93)  # every record a sample unique here
    contributions = result.attrs["contributions"]
    assert contributions["relat"] == pytest.approx(70.22265, abs=1e-4)
    assert contributions["electcon"] == pytest.approx(14.76574, abs=1e-4)
    ihsn = sdc.suda2(testdata2, KEYS, scores="ihsn").score.head(4)
    assert ihsn.tolist() == pytest.approx([2.733333, 0.6, 2.171429, 1.257143], abs=1e-6)


def test_dis_suda_lies_between_zero_and_one_and_follows_the_score():
    data = pd.DataFrame(
        {
            "a": [1, 1, 2, 2, 3, 4, 4, 5],
            "b": [1, 2, 1, 1, 2, 2, 2, 1],
            "c": [1, 1, 1, 2, 1, 1, 1, 2],
        }
    )
    result = sdc.suda2(data, list(data), dis_fraction=0.1)
    assert ((result.dis_score >= 0) & (result.dis_score <= 1)).all()
    ranked = result[result.score > 0].sort_values("score")
    assert ranked.dis_score.is_monotonic_increasing
    assert (result.dis_score[result.score == 0] == 0).all()
