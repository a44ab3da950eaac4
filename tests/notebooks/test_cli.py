from io import StringIO

from rich.console import Console

from notebooks.cli import PREPARING, run_progress


def test_the_run_progress_says_what_happens_before_the_first_cell():
    """The bar once read `cell 0 of None` while the sandbox and kernel started."""
    out = StringIO()
    terminal = Console(file=out, force_terminal=True, width=80)
    with run_progress(terminal) as bar:
        task = bar.add_task("repeat-callers", total=None, step=PREPARING)
        bar.refresh()
        before = out.getvalue()
        bar.update(task, completed=3, total=12, step="cell 3 of 12")
        bar.refresh()
    assert PREPARING in before and "None" not in before and "cell 0" not in before
    assert "cell 3 of 12" in out.getvalue()
