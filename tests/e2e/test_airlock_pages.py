"""The airlock's pages in Chromium, without a hub: the tre service on a loopback port, each
person signed in by a test cookie. Two checkers review and submit; the recipient downloads.
Screenshots of the queue, the request and the release go to $TRE_SCREENSHOTS (when set)."""

import os
from pathlib import Path

import pytest

from output_checks import airlock
from tests.conftest import STUDIED_TODAY
from tests.e2e.conftest import assert_accessible, needs_chromium, signed_in
from tests.output_checks.test_airlock import AUTHOR, P, rel

pytestmark = needs_chromium


@pytest.fixture(scope="module")
def service(studied, serve):
    from hub.service import make_app

    return serve(make_app(studied, identify=lambda h: h.get_cookie("tre-test-user")))


TABLE = """
import pandas as pd
from notebooks import workspace as ws
from sdc import safe

kinds = pd.Series(["e2e-first"] * 40 + ["e2e-second"] * 45, name="e2e_kind")
safe.crosstab(kinds).save(ws.output("e2e_kinds.csv"))
ws.output("e2e_note.md").write_text("# Method\\nCounts of two kinds.")
"""


@pytest.fixture(scope="module")
def run(studied, tmp_path_factory):
    """A run of its own, so that no other test's release or request relates to its table."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_notebook

    from notebooks import runner, runs

    notebook = new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [new_code_cell(TABLE)]
    path = tmp_path_factory.mktemp("e2e") / "kinds.ipynb"
    nbformat.write(notebook, path)
    result = runner.run(studied, path, P, AUTHOR, at=STUDIED_TODAY)
    assert result.status == runs.SUCCEEDED, result.error
    return result


def shot(page, name):
    """The page's screenshot, wide and at 390 px, after its accessibility check (axe-core)."""
    assert_accessible(page, name)
    folder = os.environ.get("TRE_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)
        width = page.viewport_size or {"width": 1280, "height": 900}
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(Path(folder) / f"{name}-390.png"), full_page=True)
        page.set_viewport_size(width)


def test_two_checkers_review_and_the_recipient_downloads(browser, service, studied, run):
    request_id = airlock.request(
        studied,
        P,
        AUTHOR,
        [rel(run, "e2e_kinds.csv"), rel(run, "e2e_note.md")],
        group="contacts",
        context="Contacts by group, and a note on method",
        controls="Made with sdc.safe: cells under 10 suppressed",
        at=STUDIED_TODAY,
        recipients=[AUTHOR, "bea.analyst"],
    )
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    for n, checker in enumerate(("chris.checker", "dana.checker")):
        page = signed_in(browser, service, checker)
        page.goto(f"{service}/airlock/")
        assert "under an hour" in page.content() and "partially_reviewed" not in page.content()
        if n:
            shot(page, "queue")
        page.click(f"text={request_id}")
        for form in page.locator("form[action$='/vote']").all():
            form.locator("input[value=approve]").check()
            form.locator("button").click()
            page.wait_for_load_state()
        assert page.locator(".my-vote").count() == 2
        if n:
            shot(page, "request")
        page.click("text=Check and submit your review >> nth=0")
        assert "Submit my review" in page.content()
        page.click("button:text-is('Submit my review')")
        page.wait_for_url("**?done=review")
        assert "Your review is submitted" in page.content()
    assert "approved, ready to release" in page.content()
    page.click("button:text-is('Release the approved files')")
    page.wait_for_url(f"**/airlock/releases/{request_id}")
    assert "You are not one of them" in page.content()
    lead = signed_in(browser, service, "bea.analyst")
    lead.goto(f"{service}/")
    assert "new)" in lead.content()
    lead.click("text=notifications")
    shot(lead, "notifications")
    lead.click(f"text=open {request_id} >> nth=0")
    lead.wait_for_url(f"**/airlock/releases/{request_id}")
    shot(lead, "released")
    with lead.expect_download() as download:
        lead.click("a:text-is('e2e_kinds.csv')")
    saved = download.value.path()
    assert Path(saved).read_bytes().startswith(b"e2e_kind")
    # the author reads the request in plain words, and reaches the release from it
    alex = signed_in(browser, service, AUTHOR)
    alex.goto(f"{service}/airlock/requests/{request_id}")
    assert "released" in alex.content() and "_" not in alex.locator("main > p").first.inner_text()
    assert "its recipients download it from the release" in alex.content()
    shot(alex, "author-request")


def test_a_checker_reads_why_two_derived_sums_fail(browser, service, studied, tmp_path):
    """The check counts from sums, as the checker reads it on the request's page."""
    from tests.output_checks.conftest import run_code
    from tests.output_checks.test_derived import DERIVED

    made = run_code(studied, tmp_path, DERIVED, "derived.ipynb")
    request_id = airlock.request(
        studied, P, AUTHOR, [rel(made, "missed.csv"), rel(made, "missed1.csv")], at=STUDIED_TODAY
    )
    airlock.submit(studied, request_id, AUTHOR, at=STUDIED_TODAY)
    try:
        page = signed_in(browser, service, "chris.checker")
        page.goto(f"{service}/airlock/requests/{request_id}")
        text = page.locator("main").inner_text()
        assert text.count("add up to the count of every cell") >= 2, text
        assert "publish only one of them" in text and "its exact counts" in text
        shot(page, "request-counts-from-sums")
    finally:
        airlock.withdraw(studied, request_id, AUTHOR)
