"""The airlock's pages: the checkers' queue; a request with every file rendered and its checks,
the checker's own draft votes and the submission of their review (confirmed on a page of its
own); the released page and the recipients' downloads; each person's notifications.

Served by the tre web service (:mod:`hub.service`) under ``/services/tre/airlock/``; testable on
their own (:func:`routes` into :func:`tre.web.application`). A CSV is shown as a table with
suppressed and flagged cells marked; a picture as an image; an HTML report in a sandboxed frame
(no scripts, no same-origin access); anything else as escaped text.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import tornado.web

from output_checks import airlock, author_pages, notify, replay
from output_checks.airlock import AirlockError
from output_checks.enums import CheckOutcome, RequestAction
from tre.web import Page

TEMPLATES = Path(__file__).parent / "templates"
CONTENT_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".html": "text/html"}
PREVIEW_ROWS = 200


Flags = dict[tuple[str, str | None], tuple[str, str]]


def _flags(evidence: dict[str, Any] | None, checks: list[dict[str, Any]]) -> Flags:
    """(row label, column label or None for a one-way table) -> (flag, why) from the evidence
    and the checks."""
    flags: Flags = {}
    if evidence is not None and evidence.get("kind") == "table":
        rows, cols = evidence["rows"], evidence["cols"]
        for cell in evidence["cells"]:
            row = " / ".join(str(cell["dims"][d]) for d in rows)
            col = " / ".join(str(cell["dims"][d]) for d in cols) if cols else None
            reasons = "; ".join(cell.get("reasons") or [])
            if cell.get("published") is None:
                flags[(row, col)] = ("suppressed", reasons or "secondary suppression")
            elif cell.get("review"):
                flags[(row, col)] = ("review", reasons or "marked for review")
    for check in checks:
        for row, column, _value in check.get("evidence", {}).get("cells", []):
            key = (str(row), str(column))
            # a failing check's mark wins over a review's, whatever order the checks ran in
            if flags.get(key, ("", ""))[0] != CheckOutcome.FAIL:
                flags[key] = (check["outcome"], check["explanation"])
            elif (
                check["outcome"] == CheckOutcome.FAIL and check["explanation"] not in flags[key][1]
            ):
                flags[key] = (CheckOutcome.FAIL, flags[key][1] + "; " + check["explanation"])
    return flags


def flag_counts(rows: list[list[dict[str, Any]]]) -> dict[str, int]:
    """How many cells of the shown table carry each flag (fail, review, suppressed)."""
    counts: dict[str, int] = {}
    for row in rows[1:]:
        for cell in row:
            if cell["flag"]:
                counts[cell["flag"]] = counts.get(cell["flag"], 0) + 1
    return counts


def _table(shown: airlock.ServedFile) -> list[list[dict[str, Any]]]:
    text = shown.data.decode("utf-8", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))[: PREVIEW_ROWS + 1]
    if not rows:
        return []
    flags = _flags(shown.evidence, shown.checks)
    header = rows[0]
    single = len(header) == 2
    out: list[list[dict[str, Any]]] = [
        [{"text": h, "header": True, "flag": None, "why": ""} for h in header]
    ]
    for row in rows[1:]:
        cells: list[dict[str, Any]] = [
            {"text": row[0] if row else "", "header": False, "flag": None, "why": ""}
        ]
        for j, value in enumerate(row[1:], start=1):
            column = header[j] if j < len(header) else ""
            flag, why = (
                flags.get((row[0], None if single else column))
                or flags.get((row[0], column))
                or (None, "")
            )
            cells.append({"text": value, "header": False, "flag": flag, "why": why})
        out.append(cells)
    return out


def _view(instance, shown: dict[str, Any], viewer: str) -> list[dict[str, Any]]:
    """The request's files as VIEWER sees them: a checker, the airlock's verified copies; the
    author, the checks only (before release nobody but the checkers reads a requested file)."""
    checker = viewer != shown["author"]
    files = []
    for i, item in enumerate(shown["files"]):
        path = Path(item["path"])
        suffix = path.suffix.lower()
        view: dict[str, Any] = item | {"id": i, "name": path.name}
        blocked = any(
            c["name"] == "microdata" and c["outcome"] == CheckOutcome.FAIL for c in item["checks"]
        )
        typed = any(
            c["name"] == "file type" and c["outcome"] == CheckOutcome.PASS for c in item["checks"]
        )
        if not checker:
            view["view"] = "text"
            view["text"] = (
                "(released: its recipients download it from the release's page)"
                if shown["released"]
                else "(shown to the output checkers only, until they release it)"
            )
        elif blocked:
            view["view"] = "text"
            view["text"] = "(not shown: the automatic checks found rows about individuals)"
        elif suffix in (".png", ".svg") and typed:
            view["view"] = "image"
        elif suffix == ".html" and typed:
            view["view"] = "html"
        else:
            served = airlock.served(instance, shown["id"], viewer, item["path"])
            if suffix == ".csv" and typed:
                view["view"], view["rows"] = "table", _table(served)
                view["flagged"] = flag_counts(view["rows"])
                view["failing"] = [
                    c["explanation"]
                    for c in item["checks"]
                    if c["outcome"] == CheckOutcome.FAIL and c.get("evidence", {}).get("cells")
                ]
                view["marks_from"] = (
                    "the airlock's own evidence (verified by replay)"
                    if replay.trusted_evidence(item["checks"]) is not None
                    else "the analyst's evidence file: unverified claims"
                    if served.evidence is not None
                    else "the automatic checks"
                )
            else:
                text = served.data[:20000].decode("utf-8", errors="replace")
                view["view"], view["text"] = "text", text
        files.append(view)
    return files


class QueuePage(Page):
    scope = "custom:tre:review"

    def get(self) -> None:
        self.page("airlock_queue.html", queue=airlock.queue(self.instance, self.person))


def _request_path(page: Page, request_id: str) -> str:
    return f"{page.prefix()}/airlock/requests/{request_id}"


class RequestPage(Page):
    def get(self, request_id: str) -> None:
        shown = airlock.show(self.instance, request_id, self.person)
        may = airlock.permitted(self.instance, request_id, self.person)
        files = _view(self.instance, shown, self.person)
        voted = [f for f in files if not f["supporting"]]
        self.page(
            "airlock_request.html",
            r=shown,
            files=files,
            plain=airlock.plain,
            can_vote=may.vote,
            can_submit_review=may.submit_review,
            to_vote=[f for f in voted if not f["my_vote"]],
            overrides=self.instance.settings.airlock.release_failed_with_override,
            can_release=may.release,
            done=self.get_query_argument("done", ""),
            **author_pages.answering(self.instance, shown, self.person),
        )


class SubmitReview(Page):
    """The checker's review, confirmed before it is submitted: their vote on each file, and the
    warning that a submitted review is final (GET); submitted once (POST)."""

    scope = "custom:tre:review"

    def get(self, request_id: str) -> None:
        shown = airlock.show(self.instance, request_id, self.person)
        may = airlock.permitted(self.instance, request_id, self.person)
        if not may.submit_review:
            self.redirect(_request_path(self, request_id), status=303)
            return
        voted = [f for f in shown["files"] if not f["supporting"]]
        said = {
            c["file"]
            for c in shown["comments"]
            if c["author"] == self.person and c["turn"] == shown["turn"]
        }
        self.page(
            "airlock_submit_review.html",
            r=shown,
            files=voted,
            missing=[f for f in voted if not f["my_vote"]],
            unexplained=[f for f in voted if f["my_vote"] == "changes" and f["path"] not in said],
        )

    def post(self, request_id: str) -> None:
        airlock.submit_review(self.instance, request_id, self.person)
        self.redirect(f"{_request_path(self, request_id)}?done=review", status=303)


class FileView(Page):
    """A requested file's bytes, for the request page's image or sandboxed frame only: the
    airlock's verified copy, served to a checker who may review the request (and audited)."""

    def get(self, request_id: str, path: str) -> None:
        suffix = Path(path).suffix.lower()
        if suffix not in CONTENT_TYPES:
            raise tornado.web.HTTPError(404, reason="only pictures and reports are shown this way")
        try:
            served = airlock.served(self.instance, request_id, self.person, path)
        except AirlockError as exc:
            if isinstance(exc, airlock.TamperedFile):
                raise
            raise tornado.web.HTTPError(404, reason=str(exc)) from None
        self.set_header("Content-Type", CONTENT_TYPES[suffix])
        self.set_header(
            "Content-Security-Policy",
            "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'",
        )
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.finish(served.data)


class VoteForm(Page):
    scope = "custom:tre:review"

    def post(self, request_id: str) -> None:
        airlock.review(
            self.instance,
            request_id,
            self.person,
            self.get_body_argument("file"),
            self.get_body_argument("vote", ""),
            self.get_body_argument("comment", ""),
            bool(self.get_body_argument("private", "")),
            sha256=self.get_body_argument("sha256", None),
            override=self.get_body_argument("override", ""),
        )
        anchor = self.get_body_argument("anchor", "")
        where = f"#{anchor}" if anchor.startswith("file-") and anchor[5:].isdigit() else ""
        self.redirect(f"{_request_path(self, request_id)}{where}", status=303)


class DecideForm(Page):
    scope = "custom:tre:review"

    def post(self, request_id: str) -> None:
        action = self.get_body_argument("action", "")
        reason = self.get_body_argument("reason", "")
        if action == RequestAction.RETURN:
            airlock.return_request(self.instance, request_id, self.person, reason)
        elif action == RequestAction.REJECT:
            airlock.reject(self.instance, request_id, self.person, reason)
        else:
            raise AirlockError(f"the decision is return or reject, not {action!r}")
        self.redirect(f"{self.prefix()}/airlock/requests/{request_id}", status=303)


class ReleaseForm(Page):
    scope = "custom:tre:review"

    def post(self, request_id: str) -> None:
        airlock.release(self.instance, request_id, self.person)
        self.redirect(f"{self.prefix()}/airlock/releases/{request_id}", status=303)


class ReleasedPage(Page):
    """A release, for its recipients, its author and its checkers: who receives it, its files
    (downloaded by the recipients alone) and the RO-Crate's record of its checks and reviews."""

    def get(self, request_id: str) -> None:
        self.page(
            "airlock_released.html", r=airlock.released(self.instance, request_id, self.person)
        )


class Download(Page):
    """A released file, for one of the request's recipients (audited); anyone else is answered
    404 with the same sentence whether or not the file exists."""

    def get(self, request_id: str, name: str) -> None:
        content = airlock.download(self.instance, request_id, self.person, name)
        self.set_header("Content-Type", "application/octet-stream")
        safe = re.sub(r"[^\w.-]", "_", name)  # a name the analyst chose: never a header's syntax
        self.set_header("Content-Disposition", f'attachment; filename="{safe}"')
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("Cache-Control", "no-store")
        self.finish(content)


class NotificationsPage(Page):
    """The person's notifications, newest first; marked read on request."""

    def get(self) -> None:
        self.page("notifications.html", notes=notify.notifications(self.instance, self.person))

    def post(self) -> None:
        notify.mark_read(self.instance, self.person)
        self.redirect(f"{self.prefix()}/notifications/", status=303)


def routes() -> list[tuple[str, type[Page]]]:
    return [
        (r"/airlock/?", QueuePage),
        (r"/airlock/requests/([\w-]+)/?", RequestPage),
        (r"/airlock/requests/([\w-]+)/files/(.+)", FileView),
        (r"/airlock/requests/([\w-]+)/vote", VoteForm),
        (r"/airlock/requests/([\w-]+)/review", SubmitReview),
        (r"/airlock/requests/([\w-]+)/decide", DecideForm),
        (r"/airlock/requests/([\w-]+)/release", ReleaseForm),
        (r"/airlock/releases/([\w-]+)/?", ReleasedPage),
        (r"/airlock/releases/([\w-]+)/([^/]+)", Download),
        (r"/notifications/?", NotificationsPage),
        (r"/airlock/requests/([\w-]+)/answer", author_pages.AnswerForm),
        (r"/projects/([a-z0-9-]+)/requests/new", author_pages.NewRequestPage),
    ]


__all__ = ["routes", "TEMPLATES"]
