"""The data dictionary: the agreed schemas of every agency dataset (Frictionless Table Schemas).

Each field has its type and constraints (required, unique, enum, pattern, minimum; dates and
times with their format), the core concept it maps to (``x-concept``: Person, Place, Event, Case,
Service, Organisation, with an attribute) and its role (``x-role``: direct identifier,
quasi-identifier, sensitive, other). Core concepts are shared, so one query can count every Case
across services. Schemas live in ``linkage/schemas/``; each carries a version.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from linkage import TEMPLATES
from projects.errors import RegistryError
from projects.spec import SchemaField, load_schema
from tre.errors import TreError
from tre.templating import render

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
    return render(TEMPLATES, "dictionary.html", schemas=known.values(), constraints=_constraints)


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
