"""Who may log in: NativeAuthenticator's accounts (approved by an admin, password rules,
lock-out after failed attempts, optional TOTP), accepted only for a person registered in
``projects`` and not suspended."""

from __future__ import annotations

import os

from nativeauthenticator import NativeAuthenticator

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


class TreAuthenticator(NativeAuthenticator):
    def get_handlers(self, app):
        login = _login_handler()
        return [
            (path, login if path == r"/login" else handler)
            for path, handler in super().get_handlers(app)
        ]

    async def authenticate(self, handler, data):
        username = await super().authenticate(handler, data)
        if username is None:
            return None
        from tre.instance import open_instance

        instance = open_instance(os.environ.get("TRE_HOME"))
        try:
            refusal = login_refusal(instance, username)
        finally:
            instance.db.dispose()
        if refusal:
            self.log.warning("login refused: %s", refusal)
            return None
        return username
