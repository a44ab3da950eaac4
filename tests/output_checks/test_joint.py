"""The joint audit: tables that pass every pairwise check, read together, recompute suppressed
cells (issue 20, item 1); and the sets of tables that must stay clean."""

import itertools
from dataclasses import replace

import pytest

from output_checks import joint
from output_checks.checks import CheckOutcome
from output_checks.joint import joint_audit
from output_checks.ledger import differencing
from output_checks.tables import Table, parse_table
from sdc.policy import Policy
from tests.output_checks.conftest import run_code

POLICY = Policy()
AREAS, AGENCIES = ["north", "south", "east"], ["police", "fire", "school"]
YEARS = ["2023", "2024", "2025"]
TOTAL = "Total"
COUNTS = {
    (a, g, y): 11 + (7 * i + 5 * j + 3 * k) % 23
    for i, a in enumerate(AREAS)
    for j, g in enumerate(AGENCIES)
    for k, y in enumerate(YEARS)
}


def count(area: str, agency: str, year: str) -> int:
    """People in AREA, AGENCY and YEAR (each may be the total)."""
    return sum(
        n
        for (a, g, y), n in COUNTS.items()
        if area in (a, TOTAL) and agency in (g, TOTAL) and year in (y, TOTAL)
    )


def rectangle(areas: tuple[int, int], agencies: tuple[int, int]) -> set[tuple[str, str]]:
    return {(AREAS[i], AGENCIES[j]) for i in areas for j in agencies}


# each year hides a rectangle of area × agency cells (safe: one degree of freedom each), and the
# table hides the whole area × agency margin (every cell of it depends on the rectangles)
HIDDEN_BY_YEAR = {
    "2023": rectangle((0, 1), (0, 1)),
    "2024": rectangle((1, 2), (1, 2)),
    "2025": rectangle((0, 2), (0, 2)),
}


def by_area_agency_year() -> str:
    lines = ["area,agency," + ",".join([*YEARS, TOTAL])]
    for a in [*AREAS, TOTAL]:
        for g in [*AGENCIES, TOTAL]:
            row = [a, g]
            for y in [*YEARS, TOTAL]:
                inner_margin = y == TOTAL and TOTAL not in (a, g)
                hidden = (a, g) in HIDDEN_BY_YEAR.get(y, set()) or inner_margin
                row.append("" if hidden else str(count(a, g, y)))
            lines.append(",".join(row))
    return "\n".join(lines) + "\n"


def by_area_agency(published: set[tuple[str, str]]) -> str:
    """The area × agency table with margins, publishing only the inner cells PUBLISHED."""
    lines = ["area," + ",".join([*AGENCIES, TOTAL])]
    for a in [*AREAS, TOTAL]:
        row = [
            str(count(a, g, TOTAL)) if TOTAL in (a, g) or (a, g) in published else ""
            for g in [*AGENCIES, TOTAL]
        ]
        lines.append(",".join([a, *row]))
    return "\n".join(lines) + "\n"


# the margin cells north × police and south × fire tie the first two years' rectangles together
# (their sum), east × school the second and third: with the three tables, every rectangle is fixed
CUBE = by_area_agency_year()
SQUARE = by_area_agency({("north", "police"), ("south", "fire")})
SQUARE_AGAIN = by_area_agency({("east", "school")})


def csv(text: str) -> Table:
    table = parse_table(text.encode(), ".csv")
    assert table is not None
    return table


def inner_recomputed(check) -> list[str]:
    """The explanations of CHECK that recompute a cell of one year (not a margin cell)."""
    flags = check.evidence.get("flags", []) if check.evidence else []
    years = [f"agency={g}, columns={y}" for g in AGENCIES for y in YEARS]
    return [
        f["explanation"]
        for f in flags
        if "recomputed exactly" in f["explanation"] and any(y in f["explanation"] for y in years)
    ]


THREE = [
    ("by-area-agency-year.csv (released in req-1)", csv(CUBE)),
    ("by-area-agency.csv (released in req-2)", csv(SQUARE)),
    ("by-area-agency-again.csv (in this request)", csv(SQUARE_AGAIN)),
]


# ---------------------------------------------------------------------------------------------
# Attacks


def test_three_tables_that_pass_every_pairwise_check_recompute_suppressed_cells_together():
    # what the airlock had before the joint audit: every pair passes differencing
    for (name, table), (other, theirs) in itertools.permutations(THREE, 2):
        check = differencing(table, [(other, theirs)], POLICY)
        assert check.outcome == CheckOutcome.PASS, (name, other, check.explanation)
    check = differencing(THREE[2][1], THREE[:2], POLICY)
    assert check.outcome == CheckOutcome.PASS
    # no two of them recompute a cell of a year: each table alone and each pair are safe
    for size in (1, 2):
        for tables in itertools.combinations(THREE, size):
            for name, found in joint_audit(list(tables), [], POLICY).items():
                assert not inner_recomputed(found), (name, found.explanation)
    # the three together recompute every hidden cell of every year
    check = joint_audit(THREE[2:], THREE[:2], POLICY)[THREE[2][0]]
    assert check.outcome == CheckOutcome.FAIL
    recomputed = inner_recomputed(check)
    assert len(recomputed) == sum(len(cells) for cells in HIDDEN_BY_YEAR.values())
    north_police = next(r for r in recomputed if "area=north, agency=police, columns=2023" in r)
    assert f"recomputed exactly as {COUNTS[('north', 'police', '2023')]} " in north_police
    for name, _ in THREE:
        assert name in north_police
    assert "that by-area-agency-year.csv (released in req-1) suppressed" in north_police
    # the request's own suppressed cells that the three recompute are marked for the checkers
    assert ["east", "police", count("east", "police", TOTAL)] in check.evidence["cells"]


def test_a_cell_suppressed_in_one_table_and_published_in_another_fails():
    released = csv(SQUARE)
    again = csv(by_area_agency({("north", "police"), ("north", "fire"), ("south", "fire")}))
    assert differencing(again, [("square.csv", released)], POLICY).outcome == CheckOutcome.PASS
    check = joint_audit([("again.csv", again)], [("square.csv", released)], POLICY)["again.csv"]
    assert check.outcome == CheckOutcome.FAIL
    fire = count("north", "fire", TOTAL)
    assert f"in square.csv, area=north, columns=fire ({fire} in again.csv)" in check.explanation
    assert (
        f"the cell area=north, columns=fire that square.csv suppressed is published as {fire} "
        "in again.csv: the same cell of the same population"
    ) in [f["explanation"] for f in check.evidence["flags"]]


def test_a_cell_narrowed_within_the_protection_level_fails_when_the_airlock_knows_it():
    # the same cells published unrounded and at the policy's base 5 (true 8: the attacker
    # knows 8 to 12)
    exact = Table(["area"], {("north",): None, ("south",): 41.0, ("east",): 53.0, ("west",): 9.0})
    exact.counts = {("north",): 8.0, ("south",): 41.0, ("east",): 53.0, ("west",): 9.0}
    rounded = Table(
        ["area"], {("north",): 10.0, ("south",): 40.0, ("east",): 55.0, ("west",): 10.0}
    )
    assert rounded.base == 5
    tables = [("rounded.csv", rounded)]
    check = joint_audit([("exact.csv", exact)], tables, POLICY)["exact.csv"]
    assert check.outcome == CheckOutcome.FAIL
    assert "in exact.csv, area=north (between 8 and 12)" in check.explanation
    assert "protection level of 1" in check.explanation
    # without the true count the interval is not a point: nothing to say
    exact.counts = None
    assert joint_audit([("exact.csv", exact)], tables, POLICY)["exact.csv"].outcome == "pass"
    # nor when the cell is safe (at least the threshold: suppressed to protect another), as
    # sdc's own audit asks of it
    exact.counts = {("north",): 30.0, ("south",): 41.0, ("east",): 53.0, ("west",): 9.0}
    rounded.cells[("north",)] = 30.0
    assert joint_audit([("exact.csv", exact)], tables, POLICY)["exact.csv"].outcome == "pass"


# ---------------------------------------------------------------------------------------------
# Controls


def test_the_demos_studies_audited_jointly_are_clean(study_tables):
    # read without the airlock's replay, a table of decimals may be sums or means: review
    expected = {
        n: CheckOutcome.PASS if t.kind == "counts" else CheckOutcome.REVIEW for n, t in study_tables
    }
    for k, (name, table) in enumerate(study_tables):
        check = joint_audit([(name, table)], study_tables[:k], POLICY)[name]
        assert check.outcome == expected[name], f"{name}: {check}"
    checks = joint_audit(study_tables, [], POLICY)
    assert {n: c.outcome for n, c in checks.items()} == expected


def test_another_population_with_the_same_labels_is_not_linked():
    # next year's table publishes the cell this one hides, but its other cells differ
    hidden = csv("area,n\nnorth,\nsouth,\neast,53\nwest,60\nTotal,180\n")
    later = csv("area,n\nnorth,27\nsouth,44\neast,53\nwest,61\nTotal,185\n")
    check = joint_audit([("later.csv", later)], [("hidden.csv", hidden)], POLICY)["later.csv"]
    assert check.outcome == CheckOutcome.PASS
    same = csv("area,n\nnorth,26\nsouth,41\neast,53\nwest,60\nTotal,180\n")
    check = joint_audit([("same.csv", same)], [("hidden.csv", hidden)], POLICY)["same.csv"]
    assert (
        check.outcome == CheckOutcome.FAIL
        and "in hidden.csv, area=north (26 in same.csv)" in check.explanation
    )


def test_a_table_over_some_of_the_categories_is_joined_by_its_cells_not_its_totals():
    everyone = csv(
        "area,police,fire,Total\nnorth,,,30\nsouth,,,31\neast,17,19,36\nwest,12,15,27\n"
        "Total,55,69,124\n"
    )
    # the same people in three of the four areas: its totals are over those three only
    three = csv("area,police,fire,Total\nnorth,13,,30\nsouth,,,31\neast,17,19,36\nTotal,,,97\n")
    check = joint_audit([("three.csv", three)], [("everyone.csv", everyone)], POLICY)
    assert check["three.csv"].outcome == CheckOutcome.FAIL
    assert "in everyone.csv, area=north, columns=police (13 in three.csv)" in (
        check["three.csv"].explanation
    )


def test_a_cell_the_released_tables_already_expose_is_not_blamed_on_the_request():
    hidden = csv("area,n\nnorth,\nsouth,41\neast,53\nwest,60\nTotal,180\n")
    published = csv("area,n\nnorth,26\nsouth,41\neast,53\nwest,60\nTotal,180\n")
    unrelated = csv("agency,n\npolice,30\nfire,40\nschool,50\n")
    check = joint_audit(
        [("unrelated.csv", unrelated)],
        [("hidden.csv", hidden), ("published.csv", published)],
        POLICY,
    )["unrelated.csv"]
    assert check.outcome == CheckOutcome.PASS
    again = csv("area,n\nnorth,\nsouth,41\neast,53\nwest,60\n")
    check = joint_audit([("again.csv", again)], [("published.csv", published)], POLICY)
    assert check["again.csv"].outcome == CheckOutcome.PASS
    # a released crosstab without margins publishes each area's count as the sum of its row
    crosstab = csv("area,police,fire\nnorth,12,14\nsouth,19,22\neast,25,28\nwest,29,31\n")
    by_area = csv("area,n\nnorth,\nsouth,\neast,53\nwest,60\nTotal,180\n")
    check = joint_audit([("by-area.csv", by_area)], [("crosstab.csv", crosstab)], POLICY)
    assert check["by-area.csv"].outcome == CheckOutcome.PASS
    assert "audited jointly with the 1 other tables" in check["by-area.csv"].explanation


def test_rounded_tables_are_read_as_the_counts_their_rounding_allows():
    exact = csv("area,n\nnorth,\nsouth,\neast,53\nwest,61\nTotal,180\n")
    rounded = csv("area,n\nnorth,25\nsouth,40\neast,55\nwest,60\nTotal,180\n")
    check = joint_audit([("rounded.csv", rounded)], [("exact.csv", exact)], POLICY)
    assert check["rounded.csv"].outcome == CheckOutcome.PASS


def test_counts_that_are_all_multiples_of_the_policys_base_are_read_as_rounded():
    # the demo's matched groups: 21 and 21 people published as 20, 20 and 40, whose divisor (20)
    # is no base in use; its outcome table shows base 5 (25 + 20 against 40)
    groups = csv("age_band,comparison,visited,All\n18-24,,,\nAll,20,20,40\n")
    outcome = csv(
        "group,attended A&E,no attendance,All\ncomparison,,,20\nvisited,,,20\nAll,25,20,40\n"
    )
    assert groups.base == 1 and outcome.base == 5
    check = joint_audit([("outcome.csv", outcome)], [("groups.csv", groups)], POLICY)
    assert check["outcome.csv"].outcome == CheckOutcome.PASS
    unrounded = joint_audit(
        [("outcome.csv", outcome)], [("groups.csv", groups)], replace(POLICY, rounding_base=0)
    )
    assert unrounded["outcome.csv"].outcome == CheckOutcome.REVIEW  # 20 + 20 is not 25 + 20


def test_tables_that_do_not_add_up_are_left_to_the_checkers():
    wrong = csv("area,police,fire,Total\nnorth,,,51\nsouth,,,62\nTotal,57,61,118\n")
    check = joint_audit([("wrong.csv", wrong)], [], POLICY)["wrong.csv"]
    assert check.outcome == CheckOutcome.REVIEW
    assert "do not add up" in check.explanation and "check by hand" in check.explanation


def test_tables_joined_through_others_are_in_the_audit_and_unrelated_ones_are_not():
    by_agency = csv("agency,n\npolice,31\nfire,44\nschool,52\nTotal,127\n")
    # shares the agencies with the request's table, and the areas with the next one
    by_both = csv(
        "area,police,fire,school,Total\nnorth,12,20,23,55\nsouth,19,24,29,72\nTotal,31,44,52,127\n"
    )
    by_area = csv("area,n\nnorth,55\nsouth,72\nTotal,127\n")
    elsewhere = csv("clinic,n\nc1,212\nc2,187\nc3,305\n")
    others = [("by-both.csv", by_both), ("by-area.csv", by_area), ("clinics.csv", elsewhere)]
    check = joint_audit([("by-agency.csv", by_agency)], others, POLICY)["by-agency.csv"]
    assert check.outcome == CheckOutcome.PASS
    assert "audited jointly with the 2 other tables" in check.explanation


def test_a_solver_failure_is_left_to_the_checkers(monkeypatch):
    from sdc.errors import SdcError

    def fails(*args):
        raise SdcError("the audit of the table failed: Time limit reached")

    monkeypatch.setattr(joint, "audit_published", fails)
    check = joint_audit(THREE[2:], THREE[:2], POLICY)[THREE[2][0]]
    assert check.outcome == CheckOutcome.REVIEW
    assert "the attacker's programme failed" in check.explanation


def test_past_the_cap_the_audit_says_so_instead_of_running(monkeypatch):
    monkeypatch.setattr(joint, "MAX_JOINT_CELLS", 20)
    check = joint_audit(THREE[2:], THREE[:2], POLICY)[THREE[2][0]]
    assert check.outcome == CheckOutcome.REVIEW
    assert check.explanation.startswith("not audited jointly: too many cells")
    assert "check by hand" in check.explanation


def test_only_tables_that_add_up_are_audited_and_every_table_gets_a_check():
    means = csv("area,mean\nnorth,2.5\nsouth,3.5\n")
    check = joint_audit([("means.csv", means)], THREE, POLICY)["means.csv"]
    assert check.outcome == CheckOutcome.REVIEW and "sums" in check.explanation
    means.statistic = "mean"  # the airlock's replay made it: a mean does not add up
    check = joint_audit([("means.csv", means)], THREE, POLICY)["means.csv"]
    assert check.outcome == CheckOutcome.PASS and "(mean)" in check.explanation


# ---------------------------------------------------------------------------------------------
# In the airlock


AIRLOCK_TABLES = f"""
from notebooks import workspace as ws
ws.output("by-area-agency-year.csv").write_text({CUBE!r})
ws.output("by-area-agency.csv").write_text({SQUARE!r})
ws.output("by-area-agency-again.csv").write_text({SQUARE_AGAIN!r})
"""


@pytest.fixture(scope="module")
def joint_run(studied, tmp_path_factory):
    return run_code(studied, tmp_path_factory.mktemp("joint"), AIRLOCK_TABLES, "linked.ipynb")


def test_the_airlock_audits_a_request_with_the_requests_in_flight(studied, joint_run):
    from output_checks import airlock
    from tests.conftest import STUDIED_TODAY

    project, author = "supporting-families", "alex.analyst"

    def submitted(name):
        path = f"{joint_run.id}/data/{name}"
        request_id = airlock.request(studied, project, author, [path], at=STUDIED_TODAY)
        airlock.submit(studied, request_id, author, at=STUDIED_TODAY)
        shown = airlock.show(studied, request_id, "chris.checker")
        checks = {c["name"]: c for c in shown["files"][0]["checks"]}
        return request_id, checks

    first, checks = submitted("by-area-agency-year.csv")
    assert checks["linked tables"]["outcome"] == "pass"
    second, _ = submitted("by-area-agency.csv")
    third, checks = submitted("by-area-agency-again.csv")
    try:
        assert checks["differencing"]["outcome"] == "pass"
        linked = checks["linked tables"]
        assert linked["outcome"] == "fail"
        assert f"by-area-agency-year.csv (in flight in {first})" in linked["explanation"]
        assert f"by-area-agency.csv (in flight in {second})" in linked["explanation"]
        assert (
            "suppressed cells exactly from their rows, columns and totals" in linked["explanation"]
        )
    finally:
        for request_id in (first, second, third):
            airlock.reject(studied, request_id, "chris.checker", "linked tables")
