"""The NHS number's modulus-11 check digit, the one rule ingest, normalisation, the demo and the
airlock share."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linkage import nhs

# worked by hand: 9434765919: 9*10 + 4*9 + 3*8 + 4*7 + 7*6 + 6*5 + 5*4 + 9*3 + 1*2 = 299,
# 299 % 11 = 2, 11 - 2 = 9; 4010232137: 92 % 11 = 4, 11 - 4 = 7;
# 1000000060: 1*10 + 6*2 = 22, 22 % 11 = 0, so 11, written 0
VALID = ["9434765919", "4010232137", "1000000060"]
INVALID = [
    "9434765918",  # wrong check digit
    "9434765991",  # the last two digits swapped: what the check is for
    "4010232173",
    "1000000010",  # 10 + 2 = 12, 12 % 11 = 1: a check of 10, no valid number starts 100000001
    "1000000019",
]
NOT_SHAPED = ["943476591", "94347659190", "abcdefghij", "", " 9434765919", "943476591x"]


def test_check_digits_worked_by_hand():
    first_nine = np.array([[int(d) for d in v[:9]] for v in VALID + ["1000000010"]])
    assert nhs.check_digits(first_nine).tolist() == [9, 7, 0, nhs.NO_VALID_NUMBER]


@pytest.mark.parametrize("value", VALID)
def test_valid_numbers_pass(value):
    assert nhs.is_valid(value)
    assert nhs.valid_numbers(pd.Series([value])).tolist() == [True]


@pytest.mark.parametrize("value", INVALID + NOT_SHAPED)
def test_invalid_numbers_fail(value):
    assert not nhs.is_valid(value)
    assert nhs.valid_numbers(pd.Series([value])).tolist() == [False]


def test_missing_values_are_not_valid():
    assert nhs.valid_numbers(pd.Series(["9434765919", None])).tolist() == [True, False]


@given(st.lists(st.integers(0, 9_999_999_999), min_size=1, max_size=50))
def test_one_value_and_a_column_agree(numbers):
    values = [str(n).zfill(10) for n in numbers]
    assert nhs.valid_numbers(pd.Series(values)).tolist() == [nhs.is_valid(v) for v in values]


def test_the_demo_generates_valid_numbers():
    from app.demo.data.generate import _nhs_numbers

    numbers = _nhs_numbers(np.random.default_rng(1), 500)
    assert len(set(numbers)) == 500
    assert nhs.valid_numbers(pd.Series(numbers)).all()
    assert all(n.startswith("9") for n in numbers)


def test_the_airlock_recognises_nhs_numbers_by_their_check_digit():
    from output_checks.checks import CheckOutcome, microdata
    from sdc.policy import Policy

    valid = [["area", "value"]] + [["a", v] for v in VALID]
    invalid = [["area", "value"]] + [["a", v] for v in INVALID]
    assert microdata(valid, set(), Policy()).outcome == CheckOutcome.FAIL
    assert microdata(invalid, set(), Policy()).outcome == CheckOutcome.PASS
