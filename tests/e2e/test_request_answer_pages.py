"""The author's side of the airlock in Chromium, without a hub: the tre service on a loopback
port, each person signed in by a test cookie. The analyst runs their notebook from the page
(progress, then what happened), requests its files grouped by run; a checker returns the request
with a comment; the author replies, replaces a file by a newer run's and resubmits. Screenshots
of each page (1280 px, and 390 px for the author's forms) go to $TRE_SCREENSHOTS (when set)."""

import pytest

from output_checks import airlock
from tests.e2e.conftest import needs_chromium, signed_in
from tests.e2e.test_airlock_pages import shot
from tests.notebooks.test_runner import small_notebook
from tests.output_checks.test_airlock import AUTHOR, P

pytestmark = needs_chromium

CHART = """
import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from notebooks import workspace as ws
from sdc import safe

kinds = pd.Series(["answer-first"] * {first} + ["answer-second"] * 45, name="answer_kind")
safe.crosstab(kinds).save(ws.output("answer_kinds.csv"))
figure, axes = plt.subplots(figsize=(3, 2))
axes.bar(["first", "second"], [{first}, 45])
figure.savefig(ws.output("answer_kinds.png"))
ws.output("answer_method.md").write_text("# Method\\nTwo kinds, counted with sdc.safe.")
"""
NOTEBOOK = "answer_kinds.ipynb"


@pytest.fixture(scope="module")
def service(studied, serve):
    from hub.service import make_app

    return serve(make_app(studied, identify=lambda h: h.get_cookie("tre-test-user")))


def write_notebook(studied, first: int) -> None:
    own = studied.home / "projects" / P / "workspace" / AUTHOR
    own.mkdir(parents=True, exist_ok=True)
    small_notebook(own / NOTEBOOK, CHART.replace("{first}", str(first)))


def run_from_the_page(page, service, name):
    """Run the workspace notebook from the home page; wait for what happened."""
    page.goto(f"{service}/")
    page.select_option(f"#study-{P}", f"workspace/{NOTEBOOK}")
    page.click(f"form[action$='/projects/{P}/runs'] button:text-is('Run')")
    page.wait_for_url("**/runs/progress/**")
    assert page.locator("text=Running").count() or page.locator("text=The run").count()
    shot(page, f"{name}-running")
    page.wait_for_selector("text=The run succeeded", timeout=120_000)
    shot(page, f"{name}-done")
    assert narrow(page, f"{name}-done") <= 390


def narrow(page, name):
    """A screenshot at a phone's width (390 px), then back."""
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, f"{name}-390")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > 390:  # which elements stick out, to say so
        print(
            page.evaluate(
                "[...document.querySelectorAll('main *')].filter(e => "
                "e.getBoundingClientRect().right > 392).slice(0, 8).map(e => "
                "e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 40))"
            )
        )
    page.set_viewport_size({"width": 1280, "height": 900})
    return width


def test_the_author_requests_grouped_files_and_answers_a_return(browser, service, studied):
    write_notebook(studied, 40)
    alex = signed_in(browser, service, AUTHOR)
    run_from_the_page(alex, service, "run")
    assert "answer_kinds.csv" in alex.content() and "answer_kinds.png" in alex.content()
    # the run's page: its record, and its report in a frame without scripts
    alex.click("text=The run's report and record")
    alex.wait_for_url("**/runs/run-*")
    frame = alex.frame_locator("iframe[sandbox]")
    frame.locator("text=answer_kinds.csv").first.wait_for()  # the report's code
    shot(alex, "run-page")
    assert narrow(alex, "run-page") <= 390
    alex.go_back()
    # the request form: the run's files with sizes and previews, a named group for the run
    alex.click("text=Request the release of these outputs")
    alex.wait_for_url("**/requests/new")
    group = alex.locator("fieldset.run", has=alex.locator("legend:text-is('answer_kinds.ipynb')"))
    group = group.first
    assert group.locator("img[src^='data:image/png']").count() == 1
    assert "answer-first" in group.locator(".preview table").first.inner_text()
    assert group.locator("input[name^=group-]").input_value().startswith("answer-kinds, ")
    for name in ("answer_kinds.csv", "answer_kinds.png", "answer_method.md"):
        group.locator(f"label:has-text('{name}') input").check()
    group.locator("textarea[name^=context]").fill("Attendances of two kinds, as a table and chart")
    group.locator("textarea[name^=controls]").fill("sdc.safe: cells under 10 suppressed")
    shot(alex, "request-form")
    assert narrow(alex, "request-form") <= 390
    alex.click("button:text-is('Submit for checking')")
    alex.wait_for_url("**/airlock/requests/**?done=submitted")
    request_id = alex.url.split("/")[-1].split("?")[0]
    assert "Submitted: the airlock copied and checked every file" in alex.content()
    shot(alex, "request-submitted")
    # a checker asks for changes on the table, with a comment, and returns the request
    chris = signed_in(browser, service, "chris.checker")
    chris.goto(f"{service}/airlock/requests/{request_id}")
    table = chris.locator("article.file", has=chris.locator("h3:has-text('answer_kinds.csv')"))
    table.locator("input[value=changes]").check()
    table.locator("textarea[name=comment]").fill("Band the counts: 40 is close to a small cell")
    table.locator("button").click()
    chris.wait_for_load_state()
    chris.fill("#reason", "Please band the table and the chart")
    chris.click("button:text-is('Return to the author')")
    chris.wait_for_load_state()
    assert "returned to the author for changes" in chris.content()
    shot(chris, "checker-returned")
    # the author reads the return and replies
    alex.goto(f"{service}/airlock/requests/{request_id}")
    assert "Answer the checkers" in alex.content()
    assert "Band the counts: 40 is close to a small cell" in alex.content()
    shot(alex, "answer")
    assert narrow(alex, "answer") <= 390
    alex.select_option("#reply-on", label="answer_kinds.csv")
    alex.fill("#reply-text", "Banded now: the first kind has 60")
    alex.click("button:text-is('Send reply')")
    alex.wait_for_url("**?done=reply")
    assert "Your reply is sent" in alex.content()
    # a newer run makes the new version; the author puts it in place and resubmits
    write_notebook(studied, 60)
    run_from_the_page(alex, service, "rerun")
    alex.goto(f"{service}/airlock/requests/{request_id}")
    row = alex.locator("tr", has=alex.locator("th:has-text('answer_kinds.csv')"))
    chosen = row.locator("select[name=by] option:checked").inner_text()
    assert chosen.startswith("answer_kinds.csv")  # the newest run's file of the same name
    row.locator("button:text-is('Replace')").click()
    alex.wait_for_url("**?done=replace")
    assert "replaced by its new version" in alex.content()
    shot(alex, "replaced")
    alex.click("button:text-is('Resubmit for checking')")
    alex.wait_for_url("**?done=resubmit")
    assert "Resubmitted" in alex.content() and "(turn 2)" in alex.content()
    shot(alex, "resubmitted")
    shown = airlock.show(studied, request_id, "dana.checker")
    assert shown["state"] == "submitted" and shown["turn"] == 2
    table = next(f for f in shown["files"] if f["path"].endswith("answer_kinds.csv"))
    assert table["votes_in"] == 0 and table["checks"]
    assert any(c["text"] == "Banded now: the first kind has 60" for c in shown["comments"])
    # the instance is shared by the session: the request is withdrawn, so that no later test's
    # differencing meets this one's tables in flight
    airlock.withdraw(studied, request_id, AUTHOR)
    assert airlock.show(studied, request_id, AUTHOR)["state"] == "withdrawn"
