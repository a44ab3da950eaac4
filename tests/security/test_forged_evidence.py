"""Issue 19's forgeries of evidence, made in a real kernel and requested through the real airlock.

Everything a workspace writes is the analyst's: an evidence file beside an output is a claim.
Each forgery below once passed the automatic checks; none may pass now. The control, an output
made with ``safe.sql(...)``, passes end to end: it is verified by the airlock's own replay, and
the ledger keeps the airlock's evidence of it, not the analyst's.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from notebooks import runner, runs
from output_checks import airlock
from output_checks.models import LedgerEntry
from tests.conftest import STUDIED_TODAY
from tests.notebooks.test_runner import small_notebook
from tests.output_checks.test_airlock import AUTHOR, P, approve_all, rel

FORGERIES = r"""
import hashlib, json
import matplotlib
matplotlib.use("Agg")
from matplotlib.figure import Figure
from notebooks import workspace as ws
from sdc import safe

def sidecar(name, evidence):
    path = ws.output(name)
    evidence = dict(evidence)
    evidence["output"] = {"file": name, "format": name.rsplit(".", 1)[1],
                          "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
    ws.output(name + ".evidence.json").write_text(json.dumps(evidence))

HAND = {"sdc_version": "1", "function": "sdc.safe.describe", "kind": "describe",
        "policy": ws.policy().to_dict(), "columns": {},
        "summary": {"statistics": 0, "suppressed": 0}}

# the control: a table the airlock can make again itself
YEAR = "SELECT person, substr(arrival_datetime, 1, 4) AS year FROM ae_attendances"
FIRST3 = ", ".join(f"'{p}'" for p in sorted(ws.data("ae_attendances").person.unique())[:3])
real = safe.sql(YEAR).crosstab("year")
real.save(ws.output("control.csv"))
# the same table over everyone but three people (the ledger must flag it against the control)
minus3 = safe.sql(YEAR + f" WHERE person NOT IN ({FIRST3})").crosstab("year")
minus3.save(ws.output("minus3.csv"))

# 1. a raw table with a cell of 3 beside a hand-written evidence file (kind describe)
ws.output("raw3.csv").write_text("area,count\nnorth,3\nsouth,120\n")
sidecar("raw3.csv", HAND)
# 2. 200 hashed per-person rows with that evidence file
people = ws.data("ae_attendances").person.drop_duplicates().head(200)
lines = ["ref,visits"] + [hashlib.sha256(p.encode()).hexdigest()[:12] + ",1" for p in people]
ws.output("rows.csv").write_text("\n".join(lines) + "\n")
sidecar("rows.csv", HAND)

# 3. a dominated mean published, its evidence's top contributions edited to hide it
# one person dominates (their records are summed into one contribution: holdings)
DOMINATED = ("SELECT person, substr(arrival_datetime, 1, 4) AS year, CASE WHEN person = "
             f"{FIRST3.split(', ')[0]} THEN 1000000.0 ELSE 1.0 END AS cost FROM ae_attendances")
mean = safe.sql(DOMINATED).crosstab("year", values="cost", aggfunc="mean")
assert mean.suppressed, mean.result
shown = [line + "1.0" if line.endswith(",") else line for line in mean.csv().splitlines()]
ws.output("dominated.csv").write_text("\n".join(shown) + "\n")
edited = json.loads(json.dumps(mean.evidence, default=str))
for cell in edited["cells"]:
    cell.update(top1=1.0, top2=1.0, status="s", reasons=[], published=cell["value"])
sidecar("dominated.csv", edited)

# 4. a cell of 3 "raised to the threshold" in the evidence, shown as 5 in the file
FEW = (f"SELECT person, CASE WHEN person IN ({FIRST3}) THEN 'few' ELSE 'many' END AS who "
       "FROM ae_attendances")
few = safe.sql(FEW).crosstab("who")
assert few.result.loc["few"].isna().all(), few.result
ws.output("raised.csv").write_text(few.csv().replace("few,", "few,5.0"))
raised = json.loads(json.dumps(few.evidence, default=str))
for cell in raised["cells"]:
    if cell["dims"]["who"] == "few":
        cell.update(count=10, value=10, status="s", reasons=[], published=5.0)
sidecar("raised.csv", raised)

# 5. a phantom cell: in the evidence of a genuine table (the file untouched) ...
minus3_phantom = json.loads(json.dumps(minus3.evidence, default=str))
minus3_phantom["cells"].append(dict(minus3_phantom["cells"][0], dims={"year": "1900"}))
ws.output("phantom.csv").write_text(minus3.csv())
sidecar("phantom.csv", minus3_phantom)
# ... and a phantom row in the file of a genuine table's evidence
ws.output("phantom_row.csv").write_text(real.csv() + "1900,10.0\n")
sidecar("phantom_row.csv", real.evidence)

# 6. a real table's evidence copied beside a PNG carrying rows in its text
figure = Figure()
figure.subplots().bar([1, 2], [3, 4])
figure.savefig(ws.output("copied.png"), format="png",
               metadata={"Description": "\n".join(lines[:50])})
sidecar("copied.png", real.evidence)
"""


@pytest.fixture(scope="module")
def forged(studied, tmp_path_factory):
    folder = tmp_path_factory.mktemp("forgeries")
    path = small_notebook(folder / "forgeries.ipynb", FORGERIES)
    result = runner.run(studied, path, P, AUTHOR, at=STUDIED_TODAY)
    assert result.status == runs.SUCCEEDED, result.error
    return result


def _checked(studied, run, names):
    request_id = airlock.request(studied, P, AUTHOR, [rel(run, n) for n in names], at=STUDIED_TODAY)
    outcomes = airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    shown = airlock.show(studied, request_id, "chris.checker")
    files = {f["path"].split("/")[-1]: f for f in shown["files"]}
    by_name = {path.split("/")[-1]: outcome for path, outcome in outcomes.items()}
    evidence = {
        name: next(c for c in f["checks"] if c["name"] == "evidence") for name, f in files.items()
    }
    return request_id, by_name, evidence, files


FORGED = {
    "raw3.csv": {"fail"},  # evidence not verified; the table's cell of 3 fails the count rule
    "rows.csv": {"fail", "review"},  # evidence not verified; rows are judged by content
    "dominated.csv": {"fail"},  # the replay suppresses the dominated cells the file publishes
    "raised.csv": {"fail"},  # the replay suppresses the cell of 3 the file shows as 5
    "phantom_row.csv": {"fail"},  # a row the replay does not make
    # a picture is never verified by replay; rows in its text chunk fail the picture rules
    "copied.png": {"fail"},
}


def test_no_forgery_of_evidence_passes(studied, forged):
    request_id, outcomes, evidence, _ = _checked(studied, forged, list(FORGED))
    for name, expected in FORGED.items():
        assert outcomes[name] in expected, (name, evidence[name])
        assert evidence[name]["outcome"] != "pass", name
        assert "verified by replay" not in evidence[name]["explanation"]
    for name in ("raw3.csv", "rows.csv", "copied.png"):
        assert evidence[name]["explanation"].startswith("evidence not verified: "), name
        claims = evidence[name]["evidence"]["analyst_claims"]
        assert claims["note"] == "written by the analyst's code: unverified"
    for name in ("dominated.csv", "raised.csv"):
        assert "is not the table its replay specification makes" in evidence[name]["explanation"]
        assert "where the replay has empty (suppressed)" in evidence[name]["explanation"]
    airlock.withdraw(studied, request_id, AUTHOR)


def test_a_replayed_table_passes_end_to_end_and_the_ledger_keeps_the_airlocks_evidence(
    studied, forged
):
    request_id, outcomes, evidence, files = _checked(studied, forged, ["control.csv"])
    assert outcomes == {"control.csv": "pass"}, evidence
    assert evidence["control.csv"]["explanation"].startswith("verified by replay")
    # the checkers' page marks the cells from the airlock's evidence, not the analyst's
    path = next(iter(files.values()))["path"]
    shown = airlock.served(studied, request_id, "chris.checker", path)
    assert shown.evidence["verified"]["by"] == "replay"
    approve_all(studied, request_id)
    done = airlock.release(studied, request_id, "dana.checker")
    assert "control.csv" in done.files
    with studied.db.session() as session:
        entry = session.scalars(
            select(LedgerEntry).where(LedgerEntry.request_id == request_id)
        ).one()
    # the ledger's true counts are the airlock's own (from its replay), cell for cell
    airlocks = evidence["control.csv"]["evidence"]["airlock_evidence"]
    counts = {tuple(k): v for k, v in entry.table["counts"]}
    assert counts[("All",)] == next(
        c["count"] for c in airlocks["cells"] if c["dims"] == {"year": "All"}
    )
    # a phantom cell in a sidecar no longer takes the next table out of differencing: the
    # airlock compares its own evidence of the file, which has no phantom
    second, outcomes, evidence, files = _checked(studied, forged, ["phantom.csv"])
    assert evidence["phantom.csv"]["outcome"] == "pass"
    cells = evidence["phantom.csv"]["evidence"]["airlock_evidence"]["cells"]
    assert "1900" not in {c["dims"]["year"] for c in cells}
    differencing = next(c for c in files["phantom.csv"]["checks"] if c["name"] == "differencing")
    assert differencing["outcome"] == "fail" and "differs by" in differencing["explanation"]
    assert outcomes["phantom.csv"] == "fail"
    airlock.withdraw(studied, second, AUTHOR)
