"""Combinations of sums that give counts back (sdc.combinations)."""

import numpy as np
import pandas as pd

from sdc import safe
from sdc.combinations import giving_counts, related_columns


def test_a_square_its_shift_and_the_variable_are_related_and_one_mean_is_withheld():
    rng = np.random.default_rng(3)
    a = rng.gamma(2.0, 50.0, 40)
    values = np.c_[a, a * a, (a + 1) ** 2, rng.normal(size=40)]
    assert related_columns(values) == {2: [0, 1]}  # (a + 1)² − a² − 2a = 1
    out = safe.describe(pd.DataFrame(values, columns=["a", "sq", "sq1", "noise"]))
    means = {c: v["published"]["mean"] for c, v in out.evidence["columns"].items()}
    assert means["sq1"] is None and None not in (means["a"], means["sq"], means["noise"])
    (why,) = out.evidence["columns"]["sq1"]["reasons"]["mean"]
    assert why.startswith("mean: a combination of sq1 with a, sq is") and "count back" in why


def test_unrelated_columns_and_a_multiple_are_not_related():
    rng = np.random.default_rng(4)
    a = rng.gamma(2.0, 50.0, 40)
    assert related_columns(np.c_[a, 2 * a, rng.normal(size=40)]) == {}


def test_an_exact_and_a_near_combination_in_simple_ratios_give_counts_and_a_chance_one_not():
    rng = np.random.default_rng(5)
    counts = rng.integers(10, 80, 6).astype(float)
    x = counts * rng.uniform(50, 200, 6)
    assert giving_counts(np.c_[x + counts, x], counts) is not None
    assert giving_counts(np.c_[x + counts + rng.uniform(-0.2, 0.2, 6), x], counts) is not None
    assert giving_counts(np.c_[x, counts * rng.uniform(1, 9, 6)], counts) is None
    # as many columns as rows fit anything: never taken
    assert giving_counts(np.c_[x, x**0.5, x**1.5, np.log(x), x**2, x**0.3], counts) is None
