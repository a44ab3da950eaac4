"""`tre hub config --profile docker|k8s --out DIR`: the deployment profiles' files."""

from __future__ import annotations

from pathlib import Path

import click

from tre.cli_context import Context, console, pass_context


@click.group("hub")
def hub_group() -> None:
    """The safe setting: JupyterHub's deployment profiles (`make up` runs the local one)."""


@hub_group.command("config")
@click.option("--profile", type=click.Choice(["docker", "k8s"]), required=True)
@click.option("--out", type=click.Path(file_okay=False), required=True)
@pass_context
def hub_config(context: Context, profile: str, out: str) -> None:
    """Write the DockerSpawner or Zero to JupyterHub configuration for this instance."""
    from hub.deploy import write

    for path in write(context.instance(), profile, Path(out)):
        console.print(f"wrote {path}")


COMMANDS = (hub_group,)
