"""The per-project pseudonym: made by the extract, recognised by the airlock, one format."""

import pandas as pd

from linkage import extract
from output_checks import checks
from sdc.policy import Policy

KEY = b"k" * 32


def test_a_pseudonym_the_extract_makes_is_what_the_airlock_recognises():
    made = extract.pseudonyms(KEY, pd.Series([1, 2, 3]))
    assert made.str.len().eq(extract.PSEUDONYM_LENGTH).all()
    assert made.nunique() == 3
    assert all(checks.PSEUDONYM.match(p) for p in made)
    assert made.iloc[0] == extract.pseudonym(KEY, 1)
    assert extract.pseudonym(b"another project's key" * 2, 1) != made.iloc[0]


def test_the_airlock_uses_the_extracts_pattern_so_a_new_length_changes_both():
    assert checks.PSEUDONYM is extract.PSEUDONYM
    one = extract.pseudonym(KEY, 7)
    longer = one + "0"
    assert not checks.PSEUDONYM.match(longer)
    assert not checks.PSEUDONYM.match(one[:-1])


def test_the_airlock_fails_a_column_of_pseudonyms_it_was_not_told_about():
    made = extract.pseudonyms(KEY, pd.Series(range(10)))
    rows = [["area", "who"]] + [["north", p] for p in made]
    check = checks.microdata(rows, set(), Policy())
    assert check.outcome == checks.CheckOutcome.FAIL
    assert "pseudonyms" in check.explanation
