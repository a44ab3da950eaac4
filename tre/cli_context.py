"""What every `tre` command shares: the console, and the context (instance and actor).

Who acts comes from the operating system: the account the command runs as is the registered
person of the same name, or the one tre.toml's ``[people] accounts`` maps it to; root is nobody
(the machine's operator, recorded as ``operator:root``). ``--actor`` (or ``TRE_ACTOR``) may
name the acting person for the audit log when the account is nobody's, and never anyone but the
signed-in person otherwise. A decision (a controller's approval, a checker's vote, a release)
is taken only from the decider's own account (:meth:`Context.decider`).
"""

from __future__ import annotations

import os
import pwd
from collections.abc import Callable
from typing import TYPE_CHECKING

import click
from rich.console import Console, ConsoleOptions, RenderResult
from rich.measure import Measurement
from rich.table import Column, Table

from tre.errors import Refused, TreError
from tre.sandbox import ACCOUNT_PREFIX as SANDBOX_PREFIX

if TYPE_CHECKING:
    from tre.instance import Instance

# soft_wrap: text is never broken across lines by the console (a path or an id wrapped at 80
# columns cannot be copied whole); the terminal wraps long lines itself, and copies them whole
console = Console(soft_wrap=True)


class _IdTable(Table):
    """A table that, rather than cut its ids to fit the terminal, is drawn wider than it: the
    terminal then wraps the long lines, but every id stays whole (copied, it is the id)."""

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        needed = Measurement.get(console, options.update(max_width=1 << 16), self).minimum
        if needed > options.max_width:
            options = options.update(width=needed)
        yield from super().__rich_console__(console, options)


def id_table(*headers: str, ids: tuple[str, ...] = (), **options) -> Table:
    """A table whose IDS columns (names and ids a person types: usernames, project and run ids)
    are never wrapped nor cut to `alex.analy…`: the other columns give way (they wrap, and fold
    rather than end in an ellipsis) and where even that is not enough the table is drawn wider
    than the terminal."""
    return _IdTable(
        *(
            Column(header, no_wrap=True, overflow="fold", min_width=len(header))
            if header in ids
            else Column(header, overflow="fold")
            for header in headers
        ),
        **options,
    )


class Context:
    """The command's instance and actor; ``prepare`` (given by the composition root) brings an
    opened instance's schema up to date."""

    def __init__(
        self,
        home: str | None,
        actor: str | None,
        prepare: Callable[[Instance], None] | None = None,
    ):
        self.home = home
        self.claimed = actor or os.environ.get("TRE_ACTOR") or None
        self._prepare = prepare

    @property
    def actor(self) -> str:
        """Who acts, for the audit log: the signed-in person, or the name an operator gave."""
        person = self.signed_in()
        if person is not None and self.claimed and self.claimed != person:
            raise Refused(
                f"you are signed in to this machine as {person}: --actor (or TRE_ACTOR) cannot "
                f"name someone else ({self.claimed}); nothing was changed"
            )
        return self.claimed or person or f"operator:{os_account()}"

    def nameless_hint(self) -> str:
        """What to do when the command acts as nobody (root, or an account in nobody's name,
        and no --actor): empty otherwise."""
        try:
            nobody = not self.claimed and self.signed_in() is None
        except TreError:
            return ""
        if not nobody:
            return ""
        return (
            f"this command ran as the account {os_account()}, which is nobody in the registry: "
            "name the person you act for with --actor NAME (or TRE_ACTOR=NAME), or run it as "
            "your own account (tre.toml's [people] accounts maps accounts to people)"
        )

    def decider(self, decision: str) -> str:
        """The person taking DECISION: only ever the signed-in person, whatever --actor says."""
        person = self.signed_in()
        if person is None:
            raise Refused(
                f"{decision} is taken only from the decider's own sign-in, and this command runs "
                f"as {os_account()}, who is nobody in the registry: run it as your own account "
                "(tre.toml's [people] accounts maps accounts to registered people) or decide in "
                "the tre web pages; --actor cannot name a decider. Nothing was changed"
            )
        if self.claimed and self.claimed != person:
            raise Refused(
                f"you are signed in to this machine as {person}: {decision} cannot be taken "
                f"in the name of {self.claimed}; nothing was changed"
            )
        return person

    def signed_in(self) -> str | None:
        """The registered person this operating-system account is, or None (root, nobody)."""
        account = os_account()
        if account.startswith(SANDBOX_PREFIX):
            raise Refused(
                "the tre command does not act from a workspace's sandbox: use the tre web pages"
            )
        mapped = self._accounts().get(account)
        if mapped:
            return mapped
        return None if account == "root" else account

    def _accounts(self) -> dict[str, str]:
        from tre.instance import open_instance

        try:
            return dict(open_instance(self.home).settings.people.accounts)
        except TreError:  # no instance yet (tre init): only the account's own name counts
            return {}

    def instance(self) -> Instance:
        """The instance, its settings validated and its schema brought up to date."""
        from tre.instance import open_instance

        instance = open_instance(self.home)
        if self._prepare is not None:
            self._prepare(instance)
        return instance


def os_account() -> str:
    """The operating-system account this command runs as."""
    return pwd.getpwuid(os.geteuid()).pw_name


pass_context = click.make_pass_decorator(Context)
