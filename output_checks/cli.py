"""`tre outputs ...`: release requests, review and release."""

from __future__ import annotations

import json

import click
from rich.table import Table

from tre.cli_context import Context, console, id_table, pass_context

# the columns a person types from (`tre outputs show REQ`): never cut
REQUEST_IDS = ("request", "project", "author")


@click.group("outputs")
def outputs() -> None:
    """The airlock: request, check, review and release outputs."""


def _airlock():
    from output_checks import airlock

    return airlock


@outputs.command("request")
@click.option("--project", "project_id", required=True)
@click.argument("files", nargs=-1, required=True)
@click.option("--group", default="outputs", show_default=True, help="The files' group.")
@click.option("--context", "context_text", default="", help="What the outputs are (required).")
@click.option("--controls", default="", help="What was done to make them safe (required).")
@click.option("--supporting", is_flag=True, help="For checkers only; never released.")
@click.option(
    "--recipient",
    "recipients",
    multiple=True,
    help="A person (user name) who may download the released files; repeat for each. Default: you.",
)
@pass_context
def request_command(
    context: Context, project_id, files, group, context_text, controls, supporting, recipients
):
    """Start a release request with FILES (from the project's outputs folder); prints its id.

    The group's --context and --controls are required, as in the tre pages: the checkers judge
    the files by them."""
    _check_described(group, context_text, controls, {}, "nothing was requested")
    request_id = _airlock().request(
        context.instance(),
        project_id,
        context.actor,
        list(files),
        group,
        context_text,
        controls,
        supporting,
        recipients=list(recipients) or None,
    )
    click.echo(request_id)


def _check_described(
    group: str, context_text: str, controls: str, groups: dict[str, dict], nothing: str
) -> None:
    """Refuse a group left without its context or controls (as the request form does): given
    now, or held already by the request's GROUPS."""
    held = groups.get(group, {})
    missing = [
        option
        for option, given in (("--context", context_text), ("--controls", controls))
        if not given.strip() and not held.get(option[2:], "").strip()
    ]
    if missing:
        raise click.UsageError(
            f"a release request needs {' and '.join(missing)} for its group {group}: "
            "--context says what the outputs are, --controls what was done to make them safe "
            f"(the checkers judge the files by them; the tre pages ask for both too); {nothing}"
        )


@outputs.command("add")
@click.argument("request_id")
@click.argument("files", nargs=-1, required=True)
@click.option("--group", default="outputs", show_default=True)
@click.option("--context", "context_text", default="")
@click.option("--controls", default="")
@click.option("--supporting", is_flag=True)
@pass_context
def add_command(context: Context, request_id, files, group, context_text, controls, supporting):
    """Add FILES to a pending or returned request (--context and --controls are required for a
    group the request does not have yet)."""
    if not (context_text.strip() and controls.strip()):
        groups = _airlock().show(context.instance(), request_id, context.actor)["groups"]
        _check_described(group, context_text, controls, groups, "nothing was added")
    _airlock().add(
        context.instance(),
        request_id,
        context.actor,
        list(files),
        group,
        context_text,
        controls,
        supporting,
    )
    console.print(f"added {len(files)} files to {request_id}")


@outputs.command("withdraw")
@click.argument("request_id")
@click.option("--file", "file", help="Withdraw only this file (else the whole request).")
@pass_context
def withdraw_command(context: Context, request_id, file):
    """Withdraw a file of a request, or the whole request."""
    if file:
        _airlock().withdraw_file(context.instance(), request_id, context.actor, file)
        console.print(f"withdrew {file} from {request_id}")
    else:
        _airlock().withdraw(context.instance(), request_id, context.actor)
        console.print(f"withdrew {request_id}")


@outputs.command("replace")
@click.argument("request_id")
@click.argument("file")
@click.option("--by", "by", required=True, help="The new version: a file of a newer run.")
@pass_context
def replace_command(context: Context, request_id, file, by):
    """Put a newer run's file in place of FILE of a pending or returned request (in FILE's group);
    the airlock checks it again at the next submission, and the checkers vote on it afresh."""
    _airlock().replace_file(context.instance(), request_id, context.actor, file, by)
    console.print(f"replaced {file} by {by} in {request_id}; resubmit it when ready", markup=False)


@outputs.command("comment")
@click.argument("request_id")
@click.argument("text")
@click.option("--file", "file", help="The file the comment is about (else the whole request).")
@click.option("--private", is_flag=True, help="For checkers only (a checker's comment).")
@pass_context
def comment_command(context: Context, request_id, text, file, private):
    """Comment on a request, or reply to its checkers (the author's comments are public)."""
    _airlock().comment(context.instance(), request_id, context.actor, text, private, file)
    console.print(f"commented on {request_id}")


@outputs.command("submit")
@click.argument("request_id")
@pass_context
def submit_command(context: Context, request_id):
    """Submit (or resubmit) a request: the automatic checks run now."""
    outcomes = _airlock().submit(context.instance(), request_id, context.actor)
    plain = _airlock().plain
    for path, outcome in outcomes.items():
        console.print(f"  {plain('check', outcome):<28} {path}", markup=False)
    console.print(f"submitted {request_id} for review")


@outputs.command("show")
@click.argument("request_id")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def show_command(context: Context, request_id, as_json):
    """A request as you may see it (votes blinded until all are in)."""
    shown = _airlock().show(context.instance(), request_id, context.actor)
    plain = _airlock().plain
    if as_json:
        click.echo(json.dumps(shown, indent=1))
        return
    console.print(
        f"[bold]{shown['id']}[/bold] {shown['project']} by {shown['author']}: "
        f"{shown['state_words']} (turn {shown['turn']}); recipients: "
        f"{', '.join(shown['recipients']) or 'none'}"
    )
    for name, group in shown["groups"].items():
        console.print(f"group {name}: context: {group['context']}; controls: {group['controls']}")
    for item in shown["files"]:
        mine = f"; your vote: {item['my_vote_words']}" if item["my_vote"] else ""
        console.print(
            f"  {item['automatic_words']:<28} {item['path']}  decision: "
            f"{item['decision_words']}{mine}",
            markup=False,
        )
        for check in item["checks"]:
            console.print(
                f"      {plain('check', check['outcome']):<28} {check['name']}: "
                f"{check['explanation']}",
                markup=False,
            )
    for note in shown["comments"]:
        console.print(
            f"  comment by {note['author']}{' (private)' if note['private'] else ''}: "
            f"{note['text']}",
            markup=False,
        )


@outputs.command("list")
@click.option("--project", "project_id")
@pass_context
def list_command(context: Context, project_id):
    """Every request."""
    found = _airlock().requests(context.instance(), project_id)
    if not found:
        console.print(f"no release requests{f' in {project_id}' if project_id else ''} yet")
        return
    table = id_table("request", "project", "author", "state", "turn", "files", ids=REQUEST_IDS)
    for r in found:
        table.add_row(
            r["id"], r["project"], r["author"], r["state_words"], str(r["turn"]), str(r["files"])
        )
    console.print(table)


@outputs.command("queue")
@pass_context
def queue_command(context: Context):
    """Requests you may review, oldest first."""
    found = _airlock().queue(context.instance(), context.actor)
    if not found:
        console.print(
            f"the review queue of {context.actor} is empty: no submitted request waits for a "
            "review you may give (checkers review as their own account; see `tre outputs list`)"
        )
        return
    table = id_table(
        "request",
        "project",
        "author",
        "state",
        "waiting",
        "files",
        "automatic",
        "your review",
        ids=REQUEST_IDS,
    )
    for r in found:
        table.add_row(
            r["id"],
            r["project"],
            r["author"],
            r["state_words"],
            r["waiting"],
            str(r["files"]) + (f" (+{r['supporting']} supporting)" if r["supporting"] else ""),
            ", ".join(f"{words}: {n}" for words, n in r["automatic"].items()),
            "submitted"
            if r["my_review"]
            else f"{r['my_votes']} of {r['files']} voted, not submitted",
        )
    console.print(table)


@outputs.command("review")
@click.argument("request_id")
@click.option("--file", "file", required=True)
@click.option("--vote", type=click.Choice(["approve", "changes"]), required=True)
@click.option("--comment", default="")
@click.option("--private", is_flag=True, help="The comment is for checkers only.")
@click.option(
    "--sha256",
    default=None,
    help="The sha-256 of the file you read (from `tre outputs show`): the vote binds to it.",
)
@click.option(
    "--override",
    default="",
    help="Why you approve a file that failed its automatic checks (only where tre.toml's "
    "[airlock] release_failed_with_override allows it).",
)
@pass_context
def review_command(context: Context, request_id, file, vote, comment, private, sha256, override):
    """Vote on one file of a request: a draft, until you submit your review (`submit-review`)."""
    state = _airlock().review(
        context.instance(),
        request_id,
        context.decider("a checker's vote"),
        file,
        vote,
        comment,
        private,
        sha256=sha256,
        override=override,
    )
    console.print(
        f"draft vote recorded; {request_id} is {_airlock().plain('state', state)}. When you have "
        f"voted on every file: tre outputs submit-review {request_id}"
    )


@outputs.command("submit-review")
@click.argument("request_id")
@pass_context
def submit_review_command(context: Context, request_id):
    """Submit your review of a request, once, after voting on every file: your votes count now."""
    state = _airlock().submit_review(
        context.instance(), request_id, context.decider("a checker's review")
    )
    console.print(f"review submitted; {request_id} is {_airlock().plain('state', state)}")


@outputs.command("return")
@click.argument("request_id")
@click.option("--reason", required=True)
@pass_context
def return_command(context: Context, request_id, reason):
    """Return a request to its author for changes (a new turn)."""
    _airlock().return_request(
        context.instance(), request_id, context.decider("returning a request"), reason
    )
    console.print(f"returned {request_id}")


@outputs.command("reject")
@click.argument("request_id")
@click.option("--reason", required=True)
@pass_context
def reject_command(context: Context, request_id, reason):
    """Reject a request, saying why."""
    _airlock().reject(context.instance(), request_id, context.decider("a rejection"), reason)
    console.print(f"rejected {request_id}")


@outputs.command("release")
@click.argument("request_id")
@click.option(
    "--recipient",
    default="",
    help="How the manifest describes the recipients (default: the people the request names).",
)
@pass_context
def release_command(context: Context, request_id, recipient):
    """Release an approved request (re-run to complete an interrupted release)."""
    done = _airlock().release(
        context.instance(), request_id, context.decider("a release"), recipient
    )
    console.print(f"released {len(done.files)} files to {done.folder}")
    console.print(f"RO-Crate: {done.crate}")


@outputs.command("stats")
@click.option("--json", "as_json", is_flag=True, help="The statistics as one JSON object.")
@pass_context
def stats_command(context: Context, as_json: bool):
    """Review statistics: times, turns, disagreement, rejection reasons."""
    found = _airlock().stats(context.instance())
    if as_json:
        click.echo(json.dumps(found, indent=1))
        return
    console.print(stats_table(found))


def stats_table(found: dict) -> Table:
    """The airlock's statistics as a table of plain words (``--json`` gives the raw figures)."""

    def hours(value: float | None) -> str:
        return "none yet" if value is None else f"{value:.1f} hours"

    def share(value: float | None) -> str:
        return "none decided yet" if value is None else f"{value:.0%} of files decided"

    table = Table("", "", title="Release requests and their review", show_header=False)
    table.add_row("requests", str(found["requests"]))
    for state, n in sorted(found["by_state"].items()):
        table.add_row(f"  {_airlock().plain('state', state)}", str(n))
    table.add_row("median time to a first review", hours(found["median_hours_to_first_review"]))
    table.add_row("median time to release", hours(found["median_hours_to_release"]))
    turns = found["mean_turns"]
    table.add_row("turns per request (mean)", "none yet" if turns is None else f"{turns:g}")
    table.add_row("files decided by the checkers", str(found["files_decided"]))
    table.add_row("checkers disagreed on", share(found["checker_disagreement_rate"]))
    table.add_row(
        "automatic checks agreed with the checkers on",
        share(found["automatic_matched_checkers_rate"]),
    )
    reasons = found["rejection_reasons"]
    table.add_row("rejections", str(sum(reasons.values())) if reasons else "none")
    for reason, n in sorted(reasons.items(), key=lambda item: -item[1]):
        table.add_row(f"  {reason}", str(n))
    return table


COMMANDS = (outputs,)
