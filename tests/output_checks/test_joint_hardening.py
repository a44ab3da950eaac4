"""The joint audit's defences against the second attacker review (their attacks, as tests)."""

import itertools
import time

import pytest

from output_checks.checks import CheckOutcome
from output_checks.joint import joint_audit
from output_checks.ledger import differencing
from output_checks.tables import normal_label, parse_table
from sdc.policy import Policy

POLICY = Policy()
# released: north (true 4) and south (40) suppressed; every other count and the total published
RELEASED = "area,n\nnorth,\nsouth,\neast,53\nwest,61\ncentral,71\nTotal,229\n"
REQUEST = "area,n\nsouth,40\neast,53\nwest,61\ncentral,71\n"


def csv(text: str):
    table = parse_table(text.encode(), ".csv")
    assert table is not None
    return table


def linked(request: str, others: list[tuple[str, str]]):
    theirs = [(n, csv(t)) for n, t in others]
    return joint_audit([("b.csv", csv(request))], theirs, POLICY)["b.csv"]


def test_control_same_labels_fail():
    check = linked(REQUEST, [("a.csv", RELEASED)])
    assert check.outcome == CheckOutcome.FAIL and "area=north (4)" in check.explanation


# ---------------------------------------------------------------------------------------------
# 1. sums of a nearly-0/1 variable are audited with the sums they link to


def _almost_indicator():
    import pandas as pd

    sizes = {"north": 4, "south": 40, "east": 53, "west": 61, "central": 71}
    people = [(a, 1.0) for a, k in sizes.items() for _ in range(k)]
    people[-1] = ("central", 1.5)  # x is 1 for everyone but one person
    frame = pd.DataFrame(people, columns=["area", "x"])
    frame["person"] = [f"p{i}" for i in range(len(frame))]
    return frame


def _sums(frame, margins):
    from sdc import safe

    out = safe.crosstab(
        frame.area, values=frame.x, aggfunc="sum", holding=frame.person, margins=margins
    )
    return parse_table(out.csv().encode(), ".csv", out.evidence)  # as the airlock's replay


def _exact(table):
    """TABLE's sums as a reader who knew them exactly would hold them (sdc once published a
    nearly constant variable's sums so): the true sum of each published cell, unrounded."""
    frame = _almost_indicator()
    truth = frame.groupby("area").x.sum().to_dict() | {"All": float(frame.x.sum())}
    cells = {k: (None if v is None else float(truth[k[0]])) for k, v in table.cells.items()}
    return csv("area,x\n" + "".join(f"{k[0]},{'' if v is None else v}\n" for k, v in cells.items()))


def test_sums_that_recompute_a_suppressed_sum_fail():
    frame = _almost_indicator()
    released = _sums(frame, True)
    request = _sums(frame[frame.area != "north"], False)
    assert released.statistic == request.statistic == "sum"
    assert released.cells[("north",)] is None and request.cells[("south",)] == 40.0
    # exact sums of x (1 for all but one) recompute north from the released total
    exact_released, exact_request = _exact(released), _exact(request)
    exact_released.statistic = exact_request.statistic = "sum"
    check = joint_audit([("b.csv", exact_request)], [("a.csv", exact_released)], POLICY)
    assert check["b.csv"].outcome == CheckOutcome.FAIL, check["b.csv"].explanation
    assert "area=north (4)" in check["b.csv"].explanation
    # sdc rounds them as counts (x is nearly a constant): read within their rounding, north
    # lies anywhere in [0, 17.5]
    assert released.step == request.step == 5.0 and released.cells[("central",)] == 70.0
    check = joint_audit([("b.csv", request)], [("a.csv", released)], POLICY)["b.csv"]
    assert check.outcome == CheckOutcome.PASS, check.explanation
    # read as exact (a table without its step), the same files would fail
    request.step = released.step = None
    check = joint_audit([("b.csv", request)], [("a.csv", released)], POLICY)["b.csv"]
    assert check.outcome == CheckOutcome.FAIL and "area=north (5)" in check.explanation


def test_sums_are_not_linked_with_counts_and_may_be_negative():
    frame = _almost_indicator()
    sums = _sums(frame[frame.area != "north"], False)
    # the same labels and numbers as counts: sums are linked only with sums
    check = joint_audit([("b.csv", sums)], [("a.csv", csv(RELEASED))], POLICY)["b.csv"]
    assert check.outcome == CheckOutcome.PASS, check.explanation
    # a sum of values that may be negative
    released = csv("area,x\nnorth,\nsouth,\neast,-3.5\nwest,1.5\ncentral,2\nTotal,-1.5\n")
    request = csv("area,x\nsouth,2.5\neast,-3.5\nwest,1.5\ncentral,2\n")
    released.statistic = request.statistic = "sum"
    check = joint_audit([("b.csv", request)], [("a.csv", released)], POLICY)["b.csv"]
    assert check.outcome == CheckOutcome.FAIL  # north = -1.5 - 2.5 + 3.5 - 1.5 - 2 = -4
    assert "area=north (-4)" in check.explanation
    # its suppressed cells are unbounded below: two that add up to 0 are no points (they
    # would be, both 0, were sums at least 0)
    alone = csv("area,x\nnorth,\nsouth,\neast,-3.5\nwest,3.5\nTotal,0\n")
    alone.statistic = "sum"
    check = joint_audit([("alone.csv", alone)], [], POLICY)["alone.csv"]
    assert check.outcome == CheckOutcome.PASS, check.explanation
    positive = csv("area,x\nnorth,\nsouth,\neast,3.5\nwest,3.5\nTotal,7\n")
    positive.statistic = "sum"
    check = joint_audit([("positive.csv", positive)], [], POLICY)["positive.csv"]
    assert check.outcome == CheckOutcome.FAIL, check.explanation


def test_the_airlocks_replay_tells_the_joint_audit_its_tables_are_sums(tmp_path):
    # end to end on the airlock's side: replay verifies both files and every content check
    # passes, differencing too; the linked-tables check recomputes north from the two sums
    import json

    import pandas as pd

    from output_checks import checks, replay
    from output_checks.ledger import read_table
    from sdc import safe
    from sdc.policy import EVIDENCE_SUFFIX

    folder = tmp_path / "data"
    folder.mkdir()
    sizes = {"north": 4, "south": 40, "east": 53, "west": 61, "central": 71}
    areas = [a for a, k in sizes.items() for _ in range(k)]
    pd.DataFrame({"person": [f"P{i:05d}" for i in range(len(areas))], "area": areas}).to_parquet(
        folder / "visits.parquet", index=False
    )
    from tests.output_checks.test_replay import write_manifest

    write_manifest(folder)
    x = "CASE WHEN person = 'P00228' THEN 1.5 ELSE 1.0 END AS x"  # one central person
    everyone = safe.sql(f"SELECT person, area, {x} FROM visits", extract=folder)
    no_north = safe.sql(
        f"SELECT person, area, {x} FROM visits WHERE area <> 'north'", extract=folder
    )
    found = {}
    for name, query, margins in [("a.csv", everyone, True), ("b.csv", no_north, False)]:
        output = query.crosstab("area", values="x", aggfunc="sum", margins=margins)
        path = output.save(tmp_path / "out" / name)
        sidecar = json.loads((path.parent / (name + EVIDENCE_SUFFIX)).read_text())
        check, evidence = replay.verify(path, sidecar, folder, POLICY)
        assert check.outcome == CheckOutcome.PASS, check.explanation
        results = checks.check_file(path, POLICY, set(), 10**7, 10**5, [], check)
        assert checks.outcome_of(results) == CheckOutcome.PASS, results
        found[name] = read_table(path.read_bytes(), ".csv", evidence)
    assert found["b.csv"].cells[("south",)] == 40.0 and found["a.csv"].cells[("north",)] is None
    others = [("a.csv", found["a.csv"])]
    assert differencing(found["b.csv"], others, POLICY).outcome == CheckOutcome.PASS
    check = joint_audit([("b.csv", found["b.csv"])], others, POLICY).get("b.csv")
    # x is 1 for all but one person: sdc rounds its sums as counts (to 5), and the linked
    # audit reads them within that rounding: north (4) is not recomputed
    assert check is not None and check.outcome == CheckOutcome.PASS, check
    assert found["a.csv"].statistic == "sum" and found["a.csv"].step == 5.0
    # the ledger keeps what the replay said the cells are, and their rounding
    from output_checks.tables import Table

    stored = Table.from_json(found["a.csv"].to_json())
    assert stored.statistic == "sum" and stored.step == 5.0
    # read as exact sums, the two files recompute north (within the rounding: 5)
    found["a.csv"].step = found["b.csv"].step = None
    check = joint_audit([("b.csv", found["b.csv"])], others, POLICY)["b.csv"]
    assert check.outcome == CheckOutcome.FAIL and "area=north (5)" in check.explanation


def test_means_made_by_the_replay_are_outside_the_audit_and_unknown_decimals_are_reviewed():
    means = csv("area,x\nnorth,\nsouth,1.1\neast,1.0\nTotal,1.05\n")
    means.statistic = "mean"
    assert joint_audit([("m.csv", means)], [], POLICY)["m.csv"].outcome == CheckOutcome.PASS


# ---------------------------------------------------------------------------------------------
# 2. a released table is sized by the cells it publishes; one left out is no pass


def _long_margins() -> str:
    rows = ["area,sex,band,code,n"]
    for area, n in [("north", ""), ("south", ""), ("east", 53), ("west", 61), ("central", 71)]:
        rows.append(f"{area},Total,Total,Total,{n}")
    for i in range(15):
        rows += [f"Total,s{i},Total,Total,{20 + i}", f"Total,Total,b{i},Total,{19 + i}"]
        rows.append(f"Total,Total,Total,k{i},{18 + i}")
    rows.append("Total,Total,Total,Total,229")
    return "\n".join(rows) + "\n"


def test_a_long_table_of_margins_is_audited_by_the_cells_it_publishes():
    check = linked(REQUEST, [("a.csv", _long_margins())])
    assert check.outcome == CheckOutcome.FAIL, check.explanation
    assert "area=north, sex=Total, band=Total, code=Total (4)" in check.explanation


def test_a_table_left_out_of_the_audit_that_shares_labels_gives_review(monkeypatch):
    from output_checks import joint

    monkeypatch.setattr(joint, "MAX_JOINT_CELLS", 30)
    check = linked(REQUEST, [("a.csv", _long_margins())])
    assert check.outcome == CheckOutcome.REVIEW, check.explanation
    assert "a.csv shares labels" in check.explanation and "left out" in check.explanation
    unrelated = "clinic,n\nc1,212\nc2,187\nc3,305\n"
    check = linked(unrelated, [("a.csv", _long_margins())])
    assert check.outcome == CheckOutcome.PASS, check.explanation


# ---------------------------------------------------------------------------------------------
# 3. every requested table gets a linked-tables check


def test_one_decimal_column_gives_review_not_silence():
    request = csv("area,n,share\nsouth,40,0.17\neast,53,0.23\nwest,61,0.27\ncentral,71,0.31\n")
    checks = joint_audit([("b.csv", request)], [("a.csv", csv(RELEASED))], POLICY)
    assert checks["b.csv"].outcome == CheckOutcome.REVIEW
    assert "cannot tell whether they add up" in checks["b.csv"].explanation


# ---------------------------------------------------------------------------------------------
# 4. and 5. readings that collide or labels that cannot be matched are reviewed


@pytest.mark.parametrize(
    "request_text",
    [
        "area,n\nsouth,40\nsouth ,\neast,53\nwest,61\ncentral,71\n",  # padding
        "area,n\nsouth,40\nSouth,\neast,53\nwest,61\ncentral,71\n",  # case
        "area,n\nsouth,40\nsouth\u200b,\neast,53\nwest,61\ncentral,71\n",  # invisible
        "area,n\ns\u043euth,40\neast,53\nwest,61\ncentral,71\n",  # a Cyrillic o
        "area,n\nso\x07uth,40\neast,53\nwest,61\ncentral,71\n",  # a control character
    ],
)
def test_a_reading_the_airlock_cannot_trust_is_reviewed_by_both_checks(request_text):
    table = csv(request_text)
    assert table.problem
    check = joint_audit([("b.csv", table)], [("a.csv", csv(RELEASED))], POLICY)["b.csv"]
    assert check.outcome == CheckOutcome.REVIEW and table.problem in check.explanation
    compared = differencing(table, [("a.csv", csv(RELEASED))], POLICY)
    assert compared.outcome == CheckOutcome.REVIEW and table.problem in compared.explanation


def test_a_numeric_row_dimension_that_collides_is_reviewed():
    import pandas as pd

    from sdc import safe

    frame = pd.DataFrame(
        {
            "area": ["east", "north"] * 60,
            "year": [2023] * 60 + [2024] * 60,
            "kind": ["a", "b", "c"] * 40,
        }
    )
    out = safe.crosstab([frame.area, frame.year], frame.kind, margins=False)
    table = parse_table(out.csv().encode(), ".csv")
    assert table is not None and "read as values" in table.problem
    # the airlock's replay knows its two row dimensions: read whole
    table = parse_table(out.csv().encode(), ".csv", out.evidence)
    assert table is not None and not table.problem and len(table.dims) == 3
    assert table.cells[("east", "2023", "a")] == 10.0 and table.counts


def test_invisible_and_compatibility_forms_of_a_label_still_link():
    assert normal_label("south\u200b") == normal_label("ｓｏｕｔｈ") == "south"
    for south in ["south\u200b", "ｓｏｕｔｈ", "south\u2060"]:
        request = f"area,n\n{south},40\neast,53\nwest,61\ncentral,71\n"
        assert linked(request, [("a.csv", RELEASED)]).outcome == CheckOutcome.FAIL, south


# ---------------------------------------------------------------------------------------------
# 7. many dimensions are reviewed, not tried


def test_many_dimensions_are_reviewed_at_once():
    def long(k: int, seed: int) -> str:
        rows = [",".join([*(f"d{i}" for i in range(k)), "n"])]
        for j, combo in enumerate(itertools.product(*[[f"a{i}", f"b{i}"] for i in range(k)])):
            rows.append(",".join(combo) + f",{11 + (j + seed) % 7}")
        return "\n".join(rows) + "\n"

    start = time.monotonic()
    request, released = csv(long(7, 1)), csv(long(7, 0))
    check = joint_audit([("b.csv", request)], [("a.csv", released)], POLICY)["b.csv"]
    compared = differencing(request, [("a.csv", released)], POLICY)
    assert time.monotonic() - start < 2
    assert check.outcome == compared.outcome == CheckOutcome.REVIEW
    assert "7 dimensions" in check.explanation and "7 dimensions" in compared.explanation
    # a released table of many dimensions sharing labels with the request: review
    check = joint_audit([("c.csv", csv(long(3, 1)))], [("a.csv", released)], POLICY)["c.csv"]
    assert check.outcome == CheckOutcome.REVIEW and "a.csv shares labels" in check.explanation


# ---------------------------------------------------------------------------------------------
# 6. a published total that is not the sum of its published cells


def test_a_row_left_out_under_a_published_total_is_reviewed():
    # north = 229 - 225 = 4: the file leaves the row out but not its count
    check = linked("area,n\nsouth,40\neast,53\nwest,61\ncentral,71\nTotal,229\n", [])
    assert check.outcome == CheckOutcome.REVIEW, check.explanation
    assert "do not add up" in check.explanation
    whole = linked("area,n\nsouth,40\neast,53\nwest,61\ncentral,71\nTotal,225\n", [])
    assert whole.outcome == CheckOutcome.PASS, whole.explanation


# ---------------------------------------------------------------------------------------------
# Beyond the brief: the attack review's other leaks that were simple to close


def test_a_total_labelled_overall_is_a_margin():
    # alone: north = 229 - 40 - 53 - 61 - 71 = 4
    check = linked("area,n\nnorth,\nsouth,40\neast,53\nwest,61\ncentral,71\nOverall,229\n", [])
    assert check.outcome == CheckOutcome.FAIL, check.explanation


def test_exact_counts_that_are_all_even_are_read_exactly():
    from dataclasses import replace

    exact = replace(POLICY, rounding_base=0)  # the project publishes exact counts
    released = csv("area,n\nnorth,\nsouth,\neast,54\nwest,62\ncentral,72\nTotal,232\n")
    request = csv("area,n\nsouth,40\neast,54\nwest,62\ncentral,72\n")
    assert released.base == request.base == 2  # a divisor they share, not a rounding
    for policy in (exact, POLICY):  # under base 5, all even is no rounding either
        check = joint_audit([("b.csv", request)], [("a.csv", released)], policy)["b.csv"]
        assert check.outcome == CheckOutcome.FAIL, check.explanation


def test_a_huge_value_in_a_linked_group_is_reviewed_not_solved():
    from dataclasses import replace

    exact = replace(POLICY, rounding_base=0)
    big = 10**12  # beside it HiGHS's tolerance is ~1e5 counts: north F = 52 - 22 - 25 = 5
    released = csv(
        f"area,F,M,junk,Total\nnorth,,,,35\nsouth,,,0,40\neast,25,28,0,53\nzzz,0,0,{big},{big}\n"
        f"Total,52,76,{big},{128 + big}\n"
    )
    request = csv("area,F,M\nsouth,22,18\neast,25,28\n")
    check = joint_audit([("b.csv", request)], [("a.csv", released)], exact)["b.csv"]
    assert check.outcome == CheckOutcome.FAIL, check.explanation  # south: published in b.csv

    def alone(huge: int):  # north F = 35 - 30 = 5, beside a huge cell or a small one
        table = csv(
            f"area,F,M,Total\nnorth,,30,35\nsouth,20,20,40\nzzz,{huge},0,{huge}\n"
            f"Total,{25 + huge},50,{75 + huge}\n"
        )
        return joint_audit([("t.csv", table)], [], exact)["t.csv"]

    assert alone(7).outcome == CheckOutcome.FAIL
    check = alone(big)
    assert check.outcome == CheckOutcome.REVIEW and "span more than" in check.explanation


@pytest.mark.parametrize(
    "request_text",
    [
        "area,year,n\nsouth,2023,40\neast,2023,53\nwest,2023,61\ncentral,2023,71\n",
        "area,year,n\nsouth,2021,40\neast,2022,53\nwest,2023,61\ncentral,2024,71\n",
    ],
)
def test_a_numeric_label_column_in_long_format_is_reviewed(request_text):
    table = csv(request_text)
    assert "holds years in every row: a dimension" in table.problem
    check = joint_audit([("b.csv", table)], [("a.csv", csv(RELEASED))], POLICY)["b.csv"]
    assert check.outcome == CheckOutcome.REVIEW
    # counts in two columns are counts
    assert not csv("area,F,M\nsouth,20,22\neast,25,28\nwest,30,31\n").problem
