"""`tre dictionary` and `tre data`: the data dictionary and the operator's data path."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from tre.cli_context import Context, console, pass_context


@click.group("dictionary")
def dictionary_group() -> None:
    """The data dictionary: the agreed schema of every agency dataset."""


@dictionary_group.command("list")
def dictionary_list() -> None:
    from linkage import dictionary

    table = Table("dataset", "title", "version", "controller", "fields", "identifiers")
    for schema in dictionary.schemas().values():
        table.add_row(
            schema.id,
            schema.title,
            schema.version,
            schema.controller,
            str(len(schema.fields)),
            str(len(schema.by_role("direct_identifier"))),
        )
    console.print(table)


@dictionary_group.command("show")
@click.argument("dataset")
def dictionary_show(dataset: str) -> None:
    from linkage import dictionary
    from linkage.dictionary import _constraints

    schema = dictionary.get(dataset)
    console.print(
        f"[bold]{schema.title}[/bold] ({schema.id}, version {schema.version}), "
        f"controller {schema.controller}; record key {schema.primary_key}"
    )
    table = Table("field", "type", "role", "concept", "constraints")
    for f in schema.fields:
        table.add_row(
            f.name,
            f.type + (f" ({f.format})" if f.format else ""),
            f.role.replace("_", " "),
            f.concept,
            _constraints(f),
        )
    console.print(table)


@dictionary_group.command("html")
@click.argument("out", type=click.Path(dir_okay=False))
def dictionary_html(out: str) -> None:
    """Write the whole dictionary as one HTML page."""
    from linkage import dictionary

    Path(out).write_text(dictionary.render_html(dictionary.schemas()), encoding="utf-8")
    console.print(f"wrote {out}")


@click.group("data")
def data() -> None:
    """The data path: ingest agency files (operator)."""


@data.command("ingest")
@click.argument("dataset")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--force", is_flag=True, help="Ingest a file whose identical content was taken in.")
@pass_context
def data_ingest(context: Context, dataset: str, file: str, force: bool) -> None:
    """Validate FILE against DATASET's schema and store it; bad rows go to quarantine."""
    from linkage.ingest import ingest

    result = ingest(
        context.instance(), dataset, Path(file), context.actor, force, progress=console.is_terminal
    )
    console.print(result.summary())
    if result.quarantine:
        console.print(f"quarantined rows, with reasons: {result.quarantine}")
    console.print(f"data-quality report: {result.report}")


@data.command("link")
@click.option("--threshold", default=0.9, show_default=True, help="Match probability to accept.")
@click.option("--retrain", is_flag=True, help="Train a new model instead of reusing the last.")
@pass_context
def data_link(context: Context, threshold: float, retrain: bool) -> None:
    """Link every ingested person dataset into the person spine (the trusted linkage step)."""
    from linkage import spine

    result = spine.run(context.instance(), context.actor, threshold, retrain)
    console.print(
        f"linked {result.records:,} records from {', '.join(result.sources)} into "
        f"{result.people:,} people; estimated false-match rate "
        f"{100 * result.estimated_false_match_rate:.2f} %"
    )
    console.print(f"linkage-quality report: {result.report}")


@data.command("lookup")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@pass_context
def data_lookup(context: Context, file: str) -> None:
    """Load a public reference table: the postcode -> LSOA lookup (postcode, lsoa_code) or the
    LSOA population (lsoa_code, population[, lsoa_name, deprivation_index])."""
    from linkage.extract import load_lookup

    path = load_lookup(context.instance(), Path(file), context.actor)
    console.print(f"loaded {Path(file).name} into {path}")


@data.command("extract")
@click.argument("project_id")
@pass_context
def data_extract(context: Context, project_id: str) -> None:
    """Cut PROJECT's extract: approved items only, project pseudonyms, coarsened, read-only."""
    from linkage.extract import extract

    result = extract(context.instance(), project_id, context.actor)
    for item in result.files:
        risk = result.risk[item["dataset"]]
        console.print(
            f"{item['file']}: {item['rows']:,} rows, {len(item['columns'])} columns; "
            f"{risk.get('violating_5_anonymity', 0):,} records violate 5-anonymity"
        )
    console.print(f"manifest: {result.manifest}")


@click.group("linkage")
def linkage_group() -> None:
    """Linkage on keyed hashes, for agencies that pseudonymise at source."""


@linkage_group.command("prepare")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--dataset", required=True, help="The dataset whose schema FILE follows.")
@click.option(
    "--key",
    "key_file",
    required=True,
    type=click.Path(dir_okay=False),
    help="The agencies' shared linkage key (hex or text, at least 16 bytes).",
)
@click.option(
    "--out",
    required=True,
    type=click.Path(dir_okay=False),
    help="The token file to send (record_id and tok_* columns).",
)
def linkage_prepare(file: str, dataset: str, key_file: str, out: str) -> None:
    """On the agency's side: replace FILE's identifiers by HMAC-SHA256 tokens."""
    import pandas as pd

    from linkage import dictionary
    from linkage.sources import person_table
    from linkage.tokens import prepare, read_key

    schema = dictionary.get(dataset)
    raw = pd.read_csv(file, dtype=str, keep_default_na=False)
    people = person_table(raw.assign(record_id=raw[schema.primary_key]), schema)
    tokens = prepare(people, read_key(Path(key_file)))
    tokens.to_csv(out, index=False)
    console.print(
        f"wrote {len(tokens):,} token rows to {out}; send it with the payload "
        "(the file without its direct identifiers)"
    )


COMMANDS = (dictionary_group, data, linkage_group)
