"""`tre run NOTEBOOK --project P` and `tre runs list|show|recover`."""

from __future__ import annotations

import json

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn

from tre.cli_context import Context, console, id_table, pass_context

PREPARING = "preparing the run (sandbox, kernel)"


def run_progress(out: Console) -> Progress:
    """A run's progress bar: what the runner is doing before the first cell (it knows the count
    of cells only then), then ``cell n of N``."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.fields[step]}"),
        console=out,
        transient=True,
        disable=not out.is_terminal,
    )


@click.command("run")
@click.argument("notebook")
@click.option("--project", "project_id", required=True, help="The project whose scope it runs in.")
@click.option(
    "-p",
    "--parameter",
    "parameters",
    nargs=2,
    multiple=True,
    metavar="NAME VALUE",
    help="A parameter of the notebook's parameters cell (repeatable).",
)
@click.option("--kernel", default="python3", show_default=True, help="The Jupyter kernel.")
@pass_context
def run_command(
    context: Context, notebook: str, project_id: str, parameters: tuple, kernel: str
) -> None:
    """Run NOTEBOOK in PROJECT's scope, with provenance: a study's name, or a notebook of your
    own workspace in PROJECT (workspace/NAME.ipynb, or its path); nothing else, as on the web.

    Studies: supporting-families, service-demand, repeat-callers, does-it-work."""
    from notebooks.runner import run_runnable, runnable_name
    from notebooks.runs import FAILED

    instance = context.instance()
    actor = context.actor
    name = runnable_name(instance, project_id, actor, notebook)

    with run_progress(console) as bar:
        task = bar.add_task(notebook, total=None, step=PREPARING)

        def progress(n: int, total: int, source: str) -> None:
            bar.update(task, completed=n, total=total, step=f"cell {n} of {total}")

        result = run_runnable(
            instance, project_id, actor, name, dict(parameters), progress=progress, kernel=kernel
        )
    if result.status == FAILED:
        console.print(f"[red]run {result.id} failed[/red]: {result.error}")
        console.print(
            f"the executed notebook, for you to look at: {result.files / 'notebook.ipynb'}"
        )
        console.print("nothing of a failed run can be requested for release")
        raise SystemExit(1)
    console.print(f"run {result.id} succeeded: {len(result.outputs)} files written")
    for name in result.undeclared:
        console.print(
            f"  [yellow]undeclared output[/yellow] (not in the notebook's metadata): {name}"
        )
    console.print(f"report: {result.report()}")
    console.print(f"report with code: {result.report(code=True)}")
    console.print(f"outputs and RO-Crate: {result.folder}")


@click.group("runs")
def runs_group() -> None:
    """Notebook runs and their provenance."""


@runs_group.command("list")
@click.option("--project", "project_id", help="Only this project's runs.")
@pass_context
def runs_list(context: Context, project_id: str | None) -> None:
    """Every run, newest first."""
    from notebooks.runs import runs

    table = id_table(
        "run",
        "project",
        "person",
        "notebook",
        "status",
        "started",
        "outputs",
        ids=("run", "project", "person", "notebook"),
    )
    for found in runs(context.instance(), project_id):
        table.add_row(
            found.id,
            found.project_id,
            found.person,
            found.notebook,
            found.status,
            found.started[:16].replace("T", " "),  # to the minute, as people read times
            str(len(found.outputs)),
        )
    console.print(table)


@runs_group.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="The whole record as JSON.")
@pass_context
def runs_show(context: Context, run_id: str, as_json: bool) -> None:
    """One run's record: person, project, notebook hash, parameters, inputs, outputs."""
    from notebooks.runs import describe_run, get_run

    record = describe_run(get_run(context.instance(), run_id))
    if as_json:
        click.echo(json.dumps(record, indent=1))
        return
    for key in (
        "id",
        "project_id",
        "project_version",
        "person",
        "notebook",
        "notebook_sha256",
        "kit_version",
        "kernel",
        "started",
        "ended",
        "status",
        "error",
        "folder",
    ):
        console.print(f"[bold]{key}[/bold]: {record[key]}")
    console.print(f"[bold]parameters[/bold]: {json.dumps(record['parameters'])}")
    console.print(
        f"[bold]packages[/bold]: lock {record['packages'].get('lock_sha256')}, "
        f"{len(record['packages'].get('installed', []))} installed"
    )
    for item in record["inputs"]:
        console.print(f"  input  {item['file']}  sha256 {item['sha256']}")
    for item in record["outputs"]:
        flag = "" if item["declared"] or item["evidence_of"] else "  (undeclared)"
        console.print(f"  output {item['file']}  sha256 {item['sha256']}{flag}")


@runs_group.command("recover")
@pass_context
def runs_recover(context: Context) -> None:
    """Fail interrupted runs; remove their sandboxes.

    The runs of this host whose process ended before they did are failed, and the sandboxes
    they left in the tempdir removed; live runs, and other hosts' runs, are left. The tre
    service does this when it starts."""
    from notebooks.recovery import recover

    for line in recover(context.instance(), context.actor).lines():
        console.print(line, highlight=False, soft_wrap=True)


COMMANDS = (run_command, runs_group)
