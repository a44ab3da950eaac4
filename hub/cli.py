"""`tre hub config --out DIR`: the files of the deployment profile tre.toml chooses."""

from __future__ import annotations

from pathlib import Path

import click

from tre.cli_context import Context, console, pass_context


@click.group("hub")
def hub_group() -> None:
    """The safe setting: JupyterHub's deployment profiles (`make up` runs the local one)."""


@hub_group.command("config")
@click.option("--out", type=click.Path(file_okay=False), required=True)
@pass_context
def hub_config(context: Context, out: str) -> None:
    """Write the hub's files for tre.toml's [hub] profile: docker-compose.yml (docker) or Zero
    to JupyterHub's values.yaml (k8s)."""
    from hub.deploy import write

    for path in write(context.instance(), Path(out)):
        console.print(f"wrote {path}")


COMMANDS = (hub_group,)
