from io import StringIO

from rich.console import Console

from tre import cli_context
from tre.cli_context import id_table

PATH = "/srv/tre/instance/projects/supporting-families/outputs/run-20261204-184512-a1b2/report.html"


def printed(renderable, width: int = 80) -> str:
    out = StringIO()
    Console(file=out, width=width, soft_wrap=cli_context.console.soft_wrap).print(renderable)
    return out.getvalue()


def test_paths_are_never_broken_across_lines_at_80_columns():
    assert f"report: {PATH}\n" == printed(f"report: {PATH}")


def test_tables_never_cut_an_id_a_person_must_type():
    """A runs table at 80 columns once showed `alex.analy…`: ids stay whole, on one line."""
    table = id_table(
        "run",
        "project",
        "person",
        "notebook",
        "status",
        "started",
        "outputs",
        ids=("run", "project", "person"),
    )
    ids = ("run-20261204-184512-a1b2", "supporting-families", "alex.analyst")
    table.add_row(*ids, "supporting-families", "succeeded", "2026-12-04 18:45", "12")
    text = printed(table)
    assert "…" not in text
    for one in ids:
        assert one in text, one


def test_a_table_too_wide_for_the_terminal_is_drawn_wider_rather_than_cut_an_id():
    """`tre runs list` at 80 columns once showed `run-20261205-072221-` and `alex.ana`."""
    table = id_table(
        "run", "project", "person", "notebook", "status", "started", "outputs",
        ids=("run", "project", "person", "notebook"),
    )  # fmt: skip
    ids = ("run-20261205-072221-fb24", "supporting-families", "alex.analyst", "families.ipynb")
    table.add_row(*ids, "succeeded", "2026-12-04 18:45", "12")
    text = printed(table)
    assert "…" not in text
    for one in ids:
        assert one in text, one
    assert max(len(line) for line in text.splitlines()) > 80
    narrow = id_table("request", "state", ids=("request",))
    narrow.add_row("req-20261205-273c76", "released")
    assert max(len(line) for line in printed(narrow).splitlines()) < 80  # no wider than needed
