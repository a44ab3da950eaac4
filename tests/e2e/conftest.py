"""The end-to-end and browser tests use the session's real hub (``hub_url``, tests/conftest.py),
or the tre service alone; the browser is Debian's chromium."""

import shutil
from pathlib import Path

import pytest

from tests.hubtools import PASSWORD  # noqa: F401 (the tests import it from here)
from tests.projects.conftest import populated, spec_data  # noqa: F401 (fixtures)

CHROMIUM = shutil.which("chromium")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Debian's chromium (.ci/run installs it)"
)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, driven by Playwright, for the module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def signed_in(browser, base, person):
    """A page of a new browser context signed in as PERSON to the tre service at BASE (alone,
    served by a test that identifies people by the ``tre-test-user`` cookie)."""
    # bypass_csp: the accessibility checker is injected as a script (assert_accessible)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, bypass_csp=True)
    context.add_cookies([{"name": "tre-test-user", "value": person, "url": base}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page


# axe-core, pinned beside GOV.UK Frontend (tre/static/package-lock.json; `make assets`)
AXE = Path(__file__).parents[2] / "tre/static/node_modules/axe-core/axe.min.js"


def assert_accessible(page, name: str) -> None:
    """No serious or critical axe-core violation on PAGE (named NAME in the message), targets of
    at least 24 px among them. The checker is injected for the check alone; a browser test
    without it fails (not skips: the journey's accessibility is part of what it tests)."""
    if not AXE.is_file():
        pytest.fail(f"axe-core is not installed ({AXE} is missing): run `make assets` (Node.js)")
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        # every rule, with WCAG 2.2's target size (24 px) too
        "axe.run(document, {resultTypes: ['violations'],"
        " rules: {'target-size': {enabled: true}}}).then(r => r.violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at '"
        " + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')))"
    )
    assert not found, f"{name}: " + "; ".join(found)
