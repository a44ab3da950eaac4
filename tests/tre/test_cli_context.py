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
