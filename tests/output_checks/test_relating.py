"""Rows split over several requests are related by the airlock itself, from its own copies."""

import pytest

from notebooks import runner, runs
from output_checks import airlock
from tests.conftest import STUDIED_TODAY
from tests.notebooks.test_runner import small_notebook
from tests.output_checks.test_airlock import AUTHOR, P, rel

PIECES = """
import numpy as np
from notebooks import workspace as ws

rng = np.random.default_rng(7)
areas, bands = ["north", "south", "east", "west"], ["18-39", "40-64", "65+"]
rows = [(areas[i % 4], bands[i % 3], rng.lognormal(7, 1)) for i in range(36)]
for k in range(3):
    lines = ["area,age_band,cost"] + [f"{a},{b},{c:.2f}" for a, b, c in rows[k::3]]
    ws.output(f"piece{k}.csv").write_text("\\n".join(lines) + "\\n")
ws.output("table.csv").write_text("area,people\\nnorth,120\\nsouth,85\\n")
"""


@pytest.fixture(scope="module")
def pieces(studied, tmp_path_factory):
    folder = tmp_path_factory.mktemp("pieces")
    path = small_notebook(folder / "pieces.ipynb", PIECES)
    result = runner.run(studied, path, P, AUTHOR, at=STUDIED_TODAY)
    assert result.status == runs.SUCCEEDED, result.error
    return result


def checks_of(studied, request_id, name):
    shown = airlock.show(studied, request_id, "chris.checker")
    item = next(f for f in shown["files"] if f["path"].endswith(name))
    return {c["name"]: c for c in item["checks"]}


def submitted(studied, run, names):
    request_id = airlock.request(studied, P, AUTHOR, [rel(run, n) for n in names], at=STUDIED_TODAY)
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    return request_id


def test_rows_split_over_three_requests_are_related_and_a_table_is_not(studied, pieces):
    first = submitted(studied, pieces, ["piece0.csv"])
    assert checks_of(studied, first, "piece0.csv")["microdata"]["outcome"] == "pass"
    submitted(studied, pieces, ["piece1.csv"])
    third = submitted(studied, pieces, ["piece2.csv", "table.csv"])
    related = checks_of(studied, third, "piece2.csv")["related rows"]
    assert related["outcome"] != "pass", related
    assert "piece0.csv" in related["explanation"] and "piece1.csv" in related["explanation"]
    assert checks_of(studied, third, "table.csv")["related rows"]["outcome"] == "pass"
