"""The joint audit links a table whose categories are sums of another's under other labels
(issue 20, item 1): a table by region ("north or east") beside a released table by area. The
attacks first, then what must stay clean."""

import pytest

from output_checks import joint
from output_checks.checks import CheckOutcome
from output_checks.joint import joint_audit
from output_checks.ledger import differencing
from output_checks.tables import Table, parse_table
from sdc.policy import Policy

POLICY = Policy()
AREAS = ["north", "south", "east", "west", "central"]
AGENCIES = ["police", "fire", "school", "health"]
TOTAL = "Total"
PEOPLE = {
    (a, g): 13 + (5 * i + 7 * j) % 19 for i, a in enumerate(AREAS) for j, g in enumerate(AGENCIES)
}
# the released table hides north and south × police and fire (safe: a rectangle)
HIDDEN = {(a, g) for a in ("north", "south") for g in ("police", "fire")}
REGIONS = {
    "north or east": ["north", "east"],
    "south west or central": ["south", "west", "central"],
}


def csv(text: str) -> Table:
    table = parse_table(text.encode(), ".csv")
    assert table is not None
    return table


def crosstab(groups: dict[str, list[str]], hidden=frozenset(), people=PEOPLE) -> str:
    """A table by GROUPS of areas × agency with margins, hiding HIDDEN."""

    def n(group: str, agency: str) -> int:
        areas = AREAS if group == TOTAL else groups[group]
        agencies = AGENCIES if agency == TOTAL else [agency]
        return sum(people[(a, g)] for a in areas for g in agencies)

    lines = ["area," + ",".join([*AGENCIES, TOTAL])]
    for group in [*groups, TOTAL]:
        row = ["" if (group, g) in hidden else str(n(group, g)) for g in [*AGENCIES, TOTAL]]
        lines.append(",".join([group, *row]))
    return "\n".join(lines) + "\n"


BY_AREA = crosstab({a: [a] for a in AREAS}, HIDDEN)
RELEASED = [("by-area.csv (released in req-1)", csv(BY_AREA))]


def audited(text: str, others=RELEASED):
    return joint_audit([("by-region.csv", csv(text))], others, POLICY)["by-region.csv"]


# ---------------------------------------------------------------------------------------------
# Attacks


def test_a_table_by_region_recomputes_the_areas_a_released_table_hid():
    text = crosstab(REGIONS)
    assert audited(text, []).outcome == CheckOutcome.PASS  # nothing hidden: safe alone
    assert differencing(csv(text), RELEASED, POLICY).outcome == CheckOutcome.PASS
    check = audited(text)
    assert check.outcome == CheckOutcome.FAIL, check.explanation
    # north or east × police, less east × police, is north × police: the rectangle is pinned
    north = PEOPLE[("north", "police")]
    assert f"area=north, columns=police ({north})" in check.explanation
    assert "by-region.csv and by-area.csv (released in req-1) recompute" in check.explanation


def test_a_group_over_some_of_the_areas_only_recomputes_them_too():
    # one region, its own totals (over north and east only, not the released table's)
    text = crosstab({"north or east": ["north", "east"]}).replace(
        crosstab({}).splitlines()[1],
        "Total,"
        + ",".join(
            str(sum(PEOPLE[(a, g)] for a in ("north", "east") for g in agencies))
            for agencies in [*([g] for g in AGENCIES), AGENCIES]
        ),
    )
    check = audited(text)
    assert check.outcome == CheckOutcome.FAIL, check.explanation
    assert f"area=north, columns=police ({PEOPLE[('north', 'police')]})" in check.explanation


def with_other_row(text: str, other: list[int], total: bool = True) -> str:
    """TEXT with a row "other" (people the released table has no area for) before its total
    row, the total moved by as much, or the total row left out."""
    *rows, last = text.splitlines()
    counts = [*other, sum(other)]
    moved = ",".join(
        [TOTAL, *(str(int(v) + c) for v, c in zip(last.split(",")[1:], counts, strict=True))]
    )
    return (
        "\n".join([*rows, "other," + ",".join(map(str, counts)), *([moved] if total else [])])
        + "\n"
    )


@pytest.mark.parametrize("total", [True, False], ids=["with its total", "without a total"])
def test_an_other_row_that_groups_no_area_does_not_hide_the_grouping(total):
    # "other" is no sum of areas: the search once asked every region to be one, so found no
    # grouping at all, and the regions' table passed beside the released one
    text = with_other_row(crosstab(REGIONS), [3, 4, 2, 5], total)
    check = audited(text)
    assert check.outcome == CheckOutcome.FAIL, check.explanation
    assert f"area=north, columns=police ({PEOPLE[('north', 'police')]})" in check.explanation


@pytest.mark.parametrize(
    "groups",
    [
        {"north": ["north", "central"], "south": ["south", "west"], "east": ["east"]},
        {"north": ["south", "west"], "south": ["north", "central"], "east": ["east"]},
        {"north": ["north", "central"], "south": ["south"], "east": ["east"], "west": ["west"]},
    ],
    ids=["three areas' names", "names swapped", "four of five names"],
)
def test_groups_under_the_areas_own_names_are_searched_too(groups):
    # "north" that is north and central shares the released table's labels, so it was never
    # searched for a grouping, and its cells (differing from the released north's) joined nothing
    check = audited(crosstab(groups))
    assert check.outcome == CheckOutcome.FAIL, check.explanation
    assert f"area=north, columns=police ({PEOPLE[('north', 'police')]})" in check.explanation


def test_every_search_is_bounded_by_nodes_and_the_categories_share_them(monkeypatch):
    # no grouping at all: 24 rows of large made-up counts beside 60 areas. Each row alone is a
    # subset sum HiGHS can take many thousands of nodes to refute: they share one budget. And
    # scipy's milp pops node_limit out of the options it is given, so a dict reused by a
    # second search (the uniqueness test) left it unbounded
    import numpy as np
    import scipy.optimize

    rng = np.random.default_rng(0)
    areas = [f"a{i}" for i in range(60)]
    fine = [f"{a},{','.join(str(v) for v in rng.integers(1000, 100_000, 4))}" for a in areas]
    rows = [f"g{i},{','.join(str(v) for v in rng.integers(1000, 200_000, 4))}" for i in range(24)]
    header = "area,police,fire,school,health\n"
    limits = []
    milp = scipy.optimize.milp

    def counted(*args, **kwargs):
        limits.append((kwargs.get("options") or {}).get("node_limit"))
        return milp(*args, **kwargs)

    monkeypatch.setattr(scipy.optimize, "milp", counted)
    others = [("by-area.csv (released in req-1)", csv(header + "\n".join(fine) + "\n"))]
    check = audited(header + "\n".join(rows) + "\n", others)
    assert check.outcome in (CheckOutcome.PASS, CheckOutcome.REVIEW), check.explanation
    assert limits and None not in limits
    singles = [n for n in limits if n < joint.MAX_REGROUPING_NODES]
    assert sum(singles) <= joint.MAX_REGROUPING_NODES
    # the uniqueness search of a real grouping is bounded too
    limits.clear()
    assert audited(crosstab(REGIONS)).outcome == CheckOutcome.FAIL
    assert len(limits) >= 2 and None not in limits


# ---------------------------------------------------------------------------------------------
# Controls


def test_a_grouping_that_reveals_nothing_is_linked_and_passes():
    # north or south is what the released table's police column leaves for its hidden cells
    text = crosstab({"north or south": ["north", "south"], "the rest": ["east", "west", "central"]})
    check = audited(text)
    assert check.outcome == CheckOutcome.PASS, check.explanation
    assert "audited jointly with the 1 other tables" in check.explanation


def test_another_classification_of_the_same_people_is_not_a_grouping():
    # by sex × agency: the same agency totals, but no sex is a sum of areas
    women = {(a, g): n // 2 for (a, g), n in PEOPLE.items()}
    lines = ["sex," + ",".join([*AGENCIES, TOTAL])]
    for sex in ("women", "men"):
        row = []
        for g in [*AGENCIES, TOTAL]:
            cells = [(a, x) for a in AREAS for x in (AGENCIES if g == TOTAL else [g])]
            part = sum(women[c] for c in cells)
            row.append(str(part if sex == "women" else sum(PEOPLE[c] for c in cells) - part))
        lines.append(",".join([sex, *row]))
    lines.append(crosstab({}).splitlines()[1])  # the same totals as the areas'
    check = audited("\n".join(lines) + "\n")
    assert check.outcome == CheckOutcome.PASS, check.explanation
    unrelated = "clinic,n\nc1,212\nc2,187\nc3,305\n"
    assert audited(unrelated).outcome == CheckOutcome.PASS


def test_a_grouping_the_published_cells_cannot_decide_is_reviewed():
    # the regions hide two agencies: too few cells left to tell which areas make a region
    hidden = {(r, g) for r in REGIONS for g in ("school", "health")}
    check = audited(crosstab(REGIONS, hidden))
    assert check.outcome == CheckOutcome.REVIEW, check.explanation
    assert "sums of the categories of by-area.csv (released in req-1)" in check.explanation
    assert "check by hand" in check.explanation


@pytest.mark.parametrize("cap", ["MAX_REGROUPINGS", "MAX_REGROUPED"])
def test_past_a_cap_on_groupings_the_audit_says_so(monkeypatch, cap):
    monkeypatch.setattr(joint, cap, 0)
    check = audited(crosstab(REGIONS))
    assert check.outcome == CheckOutcome.REVIEW, check.explanation
    assert "searches at most" in check.explanation and "check by hand" in check.explanation


def test_a_search_stopped_at_its_node_limit_is_reviewed(monkeypatch):
    from types import SimpleNamespace

    import scipy.optimize

    def stopped(*args, **kwargs):
        assert kwargs["options"]["node_limit"] == joint.MAX_REGROUPING_NODES
        return SimpleNamespace(status=1, x=None, message="Node limit reached. ")

    monkeypatch.setattr(scipy.optimize, "milp", stopped)
    check = audited(crosstab(REGIONS))
    assert check.outcome == CheckOutcome.REVIEW, check.explanation
    assert "the search stopped (Node limit reached.)" in check.explanation


def test_hidden_cells_still_rule_out_a_grouping_their_bounds_contradict():
    # two agencies, the released table hiding north and south in both: only the totals
    # column is published whole. Women's total is north's and east's together, but fewer
    # women went to the police than east's published police count: no grouping, no review
    agencies = ["police", "fire"]
    people = {(a, g): PEOPLE[(a, g)] for a in AREAS for g in agencies}

    def row(label: str, police: int, fire: int) -> str:
        return f"{label},{police},{fire},{police + fire}"

    def n(a: str, g: str) -> int:
        return sum(v for (x, y), v in people.items() if a in (x, TOTAL) and g in (y, TOTAL))

    released = ["area,police,fire,Total"] + [
        ",".join([a] + ["" if (a, g) in HIDDEN else str(n(a, g)) for g in [*agencies, TOTAL]])
        for a in [*AREAS, TOTAL]
    ]
    together = n("north", TOTAL) + n("east", TOTAL)
    police = n("east", "police") - 1
    women = row("women", police, together - police)
    men = row("men", n(TOTAL, "police") - police, n(TOTAL, "fire") - together + police)
    text = (
        "\n".join(
            ["sex,police,fire,Total", women, men, row(TOTAL, n(TOTAL, "police"), n(TOTAL, "fire"))]
        )
        + "\n"
    )
    others = [("by-area.csv", csv("\n".join(released) + "\n"))]
    check = joint_audit([("by-sex.csv", csv(text))], others, POLICY)["by-sex.csv"]
    assert check.outcome == CheckOutcome.PASS, check.explanation


def test_areas_requested_after_their_regions_were_released_are_audited_with_them():
    released = [("by-region.csv (released in req-1)", csv(crosstab(REGIONS)))]
    check = joint_audit([("by-area.csv", csv(BY_AREA))], released, POLICY)["by-area.csv"]
    assert check.outcome == CheckOutcome.FAIL, check.explanation
    assert f"area=north, columns=police ({PEOPLE[('north', 'police')]})" in check.explanation
