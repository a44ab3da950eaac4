"""The project registration file (YAML), and the dataset schema file, as typed specifications.

A bad file is reported as ``FILE: field.path: what is wrong``, every problem at once. The schema
of a project file is documented by ``projects/examples/supporting-families.yaml``.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from projects.errors import RegistryError
from tre.templating import human_date

SLUG = re.compile(r"^[a-z](?:[a-z0-9]|-(?=[a-z0-9])){0,29}$")
CATEGORIES = ("service planning", "evaluation", "research", "statistics", "safeguarding review")
OUTPUT_KINDS = ("table", "figure", "model", "text")
CLASSIFICATIONS = ("direct_identifier", "quasi_identifier", "sensitive", "other")
# the documented example of a registration file: the demo's project
EXAMPLE_PROJECT = Path(__file__).parent / "examples" / "supporting-families.yaml"
# every field of a registration file, empty, with hints: where a new project starts
BLANK_PROJECT = Path(__file__).parent / "examples" / "blank.yaml"


def check_slug(value: str) -> str:
    if not SLUG.match(value):
        raise ValueError(
            "must be 1-30 characters: lowercase letters, digits and single hyphens, starting with "
            "a letter and not ending with a hyphen (it names the JupyterHub workspace)"
        )
    return value


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Member(_Spec):
    person: str = Field(min_length=1)
    role: Literal["analyst", "lead"] = "analyst"


class RequestedItemSpec(_Spec):
    item: str = Field(min_length=1)
    justification: str = Field(min_length=10, description="Why the purpose needs this item.")
    precision: Literal["day", "month"] | None = Field(
        None,
        description="For dates of events: extracts give the month unless the project "
        "justifies (and asks for) the day.",
    )


class RequestedDataset(_Spec):
    dataset: str = Field(min_length=1)
    items: list[RequestedItemSpec] = Field(min_length=1)


class LegalBasis(_Spec):
    article_6: str = Field(min_length=1, description="UK GDPR Article 6 basis (gateway code).")
    article_9: str | None = Field(None, description="Article 9/10 condition, for special data.")
    gateways: list[str] = Field(min_length=1, description="Statutory gateways (codes).")
    confidentiality: str = Field(min_length=1, description="Common-law confidentiality route.")
    dpia: str = Field(
        min_length=1, description="Reference of the data protection impact assessment."
    )


class Period(_Spec):
    start: date
    end: date

    @model_validator(mode="after")
    def _ordered(self):
        if self.end < self.start:
            raise ValueError(_period_reversed(self.start, self.end))
        return self


def _period_reversed(start: date, end: date) -> str:
    return f"the data period's end ({human_date(end)}) is before its start ({human_date(start)})"


class IntendedOutput(_Spec):
    name: str = Field(min_length=1)
    kind: Literal["table", "figure", "model", "text"]
    description: str = ""


class ProjectSpec(_Spec):
    id: str
    title: str = Field(min_length=5, max_length=200)
    lay_summary: str = Field(min_length=20)
    purpose: str = Field(min_length=20)
    category: Literal[
        "service planning", "evaluation", "research", "statistics", "safeguarding review"
    ]
    public_benefit: str = Field(min_length=20)
    lead: str = Field(min_length=1, description="Username of the project lead.")
    team: list[Member] = Field(default_factory=list)
    legal_basis: LegalBasis
    data: list[RequestedDataset] = Field(min_length=1)
    data_period: Period
    intended_outputs: list[IntendedOutput] = Field(min_length=1)
    disclosure: dict[str, Any] = Field(
        default_factory=dict, description="Stricter disclosure settings, if any."
    )
    start: date
    end: date
    retention_until: date
    onward_sharing: bool = False
    commercial_use: bool = False

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        return check_slug(value)

    @model_validator(mode="after")
    def _dates(self):
        problems = date_problems(self.model_dump(mode="json"))
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def requested(self) -> dict[str, dict[str, str]]:
        return {d.dataset: {i.item: i.justification for i in d.items} for d in self.data}


def date_problems(data: dict[str, Any]) -> list[str]:
    """Every date of a registration out of order, each as ``FIELD: what is wrong`` at the later
    date of its pair and naming both: checked on their own, so that they are reported together
    with every other problem (pydantic runs a model's own checks only once its fields pass).
    A date that is missing or not a date is left to the field's own check."""
    period = data.get("data_period")
    period = period if isinstance(period, dict) else {}
    start, end, retention = (_date_or_none(data.get(key)) for key in DATES)
    period_start, period_end = _date_or_none(period.get("start")), _date_or_none(period.get("end"))
    problems = []
    if start and end and end < start:
        problems.append(
            f"end: the project's end ({human_date(end)}) is before its start ({human_date(start)})"
        )
    if period_start and period_end and period_end < period_start:
        problems.append(f"data_period.end: {_period_reversed(period_start, period_end)}")
    if end and retention and retention < end:
        problems.append(
            f"retention_until: the date the data is kept until ({human_date(retention)}) is "
            f"before the project's end ({human_date(end)})"
        )
    return problems


DATES = ("start", "end", "retention_until")


def _date_or_none(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _problems(error: ValidationError) -> list[str]:
    lines = []
    for problem in error.errors():
        if problem["type"] == "value_error" and problem["loc"] in ((), ("data_period",)):
            continue  # the models' own date checks: date_problems says them, at their fields
        where = ".".join(str(part) for part in problem["loc"]) or "(file)"
        message = problem["msg"].removeprefix("Value error, ")
        if problem["type"] == "extra_forbidden":
            message = "unknown field; remove it or check its spelling"
        elif problem["type"].startswith("date_") and isinstance(problem["input"], str):
            message = (
                f"must be a real date ({problem['input']!r} is not): write it as "
                "YYYY-MM-DD, for example 2027-03-27"
            )
        lines.append(f"{where}: {message[0].lower()}{message[1:]}")
    return lines


class _Loader(yaml.SafeLoader):
    """YAML's safe loader, but a value written as a date that does not exist (``2023-02-31``)
    stays the text it is, for the field's own check to name (YAML's loader fails on it)."""


def _timestamp(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)  # type: ignore[arg-type]
    except ValueError:
        return loader.construct_scalar(node)  # type: ignore[arg-type]


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)


def load_yaml(text: str) -> Any:
    """TEXT's YAML, as :func:`yaml.safe_load` reads it, an impossible date kept as text."""
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader)


def read_mapping(path: Path) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RegistryError(f"{path} does not exist") from None
    except UnicodeDecodeError:
        raise RegistryError(f"{path} is not UTF-8 text") from None
    try:
        data = json.loads(text) if Path(path).suffix == ".json" else load_yaml(text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise RegistryError(f"{path}: not valid YAML/JSON ({exc}); fix the syntax") from None
    if not isinstance(data, dict):
        raise RegistryError(f"{path}: expected a mapping of fields at the top level")
    return data


def load_project(path: Path) -> ProjectSpec:
    return parse_project(read_mapping(path), str(path))


def parse_project(data: dict[str, Any], source: str = "project") -> ProjectSpec:
    """The registration DATA as a spec, or :class:`RegistryError` with every problem, one a line
    (``SOURCE: FIELD: what is wrong``): the dates' order with the fields' own checks at once."""
    try:
        return ProjectSpec.model_validate(data)
    except ValidationError as exc:
        problems = date_problems(data) + _problems(exc)
        raise RegistryError("\n".join(f"{source}: {line}" for line in problems)) from None


# ---------------------------------------------------------------------------------------------
# The dataset schema: a Frictionless Table Schema with x-dataset (id, title, controller,
# description, version) and, for each field, its role (x-role) and the core concept it maps to
# (x-concept). This is the one parser of the agreed schemas: the register of data assets reads
# them here, and the data dictionary (linkage.dictionary) builds its view on this model.

ROLES = CLASSIFICATIONS
TYPES = ("string", "integer", "number", "date", "datetime")
CONCEPTS = ("Person", "Household", "Place", "Organisation", "Service", "Case", "Event")


class Constraints(BaseModel):
    model_config = ConfigDict(extra="allow")
    required: bool = False
    unique: bool = False
    enum: list[str] | None = None
    pattern: str | None = None
    minimum: int | float | None = None


class SchemaField(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)
    name: str = Field(min_length=1)
    type: str = "string"
    format: str | None = None
    description: str = ""
    role: str = Field(alias="x-role")
    concept: str = Field(alias="x-concept")
    constraints: Constraints = Field(default_factory=Constraints)

    @field_validator("role", "type")
    @classmethod
    def _listed(cls, value: str, info: ValidationInfo) -> str:
        allowed = ROLES if info.field_name == "role" else TYPES
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}")
        return value

    @field_validator("concept")
    @classmethod
    def _concept(cls, value: str) -> str:
        if value.split(".")[0] not in CONCEPTS:
            raise ValueError(f"must start with one of {', '.join(CONCEPTS)}")
        return value

    @model_validator(mode="after")
    def _dated(self):
        if self.type in ("date", "datetime") and not self.format:
            raise ValueError(f"a {self.type} needs its format, such as %d/%m/%Y")
        return self


class DatasetSchema(BaseModel):
    """A Frictionless Table Schema with the dataset's own ``x-dataset`` description."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    fields: list[SchemaField] = Field(min_length=1)
    dataset: dict[str, Any] = Field(alias="x-dataset")
    primary_key: str | None = Field(None, alias="primaryKey")

    @field_validator("dataset")
    @classmethod
    def _described(cls, value: dict[str, Any]) -> dict[str, Any]:
        missing = [key for key in ("id", "title", "controller") if not value.get(key)]
        if missing:
            raise ValueError(f"needs {', '.join(missing)}")
        check_slug_like(value["id"])
        return value


def check_slug_like(value: str) -> None:
    if not re.match(r"^[a-z][a-z0-9_]{0,63}$", value):
        raise ValueError("dataset ids are lowercase letters, digits and underscores")


def _schema_problems(error: ValidationError, data: dict[str, Any]) -> list[str]:
    """Each problem as ``field 'NAME': KEY what is wrong`` (or ``KEY: what is wrong`` outside
    the fields), so that the author finds the field by its name."""
    lines = []
    given = data.get("fields")
    fields: list[Any] = given if isinstance(given, list) else []
    for problem in error.errors():
        loc = problem["loc"]
        message = problem["msg"].removeprefix("Value error, ")
        message = "is required" if problem["type"] == "missing" else message
        message = f"{message[0].lower()}{message[1:]}"
        if len(loc) >= 2 and loc[0] == "fields" and isinstance(loc[1], int):
            raw = fields[loc[1]] if loc[1] < len(fields) else {}
            name = raw.get("name") if isinstance(raw, dict) else None
            where = f"field {name!r}" if name else f"field {loc[1] + 1}"
            key = ".".join(str(part) for part in loc[2:])
            lines.append(f"{where}: {key} {message}" if key else f"{where}: {message}")
        else:
            lines.append(f"{'.'.join(str(part) for part in loc) or '(file)'}: {message}")
    return lines


def parse_schema(data: dict[str, Any], source: str = "schema") -> DatasetSchema:
    try:
        return DatasetSchema.model_validate(data)
    except ValidationError as exc:
        raise RegistryError(
            "\n".join(f"{source}: {line}" for line in _schema_problems(exc, data))
        ) from None


def load_schema(path: Path) -> DatasetSchema:
    return parse_schema(read_mapping(path), str(path))
