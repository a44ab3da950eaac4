"""What every `tre` command shares: the console, and the context (instance and actor)."""

from __future__ import annotations

import getpass
import os

import click
from rich.console import Console

console = Console()


class Context:
    def __init__(self, home: str | None, actor: str | None):
        self.home = home
        self.actor = actor or os.environ.get("TRE_ACTOR") or f"operator:{getpass.getuser()}"

    def instance(self):
        """The instance, its settings validated and its schema brought up to date."""
        from tre.db import current_revision, head_revision
        from tre.instance import open_instance

        instance = open_instance(self.home)
        if current_revision(instance.db.engine) != head_revision():
            instance.db.upgrade()
        return instance


pass_context = click.make_pass_decorator(Context)
