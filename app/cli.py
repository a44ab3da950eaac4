"""The `tre` command. Each command is a thin layer over a package function; errors are sentences.

`tre --help` answers in well under a second: nothing heavy (pandas, SQLAlchemy, the demo's data
generator) is imported until a command needs it. The packages' command modules import only click
and rich at their top; `demo-data`, whose package imports its generator, is registered lazily
(:class:`LazyGroup`), and the schema's upgrade is imported when an instance is opened.
"""

from __future__ import annotations

import importlib
import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich import box
from rich.table import Column, Table
from rich.text import Text

from sdc.errors import SdcError
from tre import __version__
from tre.cli_context import Context, console, os_account, pass_context
from tre.errors import Refused, TreError

if TYPE_CHECKING:
    from tre.instance import Instance


class LazyGroup(click.Group):
    """A group some of whose commands are imported only when run (or asked for their own help).

    ``lazy`` maps a command's name to ``("module:attribute", short help)``; the short help is what
    `tre --help` lists without importing the module (a test checks it against the command's own)."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str]] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.lazy and cmd_name not in self.commands:
            module, _, attribute = self.lazy[cmd_name][0].partition(":")
            self.add_command(getattr(importlib.import_module(module), attribute), cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """As click's own, except that a command not yet imported is listed with its registered
        short help."""
        listed: list[tuple[str, str | click.Command]] = []
        for name in self.list_commands(ctx):
            if name in self.lazy and name not in self.commands:
                listed.append((name, self.lazy[name][1]))
            elif (command := self.get_command(ctx, name)) is not None and not command.hidden:
                listed.append((name, command))
        if not listed:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in listed)
        rows = [
            (
                name,
                (
                    click.Command(name, help=what) if isinstance(what, str) else what
                ).get_short_help_str(limit),
            )
            for name, what in listed
        ]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _prepare(instance: Instance) -> None:
    """Bring an opened instance's schema up to date (Alembic, imported only now)."""
    from app.schema import bring_up_to_date

    bring_up_to_date(instance)


LAZY = {
    "demo-data": (
        "app.demo.data.cli:demo_data",
        "Synthetic agency data about a fictional town (never real people).",
    ),
}


@click.group(cls=LazyGroup, lazy=LAZY, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    help="The instance folder (default: $TRE_HOME).",
)
@click.option(
    "--actor",
    help="Who acts, for the audit log, when this account is nobody's (default: $TRE_ACTOR, or the "
    "person this OS account is, or operator:<account>); never a decider.",
)
@click.version_option(__version__, prog_name="tre-kit")
@click.pass_context
def cli(ctx: click.Context, home: str | None, actor: str | None) -> None:
    """tre-kit: a trusted research environment for linked public-sector data."""
    global _context
    ctx.obj = _context = Context(home, actor, prepare=_prepare)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False))
@click.option("--database-url", default="", help="PostgreSQL URL (default: embedded SQLite).")
@pass_context
def init(context: Context, directory: str, database_url: str) -> None:
    """Create an instance in DIRECTORY: settings, database, data folders and a key."""
    from app.schema import init_instance

    instance = init_instance(Path(directory), database_url, actor=context.actor)
    console.print(f"Created a tre-kit instance in [bold]{instance.home}[/bold]")
    console.print(f"  settings  {instance.home / 'tre.toml'}")
    console.print(f"  database  {instance.db.engine.dialect.name}")
    console.print(f"  key       {instance.key_path} (mode 0600; back it up apart from the data)")
    console.print(f"Use it with: export TRE_HOME={instance.home}")


@cli.command()
@pass_context
def status(context: Context) -> None:
    """Print what the instance holds."""
    from app.status import instance_status

    result = instance_status(context.instance())
    table = Table(title=f"{result.name} at {result.home}", show_header=False)
    table.add_row("database", f"{result.database} (schema {result.revision}, head {result.head})")
    for name, value in result.counts.items():
        table.add_row(name, str(value))
    for name, value in result.files.items():
        table.add_row(f"files in {name}/", str(value))
    console.print(table)


@cli.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@pass_context
def audit_verify(context: Context) -> None:
    """Recompute the hash chain and check its seals and head; exit 1 naming the first break."""
    from tre import audit as audit_log

    with context.instance().db.session() as session:
        result = audit_log.verify(session)
    if result.ok:
        console.print(result.message())
        return
    click.echo(result.message(), err=True)
    sys.exit(1)


@audit.command("show")
@click.option("--project", help="Only events of this project.")
@click.option("--actor", "who", help="Only events by this actor.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), help="From this date (UTC).")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many events (the newest).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line.")
@pass_context
def audit_show(context, project, who, since, limit, as_json) -> None:
    """Print audit events."""
    from tre import audit as audit_log

    since_date: date | None = since.date() if since else None
    with context.instance().db.session() as session:
        rows = audit_log.events(session, project=project, actor=who, since=since_date, limit=limit)
    if as_json:
        for event in rows:
            click.echo(json.dumps({**event.content(), "hash": event.hash}))
        return
    if not rows:
        console.print("no audit events match")
        return
    console.print(audit_table(rows))


def audit_table(rows) -> Table:
    """Audit events as people read them: the time to the second; what happened, by whom, to
    what and in which project, one to a line and never cut (they are what a person types next:
    `--actor`, `--project`, a run's or request's id); the details as `name: value` lines, which
    give way at a narrow terminal (``--json`` gives each event whole, with its hash)."""
    table = Table(
        Column("#", justify="right", no_wrap=True),
        Column("time (UTC)", no_wrap=True),
        Column("event", no_wrap=True),
        Column("details", overflow="fold", min_width=16),
        box=box.SIMPLE_HEAD,
    )
    for event in rows:
        details = json.loads(event.details or "{}")
        what = [event.action, f"by {event.actor}", f"{event.object_type}:{event.object_id}"]
        if event.project:
            what.append(f"in {event.project}")
        cells = (
            str(event.seq),
            event.at[:19].replace("T", " "),
            "\n".join(what),
            "\n".join(
                f"{key}: {value if isinstance(value, str) else json.dumps(value)}"
                for key, value in details.items()
            ),
        )
        table.add_row(*(Text(cell) for cell in cells))  # as written, never read as markup
    return table


from hub.cli import COMMANDS as hub_commands  # noqa: E402
from linkage.cli import COMMANDS as linkage_commands  # noqa: E402
from notebooks.cli import COMMANDS as notebook_commands  # noqa: E402
from output_checks.cli import COMMANDS as output_commands  # noqa: E402
from projects.cli import COMMANDS as project_commands  # noqa: E402
from projects.cli import register  # noqa: E402

for command in (
    project_commands + linkage_commands + notebook_commands + output_commands + hub_commands
):
    cli.add_command(command)


@cli.command()
@click.option(
    "--dir",
    "directory",
    default="demo-instance",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Where to create the demo instance (replaced).",
)
@click.option("--people", default=20000, show_default=True, help="People in the synthetic town.")
@click.option("--seed", default=2026, show_default=True, help="Seed of the synthetic data.")
@pass_context
def demo(context: Context, directory: str, people: int, seed: int) -> None:
    """Run the whole path on a fresh instance with synthetic data, headless."""
    from app.demo.run import run_demo

    run_demo(Path(directory), people=people, seed=seed, console=console, actor=context.actor)


@cli.group()
def docs() -> None:
    """Documents generated from the code (so they cannot drift from it)."""


@docs.command("states")
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Where to write (default: docs/states.md of the source tree).",
)
def docs_states(out: str | None) -> None:
    """Write the state diagrams of every workflow (Mermaid) into docs/states.md."""
    from app.docs import STATES_FILE, write_states

    path = write_states(Path(out) if out else STATES_FILE)
    console.print(f"wrote the state diagrams to {path}")


# the register's publish composes the registry with the airlock's release counts
@register.command("publish")
@click.argument("outdir", type=click.Path(file_okay=False))
@pass_context
def register_publish(context, outdir) -> None:
    """Write the register as an HTML page, CSV and JSON into OUTDIR."""
    from output_checks import release_dates
    from projects.register import publish

    instance = context.instance()
    with instance.db.session() as session:
        paths = publish(
            session,
            Path(outdir),
            instance.settings.instance.name,
            instance.settings.transparency.show_person_names,
            releases=release_dates,
        )
    console.print(f"published the register: {paths['html']} (and CSV, JSON)")


_context: Context | None = None  # the command's, once the group has run (for refusals)


def _record_refusal(refused: Refused) -> None:
    """A command's refusal as an audit event, unless a package recorded it already."""
    if _context is None or getattr(refused, "audited", False):
        return
    from tre import audit

    try:
        instance = _context.instance()
    except TreError:  # no instance to record in (the refusal is about that)
        return
    who = f"operator:{os_account()}"
    try:
        who = _context.signed_in() or who
    except TreError:
        pass
    audit.record_refusal(instance.db, who, str(refused), "tre " + " ".join(sys.argv[1:])[:400])


def main() -> None:
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except TreError as exc:
        hint = ""
        if isinstance(exc, Refused):
            _record_refusal(exc)
            hint = _context.nameless_hint() if _context is not None else ""
        click.echo(f"error: {exc}", err=True)
        if hint:
            click.echo(f"hint: {hint}", err=True)
        sys.exit(exc.exit_code)
    except SdcError as exc:  # disclosure-control input problems are sentences too
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except SystemExit:
        raise


if __name__ == "__main__":
    main()
