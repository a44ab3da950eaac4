"""Who may log in: NativeAuthenticator's accounts (approved by an admin, password rules,
lock-out after failed attempts, optional TOTP), accepted only for a person registered in
``projects`` and not suspended."""

from __future__ import annotations

import os

from nativeauthenticator import NativeAuthenticator

from hub.events import HubEvent
from projects import registry
from projects.errors import RegistryError


def login_refusal(instance, username: str) -> str | None:
    """Why USERNAME may not log in now, or None."""
    with instance.db.session() as session:
        try:
            person = registry.person(session, username)
        except RegistryError:
            return f"{username} is not registered in the kit's registry"
        if person.suspended:
            return f"{username}'s account is suspended"
    return None


class _Timer:
    """A stand-in for the statsd timer JupyterHub 6 removed (NativeAuthenticator 1.3's login
    handler still calls it)."""

    def timer(self, name):
        return self

    def start(self):
        return self

    def stop(self, send=True):
        return None


def _login_handler():
    from nativeauthenticator.handlers import LoginHandler

    class TreLoginHandler(LoginHandler):
        statsd = _Timer()

    return TreLoginHandler


TOKENS_REFUSED = (
    "API tokens are not issued in this environment: your workspace reaches the kit with its own "
    "token, which ends with the workspace. Use the tre pages, or a notebook in your workspace."
)


def _token_page_handler():
    from jupyterhub.handlers.pages import TokenPageHandler
    from tornado import web

    class TreTokenPageHandler(TokenPageHandler):
        """JupyterHub's token page, for those whose roles let them manage their own tokens (the
        operators, as hub admins) only: to anyone else it answers 403 and offers no form (their
        role has no ``tokens`` scope, so the API would refuse the form anyway)."""

        @web.authenticated
        async def get(self):
            if "tokens" not in self.parsed_scopes:
                refused = web.HTTPError(403, log_message=TOKENS_REFUSED, reason="No API tokens")
                refused.jupyterhub_message = TOKENS_REFUSED  # type: ignore[attr-defined]
                raise refused
            await super().get()

    return TreTokenPageHandler


class TreAuthenticator(NativeAuthenticator):
    def get_handlers(self, app):
        """NativeAuthenticator's pages (with the login page's fix), and the hub's token page
        guarded: the hub routes the authenticator's handlers before its own."""
        login = _login_handler()
        return [
            *(
                (path, login if path == r"/login" else handler)
                for path, handler in super().get_handlers(app)
            ),
            (r"/token", _token_page_handler()),
        ]

    async def authenticate(self, handler, data):
        """NativeAuthenticator's password check, then the registry's; every attempt audited."""
        username = await super().authenticate(handler, data)
        from tre.instance import open_instance

        instance = open_instance(os.environ.get("TRE_HOME"))
        try:
            if username is None:
                attempted = str((data or {}).get("username", ""))[:100]
                record_login(instance, attempted, HubEvent.LOGIN_FAILED, handler)
                return None
            refusal = login_refusal(instance, username)
            if refusal:
                self.log.warning("login refused: %s", refusal)
                record_login(instance, username, HubEvent.LOGIN_REFUSED, handler, refusal)
                return None
            record_login(instance, username, HubEvent.LOGIN, handler)
        finally:
            instance.db.dispose()
        return username


def record_login(instance, username: str, action: HubEvent, handler, reason: str = "") -> None:
    """A login attempt as an audit event: who (as typed), from where, and why it was refused."""
    from tre import audit

    details = {"from": getattr(getattr(handler, "request", None), "remote_ip", None)}
    if reason:
        details["reason"] = reason
    with instance.db.session() as session:
        audit.record(
            session, username or "(none)", action, "login", username or "(none)", details=details
        )
