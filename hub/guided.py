"""The guided registration form: one structured page with hints, built from the registry's
catalogues (legal bases and gateways, the data asset register with each item's class, the
analysts with their accreditation), its answers checked as the YAML route checks a file, then
"check your answers" before anything is saved.

The form turns into the same registration (:class:`projects.spec.ProjectSpec`) the YAML path
reads; saving it goes through :mod:`hub.registration` (a new project is registered, an existing
one's amendment is shown with its consequences first). The YAML text stays as the advanced path.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from hub.governance import CLASS_WORDS, accreditation_words
from projects import registry
from projects.errors import RegistryError
from projects.policy import Role
from projects.spec import CATEGORIES, OUTPUT_KINDS, ProjectSpec, parse_project
from sdc.policy import Policy

# the fields of the form, in page order, with the registration's field each answers
FIELDS = (
    ("id", "id"),
    ("title", "title"),
    ("lay_summary", "lay_summary"),
    ("purpose", "purpose"),
    ("category", "category"),
    ("public_benefit", "public_benefit"),
    ("article_6", "legal_basis.article_6"),
    ("article_9", "legal_basis.article_9"),
    ("gateways", "legal_basis.gateways"),
    ("confidentiality", "legal_basis.confidentiality"),
    ("dpia", "legal_basis.dpia"),
    ("team", "team"),
    ("data", "data"),
    ("data_period_start", "data_period.start"),
    ("data_period_end", "data_period.end"),
    ("outputs", "intended_outputs"),
    ("start", "start"),
    ("end", "end"),
    ("retention_until", "retention_until"),
)


# a data item's reason box, where its own problems are reported (its id on the page)
REASON = "justification-"


def field_of(error_key: str) -> str:
    """The form's field an error is at: a data item's reason box is in the data field."""
    return "data" if error_key.startswith(REASON) else error_key


@dataclass(frozen=True)
class Section:
    """One section of the registration: a task of the task list, a question page, a heading
    of the one-page form."""

    name: str
    title: str
    hint: str
    answers: tuple[str, ...]  # the keys of the form's values (values_of) it asks for

    @property
    def fields(self) -> tuple[str, ...]:
        """The form's fields (FIELDS' names) its problems are reported at."""
        named = {name for name, _ in FIELDS}
        return tuple("data" if a == "items" else a for a in self.answers if a in named | {"items"})

    def problems(self, errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """ERRORS' problems at its fields (a data item's reason is at its own box)."""
        return {k: m for k, m in errors.items() if field_of(k) in self.fields}

    def answered(self, values: dict[str, Any]) -> bool:
        """Whether anything of it is answered (the project id of an Edit page is not an
        answer: it is the page's)."""
        return any(values.get(a) for a in self.answers if a != "id")


SECTIONS = (
    Section(
        "about",
        "About the project",
        "Title, summary, purpose, public benefit and outputs",
        (
            "id",
            "title",
            "lay_summary",
            "purpose",
            "category",
            "public_benefit",
            "outputs",
            "onward_sharing",
            "commercial_use",
        ),
    ),
    Section(
        "data",
        "Datasets and data items",
        "The items the purpose needs, why, and the period the records cover",
        ("items", "precision", "unticked", "data_period_start", "data_period_end"),
    ),
    Section(
        "legal",
        "Legal basis and gateways",
        "From the legal gateway catalogue",
        ("article_6", "article_9", "gateways", "confidentiality"),
    ),
    Section("team", "Team", "The analysts, with their accreditation", ("team",)),
    Section(
        "dates",
        "Dates and retention",
        "When access begins and ends, and how long the data is kept",
        ("start", "end", "retention_until"),
    ),
    Section("dpia", "DPIA", "The data protection impact assessment's reference", ("dpia",)),
)
# where each field and answer of the form is asked (a section's name)
SECTION_OF = {field: s.name for s in SECTIONS for field in (*s.fields, *s.answers)}
# a purpose-quality flag's field (projects.quality), as the check page names it
FLAG_PLACES = {
    "purpose": "Purpose",
    "intended_outputs": "Intended outputs",
    "data": "Data",
    "data_period": "Period of the records",
    "start": "Project start",
    "end": "Project end",
    "retention_until": "Data kept until",
}


def flag_place(field: str, spec: dict[str, Any], titles: dict[str, str]) -> str:
    """Where a flag at FIELD (``purpose``, ``data.0.items``) is, in the page's words: a dataset
    by its title in the register (TITLES), where it has one."""
    parts = field.split(".")
    if parts[0] == "data" and len(parts) > 1 and parts[1].isdigit():
        requested = spec.get("data") or []
        index = int(parts[1])
        if index < len(requested):
            named = requested[index]["dataset"]
            return f"Data: {titles.get(named, named)}"
    return FLAG_PLACES.get(parts[0], field)


DIRECT_IDENTIFIER_REASON = (
    "a direct identifier: never given to a project (the kit links people by pseudonyms)"
)


def catalogue(session: Session, at: date) -> dict[str, Any]:
    """What the form offers: the legal catalogue by kind, the data asset register (each item
    with its class; direct identifiers shown but not offered), the analysts with their
    accreditation."""
    by_kind: dict[str, list[dict[str, str]]] = {}
    for code, gateway in sorted(registry.gateways(session).items()):
        by_kind.setdefault(gateway.kind, []).append({"code": code, "name": gateway.name})
    datasets = [
        {
            "id": ds.id,
            "title": ds.title,
            "controller": ds.controller.name,
            "items": [
                {
                    "name": item.name,
                    "class": CLASS_WORDS.get(item.classification, item.classification),
                    "description": item.description,
                    "refused": DIRECT_IDENTIFIER_REASON
                    if item.classification == "direct_identifier"
                    else "",
                }
                for item in ds.items
            ],
        }
        for ds in registry.datasets(session)
    ]
    analysts = []
    for person in registry.people(session):
        if Role.ANALYST not in person.role_names or person.suspended:
            continue
        words, valid = accreditation_words(person, at)
        analysts.append(
            {
                "username": person.username,
                "name": person.name,
                "organisation": person.organisation.name,
                "accreditation": words,
                "accredited": valid,
            }
        )
    return {
        "lawful": by_kind.get("lawful basis", []),
        "special": by_kind.get("special category", []),
        "gateways": by_kind.get("statutory gateway", []),
        "confidentiality": by_kind.get("confidentiality", []),
        "datasets": datasets,
        "analysts": analysts,
        "categories": CATEGORIES,
        "kinds": OUTPUT_KINDS,
    }


def opened(values: dict[str, Any]) -> set[str]:
    """The datasets whose items the form shows open: those with an item ticked or a reason."""
    return {key.partition(".")[0] for key in [*values["items"], *(values.get("unticked") or {})]}


def values_of(spec: dict[str, Any]) -> dict[str, Any]:
    """A registration (as stored) as the form's values."""
    basis = spec.get("legal_basis") or {}
    period = spec.get("data_period") or {}
    items = {
        f"{d['dataset']}.{i['item']}": i.get("justification", "")
        for d in spec.get("data") or []
        for i in d.get("items") or []
    }
    precision = {
        f"{d['dataset']}.{i['item']}": i["precision"]
        for d in spec.get("data") or []
        for i in d.get("items") or []
        if i.get("precision")
    }
    return {
        "id": spec.get("id") or "",
        "title": spec.get("title") or "",
        "lay_summary": spec.get("lay_summary") or "",
        "purpose": spec.get("purpose") or "",
        "category": spec.get("category") or "",
        "public_benefit": spec.get("public_benefit") or "",
        "article_6": basis.get("article_6") or "",
        "article_9": basis.get("article_9") or "",
        "gateways": list(basis.get("gateways") or []),
        "confidentiality": basis.get("confidentiality") or "",
        "dpia": basis.get("dpia") or "",
        "team": [m["person"] for m in spec.get("team") or [] if m.get("role") != "lead"],
        "items": items,
        "precision": precision,
        "unticked": {},
        "data_period_start": str(period.get("start") or ""),
        "data_period_end": str(period.get("end") or ""),
        "outputs": "\n".join(
            " | ".join(x for x in (o["name"], o["kind"], o.get("description", "")) if x)
            for o in spec.get("intended_outputs") or []
        ),
        "start": str(spec.get("start") or ""),
        "end": str(spec.get("end") or ""),
        "retention_until": str(spec.get("retention_until") or ""),
        "onward_sharing": bool(spec.get("onward_sharing")),
        "commercial_use": bool(spec.get("commercial_use")),
        "disclosure": json.dumps(spec.get("disclosure") or {}),
    }


# the form's dates, each asked as GOV.UK's date input: three boxes, Day, Month and Year
DATE_FIELDS = ("data_period_start", "data_period_end", "start", "end", "retention_until")
DATE_PARTS = ("day", "month", "year")


def date_value(day: str, month: str, year: str) -> str:
    """A date's three boxes as the form's value: blank when all are; an ISO date (2027-03-27)
    when all are numbers (checked as a date afterwards: 31 2 2027 is no day); else the boxes as
    typed, day/month/year, for the check to refuse and the page to show again as they were."""
    if not (day or month or year):
        return ""
    if day.isdigit() and month.isdigit() and year.isdigit() and len(year) == 4:
        return f"{year}-{int(month):02d}-{int(day):02d}"
    return f"{day}/{month}/{year}"


def date_parts(value: str) -> dict[str, str]:
    """The form's value of a date as its three boxes (the inverse of :func:`date_value`);
    text that is neither an ISO date nor day/month/year (typed in one box, or a value from
    elsewhere) in the day box, so that nothing typed is lost."""
    iso = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", value)
    if iso:
        year, month, day = iso.groups()
        return {"day": str(int(day)), "month": str(int(month)), "year": year}
    split = value.split("/")
    if len(split) == 3:
        return dict(zip(DATE_PARTS, (p.strip() for p in split), strict=True))
    return {"day": value, "month": "", "year": ""}


def read_form(handler) -> dict[str, Any]:
    """The form's values as the browser sent them (a date as its three boxes, or as one value,
    ISO or day/month/year)."""

    def one(name: str) -> str:
        return handler.get_body_argument(name, "").strip()

    def when(name: str) -> str:
        boxes = [one(f"{name}-{part}") for part in DATE_PARTS]
        return date_value(*boxes) if any(boxes) else date_value(**date_parts(one(name)))

    chosen = handler.get_body_arguments("item")
    reasons = {
        name.removeprefix("justification."): one(name)
        for name in handler.request.body_arguments
        if name.startswith("justification.")
    }
    return {
        **{
            name: one(name)
            for name, _ in FIELDS
            if name not in ("gateways", "team", "data", *DATE_FIELDS)
        },
        **{name: when(name) for name in DATE_FIELDS},
        "gateways": handler.get_body_arguments("gateways"),
        "team": handler.get_body_arguments("team"),
        "items": {key: one(f"justification.{key}") for key in chosen},
        "precision": {key: one(f"precision.{key}") for key in chosen if one(f"precision.{key}")},
        # a reason typed for an item not ticked: kept, and the lead asked which they meant
        "unticked": {key: why for key, why in reasons.items() if why and key not in chosen},
        "onward_sharing": one("onward_sharing") == "yes",
        "commercial_use": one("commercial_use") == "yes",
        "disclosure": one("disclosure") or "{}",
    }


def output_lines(text: str) -> list[str]:
    """The intended outputs' lines that say anything (a blank line is no output)."""
    return [line for line in text.splitlines() if line.replace("|", "").strip()]


OUTPUT_FORM = (
    "write each line as its name, then | and its kind ("
    + ", ".join(OUTPUT_KINDS[:-1])
    + f" or {OUTPUT_KINDS[-1]}), then | and a description if you like, for example: "
    "repeat callers by neighbourhood | table"
)


def output_problem(parts: list[str], message: str, text: str) -> str:
    """A problem at an intended output (PARTS: its path after intended_outputs) as the form says
    it: which line of TEXT, what is wrong with it, and the form a line takes."""
    said = output_lines(text)
    numbers = [n for n, line in enumerate(text.splitlines(), 1) if line in said]
    index = int(parts[0])
    if index >= len(said):
        return f"Enter at least one intended output: {OUTPUT_FORM}"
    number = numbers[index]
    what = {"kind": "its kind is not one of the kinds", "name": "it has no name"}.get(
        parts[1] if len(parts) > 1 else "", message
    )
    return f"Line {number} of the intended outputs (“{said[index].strip()}”): {what}; {OUTPUT_FORM}"


def registration_of(values: dict[str, Any], lead: str) -> dict[str, Any]:
    """The registration the form's VALUES describe (LEAD: the person filling it in), for
    :func:`projects.spec.parse_project` to check."""
    data: dict[str, list[dict[str, str]]] = {}
    for key, justification in values["items"].items():
        dataset, _, item = key.partition(".")
        row = {"item": item, "justification": justification}
        if values["precision"].get(key):
            row["precision"] = values["precision"][key]
        data.setdefault(dataset, []).append(row)
    outputs = []
    for line in output_lines(values["outputs"]):
        parts = [p.strip() for p in line.split("|")]
        outputs.append(
            {
                "name": parts[0],
                "kind": parts[1] if len(parts) > 1 and parts[1] else "table",
                **({"description": parts[2]} if len(parts) > 2 and parts[2] else {}),
            }
        )
    try:
        disclosure = json.loads(values["disclosure"])
    except ValueError:
        disclosure = {}
    return {
        "id": values["id"] or None,
        "title": values["title"],
        "lay_summary": values["lay_summary"],
        "purpose": values["purpose"],
        "category": values["category"] or None,
        "public_benefit": values["public_benefit"],
        "lead": lead,
        "team": [{"person": p, "role": "analyst"} for p in values["team"]],
        "legal_basis": {
            "article_6": values["article_6"] or None,
            "article_9": values["article_9"] or None,
            "gateways": values["gateways"],
            "confidentiality": values["confidentiality"] or None,
            "dpia": values["dpia"],
        },
        "data": [{"dataset": d, "items": items} for d, items in data.items()],
        "data_period": {
            "start": values["data_period_start"] or None,
            "end": values["data_period_end"] or None,
        },
        "intended_outputs": outputs,
        "disclosure": disclosure if isinstance(disclosure, dict) else {},
        "start": values["start"] or None,
        "end": values["end"] or None,
        "retention_until": values["retention_until"] or None,
        "onward_sharing": values["onward_sharing"],
        "commercial_use": values["commercial_use"],
    }


PROBLEM = re.compile(r"^(?:the form: )?([a-z_0-9.]+): (.*)$")


# what each field holds, for messages that name it ("Enter the title")
WORDS = {
    "id": "the project id",
    "title": "the title",
    "lay_summary": "the summary for the public",
    "purpose": "the purpose",
    "category": "a category",
    "public_benefit": "the public benefit",
    "article_6": "an Article 6 basis",
    "article_9": "an Article 9 or 10 condition",
    "gateways": "at least one statutory gateway",
    "confidentiality": "a common-law confidentiality route",
    "dpia": "the DPIA reference",
    "team": "the team",
    "data": "at least one data item, with why the purpose needs it",
    "data_period_start": "the first day the records cover",
    "data_period_end": "the last day the records cover",
    "outputs": "at least one intended output",
    "start": "the project's start date",
    "end": "the project's end date",
    "retention_until": "the date the data is kept until",
}
CHOSEN = {"category", "article_6", "article_9", "gateways", "confidentiality", "team"}


def in_words(field: str, message: str) -> str:
    """A check's message as the form says it: what to enter or choose, at that field."""
    what = WORDS.get(field, field)
    if message.startswith("must be a real date"):
        return f"{what[:1].upper()}{what[1:]} must be a real date"
    if message.startswith("must include a "):
        return f"{what[:1].upper()}{what[1:]} {message}"
    verb = "Choose" if field in CHOSEN else "Enter"
    if re.match(r"input should be a valid (string|date)|field required", message) or (
        "at least 1 item" in message or "at least 1 character" in message
    ):
        return f"{verb} {what}"
    if message.startswith("input should be "):  # one of a fixed list
        return f"{verb} {what}" if field in CHOSEN else f"{verb} {what} from the list"
    shortest = re.match(r"string should have at least (\d+) characters", message)
    if shortest:
        return f"{what[:1].upper()}{what[1:]} must be at least {shortest.group(1)} characters"
    return message[:1].upper() + message[1:]


def errors_by_field(
    problems: list[str], values: dict[str, Any], titles: dict[str, str] | None = None
) -> dict[str, list[str]]:
    """Each problem the checks found, at the form's field it is about (the field's id; a data
    item's reason, at its own box), in words that name the field as the form does (a dataset
    by its TITLES, where the register has one)."""
    grouped: dict[str, list[str]] = {}  # the datasets and items as registration_of lists them
    for key in values["items"]:
        dataset, _, item = key.partition(".")
        grouped.setdefault(dataset, []).append(item)
    datasets = list(grouped)
    titles = titles or {}
    out: dict[str, list[str]] = {}
    for problem in problems:
        matched = PROBLEM.match(problem)
        path, message = (matched.group(1), matched.group(2)) if matched else ("", problem)
        field = next(
            (name for name, dotted in FIELDS if path == dotted or path.startswith(dotted + ".")),
            None,
        )
        if field is None and path in ("", "model"):
            field = "start"  # the model's own checks are about the dates
        field = field or "id"
        parts = path.split(".")
        if path.startswith("data.") and len(parts) > 1 and parts[1].isdigit():
            index = int(parts[1])
            named = datasets[index] if index < len(datasets) else ""
            where = titles.get(named, named)
            row = int(parts[3]) if len(parts) > 4 and parts[3].isdigit() else -1
            if parts[-1] == "justification" and 0 <= row < len(grouped.get(named, [])):
                item = grouped[named][row]
                out.setdefault(f"{REASON}{named}.{item}", []).append(
                    f"Say why the purpose needs {item} from {where} (at least 10 characters)"
                )
                continue
            out.setdefault(field, []).append(f"{where}: {message}" if where else message)
            continue
        if path.startswith("intended_outputs.") and len(parts) > 1 and parts[1].isdigit():
            out.setdefault(field, []).append(output_problem(parts[1:], message, values["outputs"]))
            continue
        if field == "id" and "1-30 characters" in message:
            out.setdefault(field, []).append(
                "The project id must be 1 to 30 lowercase letters, digits and single hyphens, "
                "starting with a letter"
            )
            continue
        out.setdefault(field, []).append(in_words(field, message))
    return out


def check(
    session: Session, values: dict[str, Any], lead: str, editing: str | None, policy: Policy
) -> tuple[ProjectSpec | None, dict[str, list[str]]]:
    """VALUES (the form's answers, LEAD filling them in) checked as the YAML route checks a
    file, and the id as the page allows it (a new project's is free; EDITING's stays): the
    registration, or None and each problem at its field."""
    partial = [
        f"{name}: must include a {part}"
        for name in DATE_FIELDS
        if values[name].count("/") == 2
        for part, typed in zip(DATE_PARTS, date_parts(values[name]).values(), strict=True)
        if not typed
    ]
    titles = {ds.id: ds.title for ds in registry.datasets(session)}
    try:
        spec = parse_project(registration_of(values, lead), "the form")
        problems = registry.validate_spec(session, spec, policy)
        problems += registry.past_end(session, spec, date.today())
        taken = any(p.id == spec.id for p in registry.projects(session))
        if editing is None and taken:
            problems.append(f"id: project {spec.id} exists already: choose another id")
        if editing is not None and spec.id != editing:
            problems.append(f"id: this is project {editing}'s Edit page: the id stays the same")
    except RegistryError as exc:
        problems = str(exc).splitlines()
    if partial:  # a date's box left empty: said as GOV.UK says it, not as "not a real date"
        named = {line.partition(":")[0] for line in partial}
        problems = [
            line
            for line in problems
            if not ((found := PROBLEM.match(line)) and found.group(1) in named)
        ] + partial
    unticked = {
        f"{REASON}{key}": [
            f"You gave a reason for {key.partition('.')[2]} from "
            f"{titles.get(key.partition('.')[0], key.partition('.')[0])} but did not tick it: "
            "tick it to ask for it, or clear its reason"
        ]
        for key in values.get("unticked") or {}
    }
    if problems or unticked:
        return None, errors_by_field(problems, values, titles) | unticked
    return spec, {}
