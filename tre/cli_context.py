"""What every `tre` command shares: the console, and the context (instance and actor)."""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import click
from rich.console import Console

if TYPE_CHECKING:
    from tre.instance import Instance

console = Console()


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
        self.actor = actor or os.environ.get("TRE_ACTOR") or f"operator:{getpass.getuser()}"
        self._prepare = prepare

    def instance(self) -> Instance:
        """The instance, its settings validated and its schema brought up to date."""
        from tre.instance import open_instance

        instance = open_instance(self.home)
        if self._prepare is not None:
            self._prepare(instance)
        return instance


pass_context = click.make_pass_decorator(Context)
