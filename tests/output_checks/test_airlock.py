import shutil
import threading
from contextlib import contextmanager

import pytest

from notebooks import runner, runs
from output_checks import airlock
from output_checks import release as releasing
from output_checks.airlock import AirlockError
from output_checks.events import EVENT_OF_MOVE
from output_checks.states import OWNERS, TRANSITIONS, WORKFLOW, RequestAction, RequestState
from tests.conftest import POSTGRES_URL, STUDIED_TODAY
from tests.output_checks.conftest import notebook_file
from tre import audit, crate
from tre.errors import Refused
from tre.folders import ProjectFolders, publish
from tre.states import MoveNotAllowed

S, A = RequestState, RequestAction

P = "supporting-families"
AUTHOR = "alex.analyst"

TABLES = """
import numpy as np
import pandas as pd
from notebooks import workspace as ws
from sdc import safe

rng = np.random.default_rng(1)
df = pd.DataFrame({"area": np.repeat(["north", "south", "east"], 60),
                   "kind": np.tile(["a", "b", "c"], 60)})
safe.crosstab(df.area, df.kind).save(ws.output("base.csv"))
safe.crosstab(df.area.iloc[3:], df.kind.iloc[3:]).save(ws.output("minus3.csv"))
small = pd.DataFrame({"group": ["g1"] * 40 + ["g2"] * 43,
                      "flag": ["y"] * 37 + ["n"] * 3 + ["y"] * 20 + ["n"] * 23})
safe.crosstab(small.group, small.flag, margins=False).save(ws.output("suppressed.csv"))
safe.crosstab(small.group).save(ws.output("onedim.csv"))
ages = pd.Series(["18-24"] * 40 + ["25-34"] * 50, name="age")
safe.crosstab(ages).save(ws.output("ages.csv"))
wider = pd.Series(["18-25"] * 43 + ["26-34"] * 47, name="age")
safe.crosstab(wider).save(ws.output("ages_wider.csv"))
extract = ws.data("ae_attendances")
extract.head(30).to_csv(ws.output("people.csv"), index=False)
extract.head(30).to_csv(ws.output("people.png"), index=False)
extract.head(30).rename(columns={"person": "ref"}).to_csv(ws.output("people.txt"), index=False)
hand = pd.DataFrame({"area": ["north", "south"], "count": [3, 120]})
hand.to_csv(ws.output("hand.csv"), index=False)
ws.output("note.md").write_text("# A note\\nNo numbers here.")
years = ("SELECT person, substr(arrival_datetime, 1, 4) AS year, lsoa_code IS NULL AS no_area "
         "FROM ae_attendances")
safe.sql(years).crosstab("year", "no_area").save(ws.output("replayed.csv"))
"""


@pytest.fixture(scope="module")
def outputs(studied, tmp_path_factory):
    folder = tmp_path_factory.mktemp("nb")
    path = notebook_file(folder, "tables.ipynb", TABLES)
    result = runner.run(studied, path, P, AUTHOR, at=STUDIED_TODAY)
    assert result.status == runs.SUCCEEDED, result.error
    failing = notebook_file(
        folder,
        "fails.ipynb",
        "from notebooks import workspace as ws\n"
        "ws.output('x.csv').write_text('a,b\\n1,2\\n')\nraise ValueError()",
    )
    failed = runner.run(studied, failing, P, AUTHOR, at=STUDIED_TODAY)
    return {"run": result, "failed": failed}


def rel(result, name):
    return f"{result.id}/data/{name}"


def approve_all(studied, request_id, checkers=("chris.checker", "dana.checker")):
    shown = airlock.show(studied, request_id, checkers[0])
    for checker in checkers:
        for item in shown["files"]:
            if not item["supporting"]:
                airlock.review(studied, request_id, checker, item["path"], "approve")
        airlock.submit_review(studied, request_id, checker)


def vote(studied, request_id, checker, file, choice, **options):
    """CHECKER's vote on FILE, the one file of the request, and their review submitted."""
    airlock.review(studied, request_id, checker, file, choice, **options)
    return airlock.submit_review(studied, request_id, checker)


def test_every_state_has_one_owner_and_every_transition_one_rule():
    for state in RequestState:
        assert sum(state in states for states in OWNERS.values()) == 1, state
    moves = [(t.source, t.action) for t in TRANSITIONS]
    assert len(moves) == len(set(moves))
    for t in TRANSITIONS:
        assert WORKFLOW.transition(t.source, t.action) is t
    # a review goes to partly reviewed or reviewed by its own move, never by the first rule found
    assert WORKFLOW.transition(S.SUBMITTED, A.REVIEW_PARTLY).target == S.PARTIALLY_REVIEWED
    assert WORKFLOW.transition(S.SUBMITTED, A.REVIEW).target == S.REVIEWED
    assert WORKFLOW.transition(S.PARTIALLY_REVIEWED, A.REVIEW).target == S.REVIEWED
    assert WORKFLOW.final() == [S.RELEASED, S.REJECTED, S.WITHDRAWN]
    with pytest.raises(MoveNotAllowed, match="is submitted: 'release' is possible only from app"):
        WORKFLOW.transition(S.SUBMITTED, A.RELEASE, "request r1")
    with pytest.raises(MoveNotAllowed, match="is released: 'submit' is possible only from pending"):
        WORKFLOW.transition(S.RELEASED, A.SUBMIT, "request r1")


def test_every_move_is_audited_under_its_own_name():
    assert set(EVENT_OF_MOVE) == set(RequestAction)
    for action, event in EVENT_OF_MOVE.items():
        expected = "review" if action == A.REVIEW_PARTLY else action.value
        assert event == f"airlock.{expected}"


def test_requests_are_refused_outside_the_projects_outputs(studied, outputs, tmp_path):
    run = outputs["run"]
    base = ProjectFolders.of(studied, P).outputs
    cases = {
        str(tmp_path / "elsewhere.csv"): "only files in project",
        f"{run.id}/data/../data/base.csv": "'..' is not allowed",
        str(
            studied.folder("projects") / P / "data" / "ae_attendances.parquet"
        ): "extract can never",
        rel(run, "base.csv.evidence.json"): "evidence files stay in the airlock",
        rel(outputs["failed"], "x.csv"): "nothing of a failed run can be requested",
        rel(run, "notebook.ipynb"): "notebook and records stay inside",
        rel(run, "missing.csv"): "no such file",
    }
    (tmp_path / "elsewhere.csv").write_text("a,b\n")
    link = base / run.id / "data" / "link.csv"
    link.symlink_to(tmp_path / "elsewhere.csv")
    cases[rel(run, "link.csv")] = "symbolic link"
    for path, reason in cases.items():
        with pytest.raises(Refused, match=reason):
            airlock.request(studied, P, AUTHOR, [path], at=STUDIED_TODAY)
    link.unlink()
    with pytest.raises(Refused, match="is not a member"):
        airlock.request(studied, P, "eve.outsider", [rel(run, "base.csv")], at=STUDIED_TODAY)


def test_automatic_checks_block_microdata_even_renamed(studied, outputs):
    run = outputs["run"]
    request_id = airlock.request(
        studied,
        P,
        AUTHOR,
        [
            rel(run, n)
            for n in (
                "people.csv",
                "people.png",
                "people.txt",
                "hand.csv",
                "note.md",
                "base.csv",
                "replayed.csv",
            )
        ],
        at=STUDIED_TODAY,
    )
    outcomes = airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    by_name = {path.split("/")[-1]: outcome for path, outcome in outcomes.items()}
    assert by_name["people.csv"] == "fail"
    assert by_name["people.png"] == "fail"  # a CSV named .png: content, not name
    assert by_name["people.txt"] == "fail"  # pseudonyms found even without a person column
    assert by_name["hand.csv"] == "fail"  # a hand-made count table with a cell of 3
    assert by_name["note.md"] == "review"
    # made with sdc.safe in the kernel: its evidence file is the analyst's claim, not verified
    assert by_name["base.csv"] == "review"
    # made with safe.sql(...): the airlock made it again itself and got the same file
    assert by_name["replayed.csv"] == "pass"
    shown = airlock.show(studied, request_id, "chris.checker")
    base = next(f for f in shown["files"] if f["path"].endswith("base.csv"))
    evidence = next(c for c in base["checks"] if c["name"] == "evidence")
    assert evidence["explanation"].startswith("evidence not verified: ")
    hand = next(f for f in shown["files"] if f["path"].endswith("hand.csv"))
    assert any("below the threshold of 10" in c["explanation"] for c in hand["checks"])
    airlock.withdraw(studied, request_id, AUTHOR)


def interrupted_after(step):
    """STEP, then an interruption (Ctrl-C) of the release."""

    def step_then_interrupt(*args, **kwargs):
        step(*args, **kwargs)
        raise KeyboardInterrupt(f"interrupted after {step.__name__}")

    return step_then_interrupt


@contextmanager
def interrupted_after_publishing(*args, **kwargs):
    with publish(*args, **kwargs) as staged:
        yield staged
    raise KeyboardInterrupt("interrupted after the release's folder was published")


def test_review_is_blinded_excludes_the_team_and_releases_atomically(studied, outputs, monkeypatch):
    run = outputs["run"]
    request_id = airlock.request(
        studied,
        P,
        AUTHOR,
        [rel(run, "replayed.csv")],
        group="tables",
        context="<script>alert(1)</script> contacts by area",
        controls="made with sdc.safe",
        at=STUDIED_TODAY,
    )
    with pytest.raises(AirlockError, match="not under review"):
        airlock.review(studied, request_id, "chris.checker", "replayed.csv", "approve")
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    for person, reason in [
        (AUTHOR, "is the author"),
        ("bea.analyst", "separation of duties"),
        ("eve.outsider", "output_checker role"),
    ]:
        with pytest.raises(Refused, match=reason):
            airlock.review(studied, request_id, person, "replayed.csv", "approve")
    state = vote(
        studied,
        request_id,
        "chris.checker",
        "replayed.csv",
        "approve",
        comment="fine",
        private=True,
    )
    assert state == "partially_reviewed"
    # blinded: the other checker and the author see no vote of chris's yet
    seen = airlock.show(studied, request_id, "dana.checker")["files"][0]
    assert seen["votes"] == [] and seen["decision"] == "incomplete" and seen["votes_in"] == 1
    assert airlock.show(studied, request_id, AUTHOR)["comments"] == []
    assert vote(studied, request_id, "dana.checker", "replayed.csv", "approve") == "approved"
    seen = airlock.show(studied, request_id, "dana.checker")["files"][0]
    assert {v["checker"] for v in seen["votes"]} == {"chris.checker", "dana.checker"}
    # a release interrupted at any point leaves nothing or everything, and re-running completes it
    area = studied.folder("releases") / P / request_id
    for where, fault in (
        (shutil, "copyfile"),  # after the first file is copied
        (releasing, "_release_crate"),  # once every file and the manifest are there
    ):
        with monkeypatch.context() as patched:
            patched.setattr(where, fault, interrupted_after(getattr(where, fault)))
            with pytest.raises(KeyboardInterrupt):
                airlock.release(studied, request_id, "chris.checker")
        assert not area.exists() and not (area.parent / f".{request_id}.staging").exists()
    with monkeypatch.context() as patched:  # published, but not yet recorded
        patched.setattr(releasing, "publish", interrupted_after_publishing)
        with pytest.raises(KeyboardInterrupt):
            airlock.release(studied, request_id, "chris.checker")
    assert area.exists()
    assert airlock.show(studied, request_id, AUTHOR)["state"] == "approved"
    done = airlock.release(studied, request_id, "chris.checker")
    assert done.files == ["manifest.json", "replayed.csv", "ro-crate-metadata.json"]
    assert airlock.show(studied, request_id, AUTHOR)["state"] == "released"
    parsed = crate.read(done.folder)
    assessed = parsed.of_type("AssessAction")
    assert {a["result"] for a in assessed} >= {"pass", "approve"}
    assert "manifest-sha512.txt" in [p.name for p in done.folder.iterdir()]
    # immutable: read-only files in read-only folders (root can still write: see the README)
    assert (done.folder / "data" / "replayed.csv").stat().st_mode & 0o777 == 0o440
    assert done.folder.stat().st_mode & 0o777 == 0o550
    with pytest.raises(AirlockError, match="was released"):
        airlock.release(studied, request_id, "chris.checker")
    from projects import register

    with studied.db.session() as session:
        entry = next(
            e for e in register.entries(session, releases=airlock.release_dates) if e["id"] == P
        )
        bare = next(e for e in register.entries(session) if e["id"] == P)
    assert entry["releases"] >= 1 and entry["release_dates"]
    assert "releases" not in bare  # the counter is wired by the caller, never by an import


def test_differencing_flags_the_three_patterns(studied, outputs):
    run = outputs["run"]
    first = airlock.request(
        studied,
        P,
        AUTHOR,
        [rel(run, "base.csv"), rel(run, "suppressed.csv"), rel(run, "ages.csv")],
        at=STUDIED_TODAY,
    )
    airlock.submit(studied, first, AUTHOR, at=STUDIED_TODAY)
    approve_all(studied, first)
    airlock.release(studied, first, "dana.checker")
    second = airlock.request(
        studied,
        P,
        AUTHOR,
        [rel(run, "minus3.csv"), rel(run, "onedim.csv"), rel(run, "ages_wider.csv")],
        at=STUDIED_TODAY,
    )
    airlock.submit(studied, second, AUTHOR, at=STUDIED_TODAY)
    shown = airlock.show(studied, second, "chris.checker")
    flags = {
        f["path"].split("/")[-1]: next(c for c in f["checks"] if c["name"] == "differencing")
        for f in shown["files"]
    }
    assert flags["minus3.csv"]["outcome"] == "fail"
    # read from the file (the sidecar's true counts are not trusted): 180 people published
    # as 180 and 177 as 175
    assert "area=north in the margin over area" in flags["minus3.csv"]["explanation"]
    assert "differs by about 5" in flags["minus3.csv"]["explanation"]
    assert flags["onedim.csv"]["outcome"] == "fail"
    assert "suppressed the cell" in flags["onedim.csv"]["explanation"]
    assert flags["ages_wider.csv"]["outcome"] == "review"
    assert "reveals a group of about 5 people" in flags["ages_wider.csv"]["explanation"]
    airlock.reject(studied, second, "chris.checker", "differencing")
    stats = airlock.stats(studied)
    assert stats["rejection_reasons"]["differencing"] >= 1
    assert stats["files_decided"] >= 3


def assert_both_votes_recorded(instance, request_id):
    """Two checkers vote on note.md at the same moment; both votes must count."""
    barrier, errors = threading.Barrier(2), []

    def both_vote(checker):
        barrier.wait()
        try:
            vote(instance, request_id, checker, "note.md", "approve")
        except Exception as exc:  # collected for the assertion
            errors.append(exc)

    threads = [
        threading.Thread(target=both_vote, args=(c,)) for c in ("chris.checker", "dana.checker")
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    shown = airlock.show(instance, request_id, "chris.checker")
    assert shown["files"][0]["votes_in"] == 2 and shown["state"] == "approved"


def test_two_concurrent_votes_are_both_recorded(studied, outputs):
    run = outputs["run"]
    request_id = airlock.request(studied, P, AUTHOR, [rel(run, "note.md")], at=STUDIED_TODAY)
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    assert_both_votes_recorded(studied, request_id)


def test_returned_requests_get_a_new_turn_and_conflicts_need_another_checker(studied, outputs):
    run = outputs["run"]
    request_id = airlock.request(studied, P, AUTHOR, [rel(run, "note.md")], at=STUDIED_TODAY)
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    vote(studied, request_id, "chris.checker", "note.md", "approve")
    state = vote(
        studied,
        request_id,
        "dana.checker",
        "note.md",
        "changes",
        comment="say what the note is for",
    )
    assert state == "reviewed"
    assert (
        airlock.show(studied, request_id, "chris.checker")["files"][0]["decision"] == "conflicted"
    )
    airlock.return_request(studied, request_id, "dana.checker", "explain the note")
    with pytest.raises(Refused, match="only alex.analyst"):
        airlock.submit(studied, request_id, "bea.analyst", at=STUDIED_TODAY)
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    shown = airlock.show(studied, request_id, AUTHOR)
    assert shown["turn"] == 2 and shown["state"] == "submitted"
    with pytest.raises(AirlockError, match="with a reason"):
        airlock.reject(studied, request_id, "chris.checker", "  ")
    airlock.withdraw(studied, request_id, AUTHOR)
    with pytest.raises(AirlockError, match="withdrawn by the author: it cannot be submit"):
        airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)


def test_a_changed_file_fails_its_integrity_check(studied, outputs, tmp_path):
    run = outputs["run"]
    path = ProjectFolders.of(studied, P).outputs / rel(run, "note.md")
    saved = tmp_path / "note.md"
    shutil.copyfile(path, saved)
    request_id = airlock.request(studied, P, AUTHOR, [rel(run, "note.md")], at=STUDIED_TODAY)
    path.write_text("# changed after it was added\n")
    outcomes = airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    assert list(outcomes.values()) == ["fail"]
    shutil.copyfile(saved, path)
    airlock.withdraw(studied, request_id, AUTHOR)


@pytest.mark.skipif(not POSTGRES_URL, reason="needs TRE_TEST_DATABASE_URL (CI sets it)")
def test_two_concurrent_votes_are_both_recorded_on_postgresql(tmp_path):
    """The same race on PostgreSQL, in a schema of its own so other tests' resets leave it."""
    from sqlalchemy import create_engine, text

    from app.demo import projects as demo_projects
    from app.schema import init_instance
    from notebooks.models import Run

    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS airlock_race CASCADE"))
        connection.execute(text("CREATE SCHEMA airlock_race"))
    engine.dispose()
    url = (
        POSTGRES_URL
        + ("&" if "?" in POSTGRES_URL else "?")
        + ("options=-csearch_path%3Dairlock_race")
    )
    created = init_instance(tmp_path / "instance", url, actor="ops")
    try:
        demo_projects.populate(created, "ops", STUDIED_TODAY)
        demo_projects.approve_project(created)
        folder = created.folder("projects") / P / "outputs" / "run-race" / "data"
        folder.mkdir(parents=True)
        (folder / "note.md").write_text("# A note without numbers\n")
        with created.db.session() as session:
            session.add(
                Run(
                    id="run-race",
                    project_id=P,
                    project_version=1,
                    person=AUTHOR,
                    notebook="n.ipynb",
                    notebook_sha256="0" * 64,
                    parameters={},
                    inputs=[],
                    kit_version="test",
                    packages={},
                    kernel="python3",
                    started="2026-06-01T00:00:00Z",
                    ended="2026-06-01T00:00:01Z",
                    status=runs.SUCCEEDED,
                    error="",
                    outputs=[],
                    undeclared=[],
                    folder=str(folder.parent),
                )
            )
        request_id = airlock.request(
            created, P, AUTHOR, ["run-race/data/note.md"], at=STUDIED_TODAY
        )
        airlock.submit(created, request_id, AUTHOR, at=STUDIED_TODAY)
        assert_both_votes_recorded(created, request_id)
    finally:
        created.db.dispose()


def test_a_release_killed_mid_copy_leaves_nothing_and_completes_when_run_again(studied, outputs):
    import subprocess
    import sys

    run = outputs["run"]
    request_id = airlock.request(
        studied, P, AUTHOR, [rel(run, "base.csv"), rel(run, "ages.csv")], at=STUDIED_TODAY
    )
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    approve_all(studied, request_id)
    # the process is killed for real once the first file is copied
    script = (
        "import os, shutil, signal, sys\n"
        "from tre.instance import open_instance\n"
        "from output_checks import airlock\n"
        "copy = shutil.copyfile\n"
        "def copy_then_die(*args, **kwargs):\n"
        "    copy(*args, **kwargs)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "shutil.copyfile = copy_then_die\n"
        "airlock.release(open_instance(sys.argv[1]), sys.argv[2], 'chris.checker')\n"
    )
    killed = subprocess.run(
        [sys.executable, "-c", script, str(studied.home), request_id],
        capture_output=True,
        text=True,
    )
    assert killed.returncode == -9  # SIGKILL, mid-copy
    area = studied.folder("releases") / P
    assert not (area / request_id).exists()
    assert (area / f".{request_id}.staging").exists()  # what the killed release left
    assert airlock.show(studied, request_id, AUTHOR)["state"] == "approved"
    done = airlock.release(studied, request_id, "chris.checker")
    assert done.files == ["ages.csv", "base.csv", "manifest.json", "ro-crate-metadata.json"]
    assert not (area / f".{request_id}.staging").exists()


def test_a_release_request_from_outside_a_workspace_says_what_to_do(studied, monkeypatch):
    """A notebook requests through the workspace's relay only (tests/security shows it working
    from a real kernel); with an instance at hand it still has no way in."""
    from notebooks import workspace
    from notebooks.workspace import WorkspaceError

    monkeypatch.setenv("TRE_HOME", str(studied.home))  # ignored: never a way to the instance
    monkeypatch.delenv("TRE_SERVICE_SOCKET", raising=False)
    monkeypatch.setenv("TRE_PROJECT", P)
    with pytest.raises(WorkspaceError, match="not a project's JupyterLab workspace"):
        workspace.request_release(["base.csv"])


def test_the_outputs_cli(studied, outputs, run_cli, monkeypatch):
    import json

    run = outputs["run"]
    monkeypatch.setenv("TRE_ACTOR", AUTHOR)
    code, out, err = run_cli(
        "outputs",
        "request",
        "--project",
        P,
        rel(run, "note.md"),
        "--group",
        "notes",
        "--context",
        "a note",
        "--controls",
        "none",
        home=studied.home,
    )
    assert code == 0, err
    request_id = out.strip()
    code, out, err = run_cli("outputs", "submit", request_id, home=studied.home)
    assert code == 0 and "review" in out, err
    code, out, _ = run_cli("outputs", "show", request_id, "--json", home=studied.home)
    assert json.loads(out)["groups"]["notes"]["context"] == "a note"
    code, out, err = run_cli(
        "outputs",
        "review",
        request_id,
        "--file",
        "note.md",
        "--vote",
        "approve",
        home=studied.home,
        account=AUTHOR,
    )
    assert code != 0 and "is the author" in err
    monkeypatch.delenv("TRE_ACTOR")
    # a vote, a release or a rejection is taken only from the checker's own sign-in
    code, out, err = run_cli(
        "--actor",
        "chris.checker",
        "outputs",
        "review",
        request_id,
        "--file",
        "note.md",
        "--vote",
        "approve",
        home=studied.home,
    )
    assert code == 3 and "cannot name a decider" in err
    with studied.db.session() as session:
        refused = [e for e in audit.events(session) if e.action == "access.refused"][-1]
    assert refused.actor == "operator:root" and "outputs review" in refused.object_id
    code, out, err = run_cli(
        "--actor",
        "dana.checker",
        "outputs",
        "review",
        request_id,
        "--file",
        "note.md",
        "--vote",
        "approve",
        home=studied.home,
        account="chris.checker",
    )
    assert code == 3 and "signed in to this machine as chris.checker" in err
    code, out, _ = run_cli("outputs", "queue", home=studied.home, account="chris.checker")
    assert request_id in out
    code, out, err = run_cli(
        "outputs",
        "review",
        request_id,
        "--file",
        "note.md",
        "--vote",
        "approve",
        "--comment",
        "fine",
        home=studied.home,
        account="chris.checker",
    )
    assert code == 0 and "draft vote recorded" in out and "submit-review" in out, err
    code, out, _ = run_cli("outputs", "queue", home=studied.home, account="chris.checker")
    assert "1 of 1 voted, not submitted" in out
    code, out, err = run_cli(
        "outputs", "submit-review", request_id, home=studied.home, account="chris.checker"
    )
    assert code == 0 and "reviewed by some checkers, waiting for more" in out, err
    assert "partially_reviewed" not in out
    code, out, err = run_cli(
        "outputs", "release", request_id, home=studied.home, account="chris.checker"
    )
    assert code != 0 and "not approved" in err
    code, out, err = run_cli(
        "outputs",
        "reject",
        request_id,
        "--reason",
        "test over",
        home=studied.home,
        account="chris.checker",
    )
    assert code == 0, err
    code, out, _ = run_cli("outputs", "stats", "--json", home=studied.home)
    assert json.loads(out)["rejection_reasons"]["test over"] == 1
    code, out, _ = run_cli("outputs", "list", "--project", P, home=studied.home)
    assert request_id in out and "rejected" in out


def test_the_outputs_cli_says_what_a_newcomer_needs(studied, outputs, run_cli, monkeypatch):
    """As a newcomer found it: a request without context or controls was taken silently, the
    airlock's refusals as root said nothing of --actor, an empty queue printed an empty table,
    and request ids were cut at 80 columns."""
    run = outputs["run"]
    monkeypatch.delenv("TRE_ACTOR", raising=False)
    before = len(airlock.requests(studied, P))
    code, out, err = run_cli(
        "--actor", AUTHOR, "outputs", "request", "--project", P, rel(run, "note.md"),
        "--context", "a note", home=studied.home,
    )  # fmt: skip
    assert code == 2 and "needs --controls for its group outputs" in err
    assert "nothing was requested" in err and len(airlock.requests(studied, P)) == before
    code, out, err = run_cli(
        "--actor", AUTHOR, "outputs", "request", "--project", P, rel(run, "note.md"),
        home=studied.home,
    )  # fmt: skip
    assert code == 2 and "needs --context and --controls" in err
    code, out, err = run_cli(
        "--actor", AUTHOR, "outputs", "request", "--project", P, rel(run, "note.md"),
        "--context", "a note", "--controls", "none needed", home=studied.home,
    )  # fmt: skip
    assert code == 0, err
    request_id = out.strip()
    code, out, err = run_cli(
        "--actor", AUTHOR, "outputs", "add", request_id, rel(run, "note.md"), "--group", "more",
        home=studied.home,
    )  # fmt: skip
    assert code == 2 and "needs --context and --controls for its group more" in err
    assert "nothing was added" in err
    code, out, err = run_cli(
        "--actor", AUTHOR, "outputs", "add", request_id, rel(run, "note.md"), home=studied.home
    )  # the group outputs has its context and controls already
    assert code == 0, err
    # as root, with no --actor: the refusal says how to name yourself
    code, out, err = run_cli("outputs", "show", request_id, home=studied.home)
    assert code == 3 and "operator:root may not review" in err
    assert "hint: this command ran as the account root, which is nobody" in err
    assert "--actor NAME (or TRE_ACTOR=NAME)" in err
    # a registered person's refusal needs no such hint
    code, out, err = run_cli("outputs", "show", request_id, home=studied.home, account=AUTHOR)
    assert code == 0 and "hint:" not in err
    code, out, err = run_cli("outputs", "queue", home=studied.home)
    assert code == 0 and "the review queue of operator:root is empty" in out
    assert "┏" not in out
    code, out, _ = run_cli("outputs", "list", "--project", "no-such-project", home=studied.home)
    assert "no release requests in no-such-project yet" in out
    code, out, _ = run_cli("outputs", "list", "--project", P, home=studied.home)
    assert request_id in out and AUTHOR in out and "…" not in out
