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
