"""The pages' one look: GOV.UK Frontend's stylesheet, served by the service itself, without the
crown, the GOV.UK logotype or the Transport font; the pages still work (unstyled, with a warning
in the log) when it is not installed."""

import logging

import pytest
import requests

from tre import web


class Hello(web.Page):
    public = True

    def get(self) -> None:
        self.page("error.html", message="a message")


def app(**settings):
    return web.application(None, [(r"/hello", Hello)], lambda h: None, prefix="/p", **settings)


@pytest.mark.skipif(not web.GOVUK_CSS.is_file(), reason="GOV.UK Frontend not installed")
def test_every_page_links_the_stylesheet_served_to_anyone_without_script(serve):
    base = serve(app(login_redirect=True, login_url="/hub/login"))
    page = requests.get(base + "/p/hello", timeout=10)
    assert '<link rel="stylesheet" href="/p/static/govuk-frontend.min.css">' in page.text
    # no crown, no GOV.UK logotype, and a system font stack over GOV.UK's Transport
    assert "govuk-header__logotype" not in page.text and "crown" not in page.text.lower()
    assert '<link rel="stylesheet" href="/p/static/tre.css">' in page.text
    kit = requests.get(base + "/p/static/tre.css", timeout=10).text
    assert "font-family: system-ui" in kit and "GDS Transport" not in kit
    # the error's own style, not a notice's
    assert 'class="govuk-error-summary' in page.text
    css = requests.get(base + "/p/static/govuk-frontend.min.css", timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert ".govuk-button" in css.text
    # the stylesheet alone: nothing else of the package (its scripts) is served
    for other in ("govuk-frontend.min.js", "all.bundle.js", "../package.json"):
        assert requests.get(f"{base}/p/static/{other}", timeout=10).status_code == 404


def test_without_the_stylesheet_the_pages_work_unstyled_and_the_log_says_so(
    serve, monkeypatch, tmp_path, caplog
):
    monkeypatch.setattr(web, "GOVUK_CSS", tmp_path / "missing.css")
    with caplog.at_level(logging.WARNING, logger="tre.web"):
        base = serve(app())
    assert "pages are served unstyled" in caplog.text and "make assets" in caplog.text
    page = requests.get(base + "/p/hello", timeout=10)
    assert page.status_code == 200 and "a message" in page.text
    assert "govuk-frontend.min.css" not in page.text
    assert requests.get(base + "/p/static/govuk-frontend.min.css", timeout=10).status_code == 404
    # the kit's own styles are in the repository: always there
    assert requests.get(base + "/p/static/tre.css", timeout=10).status_code == 200


def test_moments_read_as_people_write_them():
    from datetime import UTC, datetime, timedelta, timezone

    from tre.templating import human_time

    assert human_time("2026-12-05T08:38:12.123456") == "5 December 2026 at 08:38 UTC"
    assert human_time(datetime(2026, 6, 1, 9, 5, tzinfo=UTC)) == "1 June 2026 at 09:05 UTC"
    # another zone is told in UTC, as every other time on the pages
    east = timezone(timedelta(hours=2))
    assert human_time(datetime(2026, 6, 1, 1, 0, tzinfo=east)) == "31 May 2026 at 23:00 UTC"
    assert human_time("") == "" and human_time("not a time") == "not a time"
