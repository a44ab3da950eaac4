"""The tour in a real browser: Playwright driving Debian's chromium against a real hub."""

import os
from pathlib import Path

from tests.e2e.conftest import PASSWORD, assert_accessible, needs_chromium

P = "supporting-families"
pytestmark = needs_chromium


def sign_in(browser, hub_url, user):
    # bypass_csp: the accessibility checker is injected as a script (assert_accessible)
    context = browser.new_context(bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{hub_url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit, button[type=submit], input[type=submit]")
    page.wait_for_url("**/services/tre/**")
    return page


def test_the_hubs_own_pages_share_the_tre_look(browser, hub_url, tmp_path):
    """JupyterHub's sign-in and error pages: the tre pages' look (hub/hub-templates), no serious
    or critical accessibility problem, an error summary for a wrong password; screenshots wide and
    at 390 px go to $TRE_SCREENSHOTS when it is set."""
    shots = Path(os.environ.get("TRE_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()

    def check(name):
        assert_accessible(page, name)
        assert page.locator(".tre-header").count() == 1
        assert "govuk-frontend.min.css" in page.content()
        page.screenshot(path=str(shots / f"{name}.png"), full_page=True)
        page.set_viewport_size({"width": 390, "height": 844})
        page.screenshot(path=str(shots / f"{name}-390.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, name
        page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{hub_url}/hub/login")
    # the stylesheet the page links is served (by the tre service, through the proxy)
    sheet = page.request.get(f"{hub_url}/services/tre/static/govuk-frontend.min.css")
    assert sheet.status == 200 and ".govuk-button" in sheet.text()
    check("hub-login")
    page.fill("#username_input", "alex.analyst")
    page.fill("#password_input", "not the password")
    page.click("#login_submit")
    assert page.locator(".govuk-error-summary").is_visible()
    check("hub-login-error")
    page.goto(f"{hub_url}/hub/no-such-page")
    assert page.locator(".govuk-error-summary").is_visible()
    check("hub-error")


def request_release(page, file: str, context: str, controls: str) -> None:
    """From the tre home page: request the release of FILE (of the person's runs)."""
    page.click("text=Request the release of outputs")
    run = page.locator("fieldset.run", has=page.locator(f"label:has-text('{file}')")).first
    run.locator(f"label:has-text('{file}') input").first.check()
    run.locator("textarea[name^=context]").fill(context)
    run.locator("textarea[name^=controls]").fill(controls)
    page.click("button:text-is('Submit for checking')")
    page.wait_for_url("**/airlock/requests/**")


def test_the_whole_tour(browser, hub_url):
    # the analyst sees only their projects and starts the workspace
    alex = sign_in(browser, hub_url, "alex.analyst")
    assert alex.locator("h1").inner_text() == "Your projects"
    assert alex.locator("h2").count() == 1 and P in alex.locator("h2").inner_text()
    assert_accessible(alex, "the analyst's home")
    alex.click(f"text=Start the {P} workspace")
    alex.wait_for_url(f"**/user/alex.analyst/{P}/lab**", timeout=120_000)
    alex.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
    # no Download in the File menu
    alex.click("div.lm-MenuBar-itemLabel:text-is('File')")
    menu = alex.locator(".lm-Menu-content").first
    menu.wait_for()
    items = menu.inner_text()
    assert "Save" in items and "Download" not in items
    alex.keyboard.press("Escape")
    # the extract is read-only and /files/ answers 403
    closed = alex.request.get(f"{hub_url}/user/alex.analyst/{P}/files/studies/repeat_callers.ipynb")
    assert closed.status == 403 and "airlock" in closed.text()
    # back to the service: run a study, then request its outputs' release
    alex.goto(f"{hub_url}/services/tre/")
    alex.select_option(f"#study-{P}", "repeat-callers")
    alex.click("button:text-is('Run')")
    alex.wait_for_url("**/runs/progress/**")
    alex.wait_for_selector("text=The run succeeded", timeout=120_000)
    assert "repeat_callers.csv" in alex.content()
    assert_accessible(alex, "the run's progress")
    alex.goto(f"{hub_url}/services/tre/")
    request_release(alex, "repeat_callers.csv", "How many repeat callers", "Made with sdc.safe")
    request_url = alex.url.split("?")[0]
    assert "submitted" in alex.content()
    assert_accessible(alex, "the analyst's release request")
    # two checkers review every file, then each submits their review once; the second releases
    for checker in ("chris.checker", "dana.checker"):
        page = sign_in(browser, hub_url, checker)
        page.goto(f"{hub_url}/services/tre/airlock/")
        page.click(f"text={request_url.rsplit('/', 1)[1]}")
        page.check("input[name=vote][value=approve]")
        page.click("text=Record my draft vote")
        page.wait_for_load_state()
        assert "Your vote (draft)" in page.content()
        assert_accessible(page, "the checker's review")
        page.click("text=Check and submit your review >> nth=0")
        page.click("button:text-is('Submit my review')")
        page.wait_for_url("**?done=review")
    assert "approved, ready to release" in page.content()
    page.click("text=Release the approved files")
    page.wait_for_url("**/airlock/releases/**")
    assert "alex.analyst" in page.content() and "repeat_callers.csv" in page.content()
    assert_accessible(page, "the release")
    # the analyst, its recipient, is told and downloads the release
    alex.goto(f"{hub_url}/services/tre/")
    assert "released" in alex.content() and "new)" in alex.content()
    alex.goto(page.url)
    with alex.expect_download() as download:
        alex.click("a:text-is('repeat_callers.csv')")
    assert download.value.suggested_filename == "repeat_callers.csv"
    # a person from no project is refused with a clear message
    eve = sign_in(browser, hub_url, "eve.outsider")
    assert "You are not in any project" in eve.content()
    eve.goto(f"{hub_url}/hub/spawn/eve.outsider/{P}")
    assert "eve.outsider is not a member of project supporting-families" in eve.content()
    assert_accessible(eve, "the hub's refusal to spawn")
