"""The NHS number: ten digits, the last a modulus-11 check digit over the first nine.

Each of the first nine digits is multiplied by its weight (10 for the first, down to 2 for the
ninth); the check digit is 11 less the remainder of the sum divided by 11, with 11 written as 0.
A check of 10 means no valid number starts with those nine digits. This module is the one place
the rule is written: ingest validates with it, normalisation keeps only the numbers it passes,
the demo generates numbers with it and the airlock recognises NHS numbers in outputs with it.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

WEIGHTS = np.arange(10, 1, -1)
NO_VALID_NUMBER = 10


def check_digits(first_nine: np.ndarray) -> np.ndarray:
    """The check digit of each row of FIRST_NINE (integers, shape (n, 9)); 10 where no valid
    NHS number starts with those nine digits."""
    return (11 - (np.asarray(first_nine, dtype=np.int64) * WEIGHTS).sum(axis=1) % 11) % 11


def valid_numbers(values) -> np.ndarray:
    """True where a value (Arrow or pandas text) is ten ASCII digits with the right check
    digit; missing values are not valid."""
    values = pa.array(values, type=pa.string()) if not isinstance(values, pa.Array) else values
    shaped = np.asarray(
        pc.fill_null(pc.match_substring_regex(values, r"^[0-9]{10}$"), False).to_numpy(
            zero_copy_only=False
        ),
        dtype=bool,
    )
    result = np.zeros(len(values), bool)
    if shaped.any():
        digits = (
            np.frombuffer(
                "".join(values.filter(pa.array(shaped)).to_pylist()).encode(), dtype=np.uint8
            )
            .reshape(-1, 10)
            .astype(np.int64)
            - 48
        )
        check = check_digits(digits[:, :9])
        result[shaped] = (check != NO_VALID_NUMBER) & (check == digits[:, 9])
    return result


def is_valid(value: str) -> bool:
    """Is VALUE ten decimal digits (in any script, as a regular expression's ``\\d`` reads them)
    with the right check digit? The airlock's test of one value in an output."""
    if len(value) != 10 or not value.isdecimal():
        return False
    digits = np.array([[int(d) for d in value]], dtype=np.int64)
    check = int(check_digits(digits[:, :9])[0])
    return check != NO_VALID_NUMBER and check == digits[0, 9]
