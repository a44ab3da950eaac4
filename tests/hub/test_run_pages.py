"""The web's Run: answered at once with a page of the run's progress (refreshing itself, no
script), which then says what happened, with links to the run's report and to its outputs'
request form. Served for real (tornado on a loopback port)."""

import re
import time

import pytest
import requests

from hub import service
from tests.notebooks.test_runner import small_notebook
from tests.output_checks.test_airlock import P

SLOW = """
import time
from notebooks import workspace as ws
time.sleep(1.5)
ws.output("made.md").write_text("# made <b>here</b>")
"""


@pytest.fixture(scope="module")
def base(studied, serve):
    own = studied.home / "projects" / P / "workspace" / "alex.analyst"
    own.mkdir(parents=True, exist_ok=True)
    small_notebook(own / "slow.ipynb", SLOW)
    small_notebook(own / "broken.ipynb", "raise ValueError('no such column: <age>')")
    return serve(service.make_app(studied, lambda h: h.get_cookie("tre-test-user")))


def signed_in(base, person):
    session = requests.Session()
    session.cookies.set("tre-test-user", person, domain="127.0.0.1")
    session.get(base + "/register/")
    return session


def start(session, base, notebook):
    answer = session.post(
        f"{base}/projects/{P}/runs",
        data={"study": notebook, "_xsrf": session.cookies["_xsrf"]},
        allow_redirects=False,
    )
    assert answer.status_code == 303, answer.text[-300:]
    return answer.headers["Location"]


def until_ended(session, base, where, limit=120):
    """The progress page, asked again as the browser would, until the run ended."""
    pages = []
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        page = session.get(base + where)
        assert page.status_code == 200, page.text[-300:]
        pages.append(page)
        if "Refresh" not in page.headers:
            return pages
        time.sleep(0.3)
    raise AssertionError(f"the run did not end within {limit} s")


def test_a_run_shows_its_progress_then_what_happened_with_links(base):
    alex = signed_in(base, "alex.analyst")
    started = time.monotonic()
    where = start(alex, base, "workspace/slow.ipynb")
    assert time.monotonic() - started < 3  # answered at once, not when the run ends
    assert re.fullmatch(rf"/projects/{P}/runs/progress/[\w-]+", where)
    pages = until_ended(alex, base, where)
    running = pages[0]
    assert running.headers["Refresh"] == "2" and "<strong>Running</strong>" in running.text
    assert "<script" not in running.text
    stages = [re.search(r"Running</strong> for \d+ s: ([^.]*)", p.text) for p in pages[:-1]]
    assert any("running code cell 1 of 1" in s.group(1) for s in stages), stages
    done = pages[-1].text
    assert "The run succeeded" in done and "made.md" in done
    assert f'href="/projects/{P}/requests/new"' in done
    run_id = re.search(rf'href="/projects/{P}/runs/(run-[\w-]+)"', done).group(1)
    page = alex.get(f"{base}/projects/{P}/runs/{run_id}")
    assert page.status_code == 200 and "workspace/slow.ipynb" in page.text
    assert (
        f'src="/projects/{P}/runs/{run_id}/report"' in page.text and "<iframe sandbox" in page.text
    )
    report = alex.get(f"{base}/projects/{P}/runs/{run_id}/report")
    assert report.status_code == 200
    assert report.headers["Content-Security-Policy"].startswith("sandbox; default-src 'none'")
    # another person sees neither the progress nor the run nor its report
    bea = signed_in(base, "bea.analyst")
    for path in (where, f"/projects/{P}/runs/{run_id}", f"/projects/{P}/runs/{run_id}/report"):
        assert bea.get(base + path).status_code == 404, path
    # the home page links the run to its page
    home = alex.get(base + "/").text
    assert f'href="/projects/{P}/runs/{run_id}"' in home
    # in words, as other pages, not a raw timestamp; in a container that scrolls on a phone
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:", home)
    assert re.search(
        r'<div class="scroll" tabindex="0"><table[^>]*><thead[^>]*>'
        r'<tr[^>]*><th scope="col"[^>]*>run<',
        home,
    )


def test_a_failed_run_says_why_and_a_refused_one_says_so_at_once(base):
    alex = signed_in(base, "alex.analyst")
    done = until_ended(alex, base, start(alex, base, "workspace/broken.ipynb"))[-1].text
    assert "The run failed" in done and "no such column: &lt;age&gt;" in done
    refused = alex.post(
        f"{base}/projects/{P}/runs",
        data={"study": "workspace/../bea.analyst/x.ipynb", "_xsrf": alex.cookies["_xsrf"]},
        allow_redirects=False,
    )
    assert refused.status_code == 403 and "cannot be run in" in refused.text
    eve = signed_in(base, "eve.outsider")
    outsider = eve.post(
        f"{base}/projects/{P}/runs",
        data={"study": "repeat-callers", "_xsrf": eve.cookies["_xsrf"]},
        allow_redirects=False,
    )
    assert outsider.status_code == 403 and "is not a member" in outsider.text
    gone = alex.get(f"{base}/projects/{P}/runs/progress/forgotten-token")
    assert gone.status_code == 404 and "does not remember that run" in gone.text
