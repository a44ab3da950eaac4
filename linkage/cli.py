"""`tre dictionary` and `tre data`: the data dictionary and the operator's data path."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click

from tre.cli_context import Context, console, id_table, pass_context


@click.group("dictionary")
def dictionary_group() -> None:
    """The data dictionary: the agreed schema of every agency dataset."""


@dictionary_group.command("list")
def dictionary_list() -> None:
    from linkage import dictionary

    table = id_table(
        "dataset", "title", "version", "controller", "fields", "identifiers", ids=("dataset",)
    )
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
    table = id_table("field", "type", "role", "concept", "constraints", ids=("field",))
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
@click.option(
    "--engine",
    type=click.Choice(["duckdb", "spark"]),
    default="duckdb",
    show_default=True,
    help="Where Splink runs: DuckDB here, or Spark (the spark extra, with Java).",
)
@click.option(
    "--key",
    "key_file",
    type=click.Path(dir_okay=False),
    help="The agencies' linkage key: tokenise the datasets that arrived in the clear, to link "
    "them with those that arrived as token files (the key is read, never kept).",
)
@click.option(
    "--ages-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The date (YYYY-MM-DD) to which the quality report's bias table counts ages, such as "
    "the end of the period the data covers. Default: today.",
)
@pass_context
def data_link(
    context: Context,
    threshold: float,
    retrain: bool,
    engine: str,
    key_file: str | None,
    ages_on: datetime | None,
) -> None:
    """Link every ingested person dataset into the person spine (the trusted linkage step)."""
    from linkage import spine
    from linkage.tokens import read_key

    key = read_key(Path(key_file)) if key_file else None
    result = spine.run(
        context.instance(),
        context.actor,
        threshold,
        retrain,
        key,
        engine,
        ages_on=ages_on.date() if ages_on else date.today(),
    )
    how = "on hashed tokens" if result.mode == "tokens" else "in the clear"
    console.print(
        f"linked {result.records:,} records from {', '.join(result.sources)} into "
        f"{result.people:,} people ({how}); "
        f"estimated false-match rate {100 * result.estimated_false_match_rate:.2f} %"
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
    """Linkage on keyed hashes, for agencies that pseudonymise at source, and the clerical
    review of a linkage run's pairs."""


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
    """On the agency's side: write FILE with its direct identifiers replaced by HMAC-SHA256
    tokens (the file to send, ingested as it is with `tre data ingest DATASET OUT`)."""
    from linkage import dictionary
    from linkage.tokens import prepare_file, read_key

    target = Path(out)
    if target.suffix.lower() not in (".csv", ".parquet"):
        raise click.UsageError(f"--out {out}: write the token file as .csv or .parquet")
    if target.resolve() == Path(file).resolve():
        raise click.UsageError("--out must not be FILE itself: the agency keeps its original")
    schema = dictionary.get(dataset)
    prepared = prepare_file(Path(file), schema, read_key(Path(key_file)))
    if target.suffix.lower() == ".parquet":
        prepared.to_parquet(target, index=False)
    else:
        prepared.to_csv(target, index=False)
    dropped = ", ".join(f.name for f in schema.by_role("direct_identifier"))
    console.print(
        f"wrote {len(prepared):,} rows to {out}: {dropped} replaced by "
        f"{sum(c.startswith('tok_') for c in prepared.columns)} tokens; send it for "
        f"`tre data ingest {dataset}`"
    )


@linkage_group.command("review")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@pass_context
def linkage_review(context: Context, file: str) -> None:
    """Read back a linkage run's labelled clerical-review sample (match, non-match or unsure in
    its decision column) and estimate the precision of its links from it: written into the
    run's linkage-quality report and the audit log."""
    from linkage.review import record

    result = record(context.instance(), Path(file), context.actor)
    console.print(result.summary())
    console.print(f"linkage-quality report: {result.report}")


COMMANDS = (dictionary_group, data, linkage_group)
