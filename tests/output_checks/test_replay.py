"""The airlock's replay of outputs made with ``sdc.safe.sql``: what it verifies, how the
database is locked down, and that nothing it did not verify passes."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from output_checks import checks, replay
from output_checks.checks import CheckOutcome
from sdc import safe
from sdc.errors import SdcError
from sdc.policy import EVIDENCE_SUFFIX, Policy

ROWS = 3000


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(folder):
    files = [
        {"file": p.name, "dataset": p.stem, "rows": None, "sha256": _sha(p)}
        for p in sorted(folder.glob("*.parquet"))
    ]
    (folder / "manifest.json").write_text(json.dumps({"files": files}, indent=1))


def extract_folder(tmp_path, monkeypatch):
    """An empty folder for a project's extract, under the default policy."""
    monkeypatch.delenv("TRE_DISCLOSURE_POLICY", raising=False)
    folder = tmp_path / "data"
    folder.mkdir()
    return folder


@pytest.fixture
def extract(tmp_path, monkeypatch):
    """A project's extract (two datasets and a manifest), and a secret file beside it."""
    folder = extract_folder(tmp_path, monkeypatch)
    rng = np.random.default_rng(7)
    visits = pd.DataFrame(
        {
            "person": [f"P{i:05d}" for i in rng.integers(0, 2000, ROWS)],
            "area": rng.choice(["north", "south", "east", "west"], ROWS),
            "kind": rng.choice(["a", "b", "c"], ROWS),
            "cost": rng.lognormal(5, 1, ROWS),
        }
    )
    visits.loc[:2, "area"] = "island"  # three people: a cell below every threshold
    visits.loc[3, "cost"] = 2e5  # one dominant contribution
    visits.to_parquet(folder / "visits.parquet", index=False)
    pd.DataFrame({"area": ["north", "south"], "population": [900, 1100]}).to_parquet(
        folder / "areas.parquet", index=False
    )
    write_manifest(folder)
    (tmp_path / "secret.csv").write_text("key\nhunter2\n")
    return folder


def made(extract, tmp_path, name, output):
    path = output.save(tmp_path / "out" / name)
    return path, json.loads((path.parent / (name + EVIDENCE_SUFFIX)).read_text())


def test_an_output_made_with_sql_is_verified_by_replay(extract, tmp_path):
    query = safe.sql("SELECT person, area, kind, cost FROM visits WHERE cost > 20", extract=extract)
    outputs = {
        "count.csv": query.crosstab("area", "kind"),
        "mean.csv": query.crosstab(["area"], ["kind"], values="cost", aggfunc="mean"),
    }
    # describe and hist count rows: one row per person
    each = safe.sql(
        "SELECT person, max(cost) AS cost FROM visits WHERE cost > 20 GROUP BY person",
        extract=extract,
    )
    outputs |= {"describe.csv": each.describe("cost"), "hist.csv": each.hist("cost", bins=6)}
    for name, output in outputs.items():
        path, sidecar = made(extract, tmp_path, name, output)
        assert sidecar["replay"]["sql"].startswith("SELECT person, ")
        check, evidence = replay.verify(path, sidecar, extract, Policy())
        assert check.outcome == CheckOutcome.PASS, (name, check.explanation)
        assert check.explanation.startswith("verified by replay")
        assert (
            evidence["verified"]["by"] == "replay" and evidence["kind"] == output.evidence["kind"]
        )
        assert replay.trusted_evidence(checks.as_dicts([check])) == evidence
    # the island's three records are suppressed, by the airlock's own build as by the kernel's
    counts = outputs["count.csv"].result
    assert counts.loc["island"].isna().all()


def test_the_airlocks_policy_is_the_one_that_counts(extract, tmp_path):
    output = safe.sql("SELECT person, area, kind FROM visits", extract=extract).crosstab(
        "area", "kind"
    )
    path, sidecar = made(extract, tmp_path, "t.csv", output)
    check, evidence = replay.verify(path, sidecar, extract, Policy(threshold=300))
    assert check.outcome == CheckOutcome.FAIL and evidence is None
    assert "under the airlock's policy" in check.explanation
    assert "where the replay has empty (suppressed)" in check.explanation


def test_an_analyst_may_ask_for_a_stricter_policy_never_a_looser_one(extract, tmp_path):
    careful = Policy(threshold=300)
    q = safe.sql("SELECT person, area, kind FROM visits", extract=extract, policy=careful)
    path, sidecar = made(extract, tmp_path, "careful.csv", q.crosstab("area", "kind"))
    check, evidence = replay.verify(path, sidecar, extract, Policy())
    assert check.outcome == CheckOutcome.PASS, check.explanation
    assert evidence["policy"]["threshold"] == 300
    # a specification asking for a looser policy than the airlock's is built under the airlock's
    plain = safe.sql("SELECT person, area, kind FROM visits", extract=extract).crosstab(
        "area", "kind"
    )
    path, sidecar = made(extract, tmp_path, "plain.csv", plain)
    sidecar["replay"]["policy"] = Policy(threshold=1, rounding_base=1).to_dict()
    check, evidence = replay.verify(path, sidecar, extract, Policy())
    assert check.outcome == CheckOutcome.PASS and evidence["policy"]["threshold"] == 10
    check, _ = replay.verify(path, sidecar, extract, Policy(threshold=300))
    assert check.outcome == CheckOutcome.FAIL


def test_nothing_unverified_ever_passes(extract, tmp_path):
    plain = safe.crosstab(pd.Series(["x"] * 40 + ["y"] * 60, name="g"))
    path, sidecar = made(extract, tmp_path, "plain.csv", plain)
    check, evidence = replay.verify(path, None, extract, Policy())
    assert (check.outcome, evidence) == (CheckOutcome.REVIEW, None)
    assert check.explanation.startswith("evidence not verified: plain.csv has no evidence file")
    check, _ = replay.verify(path, sidecar, extract, Policy())
    assert check.outcome == CheckOutcome.REVIEW
    assert "without a replay specification" in check.explanation
    assert check.evidence["analyst_claims"]["note"] == "written by the analyst's code: unverified"
    real = safe.sql("SELECT person, area FROM visits", extract=extract).crosstab("area")
    _, real_sidecar = made(extract, tmp_path, "real.csv", real)
    for reason, arguments in {
        "no extract": (path, real_sidecar, None),
        "another extract": (path, real_sidecar | {"replay": {"extract_manifest_sha256": "0"}}),
    }.items():
        full = arguments if len(arguments) == 3 else (*arguments, extract)
        check, _ = replay.verify(full[0], full[1], full[2], Policy())
        assert check.outcome == CheckOutcome.REVIEW, reason
    # check_file without a replay's check says so, and never passes on an evidence file
    results = checks.check_file(path, Policy(), set(), 1 << 20, 5000, [])
    assert checks.outcome_of(results) != CheckOutcome.PASS
    assert any(c.explanation.startswith("evidence not verified") for c in results)


def test_a_forged_file_beside_a_real_specification_fails(extract, tmp_path):
    real = safe.sql("SELECT person, area, kind FROM visits", extract=extract).crosstab(
        "area", "kind"
    )
    path, sidecar = made(extract, tmp_path, "t.csv", real)
    genuine = path.read_text()
    # the island's suppressed cells "raised to the threshold" and shown as 5, and a phantom row
    forged = genuine.replace("island,,,,", "island,5.0,,,5.0")
    assert forged != genuine
    path.write_text(forged)
    check, _ = replay.verify(path, sidecar, extract, Policy())
    assert check.outcome == CheckOutcome.FAIL
    assert "cell island / a is 5.0 where the replay has empty (suppressed)" in check.explanation
    path.write_text(genuine + "phantom,10.0,10.0,10.0,30.0\n")
    check, _ = replay.verify(path, sidecar, extract, Policy())
    assert check.outcome == CheckOutcome.FAIL and "lines where the replay has" in check.explanation
    # a different table under a real specification: the recipe, not the claim, decides
    path.write_text("area,count\nisland,3\nnorth,700\n")
    check, _ = replay.verify(path, sidecar, extract, Policy())
    assert check.outcome == CheckOutcome.FAIL


def test_a_sidecars_cells_are_never_the_airlocks_evidence(extract, tmp_path):
    real = safe.sql("SELECT person, area, kind FROM visits", extract=extract).crosstab(
        "area", "kind"
    )
    path, sidecar = made(extract, tmp_path, "t.csv", real)
    sidecar["cells"].append(dict(sidecar["cells"][0], dims={"area": "phantom", "kind": "a"}))
    for cell in sidecar["cells"]:
        cell["count"] = 1_000
    check, evidence = replay.verify(path, sidecar, extract, Policy())
    assert check.outcome == CheckOutcome.PASS  # the file is genuine...
    areas = {c["dims"]["area"] for c in evidence["cells"]}
    assert "phantom" not in areas  # ...and the airlock's evidence is its own
    island = next(c for c in evidence["cells"] if c["dims"] == {"area": "island", "kind": "All"})
    assert island["count"] == 3


def test_a_changed_extract_file_stops_the_replay(extract, tmp_path):
    real = safe.sql("SELECT person, area FROM visits", extract=extract).crosstab("area")
    path, sidecar = made(extract, tmp_path, "t.csv", real)
    frame = pd.read_parquet(extract / "visits.parquet")
    frame.loc[:200, "area"] = "north"
    frame.to_parquet(extract / "visits.parquet", index=False)  # manifest unchanged
    check, _ = replay.verify(path, sidecar, extract, Policy())
    assert check.outcome == CheckOutcome.FAIL
    assert "visits.parquet does not match its manifest" in check.explanation


ATTACKS = {
    "read another file": "SELECT * FROM read_csv('{secret}')",
    "read it as text": "SELECT * FROM read_text('{secret}')",
    "list files": "SELECT * FROM glob('{folder}/*')",
    "read /etc/passwd": "SELECT * FROM read_csv('/etc/passwd')",
    "write a file": "COPY (SELECT * FROM visits) TO '{folder}/stolen.csv'",
    "write in a select": "SELECT * FROM visits; COPY visits TO '{folder}/stolen.csv'",
    "attach a database": "ATTACH '{folder}/other.db'",
    "install an extension": "INSTALL httpfs",
    "load an extension": "LOAD httpfs",
    "unlock the configuration": "SET enable_external_access = true",
    "reach the network": "SELECT * FROM read_csv('http://127.0.0.1:9/x.csv')",
    "export the database": "EXPORT DATABASE '{folder}/dump'",
    "a second statement": "SELECT 1 AS area; SELECT 2 AS area",
    "profile to a file": "PRAGMA profiling_output = '{folder}/stolen.csv'",
    "a table function over files": "SELECT * FROM read_blob('{secret}')",
}


@pytest.mark.parametrize("attack", list(ATTACKS))
def test_the_query_cannot_reach_beyond_the_extract(extract, tmp_path, attack):
    sql = ATTACKS[attack].format(secret=tmp_path / "secret.csv", folder=tmp_path)
    # in the kernel, safe.sql refuses it...
    with pytest.raises(SdcError):
        safe.sql(sql, extract=extract)
    # ...and a specification forged to carry it fails in the airlock's replay, having done nothing
    real = safe.sql("SELECT person, area FROM visits", extract=extract).crosstab("area")
    path, sidecar = made(extract, tmp_path, "t.csv", real)
    sidecar["replay"]["sql"] = sql
    check, evidence = replay.verify(path, sidecar, extract, Policy())
    assert check.outcome == CheckOutcome.FAIL and evidence is None, check.explanation
    assert "hunter2" not in json.dumps(check.evidence) + check.explanation
    assert not (tmp_path / "stolen.csv").exists() and not (tmp_path / "other.db").exists()
    assert not (tmp_path / "dump").exists()


def test_a_runaway_replay_is_stopped_and_left_to_the_checkers(extract, tmp_path):
    real = safe.sql("SELECT person, area FROM visits", extract=extract).crosstab("area")
    path, sidecar = made(extract, tmp_path, "t.csv", real)
    sidecar["replay"]["sql"] = "SELECT count(*) AS area FROM range(100000000000) a"
    check, _ = replay.verify(path, sidecar, extract, Policy(), time_limit_s=3)
    assert check.outcome == CheckOutcome.REVIEW
    assert "longer than the airlock's limit of 3 s" in check.explanation
    sidecar["replay"]["sql"] = "SELECT list(range) AS area FROM range(400000000) GROUP BY range % 3"
    check, _ = replay.verify(path, sidecar, extract, Policy(), memory_limit_mb=1024)
    assert check.outcome == CheckOutcome.REVIEW, check.explanation
    assert "memory" in check.explanation


def test_specifications_are_checked_before_they_run(extract, tmp_path):
    real = safe.sql("SELECT person, area, cost FROM visits", extract=extract).crosstab("area")
    path, sidecar = made(extract, tmp_path, "t.csv", real)
    for change in (
        {"call": "eval"},
        {"arguments": {"rows": ["area"], "code": "import os"}},
        {"arguments": {"rows": [{"x": 1}]}},
        {"arguments": {"rows": ["nowhere"]}},
        {"version": 99},
    ):
        forged = sidecar | {"replay": sidecar["replay"] | change}
        check, _ = replay.verify(path, forged, extract, Policy())
        assert check.outcome == CheckOutcome.FAIL, change
    for not_a_specification in ("SELECT 1", ["SELECT 1"], 7):
        forged = sidecar | {"replay": not_a_specification}
        check, _ = replay.verify(path, forged, extract, Policy())
        assert check.outcome == CheckOutcome.FAIL, not_a_specification


def test_pictures_are_never_verified_by_replay(extract, tmp_path):
    real = safe.sql("SELECT person, area, kind FROM visits", extract=extract).crosstab(
        "area", "kind"
    )
    real.plot("heatmap")
    path, sidecar = made(extract, tmp_path, "t.png", real)
    check, _ = replay.verify(path, sidecar, extract, Policy())
    assert check.outcome == CheckOutcome.REVIEW and "only a CSV table" in check.explanation


def test_compare_reads_the_file_character_for_character():
    assert replay.compare("a,b\nx,1.0\n", "a,b\nx,1.0\n") == []
    # more digits, however close, are a channel for what the replay did not make
    assert replay.compare("a,b\nx,1.0000000000001\n", "a,b\nx,1.0\n") == [
        "cell x / b is 1.0000000000001 where the replay has 1.0"
    ]
    assert replay.compare("a,b\nX,1.0\n", "a,b\nx,1.0\n") == [
        "cell x / a is X where the replay has x"
    ]
    assert replay.compare("a,b\nx,1.01\n", "a,b\nx,1.0\n") == [
        "cell x / b is 1.01 where the replay has 1.0"
    ]
    assert replay.compare("a,b,c\nx,1,2\n", "a,b\nx,1\n")[0].startswith("line 1 has 3 fields")


def test_a_request_is_replayed_in_one_process_in_order(extract, tmp_path, monkeypatch):
    query = safe.sql("SELECT person, area, kind, cost FROM visits", extract=extract)
    counts, _ = made(extract, tmp_path, "counts.csv", query.crosstab("area", "kind"))
    sums, _ = made(
        extract, tmp_path, "sums.csv", query.crosstab("kind", values="cost", aggfunc="sum")
    )
    forged, _ = made(extract, tmp_path, "forged.csv", query.crosstab("kind"))
    forged.write_text(forged.read_text().replace("\na,", "\na,1"))
    started = []
    real_run = replay.subprocess.run
    monkeypatch.setattr(
        replay.subprocess, "run", lambda *a, **k: started.append(a) or real_run(*a, **k)
    )
    files = [(p, replay.read_sidecar(p)) for p in (counts, sums, forged)]
    files.insert(1, (tmp_path / "out" / "note.md", None))
    results = replay.verify_all(files, extract, Policy())
    assert len(started) == 1
    outcomes = [check.outcome for check, _ in results]
    assert outcomes == [
        CheckOutcome.PASS,
        CheckOutcome.REVIEW,
        CheckOutcome.PASS,
        CheckOutcome.FAIL,
    ]
    assert results[2][1]["aggfunc"] == "sum" and results[0][1]["cols"] == ["kind"]


SANDBOXED = "replay-sandbox"  # a project name of the tests' own (its group is made once)


def test_the_replay_runs_in_a_sandbox_of_its_own_without_root_or_network(extract, tmp_path):
    """An attack on the DuckDB lockdown would land in this process: it must not be root, reach
    the network, or see the machine's folders beyond the kit and the extract."""
    import os
    import shutil
    import subprocess
    import sys

    if os.geteuid() != 0 or shutil.which("bwrap") is None:
        pytest.fail("the replay's sandbox needs root and bubblewrap (.ci/run installs it)")
    probe = (
        "import os, socket, pathlib\n"
        "print(os.getuid(), os.getgroups())\n"
        "print(sorted(p.name for p in pathlib.Path('/tre/data').iterdir()))\n"
        f"print(pathlib.Path({str(tmp_path / 'secret.csv')!r}).exists())\n"
        "root = pathlib.Path('/root')\n"
        "print(sorted(p.name for p in root.iterdir()) if root.exists() else [], "
        "pathlib.Path('/home').exists())\n"
        "s = socket.socket()\n"
        "s.settimeout(2)\n"
        "try:\n"
        "    s.connect(('1.1.1.1', 53)); print('network')\n"
        "except OSError:\n"
        "    print('no network')\n"
    )
    argv, seen = replay.replay_command([sys.executable, "-I", "-c", probe], extract, SANDBOXED)
    assert seen == "/tre/data"
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    ids, listed, secret, homes, network = done.stdout.splitlines()
    uid = int(ids.split()[0])
    assert uid != 0 and uid == __import__("pwd").getpwnam(replay.REPLAY_ACCOUNT).pw_uid
    assert listed == str(sorted(p.name for p in extract.iterdir()))
    # /root is there only as the way to the Python installation, when that lives under it
    base = Path(sys.base_prefix).resolve()
    under_root = [base.relative_to("/root").parts[0]] if base.is_relative_to("/root") else []
    assert homes == f"{under_root} False"
    assert secret == "False" and network == "no network"


def test_a_sandboxed_replay_verifies_what_an_unsandboxed_one_does(extract, tmp_path):
    query = safe.sql("SELECT person, area, kind FROM visits", extract=extract)
    path, sidecar = made(extract, tmp_path, "count.csv", query.crosstab("area", "kind"))
    check, evidence = replay.verify(path, sidecar, extract, Policy(), project=SANDBOXED)
    assert check.outcome == CheckOutcome.PASS, check.explanation
    assert evidence is not None and evidence["verified"]["by"] == "replay"
    # and the lockdown still holds inside it: a query that reads another file is refused
    other = dict(sidecar)
    other["replay"] = dict(sidecar["replay"])
    other["replay"]["sql"] = f"SELECT * FROM read_csv('{tmp_path / 'secret.csv'}')"
    check, evidence = replay.verify(path, other, extract, Policy(), project=SANDBOXED)
    assert check.outcome != CheckOutcome.PASS and evidence is None
    assert "hunter2" not in check.explanation
