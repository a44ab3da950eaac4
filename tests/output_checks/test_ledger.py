"""Differencing by content: the attacks of issue 19 (each must fail, or at least go to review)
and the controls that must stay clean."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from output_checks.checks import CheckOutcome
from output_checks.ledger import Ledger, differencing, views
from output_checks.tables import Table, parse_table
from sdc import safe
from sdc.policy import Policy
from tests.output_checks.conftest import run_code

POLICY = Policy()
AREAS = ["north", "south", "east", "west", "centre", "riverside"]
AGENCIES = ["police", "fire", "csc", "school", "nhs"]


def town(seed: int = 5, **changes: int) -> dict[tuple[str, str], int]:
    """Counts of people by area and agency, each a multiple of 5 (so that removing three people
    from a cell changes its rounded count), with CHANGES (``north_police=-3``) applied."""
    rng = np.random.default_rng(seed)
    counts = {(a, g): int(rng.integers(4, 40)) * 5 for a in AREAS for g in AGENCIES}
    for name, change in changes.items():
        area, agency = name.split("_")
        counts[(area, agency)] += change
    return counts


def frame(counts: dict[tuple[str, str], int]) -> pd.DataFrame:
    keys = list(counts)
    return pd.DataFrame(
        {
            "area": np.repeat([a for a, _ in keys], [counts[k] for k in keys]),
            "agency": np.repeat([g for _, g in keys], [counts[k] for k in keys]),
        }
    )


def read(out) -> Table:
    table = parse_table(out.csv().encode(), ".csv")
    assert table is not None
    return table


def csv(text: str) -> Table:
    table = parse_table(text.encode(), ".csv")
    assert table is not None
    return table


def compare(new: Table, *released: Table, policy: Policy = POLICY):
    return differencing(new, [(f"released-{i}.csv", t) for i, t in enumerate(released)], policy)


EVERYONE = frame(town())
MINUS_THREE = frame(town(north_police=-3))
BY_AREA_AGENCY = read(safe.crosstab(EVERYONE.area, EVERYONE.agency))


# ---------------------------------------------------------------------------------------------
# Attacks


def test_the_same_table_over_three_fewer_people_fails():
    check = compare(read(safe.crosstab(MINUS_THREE.area, MINUS_THREE.agency)), BY_AREA_AGENCY)
    assert check.outcome == CheckOutcome.FAIL
    assert "released-0.csv" in check.explanation and "north" in check.explanation
    assert "fewer than the threshold of 10" in check.explanation


def test_rows_and_columns_swapped_fail():
    swapped = read(safe.crosstab(MINUS_THREE.agency, MINUS_THREE.area))
    check = compare(swapped, BY_AREA_AGENCY)
    assert check.outcome == CheckOutcome.FAIL
    assert "agency=police" in check.explanation or "police" in check.explanation


def test_a_renamed_dimension_fails():
    renamed = read(
        safe.crosstab(MINUS_THREE.area.rename("district"), MINUS_THREE.agency.rename("service"))
    )
    assert compare(renamed, BY_AREA_AGENCY).outcome == CheckOutcome.FAIL


def bands(counts: dict[str, int]) -> pd.Series:
    return pd.Series(np.repeat(list(counts), list(counts.values())), name="age")


def test_relabelled_bands_are_matched_by_their_populations():
    released = read(safe.crosstab(bands({"0-17": 600, "18-64": 1500, "65+": 400})))
    relabelled = read(safe.crosstab(bands({"children": 597, "adults": 1500, "older people": 400})))
    check = compare(relabelled, released)
    assert check.outcome != CheckOutcome.PASS
    assert "by its population" in check.explanation
    assert "children" in check.explanation and "0-17" in check.explanation


def test_a_one_dimensional_table_against_a_released_margin_fails():
    check = compare(read(safe.crosstab(MINUS_THREE.area)), BY_AREA_AGENCY)
    assert check.outcome == CheckOutcome.FAIL
    assert "area=north" in check.explanation


def test_the_same_margin_of_two_differently_cut_tables_fails():
    ages = np.resize(["0-17", "18-64", "65+"], len(MINUS_THREE))
    check = compare(read(safe.crosstab(MINUS_THREE.agency, ages)), BY_AREA_AGENCY)
    assert check.outcome == CheckOutcome.FAIL
    assert "agency=police in the margin over agency" in check.explanation


def test_a_complement_against_a_released_total_fails():
    counts = town()
    counts[("north", "police")] = 3  # three police contacts in the north
    people = frame(counts)
    released = read(safe.crosstab(people.area))
    but_police = people[people.agency != "police"]
    check = compare(read(safe.crosstab(but_police.area)), released)
    assert check.outcome == CheckOutcome.FAIL
    assert "area=north" in check.explanation and "one population can hold the other" in (
        check.explanation
    )


def test_a_removed_group_padded_in_another_cell_fails_cell_by_cell():
    padded = frame(town(north_police=-3, south_fire=20))  # the grand total moves by 17
    check = compare(read(safe.crosstab(padded.area, padded.agency)), BY_AREA_AGENCY)
    assert check.outcome == CheckOutcome.FAIL
    assert "most of their cells are equal" in check.explanation
    assert "area=north" in check.explanation


def test_the_same_table_at_rounding_bases_5_and_7_fails():
    base7 = read(
        safe.crosstab(EVERYONE.area, EVERYONE.agency, policy=replace(POLICY, rounding_base=7))
    )
    assert base7.base == 7 and BY_AREA_AGENCY.base == 5
    check = compare(base7, BY_AREA_AGENCY)
    assert check.outcome == CheckOutcome.FAIL
    assert "base 5" in check.explanation and "base 7" in check.explanation


def test_a_removed_group_at_another_rounding_base_is_still_caught():
    base7 = read(
        safe.crosstab(MINUS_THREE.area, MINUS_THREE.agency, policy=replace(POLICY, rounding_base=7))
    )
    assert compare(base7, BY_AREA_AGENCY).outcome == CheckOutcome.FAIL


def test_describe_over_everyone_and_everyone_but_one_is_caught():
    rng = np.random.default_rng(2)
    costs = pd.DataFrame({"cost": rng.lognormal(8, 1, 3000)})
    everyone = safe.describe(costs)
    but_one = safe.describe(costs.iloc[1:].rename(columns={"cost": "spend"}))
    # from the files alone (counts rounded to 3000 both): a checker must look
    check = compare(read(but_one), read(everyone))
    assert check.outcome == CheckOutcome.REVIEW
    assert "spend" in check.explanation and "cost" in check.explanation
    # with counts the airlock computed itself: the one person's value is out
    mine = parse_table(but_one.csv().encode(), ".csv", evidence=but_one.evidence)
    theirs = parse_table(everyone.csv().encode(), ".csv", evidence=everyone.evidence)
    assert mine is not None and theirs is not None
    check = compare(mine, theirs)
    assert check.outcome == CheckOutcome.FAIL
    assert "differ by 1 people" in check.explanation


def test_means_are_compared_by_the_counts_the_airlock_computed():
    rng = np.random.default_rng(4)
    cost = pd.Series(rng.lognormal(8, 1, len(EVERYONE)), name="cost")
    everyone = safe.crosstab(EVERYONE.area, EVERYONE.agency, values=cost, aggfunc="mean")
    kept = EVERYONE.index[3:]  # the first three people are the north's police contacts
    assert (EVERYONE.loc[:2, "agency"] == "police").all()
    fewer = safe.crosstab(
        EVERYONE.area[kept], EVERYONE.agency[kept], values=cost[kept], aggfunc="mean"
    )
    # from the files alone: means say nothing of their populations
    assert compare(read(fewer), read(everyone)).outcome == CheckOutcome.PASS
    mine = parse_table(fewer.csv().encode(), ".csv", evidence=fewer.evidence)
    theirs = parse_table(everyone.csv().encode(), ".csv", evidence=everyone.evidence)
    assert mine is not None and theirs is not None and mine.kind == "values"
    check = compare(mine, theirs)
    assert check.outcome == CheckOutcome.REVIEW
    assert "differs by 3" in check.explanation and "means or sums" in check.explanation


def test_hand_made_tables_are_compared_by_content():
    released = csv("area,count\nnorth,121\nsouth,47\neast,83\nwest,230\n")
    new = csv("district,people\nwest,230\neast,83\nsouth,47\nnorth,118\n")
    check = compare(new, released)
    assert check.outcome == CheckOutcome.FAIL
    assert "differs by 3" in check.explanation


def test_a_total_that_reveals_a_suppressed_cell_fails():
    small = pd.DataFrame(
        {
            "group": ["g1"] * 40 + ["g2"] * 45,
            "flag": ["y"] * 37 + ["n"] * 3 + ["y"] * 20 + ["n"] * 25,
        }
    )
    released = read(safe.crosstab(small.group, small.flag, margins=False))
    assert released.cells[("g1", "n")] is None
    check = compare(read(safe.crosstab(small.group)), released)
    assert check.outcome == CheckOutcome.FAIL
    assert "suppressed the cell" in check.explanation and "flag" not in check.explanation[:0]


def test_the_explanation_names_the_table_the_cells_and_the_group():
    check = differencing(
        read(safe.crosstab(MINUS_THREE.area)),
        [("outputs/by-area.csv (in flight in req-2)", BY_AREA_AGENCY)],
        POLICY,
    )
    assert "outputs/by-area.csv (in flight in req-2)" in check.explanation
    assert "area=north" in check.explanation
    assert "reveals a group of about 5 people" in check.explanation
    assert check.evidence["flags"][0]["outcome"] == "fail"


# ---------------------------------------------------------------------------------------------
# Controls


def cohort(size: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "area": rng.choice(AREAS, size, p=[0.25, 0.2, 0.2, 0.15, 0.1, 0.1]),
            "age": rng.choice(["0-17", "18-64", "65+"], size, p=[0.3, 0.5, 0.2]),
        }
    )


@pytest.mark.parametrize("seed", range(10))
def test_two_yearly_cohorts_are_not_differencing(seed):
    first, second = cohort(1500, 100 + seed), cohort(1506, 200 + seed)
    check = compare(
        read(safe.crosstab(second.area, second.age)), read(safe.crosstab(first.area, first.age))
    )
    assert check.outcome == CheckOutcome.PASS, check.explanation


def test_bands_whose_moved_groups_reach_the_threshold_are_clean():
    released = read(safe.crosstab(bands({"0-17": 600, "18-64": 1500, "65+": 400})))
    rebanded = read(safe.crosstab(bands({"0-15": 570, "16-64": 1530, "65+": 400})))
    assert compare(rebanded, released).outcome == CheckOutcome.PASS
    # the same bands moved by three people are the nested-bands attack
    nested = read(safe.crosstab(bands({"0-16": 597, "17-64": 1503, "65+": 400})))
    assert compare(nested, released).outcome != CheckOutcome.PASS


def test_rebanded_two_dimensional_tables_whose_moved_groups_reach_the_threshold_are_clean():
    rng = np.random.default_rng(9)
    rows = []
    for area in AREAS:
        young, moved = int(rng.integers(60, 120)), int(rng.integers(10, 20))
        rows.append((area, young, moved, int(rng.integers(200, 400))))
    old = pd.DataFrame(
        [(a, "0-17") for a, y, m, _ in rows for _ in range(y + m)]
        + [(a, "18+") for a, _, _, o in rows for _ in range(o)],
        columns=["area", "band"],
    )
    new = pd.DataFrame(
        [(a, "0-15") for a, y, _, _ in rows for _ in range(y)]
        + [(a, "16+") for a, _, m, o in rows for _ in range(m + o)],
        columns=["area", "band"],
    )
    check = compare(
        read(safe.crosstab(new.area, new.band)), read(safe.crosstab(old.area, old.band))
    )
    assert check.outcome == CheckOutcome.PASS, check.explanation


@pytest.mark.parametrize("seed", range(10))
def test_next_years_table_with_one_new_lsoa_is_clean(seed):
    rng = np.random.default_rng(seed)
    lsoas = [f"E0100{i:04d}" for i in range(30)]
    sizes = rng.integers(40, 200, len(lsoas))
    this_year = pd.Series(np.repeat(lsoas, rng.poisson(sizes)), name="lsoa")
    next_year = pd.Series(
        np.repeat(lsoas + ["E01009999"], list(rng.poisson(sizes)) + [60]), name="lsoa"
    )
    check = compare(read(safe.crosstab(next_year)), read(safe.crosstab(this_year)))
    assert check.outcome == CheckOutcome.PASS, check.explanation


def test_two_classifications_of_the_same_people_are_not_a_rebanding():
    by_group = csv("group,count\ncomparison,20\nvisited,20\nAll,40\n")
    by_outcome = csv("outcome,count\nattended A&E,15\nno attendance,25\nAll,40\n")
    assert compare(by_outcome, by_group).outcome == CheckOutcome.PASS


def test_the_same_table_released_again_is_clean():
    again = read(safe.crosstab(EVERYONE.agency, EVERYONE.area))
    assert compare(again, BY_AREA_AGENCY).outcome == CheckOutcome.PASS


def test_a_table_with_nothing_to_compare_passes():
    check = compare(BY_AREA_AGENCY)
    assert check.outcome == CheckOutcome.PASS and "no table" in check.explanation


# ---------------------------------------------------------------------------------------------
# The index


def test_the_ledger_offers_a_view_only_the_views_it_could_match():
    unrelated = csv("quarter,count\nQ1,10\nQ2,20\nQ3,30\n")
    ledger = Ledger([("by-area-agency", BY_AREA_AGENCY), ("quarters", unrelated)])
    by_area = views(read(safe.crosstab(EVERYONE.area)))[0]
    offered = {ledger.known[i].name for i, _ in ledger.candidates(by_area)}
    assert offered == {"by-area-agency"}
    # the same sizes with other labels are offered (categories are matched by population)
    renamed = csv("district,count\na,1\nb,2\nc,3\nd,4\ne,5\nf,6\n")
    assert {ledger.known[i].name for i, _ in ledger.candidates(views(renamed)[0])} == {
        "by-area-agency"
    }


# ---------------------------------------------------------------------------------------------
# In the airlock: tables in flight, in the same request, and hand-made tables in the ledger

AIRLOCK_TABLES = """
import json
import numpy as np
import pandas as pd
from notebooks import workspace as ws
from sdc import safe

wards = ["ward-a", "ward-b", "ward-c", "ward-d", "ward-e"]
sizes = [55, 70, 90, 115, 140]
people = pd.DataFrame({"ward": np.repeat(wards, sizes)})
safe.crosstab(people.ward).save(ws.output("wards.csv"))
minus = people.iloc[3:]
# by hand, renamed, rows in another order: the same table over three fewer people
minus.ward.value_counts().sort_index(ascending=False).rename_axis("district").to_csv(
    ws.output("wards_by_hand.csv"))
# the sdc.safe table over three fewer people, with a sidecar made to match nothing
safe.crosstab(minus.ward.rename("where")).save(ws.output("wards_minus.csv"))
sidecar = ws.output("wards_minus.csv.evidence.json")
forged = json.loads(sidecar.read_text())
for cell in forged["cells"]:
    cell["dims"] = {"where": "phantom-" + str(cell["dims"]["where"])}
sidecar.write_text(json.dumps(forged))
# a hand-made table released, then a hand-made one over two fewer people
pd.DataFrame({"clinic": ["c1", "c2", "c3", "c4"], "n": [212, 187, 305, 96]}).to_csv(
    ws.output("clinics.csv"), index=False)
pd.DataFrame({"site": ["c4", "c3", "c2", "c1"], "people": [94, 305, 187, 212]}).to_csv(
    ws.output("clinics_later.csv"), index=False)
"""


@pytest.fixture(scope="module")
def airlock_run(studied, tmp_path_factory):
    return run_code(studied, tmp_path_factory.mktemp("ledger"), AIRLOCK_TABLES, "wards.ipynb")


def _differencing(instance, request_id):
    from output_checks import airlock

    shown = airlock.show(instance, request_id, "chris.checker")
    return {
        f["path"].split("/")[-1]: next(c for c in f["checks"] if c["name"] == "differencing")
        for f in shown["files"]
    }


def test_requests_in_flight_and_files_of_one_request_are_compared(studied, airlock_run):
    from output_checks import airlock
    from tests.conftest import STUDIED_TODAY

    project, author = "supporting-families", "alex.analyst"

    def submitted(*names):
        request_id = airlock.request(
            studied,
            project,
            author,
            [f"{airlock_run.id}/data/{n}" for n in names],
            at=STUDIED_TODAY,
        )
        airlock.submit(studied, request_id, author, at=STUDIED_TODAY)
        return request_id

    first = submitted("wards.csv")
    second = submitted("wards_by_hand.csv")
    flag = _differencing(studied, second)["wards_by_hand.csv"]
    assert flag["outcome"] == "fail"
    assert f"wards.csv (in flight in {first})" in flag["explanation"]
    airlock.reject(studied, second, "chris.checker", "differencing")
    # the forged sidecar does not take the table out: the airlock reads the file itself
    third = submitted("wards_minus.csv", "clinics.csv")
    flags = _differencing(studied, third)
    assert flags["wards_minus.csv"]["outcome"] == "fail"
    assert flags["clinics.csv"]["outcome"] == "pass"
    airlock.reject(studied, third, "chris.checker", "differencing")
    # two files of one request
    fourth = submitted("wards.csv", "wards_minus.csv")
    flags = _differencing(studied, fourth)
    assert "wards_minus.csv (in this request)" in flags["wards.csv"]["explanation"]
    assert "wards.csv (in this request)" in flags["wards_minus.csv"]["explanation"]
    for request_id in (first, fourth):
        airlock.reject(studied, request_id, "chris.checker", "differencing")
    # rejected requests are no longer in flight
    fifth = submitted("wards_by_hand.csv")
    assert _differencing(studied, fifth)["wards_by_hand.csv"]["outcome"] == "pass"
    airlock.withdraw(studied, fifth, author)


def test_a_released_hand_made_table_enters_the_ledger_from_the_airlocks_copy(studied, airlock_run):
    from output_checks import airlock
    from output_checks.models import LedgerEntry
    from tests.conftest import STUDIED_TODAY

    project, author = "supporting-families", "alex.analyst"
    first = airlock.request(
        studied, project, author, [f"{airlock_run.id}/data/clinics.csv"], at=STUDIED_TODAY
    )
    airlock.submit(studied, first, author, at=STUDIED_TODAY)
    for checker in ("chris.checker", "dana.checker"):
        airlock.review(studied, first, checker, f"{airlock_run.id}/data/clinics.csv", "approve")
        airlock.submit_review(studied, first, checker)
    airlock.release(studied, first, "dana.checker")
    with studied.db.session() as session:
        entry = session.query(LedgerEntry).filter_by(request_id=first).one()
        table = Table.from_json(entry.table)
    assert table.cells[("c4",)] == 96 and table.counts is None
    later = airlock.request(
        studied, project, author, [f"{airlock_run.id}/data/clinics_later.csv"], at=STUDIED_TODAY
    )
    airlock.submit(studied, later, author, at=STUDIED_TODAY)
    flag = _differencing(studied, later)["clinics_later.csv"]
    assert flag["outcome"] == "fail"
    assert f"clinics.csv (released in {first})" in flag["explanation"]
    assert "differs by 2" in flag["explanation"]
    airlock.reject(studied, later, "chris.checker", "differencing")


def test_the_four_studies_released_one_after_the_other_are_clean(study_tables):
    studies = {name.split("/")[0] for name, _ in study_tables}
    assert len(studies) == 4 and len(study_tables) >= 8
    ledger = Ledger()
    for name, table in study_tables:
        check = differencing(table, ledger, POLICY)
        assert check.outcome == CheckOutcome.PASS, f"{name}: {check.explanation}"
        ledger.add(name, table)
