"""The data dictionary: the agreed schemas of every agency dataset (Frictionless Table Schemas).

Each field has its type and constraints (required, unique, enum, pattern, minimum; dates and
times with their format), the core concept it maps to (``x-concept``: Person, Place, Event, Case,
Service, Organisation, with an attribute) and its role (``x-role``: direct identifier,
quasi-identifier, sensitive, other). Core concepts are shared, so one query can count every Case
across services. Schemas live in ``linkage/schemas/``; each carries a version.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from pathlib import Path

from projects.errors import RegistryError
from projects.spec import SchemaField, load_schema
from tre.errors import TreError

SCHEMAS = Path(__file__).parent / "schemas"
NHS_PATTERN = "^[0-9]{10}$"


class DictionaryError(TreError):
    """A schema that is missing or not valid."""


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    role: str
    concept: str
    description: str = ""
    format: str | None = None
    required: bool = False
    unique: bool = False
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    minimum: float | None = None

    @property
    def is_nhs_number(self) -> bool:
        return self.concept == "Person.nhs_number"


@dataclass(frozen=True)
class Schema:
    id: str
    title: str
    controller: str
    description: str
    version: str
    fields: tuple[Field, ...]
    primary_key: str
    path: Path = field(compare=False)

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def by_role(self, role: str) -> list[Field]:
        return [f for f in self.fields if f.role == role]


def _field(parsed: SchemaField) -> Field:
    rules = parsed.constraints
    return Field(
        name=parsed.name,
        type=parsed.type,
        role=parsed.role,
        concept=parsed.concept,
        description=parsed.description,
        format=parsed.format,
        required=rules.required,
        unique=rules.unique,
        enum=tuple(rules.enum) if rules.enum is not None else None,
        pattern=rules.pattern,
        minimum=rules.minimum,
    )


def load(path: Path) -> Schema:
    """The schema at PATH, read and checked by the one parser of the agreed schemas
    (:func:`projects.spec.load_schema`), as the dictionary's view of it."""
    try:
        parsed = load_schema(Path(path))
    except RegistryError as exc:
        raise DictionaryError(str(exc)) from None
    info = parsed.dataset
    fields = tuple(_field(f) for f in parsed.fields)
    return Schema(
        id=info["id"],
        title=info["title"],
        controller=info["controller"],
        description=info.get("description", ""),
        version=str(info.get("version", "1")),
        fields=fields,
        primary_key=parsed.primary_key or fields[0].name,
        path=Path(path),
    )


def schemas(folder: Path = SCHEMAS) -> dict[str, Schema]:
    found = {}
    for path in sorted(Path(folder).glob("*.json")):
        schema = load(path)
        found[schema.id] = schema
    return found


def get(dataset: str, folder: Path = SCHEMAS) -> Schema:
    known = schemas(folder)
    if dataset not in known:
        raise DictionaryError(
            f"no schema for dataset {dataset!r}; the dictionary has {', '.join(sorted(known))}"
        )
    return known[dataset]


def render_html(known: dict[str, Schema]) -> str:
    """The whole dictionary as one accessible HTML page."""
    e = html.escape
    sections = []
    for schema in known.values():
        rows = "".join(
            f"<tr><th scope='row'><code>{e(f.name)}</code></th><td>{e(f.type)}"
            f"{' (' + e(f.format) + ')' if f.format else ''}</td><td>{e(f.role.replace('_', ' '))}"
            f"</td><td>{e(f.concept)}</td><td>{e(_constraints(f))}</td><td>{e(f.description)}</td>"
            "</tr>"
            for f in schema.fields
        )
        sections.append(
            f"<section><h2 id='{e(schema.id)}'>{e(schema.title)} <small>({e(schema.id)}, "
            f"version {e(schema.version)})</small></h2><p>{e(schema.description)} Controller: "
            f"{e(schema.controller)}. Record key: <code>{e(schema.primary_key)}</code>.</p>"
            "<table><thead><tr><th scope='col'>field</th><th scope='col'>type</th>"
            "<th scope='col'>role</th><th scope='col'>concept</th><th scope='col'>constraints"
            f"</th><th scope='col'>description</th></tr></thead><tbody>{rows}</tbody></table>"
            "</section>"
        )
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Data dictionary"
        "</title><style>body{font-family:system-ui,sans-serif;max-width:70rem;margin:2rem auto;"
        "padding:0 1rem}table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;"
        "padding:.2rem .4rem;text-align:left;vertical-align:top}</style></head><body>"
        "<h1>Data dictionary</h1><p>The agreed schemas of every agency dataset: types, "
        "constraints, the shared core concept each field maps to, and its role.</p>"
        + "".join(sections)
        + "</body></html>\n"
    )


def _constraints(f: Field) -> str:
    parts = []
    if f.required:
        parts.append("required")
    if f.unique:
        parts.append("unique")
    if f.enum:
        parts.append("one of " + ", ".join(f.enum))
    if f.is_nhs_number:
        parts.append("NHS number with a valid check digit")
    elif f.pattern:
        parts.append(f"pattern {f.pattern}")
    if f.minimum is not None:
        parts.append(f"at least {f.minimum:g}")
    return "; ".join(parts)
