"""What every page of the tre web service shares: who is asking, templates, CSRF, errors.

The service is tornado (JupyterHub's own server library, so that the hub's OAuth mixin plugs in).
Pages are plain server-rendered HTML that works without JavaScript; Jinja2 escapes every value
(``autoescape``), and tornado's ``xsrf_cookies`` makes every form carry a token bound to a cookie,
so a form posted from another site is refused.

Who is asking comes from the application's ``identify`` setting: the hub's OAuth in the safe
setting (:mod:`hub.service`), a fixed or cookie-chosen person in tests and local previews.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import tornado.web

from tre.errors import Refused, TreError
from tre.templating import environment

log = logging.getLogger(__name__)

# GOV.UK Frontend's compiled stylesheet (``make assets`` installs it, pinned by
# tre/static/package-lock.json); the pages work unstyled without it
GOVUK_CSS = (
    Path(__file__).parent / "static/node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.css"
)
STYLESHEET = "/static/govuk-frontend.min.css"
# the kit's own styles over it (and the whole look without it)
KIT_CSS = Path(__file__).parent / "static/tre.css"


def stylesheet(prefix: str) -> str | None:
    """The address of GOV.UK Frontend's stylesheet under PREFIX, or None (and a warning in the
    log) when it is not installed."""
    if GOVUK_CSS.is_file():
        return prefix + STYLESHEET
    log.warning(
        "GOV.UK Frontend is not installed (%s is missing): the pages are served unstyled "
        "(the kit's own plainer styles alone); "
        "`make assets` installs it when Node.js is present",
        GOVUK_CSS,
    )
    return None


class Page(tornado.web.RequestHandler):
    """A page of the service: ``self.instance``, ``self.person`` and :meth:`page`."""

    @property
    def instance(self):
        return self.settings["tre_instance"]

    # the custom scope a page needs (None: the policy engine alone decides)
    scope: str | None = None
    # a page anyone may read without signing in (the transparency register)
    public = False

    def get_current_user(self) -> Any:
        identify: Callable[[tornado.web.RequestHandler], Any] = self.settings["identify"]
        return identify(self)

    @property
    def username(self) -> str | None:
        user = self.current_user
        return user.get("name") if isinstance(user, dict) else user

    @property
    def scopes(self) -> set[str]:
        user = self.current_user
        if isinstance(user, dict):
            return set(user.get("scopes", []))
        scopes_of = self.settings.get("scopes_of")
        return set(scopes_of(user)) if scopes_of and user else set()

    @property
    def person(self) -> str:
        if not self.username:
            raise tornado.web.HTTPError(403, reason="sign in through the hub first")
        return self.username

    def prepare(self) -> None:
        if not self.username and not self.public and self.settings.get("login_redirect"):
            self.redirect(self.get_login_url())
            return
        if not self.username and not self.public:
            raise tornado.web.HTTPError(403, reason="sign in through the hub first")
        if self.scope and self.scope not in self.scopes:
            # in plain words: who the page is for (the application's ``scope_names``)
            audience = self.settings.get("scope_names", {}).get(self.scope)
            raise tornado.web.HTTPError(
                403,
                reason=f"this page is for {audience}, and {self.username} is not one"
                if audience
                else f"this page needs the {self.scope} permission, which "
                f"{self.username} does not hold",
            )

    def prefix(self) -> str:
        return self.settings.get("prefix", "")

    def page(self, template: str, status: int = 200, **values: Any) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "text/html; charset=utf-8")
        self.set_header(
            "Content-Security-Policy",
            "default-src 'self'; frame-src 'self'; "
            "img-src 'self' data:; style-src 'self' 'unsafe-inline'",
        )
        self.set_header("X-Content-Type-Options", "nosniff")
        self.set_header("X-Frame-Options", "SAMEORIGIN")
        rendered = (
            self.settings["templates"]
            .get_template(template)
            .render(
                person=self.username,
                scopes=self.scopes,
                prefix=self.prefix(),
                xsrf=self.xsrf_token.decode(),
                unread=self._unread(),
                stylesheet=self.settings.get("stylesheet"),
                **self._shared_values(),
                **values,
            )
        )
        self.finish(rendered)

    def _shared_values(self) -> dict[str, Any]:
        """What every page's frame shows (the navigation of the person asking): the
        application's ``frame`` setting, handler -> values; none without it."""
        frame = self.settings.get("frame")
        return frame(self) if frame else {}

    def _unread(self) -> int:
        """The signed-in person's unread notifications, for the nav (the application's
        ``unread_of`` setting counts them; none without it)."""
        unread_of = self.settings.get("unread_of")
        return unread_of(self.instance, self.username) if unread_of and self.username else 0

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        message = self._reason
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, (Refused, TreError)):
            message = str(exc)
        if status_code == 403 and self.username and not getattr(exc, "audited", False):
            # a signed-in person refused a page or an action: an audit event (anonymous visitors
            # are refused by the hub before they reach here, and are not logged one by one)
            from tre import audit

            where = f"{self.request.method} {self.request.path}"
            audit.record_refusal(self.instance.db, self.username, message, where)
        self.page("error.html", status=status_code, message=message)

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, TreError):  # Refused is 403; others 400 unless they say otherwise
            self.send_error(e.http_status, exc_info=(type(e), e, e.__traceback__))
        else:
            super()._handle_request_exception(e)


def application(
    instance,
    routes: list,
    identify: Callable[[tornado.web.RequestHandler], Any],
    prefix: str = "",
    cookie_secret: str | bytes | None = None,
    templates: list[Path] | None = None,
    **settings: Any,
) -> tornado.web.Application:
    import secrets

    css = stylesheet(prefix)
    # the stylesheets alone, public (the hub's own login page uses them too); no script is served
    sheets = {"tre.css": KIT_CSS} | ({"govuk-frontend.min.css": GOVUK_CSS} if css else {})
    assets: list[Any] = [
        (prefix + "/static/" + name, _Stylesheet, {"path": path}) for name, path in sheets.items()
    ]
    return tornado.web.Application(
        [(prefix + path, handler) for path, handler in routes] + assets,
        tre_instance=instance,
        identify=identify,
        prefix=prefix,
        templates=environment(*(templates or [])),
        stylesheet=css,
        xsrf_cookies=True,
        cookie_secret=cookie_secret or secrets.token_hex(32),
        **settings,
    )


class _Stylesheet(tornado.web.RequestHandler):
    """A stylesheet (GOV.UK Frontend's, the kit's own), cached by browsers for a day."""

    def initialize(self, path: Path) -> None:
        self.sheet = path

    def get(self) -> None:
        self.set_header("Content-Type", "text/css; charset=utf-8")
        self.set_header("Cache-Control", "public, max-age=86400")
        self.set_header("X-Content-Type-Options", "nosniff")
        self.finish(self.sheet.read_bytes())
