"""Attacks on the airlock's replay found by an attack review of issue 19: a verified table that
carries more than the replay made (digits, number notation, records in a label), and files that
crashed the checks. Each must fail, never pass, and never stop the other files' checks."""

import pytest

from output_checks import checks, replay
from output_checks.checks import CheckOutcome
from sdc import safe
from sdc.errors import SdcError
from sdc.policy import Policy
from tests.output_checks.test_replay import extract, made  # noqa: F401  (fixture)

MAX_BYTES, MAX_ROWS = 10 * 1024 * 1024, 10_000


def full(path, sidecar, extract, pseudonyms=frozenset(), policy=None):  # noqa: F811
    """The evidence check and every automatic check of one file, as run_checks makes them."""
    policy = policy or Policy()
    evidence, _ = replay.verify(path, sidecar, extract, policy)
    results = checks.check_file(path, policy, set(pseudonyms), MAX_BYTES, MAX_ROWS, [], evidence)
    return evidence, results, checks.outcome_of(results)


def persons(extract):  # noqa: F811
    import pandas as pd

    return set(pd.read_parquet(extract / "visits.parquet").person)


# ---------------------------------------------------------------------------------------------
# 1. The replay proves the NUMBERS but not the digits: float() and a 1e-9 tolerance.


def test_covert_digits_in_a_verified_table_fail(extract, tmp_path):  # noqa: F811
    """Any number of extra digits after a replayed number compare equal (float() of a long
    decimal, rel_tol 1e-9), so a verified table carries arbitrary data: here every island
    person's id and cost, appended to the cells of a harmless count table."""
    import pandas as pd

    real = safe.sql("SELECT person, area FROM visits", extract=extract).crosstab("area")
    path, sidecar = made(extract, tmp_path, "t.csv", real)
    rows = pd.read_parquet(extract / "visits.parquet").head(3)
    secret = "".join(
        f"{p[1:]}{int(c * 100):08d}" for p, c in zip(rows.person, rows.cost, strict=True)
    )
    lines = path.read_text().splitlines()
    # hide the secret in the first count cell after 40 zeros (any cell would do, and all of them)
    last = lines[-1].split(",")  # the total: All,3000.0
    last[1] = last[1] + ("" if "." in last[1] else ".") + "0" * 40 + secret
    path.write_text("\n".join(lines[:-1] + [",".join(last)]) + "\n")
    evidence, results, outcome = full(path, sidecar, extract, persons(extract))
    assert secret in path.read_text()
    assert evidence.outcome == CheckOutcome.FAIL, evidence.explanation
    assert outcome == CheckOutcome.FAIL


def test_whitespace_and_notation_channel(extract, tmp_path):  # noqa: F811
    """float() also accepts surrounding (Unicode) whitespace, '+', leading zeros, exponents and
    underscores between digits: bits can be carried in how each number is written."""
    real = safe.sql("SELECT person, area, kind FROM visits", extract=extract).crosstab(
        "area", "kind"
    )
    path, sidecar = made(extract, tmp_path, "t.csv", real)
    text = path.read_text().splitlines()
    out = [text[0]]
    for n, line in enumerate(text[1:]):
        cells = line.split(",")
        cells = [cells[0]] + [
            (f"\u2003{c}" if (n + j) % 2 else f"+{c}\u00a0") if c else c
            for j, c in enumerate(cells[1:])
        ]
        out.append(",".join(cells))
    path.write_text("\n".join(out) + "\n")
    evidence, _, outcome = full(path, sidecar, extract)
    assert evidence.outcome == CheckOutcome.FAIL and outcome == CheckOutcome.FAIL


# ---------------------------------------------------------------------------------------------
# 2. The replay proves the table is what the SQL makes; the SQL can put any data in a LABEL.


def test_the_whole_extract_in_one_label_fails(extract, tmp_path):  # noqa: F811
    """One row whose label is every record (person, area, cost) of the extract, joined; its
    count is the number of rows, far above the threshold. Verified by replay: pass."""
    sql = (
        "SELECT person, (SELECT string_agg(substr(md5(person), 1, 12) || ':' || area[1] || ':' "
        "|| round(cost, 1), ' ') FROM visits) AS everything FROM visits"
    )
    with pytest.raises(SdcError, match="reads other people's rows"):  # refused in the kernel
        safe.sql(sql, extract=extract).crosstab("everything", margins=False)
    # a label made from each row alone can still be long: the cell-length check fails it
    sql = "SELECT person, repeat(md5(area), 2000) AS everything FROM visits"
    out = safe.sql(sql, extract=extract).crosstab("everything", margins=False)
    path, sidecar = made(extract, tmp_path, "everything.csv", out)
    assert len(path.read_text()) > 50_000
    _, results, outcome = full(path, sidecar, extract, persons(extract))
    assert outcome == CheckOutcome.FAIL
    assert any(c.name == "cell length" and c.outcome == CheckOutcome.FAIL for c in results)


# ---------------------------------------------------------------------------------------------
# 3. Denial of service to the checkers: csv's field limit is an exception, not a check.


def test_a_field_over_csvs_limit_fails_without_crashing_the_replay(extract, tmp_path):  # noqa: F811
    """A replay whose label is longer than csv's field limit (131,072 characters) once raised
    out of replay.verify, so no file of the request got its checks."""
    sql = "SELECT person, repeat(md5(area), 2100) AS everything FROM visits"
    out = safe.sql(sql, extract=extract).crosstab("everything", margins=False)
    path, sidecar = made(extract, tmp_path, "big.csv", out)
    _, _, outcome = full(path, sidecar, extract)
    assert outcome == CheckOutcome.FAIL


def test_a_hand_made_csv_with_a_long_field_fails_without_crashing(tmp_path):
    """Even with no sidecar at all: check_file's reading of the CSV once raised."""
    path = tmp_path / "long.csv"
    path.write_text("a,b\n" + "x" * 140_000 + ",1\n")
    results = checks.check_file(path, Policy(), set(), MAX_BYTES, MAX_ROWS, [], None)
    assert checks.outcome_of(results) == CheckOutcome.FAIL


# ---------------------------------------------------------------------------------------------
# 4. Holdings: the query decides which rows are one person's; it must not split or hide people.


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT area FROM visits",  # no person: records would be counted as people
        "SELECT row_number() OVER () AS person, area FROM visits",  # each record its own person
        "SELECT person, area FROM (SELECT row_number() OVER () AS person, area FROM visits)",
        "SELECT b.person, a.area FROM visits a JOIN visits b ON a.area = b.area",
        "SELECT a.person, a.area FROM visits a JOIN visits b ON a.person = a.person",
        "SELECT md5(person) AS person, area FROM visits",
    ],
)
def test_a_query_cannot_count_one_persons_records_as_several_people(extract, sql):  # noqa: F811
    with pytest.raises(SdcError, match="count people"):
        safe.sql(sql, extract=extract).crosstab("area")
    # and the airlock's replay, given the same specification by hand, refuses it the same way
    frame = safe.sql("SELECT person, area FROM visits", extract=extract).frame
    with pytest.raises(SdcError, match="count people"):
        safe.replayable(frame, "crosstab", {"rows": ["area"]}, Policy(), sql)
