"""The end-to-end and browser tests use the session's real hub (``hub_url``, tests/conftest.py),
or the tre service alone; the browser is Debian's chromium."""

import shutil

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
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies([{"name": "tre-test-user", "value": person, "url": base}])
    page = context.new_page()
    page.set_default_timeout(30_000)
    return page
