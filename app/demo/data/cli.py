"""`tre demo-data`: synthetic agency data for the demo and the tests."""

from __future__ import annotations

import time
from pathlib import Path

import click


@click.group("demo-data")
def demo_data() -> None:
    """Synthetic agency data about a fictional town (never real people)."""


@demo_data.command("generate")
@click.option(
    "--people",
    type=click.IntRange(min=10),
    default=5000,
    show_default=True,
    help="People in the town.",
)
@click.option("--seed", type=int, default=2026, show_default=True, help="Random seed.")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(file_okay=False),
    help="Folder to write the agency files, lookups and truth/ into.",
)
def generate_command(people: int, seed: int, out: str) -> None:
    """Generate a town of PEOPLE and the extracts its agencies would send."""
    from app.demo.data import generate
    from tre.errors import TreError

    target = Path(out)
    if target.exists() and any(target.iterdir()):
        raise TreError(f"{target} is not empty; choose a new folder so that no file is overwritten")
    started = time.perf_counter()
    town = generate(people, seed, target)
    click.echo(f"{town.summary()}\nwritten to {target} in {time.perf_counter() - started:.1f} s")
