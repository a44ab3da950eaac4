"""Fixtures shared by the airlock's tests."""

import pytest

from output_checks.tables import parse_table


@pytest.fixture(scope="session")
def study_tables(studied):
    """The tables of the four demo studies, in the order the demo releases them."""
    from notebooks import runner, runs
    from tests.conftest import STUDIED_TODAY

    found = []
    for name in runner.studies():
        result = runner.run(studied, name, "supporting-families", "alex.analyst", at=STUDIED_TODAY)
        assert result.status == runs.SUCCEEDED, result.error
        for path in sorted(result.files.glob("*.csv")):
            table = parse_table(path.read_bytes(), ".csv")
            if table is not None:
                found.append((f"{name}/{path.name}", table))
    return found


def notebook_file(folder, name: str, source: str):
    """A notebook NAME in FOLDER of one code cell, SOURCE (Python 3); its path."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    nb = new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = [new_code_cell(source)]
    path = folder / name
    nbformat.write(nb, path)
    return path


def run_code(instance, folder, code: str, name: str):
    """Run CODE as a one-cell notebook NAME in FOLDER, as alex.analyst on the demo project;
    the run (its files under ``data/``)."""
    from notebooks import runner, runs
    from tests.conftest import STUDIED_TODAY

    path = notebook_file(folder, name, code)
    result = runner.run(instance, path, "supporting-families", "alex.analyst", at=STUDIED_TODAY)
    assert result.status == runs.SUCCEEDED, result.error
    return result
