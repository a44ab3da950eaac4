"""`tre org|person|gateway|dataset|project|policy|agreement|register`: the registry's commands.

Each command is a thin layer over ``projects.registry``, ``projects.policy``,
``projects.agreements`` and ``projects.register``; who acts is ``--actor`` (or ``TRE_ACTOR``).
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from tre.cli_context import Context, console, id_table, pass_context

DATE = click.DateTime(formats=["%Y-%m-%d"])


def _day(value) -> date | None:
    return value.date() if value else None


@click.group("org")
def org() -> None:
    """Organisations: councils, police, fire, NHS, schools, voluntary bodies."""


@org.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--type", "kind", required=True, help="council, police, fire, nhs, school, ...")
@pass_context
def org_add(context: Context, code: str, name: str, kind: str) -> None:
    """Add organisation CODE (its official code) called NAME."""
    from projects import registry

    with context.instance().db.session() as session:
        registry.add_organisation(session, context.actor, code, name, kind)
    console.print(f"added organisation {code}: {name} ({kind})")


@org.command("list")
@pass_context
def org_list(context: Context) -> None:
    from projects import registry

    table = id_table("code", "name", "type", ids=("code",))
    with context.instance().db.session() as session:
        for found in registry.organisations(session):
            table.add_row(found.code, found.name, found.type)
    console.print(table)


@click.group("person")
def person() -> None:
    """People: their organisation, roles and accreditations."""


@person.command("add")
@click.argument("username")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.option("--org", "org_code", required=True, help="Their organisation's code.")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="project_lead, analyst, output_checker, approver or operator (repeatable).",
)
@pass_context
def person_add(context, username, name, email, org_code, roles) -> None:
    """Add a person who may act in the environment."""
    from projects import registry

    with context.instance().db.session() as session:
        registry.add_person(session, context.actor, username, name, email, org_code, list(roles))
    console.print(f"added {username} ({', '.join(roles)})")


@person.command("accredit")
@click.argument("username")
@click.option("--scheme", required=True, help="For example 'ONS Accredited Researcher'.")
@click.option("--reference", required=True)
@click.option("--expires", type=DATE, required=True, help="YYYY-MM-DD")
@pass_context
def person_accredit(context, username, scheme, reference, expires) -> None:
    """Record an accreditation of USERNAME."""
    from projects import registry

    with context.instance().db.session() as session:
        registry.accredit(session, context.actor, username, scheme, reference, expires.date())
    console.print(f"{username}: {scheme} {reference}, expires {expires.date()}")


@person.command("list")
@pass_context
def person_list(context: Context) -> None:
    from projects import registry

    table = id_table(
        "username",
        "name",
        "organisation",
        "roles",
        "accredited until",
        "status",
        ids=("username",),
    )
    with context.instance().db.session() as session:
        for who in registry.people(session):
            until = max((a.expires for a in who.accreditations), default=None)
            table.add_row(
                who.username,
                who.name,
                who.organisation.code,
                ", ".join(sorted(who.role_names)),
                str(until or "-"),
                "suspended" if who.suspended else "active",
            )
    console.print(table)


@person.command("suspend")
@click.argument("username")
@pass_context
def person_suspend(context: Context, username: str) -> None:
    from projects import registry

    with context.instance().db.session() as session:
        registry.set_suspended(session, context.actor, username, True)
    console.print(f"{username} is suspended")


@click.group("gateway")
def gateway() -> None:
    """The legal gateway catalogue."""


@gateway.command("list")
@pass_context
def gateway_list(context: Context) -> None:
    from projects import registry

    table = id_table("code", "kind", "name", ids=("code",))
    with context.instance().db.session() as session:
        for found in sorted(registry.gateways(session).values(), key=lambda g: (g.kind, g.code)):
            table.add_row(found.code, found.kind, found.name)
    console.print(table)


@gateway.command("add")
@click.argument("code")
@click.option("--name", required=True)
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["lawful basis", "special category", "statutory gateway", "confidentiality"]),
)
@click.option("--description", default="")
@pass_context
def gateway_add(context, code, name, kind, description) -> None:
    from projects import registry

    with context.instance().db.session() as session:
        registry.add_gateway(session, context.actor, code, name, kind, description)
    console.print(f"added gateway {code}")


@click.group("dataset")
def dataset() -> None:
    """The data asset register: datasets, their controllers and classified data items."""


@dataset.command("register")
@click.argument("schema", type=click.Path(exists=True, dir_okay=False))
@pass_context
def dataset_register(context: Context, schema: str) -> None:
    """Register a dataset from its schema file (a Table Schema with x-dataset and x-role)."""
    from projects import registry
    from projects.spec import load_schema

    parsed = load_schema(Path(schema))
    with context.instance().db.session() as session:
        found = registry.register_dataset(
            session, context.actor, parsed, str(schema), Path(schema).read_bytes()
        )
        console.print(
            f"registered {found.id} ({len(found.items)} items), controlled by "
            f"{found.controller.code}"
        )


@dataset.command("list")
@pass_context
def dataset_list(context: Context) -> None:
    from projects import registry

    table = id_table(
        "dataset",
        "title",
        "controller",
        "items",
        "identifiers / quasi / sensitive",
        ids=("dataset",),
    )
    with context.instance().db.session() as session:
        for found in registry.datasets(session):
            kinds = [i.classification for i in found.items]
            table.add_row(
                found.id,
                found.title,
                found.controller.code,
                str(len(kinds)),
                f"{kinds.count('direct_identifier')} / "
                f"{kinds.count('quasi_identifier')} / {kinds.count('sensitive')}",
            )
    console.print(table)


@click.group("project")
def project() -> None:
    """Projects: register, submit, approve or refuse, amend, suspend, close."""


@project.command("register")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@pass_context
def project_register(context: Context, file: str) -> None:
    """Register a project from its YAML file (see projects/examples/)."""
    from projects import registry
    from projects.spec import load_project

    spec = load_project(Path(file))
    instance = context.instance()
    with instance.db.session() as session:
        registry.refuse_past_end(session, spec, date.today())
        found = registry.register_project(session, context.actor, spec, instance.settings.policy)
        _print_flags(session, found.current.spec, instance.settings.registration)
    console.print(
        f"registered project {spec.id} (draft, version 1); submit it with "
        f"`tre --actor {spec.lead} project submit {spec.id}`"
    )


@project.command("submit")
@click.argument("project_id")
@pass_context
def project_submit(context: Context, project_id: str) -> None:
    """Submit a draft for the data controllers' approval (the lead only)."""
    from projects import registry

    instance = context.instance()
    with instance.db.session() as session:
        found = registry.submit(session, context.actor, project_id, instance.settings.registration)
        waiting = registry.requested_datasets(found)
        _print_flags(session, found.current.spec, instance.settings.registration)
    console.print(f"{project_id} submitted; awaiting the controllers of {', '.join(waiting)}")


def _print_flags(session, spec: dict, settings) -> None:
    """The registration's purpose-quality warnings (projects.quality), one a line."""
    from projects.quality import flags

    for flag in flags(session, spec, settings):
        blocks = " (blocks submission)" if flag.kind in settings.block_submission else ""
        console.print(f"warning{blocks}: {flag.field}: {flag.message}", markup=False)


@project.command("approve")
@click.argument("project_id")
@click.option("--dataset", "dataset_id", required=True)
@click.option(
    "--conditions",
    default="",
    help="Conditions of the approval, one per line: each becomes a term the team accepts.",
)
@pass_context
def project_approve(context, project_id, dataset_id, conditions) -> None:
    """Approve the project's use of DATASET (an approver of its controller)."""
    from projects import registry
    from projects.policy import status

    with context.instance().db.session() as session:
        found = registry.decide_data_use(
            session,
            context.decider("a data controller's approval"),
            project_id,
            dataset_id,
            True,
            conditions,
        )
        console.print(
            f"{dataset_id}: approved for {project_id}; the project is {status(session, found)}"
        )


@project.command("refuse")
@click.argument("project_id")
@click.option("--dataset", "dataset_id", required=True)
@click.option("--reason", required=True)
@pass_context
def project_refuse(context, project_id, dataset_id, reason) -> None:
    """Refuse the project's use of DATASET, with a reason; the project returns to draft."""
    from projects import registry

    with context.instance().db.session() as session:
        registry.decide_data_use(
            session,
            context.decider("a data controller's refusal"),
            project_id,
            dataset_id,
            False,
            reason,
        )
    console.print(f"{dataset_id}: refused for {project_id}; the project is back in draft")


@project.command("amend")
@click.argument("project_id")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@pass_context
def project_amend(context, project_id, file) -> None:
    """A new version from FILE. A change that widens the project (people, data, dates,
    purpose, legal basis, uses) goes back to the controllers concerned; a narrowing takes
    effect at once."""
    from projects import registry
    from projects.policy import effective_state
    from projects.spec import load_project

    spec = load_project(Path(file))
    instance = context.instance()
    with instance.db.session() as session:
        registry.refuse_past_end(session, spec, date.today())
        found = registry.amend(
            session,
            context.actor,
            project_id,
            spec,
            instance.settings.policy,
            registration=instance.settings.registration,
        )
        version, state = found.version, effective_state(found).value
        amendment = registry.amendments(session, found)[version]
        _print_flags(session, found.current.spec, instance.settings.registration)
    console.print(f"{project_id} is now version {version} ({state})")
    console.print(_amendment_summary(version, amendment, state), markup=False)


@project.command("suspend")
@click.argument("project_id")
@click.option("--reason", required=True)
@pass_context
def project_suspend(context, project_id, reason) -> None:
    """Suspend an active project (an operator), with a reason."""
    from projects import registry

    with context.instance().db.session() as session:
        registry.suspend(session, context.actor, project_id, reason)
    console.print(f"{project_id} is suspended")


@project.command("reinstate")
@click.argument("project_id")
@pass_context
def project_reinstate(context, project_id) -> None:
    from projects import registry

    with context.instance().db.session() as session:
        registry.reinstate(session, context.actor, project_id)
    console.print(f"{project_id} is active again")


@project.command("close")
@click.argument("project_id")
@click.option("--reason", default="")
@pass_context
def project_close(context, project_id, reason) -> None:
    """Close the project (its lead; an operator for a suspended one)."""
    from projects import registry

    with context.instance().db.session() as session:
        registry.close(session, context.actor, project_id, reason)
    console.print(f"{project_id} is closed")


@project.command("refresh")
@click.option("--at", type=DATE, help="As on this date (default today).")
@pass_context
def project_refresh(context, at) -> None:
    """Record the date rules' moves in the stored states (maintenance only: every decision,
    page and command already reads the state the dates give, without this)."""
    from projects import registry

    with context.instance().db.session() as session:
        registry.refresh_all(session, _day(at))
        states = [(p.id, p.state) for p in registry.projects(session)]
    for project_id, state in states:
        console.print(f"{project_id}: {state}")


@project.command("show")
@click.argument("project_id")
@click.option("--json", "as_json", is_flag=True)
@pass_context
def project_show(context, project_id, as_json) -> None:
    from projects import registry

    instance = context.instance()
    with instance.db.session() as session:
        info = registry.describe(session, registry.project(session, project_id))
    if as_json:
        click.echo(registry.dump(info))
        return
    spec = info["spec"]
    console.print(f"[bold]{info['id']}[/bold]: {spec['title']}")
    console.print(f"{info['status']}, version {info['version']}; {spec['start']} to {spec['end']}")
    amendment = info["amendment"]
    if amendment:
        console.print(_amendment_summary(info["version"], amendment, info["state"]))
        for change in amendment["changes"]:
            console.print(
                f"  {change['field']} ({change['direction']}): "
                f"{_shown(change['before'])} → {_shown(change['after'])}"
                + _added_removed(change["before"], change["after"]),
                markup=False,
            )
    console.print(f"purpose: {spec['purpose']}")
    console.print("team: " + ", ".join(f"{m['person']} ({m['role']})" for m in info["team"]))
    for dataset_id, decision in info["approvals"].items():
        console.print(
            f"  {dataset_id} [{decision['controller']}]: {decision['decision']}"
            + (f" — {decision['text']}" if decision["text"] else "")
        )
    console.print("terms accepted by: " + (", ".join(info["declarations"]) or "nobody yet"))
    with instance.db.session() as session:
        _print_flags(session, spec, instance.settings.registration)


def _amendment_summary(version: int, amendment: dict, state: str) -> str:
    """One sentence: what kind of change made VERSION, and whose approval it needs."""
    kind = amendment["kind"]
    if kind != "widening":
        verb = "narrows" if kind == "narrowing" else "only rewords"
        return f"version {version} {verb} version {version - 1}; it took effect at once"
    whose = ", ".join(amendment["needs_approval"])
    status = {
        "draft": f"it needs the controllers of {whose} once submitted",
        "submitted": f"awaiting the controllers of {whose}",
    }.get(state, f"approved by the controllers of {whose}")
    return (
        f"version {version} widens version {version - 1}; {status} "
        f"(widened: {', '.join(amendment['widened'])})"
    )


def _added_removed(before, after) -> str:
    if not isinstance(before or [], list) or not isinstance(after or [], list):
        return ""
    added = [v for v in after or [] if v not in (before or [])]
    removed = [v for v in before or [] if v not in (after or [])]
    parts = [f"added {', '.join(added)}"] if added else []
    parts += [f"removed {', '.join(removed)}"] if removed else []
    return f" ({'; '.join(parts)})" if parts else ""


def _shown(value) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value).strip()


@project.command("list")
@pass_context
def project_list(context) -> None:
    from projects import registry
    from projects.policy import status

    table = id_table("project", "title", "state", "version", "start", "end", ids=("project",))
    with context.instance().db.session() as session:
        for found in registry.projects(session):
            spec = found.current.spec
            table.add_row(
                found.id,
                spec["title"],
                status(session, found),
                str(found.version),
                spec["start"],
                spec["end"],
            )
    console.print(table)


@project.command("terms")
@click.argument("project_id")
@pass_context
def project_terms(context, project_id) -> None:
    """Print the terms a team member accepts."""
    from projects import registry
    from projects.terms import terms_text

    with context.instance().db.session() as session:
        click.echo(terms_text(session, registry.project(session, project_id)))


@project.command("accept-terms")
@click.argument("project_id")
@pass_context
def project_accept_terms(context, project_id) -> None:
    """Accept the project's terms as --actor (the text's version and sha-256 are recorded)."""
    from projects import registry

    with context.instance().db.session() as session:
        declaration = registry.accept_terms(session, context.actor, project_id)
        console.print(
            f"{context.actor} accepted the terms of {project_id} version "
            f"{declaration.version} (sha-256 {declaration.terms_sha256[:16]}…)"
        )


@click.group("policy")
def policy() -> None:
    """Ask the policy engine."""


@policy.command("check")
@click.argument("username")
@click.argument("action")
@click.argument("project_id", required=False)
@click.option("--dataset", "dataset_id")
@click.option("--item")
@click.option("--at", type=DATE, help="As on this date (default today).")
@pass_context
def policy_check(context, username, action, project_id, dataset_id, item, at) -> None:
    """May USERNAME do ACTION on PROJECT? Prints the decision and every reason; exit 3 if not."""
    from projects.policy import decide

    with context.instance().db.session() as session:
        decision = decide(
            session, username, action, project_id, dataset=dataset_id, item=item, at=_day(at)
        )
    click.echo(decision.message())
    if not decision.allowed:
        sys.exit(3)


@click.group("agreement")
def agreement() -> None:
    """Data-sharing agreements: add, search, show."""


@agreement.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--title", required=True)
@click.option("--party", "parties", multiple=True, required=True, help="Repeat for each party.")
@click.option("--purpose", required=True)
@click.option("--legal-basis", required=True)
@click.option("--start", type=DATE, required=True)
@click.option("--end", type=DATE)
@click.option("--review", type=DATE)
@click.option("--status", default="signed", show_default=True)
@click.option("--project", "projects", multiple=True, help="A project it covers (repeatable).")
@pass_context
def agreement_add(
    context, file, title, parties, purpose, legal_basis, start, end, review, status, projects
) -> None:
    """Add an agreement document (PDF, DOCX, Markdown or text) with its metadata."""
    from projects import agreements

    instance = context.instance()
    with instance.db.session() as session:
        found = agreements.add(
            session,
            context.actor,
            Path(file),
            instance.home / "agreements",
            title,
            list(parties),
            purpose,
            legal_basis,
            start.date(),
            _day(end),
            _day(review),
            status,
            list(projects),
        )
        console.print(f"added agreement {found.id}: {title}")


@agreement.command("search")
@click.argument("query", required=False, default="")
@click.option("--party")
@click.option("--status")
@click.option("--project")
@click.option("--active-on", type=DATE)
@pass_context
def agreement_search(context, query, party, status, project, active_on) -> None:
    """Agreements holding every word of QUERY (in their text or metadata)."""
    from projects import agreements

    table = id_table("id", "title", "parties", "status", "start", "end", "projects", ids=("id",))
    with context.instance().db.session() as session:
        for found in agreements.search(session, query, party, status, project, _day(active_on)):
            table.add_row(
                str(found.id),
                found.title,
                "; ".join(found.parties),
                found.status,
                str(found.start),
                str(found.end or "-"),
                ", ".join(found.projects),
            )
    console.print(table)


@agreement.command("show")
@click.argument("agreement_id", type=int)
@pass_context
def agreement_show(context, agreement_id) -> None:
    from projects import agreements

    with context.instance().db.session() as session:
        found = agreements.get(session, agreement_id)
        console.print(
            f"[bold]{found.title}[/bold] ({found.status}), {found.filename}, sha-256 {found.sha256}"
        )
        console.print(f"parties: {'; '.join(found.parties)}")
        console.print(f"purpose: {found.purpose}\nlegal basis: {found.legal_basis}")
        console.print(
            f"from {found.start} to {found.end or '-'}, review {found.review or '-'}; "
            f"projects: {', '.join(found.projects) or '-'}"
        )


@click.group("register")
def register() -> None:
    """The public transparency register."""


COMMANDS = (org, person, gateway, dataset, project, policy, agreement, register)
