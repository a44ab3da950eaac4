"""Every failing cell is marked on the checker's page, with the count: not only the first 20."""

from pathlib import Path

from output_checks import web
from output_checks.airlock import ServedFile
from output_checks.checks import as_dicts, check_file
from output_checks.enums import plain
from sdc.policy import Policy
from tre.templating import environment


def small_cells_table(tmp_path: Path) -> Path:
    """A hand-made 6 × 8 table whose first 39 cells are 3 (below the threshold of 10)."""
    lines = ["team," + ",".join(f"month {j}" for j in range(1, 9))]
    for i in range(6):
        cells = ["3" if i * 8 + j < 39 else "25" for j in range(8)]
        lines.append(f"team {i}," + ",".join(cells))
    path = tmp_path / "small.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_table_with_39_small_cells_shows_39_flagged_cells_and_says_so(tmp_path):
    path = small_cells_table(tmp_path)
    checks = as_dicts(check_file(path, Policy(), set(), 10**7, 5000, []))
    threshold = next(c for c in checks if c["name"] == "threshold")
    assert threshold["explanation"].startswith("39 cells below the threshold of 10")
    assert len(threshold["evidence"]["cells"]) == 39
    rows = web._table(ServedFile(path.name, path.read_bytes(), checks))
    flagged = [cell for row in rows[1:] for cell in row if cell["flag"] == "fail"]
    assert len(flagged) == 39 and all(cell["text"] == "3" for cell in flagged)
    clean = [cell for row in rows[1:] for cell in row[1:] if cell["flag"] is None]
    assert len(clean) == 48 - 39 and all(cell["text"] == "25" for cell in clean)
    assert web.flag_counts(rows) == {"fail": 39}

    view = {
        "id": 0,
        "path": path.name,
        "name": path.name,
        "group": "g",
        "supporting": False,
        "automatic": "fail",
        "automatic_words": plain("check", "fail"),
        "decision": "incomplete",
        "decision_words": plain("decision", "incomplete"),
        "my_vote": None,
        "votes_in": 0,
        "votes": [],
        "checks": checks,
        "view": "table",
        "rows": rows,
        "flagged": web.flag_counts(rows),
        "failing": [threshold["explanation"]],
        "marks_from": "the automatic checks",
        "sha256": "0" * 64,
    }
    request = {
        "id": "r1",
        "project": "p",
        "author": "a",
        "state": "submitted",
        "state_words": plain("state", "submitted"),
        "recipients": ["a"],
        "reviews_in": 0,
        "my_review": None,
        "turn": 1,
        "required_checkers": 2,
        "reason": None,
        "groups": {"g": {"context": "", "controls": ""}},
        "comments": [],
        "released": None,
    }
    page = (
        environment(web.TEMPLATES)
        .get_template("airlock_request.html")
        .render(
            r=request,
            files=[view],
            can_vote=False,
            can_submit_review=False,
            to_vote=[],
            done="",
            plain=plain,
            overrides=False,
            can_release=False,
            can_answer=False,
            can_withdraw=False,
            offered=[],
            suggested={},
            group_name=str,
            person="c",
            scopes=set(),
            prefix="",
            xsrf="x",
        )
    )
    assert page.count('class="flag-fail"') == 39
    assert "Flagged in the table below: 39 cells fail." in page
    assert "39 cells below the threshold of 10" in page


def test_a_cell_failed_by_one_check_and_reviewed_by_another_stays_failed():
    checks = [
        {
            "name": "a",
            "outcome": "fail",
            "explanation": "too few",
            "evidence": {"cells": [["x", "y", 3]]},
        },
        {
            "name": "b",
            "outcome": "review",
            "explanation": "look",
            "evidence": {"cells": [["x", "y", 3]]},
        },
    ]
    assert web._flags(None, checks)[("x", "y")] == ("fail", "too few")
