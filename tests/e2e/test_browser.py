"""The tour in a real browser: Playwright driving Debian's chromium against a real hub."""

from tests.e2e.conftest import PASSWORD, needs_chromium

P = "supporting-families"
pytestmark = needs_chromium


def sign_in(browser, hub_url, user):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{hub_url}/hub/login")
    page.fill("#username_input", user)
    page.fill("#password_input", PASSWORD)
    page.click("#login_submit, button[type=submit], input[type=submit]")
    page.wait_for_url("**/services/tre/**")
    return page


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
    alex.goto(f"{hub_url}/services/tre/")
    request_release(alex, "repeat_callers.csv", "How many repeat callers", "Made with sdc.safe")
    request_url = alex.url.split("?")[0]
    assert "submitted" in alex.content()
    # two checkers review every file, then each submits their review once; the second releases
    for checker in ("chris.checker", "dana.checker"):
        page = sign_in(browser, hub_url, checker)
        page.goto(f"{hub_url}/services/tre/airlock/")
        page.click(f"text={request_url.rsplit('/', 1)[1]}")
        page.check("input[name=vote][value=approve]")
        page.click("text=Record my draft vote")
        page.wait_for_load_state()
        assert "Your vote (draft)" in page.content()
        page.click("text=Check and submit your review >> nth=0")
        page.click("button:text-is('Submit my review')")
        page.wait_for_url("**?done=review")
    assert "approved, ready to release" in page.content()
    page.click("text=Release the approved files")
    page.wait_for_url("**/airlock/releases/**")
    assert "alex.analyst" in page.content() and "repeat_callers.csv" in page.content()
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
