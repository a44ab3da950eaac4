"""The analyst's own notebook, end to end in a real browser: JupyterLab shows where they are (the
banner, the welcome page), makes a notebook without asking for a kernel, runs it with provenance
from the Run menu, and the tre pages then offer its output for release and explain the draft
made interactively. Screenshots go to $TRE_SCREENSHOTS when it is set."""

import os
import re
import time
from pathlib import Path

from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.e2e.conftest import assert_accessible, needs_chromium
from tests.e2e.test_browser import request_release, sign_in

P = "supporting-families"
pytestmark = needs_chromium


def shoot(page, name: str, tmp_path: Path) -> None:
    folder = Path(os.environ.get("TRE_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))


def menu(page, top: str):
    page.click(f"div.lm-MenuBar-itemLabel:text-is('{top}')")
    found = page.locator(".lm-Menu-content").first
    found.wait_for()
    return found


def test_an_analyst_runs_their_own_notebook_with_provenance_and_requests_its_output(
    browser,  # noqa: F811
    hub_url,
    tmp_path,
):
    alex = sign_in(browser, hub_url, "alex.analyst")
    alex.set_viewport_size({"width": 1400, "height": 850})
    # JupyterHub's spawn-pending page, held while it is checked: its progress stream waits
    held = []
    alex.route("**/progress", lambda route: held.append(route))
    alex.click(f"text=Start the {P} workspace")
    alex.wait_for_url("**/hub/spawn-pending/alex.analyst/**", timeout=60_000)
    alex.locator("#progress-message").wait_for(state="attached")
    assert alex.locator(".tre-header").count() == 1
    assert_accessible(alex, "hub-spawn-pending")
    shoot(alex, "hub-spawn-pending", tmp_path)
    alex.unroute("**/progress")
    for request in held:
        request.continue_()
    alex.wait_for_url(f"**/user/alex.analyst/{P}/lab**", timeout=120_000)
    alex.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    # where am I: the banner, and the welcome page opened on the first visit
    banner = alex.locator("#tre-banner")
    banner.wait_for(timeout=60_000)
    text = banner.inner_text()
    assert "Supporting families" in text and "Access ends 2027-12-31" in text
    assert "Purpose: Identify families" in text
    assert banner.locator("a:text-is('tre pages')").get_attribute("href") == "/services/tre/"
    alex.locator(".jp-RenderedMarkdown h1:has-text('Welcome to the')").wait_for(timeout=60_000)
    alex.locator(".jp-DirListing-item:has-text('project-data')").first.wait_for()
    shoot(alex, "workspace-welcome", tmp_path)
    # no export, no open-from-URL
    items = menu(alex, "File").inner_text()
    assert "Save and Export Notebook As" not in items and "Open from URL" not in items
    assert "Download" not in items
    # a new notebook starts the one kernel without asking
    alex.click(".lm-Menu-itemLabel:text-is('New')")
    alex.click(".lm-Menu-itemLabel:text-is('Notebook')")
    alex.locator(".jp-NotebookPanel .jp-Notebook-cell .cm-content").first.wait_for()
    try:
        alex.wait_for_function(
            "() => /project sandbox/.test((document.querySelector("
            "'.jp-NotebookPanel .jp-Toolbar-kernelName') || {}).textContent)",
            timeout=120_000,
        )
    finally:
        shoot(alex, "workspace-new-notebook", tmp_path)
    assert alex.locator(".jp-Dialog").count() == 0  # nobody was asked which kernel
    # the analyst's own analysis, tried interactively (a draft), saved
    alex.click(".jp-NotebookPanel .jp-Notebook-cell .cm-content")
    # inserted whole (no key events: no bracket closing nor completer to race on a loaded CI)
    alex.keyboard.insert_text(
        "from notebooks import workspace as ws\n"
        "ws.output('browser.md').write_text('# made in the browser')"
    )
    # a cell run before the kernel's connection is ready is dropped (seen in CI after the other
    # browser tests: the prompt stayed "[ ]" and the kernel idle): run it once the status bar
    # says Idle, and again while its prompt has no number
    first = alex.locator(".jp-NotebookPanel .jp-Notebook-cell").first
    drafts = alex.locator(".jp-OutputArea-output:has-text('drafts')").first
    try:
        alex.locator(".jp-StatusBar-TextItem:has-text('Idle')").first.wait_for(timeout=120_000)
        deadline = time.monotonic() + 180
        while True:
            first.locator(".jp-InputArea-editor").click()
            alex.keyboard.press("Control+Enter")
            try:  # the kernel's first import of the kit takes a while on a loaded machine
                drafts.wait_for(timeout=30_000)
                break
            except PlaywrightTimeout:
                # a number: it ran; a star: it is running (run again, its output would go)
                sent = re.search(r"[\d*]", first.locator(".jp-InputPrompt").inner_text())
                if sent or time.monotonic() > deadline:
                    drafts.wait_for(timeout=max(1.0, deadline - time.monotonic()) * 1000)
                    break
    finally:
        shoot(alex, "workspace-draft-output", tmp_path)
    alex.keyboard.press("Control+s")
    # JupyterLab asks for a name at an untitled notebook's first save
    rename = alex.locator(".jp-Dialog input[type=text]")
    rename.wait_for(timeout=30_000)
    rename.fill("my_analysis.ipynb")
    alex.click(".jp-Dialog .jp-mod-accept")
    notebook = "my_analysis.ipynb"
    alex.locator(f".lm-TabBar-tabLabel:text-is('{notebook}')").wait_for()
    # run with provenance, from the Run menu
    items = menu(alex, "Run")
    assert "Run with provenance" in items.inner_text()
    alex.click(".lm-Menu-itemLabel:text-is('Run with provenance')")
    status = alex.locator("#tre-run-status")
    try:
        alex.wait_for_function(
            "() => /succeeded|failed|not run/.test("
            "(document.querySelector('#tre-run-status') || {}).textContent)",
            timeout=180_000,
        )
    finally:
        shoot(alex, "workspace-ran-with-provenance", tmp_path)
    assert "succeeded" in status.inner_text(), status.inner_text()
    assert (
        alex.locator(".jp-NotebookPanel-toolbar [data-command='tre:run-with-provenance']").count()
        + alex.locator(".jp-NotebookPanel-toolbar :text('Run with provenance')").count()
    )
    shoot(alex, "workspace-ran-with-provenance", tmp_path)
    # the tre pages: the notebook is offered to run, the draft explained, the output requestable
    alex.goto(f"{hub_url}/services/tre/")
    options = alex.locator(f"#study-{P} option").all_inner_texts()
    assert notebook in options
    drafts = alex.locator(f"#drafts-{P}")
    assert "browser.md" in drafts.inner_text()
    assert f"Run {notebook} with provenance" in drafts.inner_text()
    shoot(alex, "tre-home-drafts", tmp_path)
    request_release(alex, "browser.md", "A note made in the browser", "No data in it")
    assert "browser.md" in alex.content()
    # JupyterHub's own home sends people back to the tre pages
    alex.goto(f"{hub_url}/hub/home")
    alex.wait_for_url("**/services/tre/**")
