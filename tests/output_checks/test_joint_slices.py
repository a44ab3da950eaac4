"""The joint audit links a table to a slice of another (issue 20, item 1): the 2023 layer of a
released area × agency × year table published alone as area × agency, or one column of an area
× agency table published as a table by area. The attacks first, then what must stay clean."""

from output_checks import joint
from output_checks.checks import CheckOutcome
from output_checks.joint import joint_audit
from output_checks.ledger import differencing
from sdc.policy import Policy
from tests.output_checks.test_joint import AGENCIES, AREAS, CUBE, TOTAL, count, csv

POLICY = Policy()
RELEASED = [("by-area-agency-year.csv (released in req-1)", csv(CUBE))]


def layer(year: str, hidden: set[tuple[str, str]], more: int = 0) -> str:
    """The YEAR layer of the cube as an area × agency table with margins, hiding HIDDEN (with
    MORE people in every inner cell: another population)."""
    lines = ["area," + ",".join([*AGENCIES, TOTAL])]
    for a in [*AREAS, TOTAL]:
        row = []
        for g in [*AGENCIES, TOTAL]:
            under = (3 if a == TOTAL else 1) * (3 if g == TOTAL else 1)  # inner cells it adds
            row.append("" if (a, g) in hidden else str(count(a, g, year) + more * under))
        lines.append(",".join([a, *row]))
    return "\n".join(lines) + "\n"


# the cube hides north and south × police and fire in 2023; this layer hides another rectangle
OTHER_RECTANGLE = {(a, g) for a in ("south", "east") for g in ("fire", "school")}
SAME_RECTANGLE = {(a, g) for a in ("north", "south") for g in ("police", "fire")}


def audited(name: str, text: str, others=RELEASED):
    return joint_audit([(name, csv(text))], others, POLICY)[name]


# ---------------------------------------------------------------------------------------------
# Attacks


def test_a_layer_of_a_released_cube_published_alone_exposes_its_suppressed_cells():
    request = csv(layer("2023", OTHER_RECTANGLE))
    # each table passes alone and differencing passes the pair: no view of the cube is the layer
    assert differencing(request, RELEASED, POLICY).outcome == CheckOutcome.PASS
    assert audited("layer.csv", layer("2023", OTHER_RECTANGLE), []).outcome == CheckOutcome.PASS
    check = audited("layer.csv", layer("2023", OTHER_RECTANGLE))
    assert check.outcome == CheckOutcome.FAIL, check.explanation
    north_police = count("north", "police", "2023")
    assert (
        "area=north, agency=police, columns=2023 "
        f"({north_police:g} in layer.csv)" in check.explanation
    )
    # and the cell both hide, recomputed from the cube's 2023 cells with the layer's
    south_fire = count("south", "fire", "2023")
    assert f"in layer.csv, area=south, columns=fire ({south_fire:g})" in check.explanation


# an area × agency table over five areas (all years) hiding north and south × police and fire
FIVE = ["north", "south", "east", "west", "central"]
BY_AREA = {
    (a, g): 13 + (5 * i + 7 * j) % 19 for i, a in enumerate(FIVE) for j, g in enumerate(AGENCIES)
}
HIDDEN = {(a, g) for a in ("north", "south") for g in ("police", "fire")}


def square(hidden: set[tuple[str, str]], cells=BY_AREA) -> str:
    def n(a: str, g: str) -> int:
        return sum(v for (x, y), v in cells.items() if a in (x, TOTAL) and g in (y, TOTAL))

    lines = ["area," + ",".join([*AGENCIES, TOTAL])]
    for a in [*FIVE, TOTAL]:
        lines.append(
            ",".join([a, *["" if (a, g) in hidden else str(n(a, g)) for g in [*AGENCIES, TOTAL]]])
        )
    return "\n".join(lines) + "\n"


def test_a_layer_with_an_extra_category_is_still_linked_by_the_cells_it_shares():
    # a made-up area changes the layer's agency totals and grand total, not its other cells
    text = layer("2023", OTHER_RECTANGLE)
    lines = text.splitlines()
    extra = "elsewhere,12,13,14,39"
    totals = lines[-1].split(",")
    added = [int(e) for e in extra.split(",")[1:]]
    totals = [totals[0], *[str(int(v) + e) for v, e in zip(totals[1:], added, strict=True)]]
    text = "\n".join([*lines[:-1], extra, ",".join(totals)]) + "\n"
    check = audited("layer.csv", text)
    assert check.outcome == CheckOutcome.FAIL, check.explanation
    north_police = count("north", "police", "2023")
    assert f"columns=2023 ({north_police:g} in layer.csv)" in check.explanation


def column(agency: str, hidden: set[str], cells=BY_AREA) -> str:
    """People in each area in AGENCY as a table by area, hiding HIDDEN."""
    rows = ["area,n"] + [f"{a},{'' if a in hidden else cells[(a, agency)]}" for a in FIVE]
    total = sum(v for (_, g), v in cells.items() if g == agency)
    return "\n".join([*rows, f"Total,{total}"]) + "\n"


def test_one_column_of_a_released_table_published_as_a_table_by_area_pins_its_rectangle():
    released = [("by-area-agency.csv (released in req-1)", csv(square(HIDDEN)))]
    # north's police count published, south's and east's hidden: safe alone
    text = column("police", {"south", "east"})
    assert audited("police.csv", text, []).outcome == CheckOutcome.PASS
    assert differencing(csv(text), released, POLICY).outcome == CheckOutcome.PASS
    check = audited("police.csv", text, released)
    assert check.outcome == CheckOutcome.FAIL, check.explanation
    assert f"area=north, columns=fire ({BY_AREA[('north', 'fire')]})" in check.explanation
    # the column the square publishes whole is linked, and passes
    check = audited("school.csv", column("school", {"south", "east"}), released)
    assert check.outcome == CheckOutcome.PASS, check.explanation
    assert "audited jointly with the 1 other tables" in check.explanation


# ---------------------------------------------------------------------------------------------
# Controls


def test_a_layer_hiding_what_the_cube_hides_is_linked_and_passes():
    check = audited("layer.csv", layer("2023", SAME_RECTANGLE))
    assert check.outcome == CheckOutcome.PASS, check.explanation
    assert "audited jointly with the 1 other tables" in check.explanation


def test_a_table_of_other_people_with_the_same_labels_is_not_a_slice():
    # next year's figures: the cube has no 2026 layer, no layer's published cells agree
    check = audited("later.csv", layer("2023", OTHER_RECTANGLE, more=1))
    assert check.outcome == CheckOutcome.PASS, check.explanation
    assert "no released, in-flight or other requested table" in check.explanation
    unrelated = "clinic,n\nc1,212\nc2,187\nc3,305\n"
    assert audited("clinics.csv", unrelated).outcome == CheckOutcome.PASS


def test_a_table_matching_several_slices_is_reviewed_not_guessed():
    # two agencies of equal counts in every area: a table by area matches either column
    cells = {**BY_AREA, **{(a, "fire"): BY_AREA[(a, "police")] for a in FIVE}}
    released = [("square.csv", csv(square(HIDDEN, cells)))]
    check = audited("either.csv", column("police", {"south", "east"}, cells), released)
    assert check.outcome == CheckOutcome.REVIEW, check.explanation
    assert "several slices of square.csv (columns=police; columns=fire)" in check.explanation


def test_past_the_cap_on_slices_the_audit_says_so(monkeypatch):
    monkeypatch.setattr(joint, "MAX_SLICE_CELLS", 20)  # the first 16-cell slice, not two
    check = audited("layer.csv", layer("2023", OTHER_RECTANGLE))
    assert check.outcome == CheckOutcome.REVIEW, check.explanation
    assert "compares at most 20 cells of slices" in check.explanation
    assert "check by hand" in check.explanation


# ---------------------------------------------------------------------------------------------
# Two tables agreeing on fewer than three cells: maybe one population, maybe not


WEAK_RELEASED = [("by-area.csv", csv("area,n\nnorth,\nsouth,\neast,53\nwest,61\nTotal,180\n"))]


def test_a_table_agreeing_on_one_cell_that_would_recompute_a_cell_is_reviewed():
    # east agrees (53), nothing differs: if they are the same people, north's 27 gives south
    text = "area,n\nnorth,27\nsouth,\neast,53\n"
    assert audited("weak.csv", text, []).outcome == CheckOutcome.PASS
    check = audited("weak.csv", text, WEAK_RELEASED)
    assert check.outcome == CheckOutcome.REVIEW, check.explanation
    assert "weak.csv and by-area.csv agree on only 1 published cell" in check.explanation
    assert (
        "they expose the suppressed cells area=north (27), area=south (39)" in check.explanation
        and "check by hand" in check.explanation
    )


def test_a_table_agreeing_on_one_cell_that_recomputes_nothing_passes():
    check = audited("weak.csv", "area,n\nnorth,\nsouth,\neast,53\n", WEAK_RELEASED)
    assert check.outcome == CheckOutcome.PASS, check.explanation
    # a cell that differs: other people, never linked
    check = audited("other.csv", "area,n\nnorth,27\nsouth,\neast,54\n", WEAK_RELEASED)
    assert check.outcome == CheckOutcome.PASS, check.explanation


def test_too_many_cells_with_a_table_agreeing_on_few_is_reviewed(monkeypatch):
    monkeypatch.setattr(joint, "MAX_JOINT_CELLS", 5)  # the request alone fits, not with it
    check = audited("weak.csv", "area,n\nnorth,27\nsouth,\neast,53\n", WEAK_RELEASED)
    assert check.outcome == CheckOutcome.REVIEW, check.explanation
    assert "weak.csv with by-area.csv may be the same people" in check.explanation
    assert "check by hand" in check.explanation


def test_a_cube_requested_after_its_layer_was_released_is_audited_with_it():
    released = [("layer.csv (released in req-1)", csv(layer("2023", OTHER_RECTANGLE)))]
    check = joint_audit([("cube.csv", csv(CUBE))], released, POLICY)["cube.csv"]
    assert check.outcome == CheckOutcome.FAIL, check.explanation
    # the cube publishes what the released layer hid
    east_school = count("east", "school", "2023")
    assert f"area=east, columns=school ({east_school:g} in cube.csv)" in check.explanation
