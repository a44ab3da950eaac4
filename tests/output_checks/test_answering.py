# ruff: noqa: F811 (the fixtures are imported from the modules that define them)
"""Requests in the web, both ways: the author's files chosen run by run (size, preview, a named
group per run with its context and controls), and a returned request answered by its author
(reply, add, replace, withdraw, resubmit) or withdrawn. Served for real and fetched over HTTP."""

import re

import pytest

from output_checks import airlock, requestable
from output_checks.enums import AirlockEvent
from tests.conftest import STUDIED_TODAY
from tests.output_checks.test_airlock import AUTHOR, P, outputs, rel  # noqa: F401 (fixture)
from tests.output_checks.test_review_and_release import CHECKERS, Person, events, service  # noqa: F401
from tre.errors import Refused
from tre.folders import ProjectFolders

NEWER = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from notebooks import workspace as ws
from sdc import safe

df = pd.DataFrame({"area": np.repeat(["north", "south", "east"], 60),
                   "kind": np.tile(["a", "b", "c"], 60)})
safe.crosstab(df.area, df.kind, margins=False).save(ws.output("base.csv"))
ws.output("odd.csv").write_text("name,n\\n<script>alert(1)</script>,12\\n")
figure, axes = plt.subplots(figsize=(2, 1.5))
axes.bar(["a", "b"], [12, 15])
figure.savefig(ws.output("bars.png"))
"""


@pytest.fixture(scope="module")
def newer(studied, outputs, tmp_path_factory):
    """A later run of the author's, whose base.csv is a new version of the first run's."""
    from notebooks import runner, runs
    from tests.notebooks.test_runner import small_notebook

    path = tmp_path_factory.mktemp("newer") / "newer_tables.ipynb"
    small_notebook(path, NEWER)
    result = runner.run(studied, path, P, AUTHOR, at=STUDIED_TODAY)
    assert result.status == runs.SUCCEEDED, result.error
    return result


def form_of(page: str) -> str:
    return re.search(r'name="_xsrf" value="([^"]+)"', page).group(1)


def test_the_form_offers_the_files_run_by_run_with_sizes_and_previews(
    studied,
    outputs,
    newer,
    service,
):
    alex = Person(service, AUTHOR)
    page = alex.get(f"/projects/{P}/requests/new").text
    # one fieldset per run, newest first, each with its notebook, time and a named group
    assert page.index("newer_tables.ipynb") < page.index("tables.ipynb</legend>")
    assert f'name="group-{newer.id}" value="newer-tables, ' in page
    assert f'name="context-{newer.id}"' in page and f'name="controls-{outputs["run"].id}"' in page
    # sizes, a table's first rows (escaped), a picture's thumbnail, a text's head
    assert re.search(r"bars\.png</label> <span class=\"muted\">\d+\.\d KB", page)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert 'src="data:image/png;base64,' in page
    assert "No numbers here." in page  # note.md's head
    # people.png is a CSV under a picture's name: not shown as a picture
    assert "named as a picture, but not one" in page
    # the report without code is requestable but never rendered here
    assert "not previewed here" in page
    # nothing of another person's runs
    choices = requestable.by_run(studied, P, "bea.analyst")
    assert all(r.id not in page for r in choices)


def test_a_group_per_run_is_requested_with_its_context_and_controls(
    studied,
    outputs,
    newer,
    service,
):
    alex = Person(service, AUTHOR)
    first = outputs["run"]
    form = {
        "file": [rel(first, "note.md"), rel(newer, "bars.png")],
        f"group-{first.id}": "the method",
        f"context-{first.id}": "how it was made",
        f"controls-{first.id}": "no numbers",
        f"group-{newer.id}": "",  # the default name
        f"context-{newer.id}": "a chart",
        f"controls-{newer.id}": "counts of 12 and more",
        "recipients": AUTHOR,
    }
    missing = alex.post(f"/projects/{P}/requests/new", form | {f"controls-{newer.id}": ""})
    assert missing.status_code == 400
    assert "Nothing was requested" in missing.text and "say controls for the files" in missing.text
    assert f'value="{rel(newer, "bars.png")}" checked' in missing.text  # the ticks are kept
    made = alex.post(f"/projects/{P}/requests/new", form)
    assert made.status_code == 303, made.text[-400:]
    request_id = made.headers["Location"].split("/")[-1].split("?")[0]
    shown = airlock.show(studied, request_id, AUTHOR)
    assert shown["state"] == "submitted"
    assert shown["groups"]["the method"] == {"context": "how it was made", "controls": "no numbers"}
    chart = next(n for n in shown["groups"] if n.startswith("newer-tables, "))
    assert shown["groups"][chart]["context"] == "a chart"
    assert {f["group"] for f in shown["files"]} == {"the method", chart}


def returned(studied, outputs, reason="the table has small cells"):
    request_id = airlock.request(
        studied,
        P,
        AUTHOR,
        [rel(outputs["run"], "base.csv"), rel(outputs["run"], "note.md")],
        group="tables",
        context="counts",
        controls="sdc.safe",
        at=STUDIED_TODAY,
    )
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    base = rel(outputs["run"], "base.csv")
    airlock.review(studied, request_id, CHECKERS[0], base, "changes", comment="drop the margins")
    airlock.review(studied, request_id, CHECKERS[0], rel(outputs["run"], "note.md"), "approve")
    airlock.return_request(studied, request_id, CHECKERS[0], reason)
    return request_id


def test_the_author_answers_a_returned_request_and_resubmits(
    studied,
    outputs,
    newer,
    service,
):
    request_id = returned(studied, outputs)
    old, new = rel(outputs["run"], "base.csv"), rel(newer, "base.csv")
    alex = Person(service, AUTHOR)
    page = alex.get(f"/airlock/requests/{request_id}").text
    assert "Answer the checkers" in page and "the table has small cells" in page
    assert "drop the margins" in page  # the checker's comment, to reply to
    # the newer run's base.csv is offered as the new version of base.csv
    assert f'<option value="{new}" selected>' in page
    url = f"/airlock/requests/{request_id}/answer"
    reply = alex.post(url, {"action": "reply", "file": old, "text": "Margins <b>dropped</b>"})
    assert reply.status_code == 303 and reply.headers["Location"].endswith("?done=reply")
    replaced = alex.post(url, {"action": "replace", "file": old, "by": new})
    assert replaced.status_code == 303
    added = alex.post(
        url,
        {
            "action": "add",
            "file": [rel(newer, "bars.png")],
            f"group-{newer.id}": "tables",  # a group the request holds: its context stays
        },
    )
    assert added.status_code == 303, added.text[-300:]
    withdrawn = alex.post(url, {"action": "withdraw-file", "file": rel(outputs["run"], "note.md")})
    assert withdrawn.status_code == 303
    page = alex.get(f"/airlock/requests/{request_id}?done=withdraw-file").text
    assert "The file is withdrawn from the request." in page
    assert "Margins &lt;b&gt;dropped&lt;/b&gt;" in page
    resubmitted = alex.post(url, {"action": "resubmit"})
    assert resubmitted.status_code == 303
    shown = airlock.show(studied, request_id, CHECKERS[1])
    assert shown["state"] == "submitted" and shown["turn"] == 2
    assert sorted(f["path"] for f in shown["files"]) == sorted([new, rel(newer, "bars.png")])
    assert shown["groups"]["tables"] == {"context": "counts", "controls": "sdc.safe"}
    # the new version is checked again by the airlock (its own copy, its replay) and has no vote
    version = next(f for f in shown["files"] if f["path"] == new)
    assert version["checks"] and version["automatic"] in ("pass", "review")
    assert version["votes_in"] == 0 and version["decision"] == "incomplete"
    checked = events(studied, AirlockEvent.CHECKS, request_id)
    assert checked[-1][1]["turn"] == 2 and new in checked[-1][1]["outcomes"]
    assert old not in checked[-1][1]["outcomes"]
    (swap,) = events(studied, AirlockEvent.REPLACE_FILE, request_id)
    assert swap == (AUTHOR, swap[1]) and swap[1]["file"] == old and swap[1]["by"] == new
    # the checker who reviewed turn 1 sees the author's reply and votes afresh
    chris = airlock.show(studied, request_id, CHECKERS[0])
    assert all(f["my_vote"] is None for f in chris["files"])
    assert any(
        c["text"] == "Margins <b>dropped</b>" and c["file"] == old for c in chris["comments"]
    )


def test_nobody_but_the_author_answers_or_withdraws(studied, outputs, newer, service):
    request_id = returned(studied, outputs)
    url = f"/airlock/requests/{request_id}/answer"
    old = rel(outputs["run"], "base.csv")
    for person in ("bea.analyst", CHECKERS[0], "eve.outsider"):
        other = Person(service, person)
        for form in (
            {"action": "reply", "text": "not mine to say"},
            {"action": "replace", "file": old, "by": rel(newer, "base.csv")},
            {"action": "withdraw-file", "file": old},
            {"action": "resubmit"},
            {"action": "withdraw", "sure": "1"},
        ):
            answer = other.post(url, form)
            assert answer.status_code == 403, (person, form, answer.text[-300:])
        assert "Answer the checkers" not in other.get(f"/airlock/requests/{request_id}").text
    # the author's own browser, without the form's CSRF token: refused too
    alex = Person(service, AUTHOR)
    alex.get("/notifications/")
    forged = alex.session.post(
        f"{service}{url}", data={"action": "withdraw", "sure": "1"}, allow_redirects=False
    )
    assert forged.status_code == 403
    shown = airlock.show(studied, request_id, AUTHOR)
    assert shown["state"] == "returned" and len(shown["files"]) == 2
    assert not any(c["text"] == "not mine to say" for c in shown["comments"])


def test_a_file_of_another_project_or_outside_the_outputs_cannot_be_added(
    studied,
    outputs,
    service,
    tmp_path,
):
    request_id = returned(studied, outputs)
    other = ProjectFolders.of(studied, "another-project").outputs / outputs["run"].id / "data"
    other.mkdir(parents=True, exist_ok=True)
    (other / "theirs.csv").write_text("a,n\nx,40\n")
    (tmp_path / "loose.csv").write_text("a,n\nx,40\n")
    alex = Person(service, AUTHOR)
    url = f"/airlock/requests/{request_id}/answer"
    for by in (
        str(other / "theirs.csv"),
        str(tmp_path / "loose.csv"),
        f"{outputs['run'].id}/data/../../{outputs['run'].id}/data/base.csv",
        rel(outputs["run"], "base.csv.evidence.json"),
        rel(outputs["failed"], "x.csv"),
    ):
        answer = alex.post(
            url, {"action": "replace", "file": rel(outputs["run"], "note.md"), "by": by}
        )
        assert answer.status_code in (400, 403), (by, answer.text[-300:])
        assert "That did not work" in answer.text
    added = alex.post(url, {"action": "add", "file": [str(other / "theirs.csv")]})
    assert added.status_code == 400 and "not a file of your succeeded runs" in added.text
    # the airlock adds every group or none: a good file beside a foreign one is not added
    with pytest.raises(Refused, match="only files in project"):
        airlock.add_groups(
            studied,
            request_id,
            AUTHOR,
            [
                airlock.FileGroup("good", [rel(outputs["run"], "onedim.csv")], "c", "c"),
                airlock.FileGroup("foreign", [str(other / "theirs.csv")], "c", "c"),
            ],
        )
    shown = airlock.show(studied, request_id, AUTHOR)
    assert sorted(f["path"] for f in shown["files"]) == sorted(
        rel(outputs["run"], n) for n in ("base.csv", "note.md")
    )


def test_the_author_withdraws_the_whole_request(studied, outputs, service):
    request_id = returned(studied, outputs)
    alex = Person(service, AUTHOR)
    url = f"/airlock/requests/{request_id}/answer"
    unsure = alex.post(url, {"action": "withdraw"})
    assert unsure.status_code == 400 and "tick the box" in unsure.text
    assert alex.post(url, {"action": "withdraw", "sure": "1"}).status_code == 303
    page = alex.get(f"/airlock/requests/{request_id}?done=withdraw").text
    assert "The request is withdrawn." in page and "withdrawn by the author" in page
    assert "Answer the checkers" not in page and "Withdraw the whole request" not in page


def test_the_cli_answers_with_the_same_functions(studied, outputs, newer, run_cli, monkeypatch):
    """`tre outputs comment` and `tre outputs replace`: the airlock's functions the pages call."""
    request_id = returned(studied, outputs)
    old, new = rel(outputs["run"], "base.csv"), rel(newer, "base.csv")
    monkeypatch.setenv("TRE_ACTOR", AUTHOR)
    code, out, err = run_cli(
        "outputs", "comment", request_id, "Banded", "--file", old, home=studied.home
    )
    assert code == 0, err
    code, out, err = run_cli("outputs", "replace", request_id, old, "--by", new, home=studied.home)
    assert code == 0 and "resubmit it when ready" in out, err
    code, out, err = run_cli("outputs", "replace", request_id, new, "--by", new, home=studied.home)
    assert code != 0 and "is the file the request holds already" in err
    shown = airlock.show(studied, request_id, AUTHOR)
    assert new in [f["path"] for f in shown["files"]] and old not in [
        f["path"] for f in shown["files"]
    ]
    assert any(c["text"] == "Banded" and c["file"] == old for c in shown["comments"])
