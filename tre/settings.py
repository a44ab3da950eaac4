"""Instance settings: `tre.toml`, typed, documented here once, validated before anything runs.

Every option is a typed field with its help text. A bad value fails at start-up as
``tre.toml: <key>: <what is wrong>``, naming the dotted key, so an operator can fix it at once.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import ErrorDetails

from sdc.errors import SdcError
from sdc.policy import Policy
from tre.errors import SettingsError

SETTINGS_FILE = "tre.toml"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_default=True)


class InstanceSettings(_Section):
    name: str = Field(
        default="tre-kit", min_length=1, description="Shown in reports and the register."
    )
    operator: str = Field(
        default="The operator",
        min_length=1,
        description="The organisation operating this environment.",
    )


class DatabaseSettings(_Section):
    url: str = Field(
        default="",
        description="Empty for the embedded SQLite file tre.db; "
        "postgresql+psycopg://user:password@host:5432/name for PostgreSQL.",
    )

    @field_validator("url")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        if value and not value.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "must be empty (embedded SQLite) or a sqlite:// or postgresql+psycopg:// URL"
            )
        return value


class PathSettings(_Section):
    incoming: str = Field(
        default="incoming", min_length=1, description="Agency files waiting for ingest."
    )
    quarantine: str = Field(
        default="quarantine", min_length=1, description="Rejected rows with reasons."
    )
    store: str = Field(
        default="store", min_length=1, description="Linked, de-identified store (Parquet)."
    )
    projects: str = Field(
        default="projects", min_length=1, description="Per-project extracts and outputs."
    )
    releases: str = Field(
        default="releases", min_length=1, description="Released outputs and their crates."
    )
    airlock: str = Field(
        default="airlock",
        min_length=1,
        description="The airlock's own copies of requested files, made at submission: what the "
        "checks, the checkers and the release read; never mounted in a workspace.",
    )
    identifiers: str = Field(
        default="identifiers",
        min_length=1,
        description="The operator's identifier area: identifiers split off at ingest, for the "
        "linkage step only; never mounted in a workspace.",
    )
    reports: str = Field(
        default="reports",
        min_length=1,
        description="Operator reports (data quality, linkage quality).",
    )
    keys: str = Field(
        default="keys",
        min_length=1,
        description="Pseudonymisation keys, apart from the data folders; may be an absolute path.",
    )


class TransparencySettings(_Section):
    show_person_names: bool = Field(
        default=False, description="Whether the public transparency register may name people."
    )


class AirlockSettings(_Section):
    checkers: int = Field(
        default=2,
        ge=1,
        description="Independent output checkers who must vote on every file (>= 1).",
    )
    max_file_mb: float = Field(
        default=20, gt=0, description="The largest file a request may hold, MB."
    )
    max_csv_rows: int = Field(
        default=5000, ge=1, description="The most rows a CSV may have (more looks like microdata)."
    )
    release_failed_with_override: bool = Field(
        default=False,
        description="Whether a file whose automatic checks failed may be released at all: only "
        "when every checker who approved it gave a reason for overriding the checks. By "
        "default never.",
    )


class NotifySettings(_Section):
    smtp_host: str = Field(
        default="",
        description="The SMTP server that e-mails the airlock's notifications (to authors, "
        "checkers and recipients, at each step of a request). Empty: notifications are shown "
        "in the service only.",
    )
    smtp_port: int = Field(default=25, ge=1, le=65535, description="The SMTP server's port.")
    starttls: bool = Field(
        default=False, description="Whether to upgrade the SMTP connection with STARTTLS."
    )
    sender: str = Field(
        default="tre-kit@localhost", description="The From address of the notification e-mails."
    )


# The purpose-quality flags a registration may raise (projects/quality.py raises them, with a
# sentence each): named here so that tre.toml can choose which of them stop a submission.
QUALITY_FLAGS = (
    "open_ended_purpose",
    "justification_generic",
    "justification_repeated",
    "every_item_requested",
    "outputs_not_named",
    "period_out_of_line",
    "retention_out_of_line",
)


class RegistrationSettings(_Section):
    block_submission: list[str] = Field(
        default_factory=lambda: ["open_ended_purpose"],
        description="The purpose-quality flags that stop a project's submission until the lead "
        "mends them (the others are warnings, shown to the lead and to the data controllers). "
        f"Flags: {', '.join(QUALITY_FLAGS)}.",
    )
    max_project_years: float = Field(
        default=3, gt=0, description="A project longer than this is flagged (period_out_of_line)."
    )
    max_data_period_years: float = Field(
        default=5,
        gt=0,
        description="A data period longer than this is flagged (period_out_of_line).",
    )
    max_retention_years: float = Field(
        default=2,
        ge=0,
        description="Retention longer than this after the project's end is flagged "
        "(retention_out_of_line).",
    )

    @field_validator("block_submission")
    @classmethod
    def _known_flags(cls, values: list[str]) -> list[str]:
        unknown = [v for v in values if v not in QUALITY_FLAGS]
        if unknown:
            raise ValueError(
                f"unknown flag {', '.join(unknown)}; flags are {', '.join(QUALITY_FLAGS)}"
            )
        return values


class PeopleSettings(_Section):
    accounts: dict[str, str] = Field(
        default_factory=dict,
        description="The registered person each operating-system account on this machine is, "
        "for the `tre` command (an account not listed is the person of the same name; root is "
        "nobody). A decision (a controller's approval, a checker's vote, a release) is taken "
        "only from the decider's own account.",
    )


class HubSettings(_Section):
    profile: Literal["local", "docker", "k8s"] = Field(
        default="local",
        description="Where workspaces run. local: the sandbox on this machine (tre/sandbox.py; "
        "the hub runs as root, with bubblewrap). docker: a container per workspace "
        "(DockerSpawner) on an internal network. k8s: a pod per workspace (KubeSpawner, Zero to "
        "JupyterHub) behind a NetworkPolicy denying egress. Every profile mounts only the "
        "project's folders, chosen by the hub from the server's project.",
    )


def _disclosure(values: dict[str, Any]) -> dict[str, Any]:
    try:
        Policy.from_mapping(values)
    except SdcError as exc:
        raise ValueError(str(exc).removeprefix("disclosure policy: ")) from None
    return values


class Settings(_Section):
    instance: InstanceSettings = InstanceSettings()
    database: DatabaseSettings = DatabaseSettings()
    paths: PathSettings = PathSettings()
    transparency: TransparencySettings = TransparencySettings()
    airlock: AirlockSettings = AirlockSettings()
    people: PeopleSettings = PeopleSettings()
    notify: NotifySettings = NotifySettings()
    hub: HubSettings = HubSettings()
    registration: RegistrationSettings = RegistrationSettings()
    disclosure: dict[str, Any] = Field(
        default_factory=dict,
        description="The disclosure policy every output check applies (sdc.Policy's fields; "
        "unset ones keep ACRO's defaults). Projects may only make it stricter.",
    )

    @field_validator("disclosure")
    @classmethod
    def _valid_policy(cls, values: dict[str, Any]) -> dict[str, Any]:
        return _disclosure(values)

    @property
    def policy(self) -> Policy:
        return Policy.from_mapping(self.disclosure)


DEFAULT_TOML = """\
# tre-kit instance settings. Relative paths are relative to this file's folder.
# Every key is documented in tre/settings.py; an unknown or bad key stops every command.

[instance]
# Shown in reports and on the public transparency register.
name = "tre-kit"
# The organisation operating this environment.
operator = "The operator"

[database]
# Empty: the embedded SQLite database tre.db in this folder (WAL mode).
# PostgreSQL: url = "postgresql+psycopg://user:password@host:5432/tre"
url = ""

[paths]
incoming = "incoming"
quarantine = "quarantine"
store = "store"
projects = "projects"
releases = "releases"
# The airlock's own copies of requested files (what checkers see and releases copy).
airlock = "airlock"
# Identifiers split off at ingest, for the linkage step only (never in a workspace).
identifiers = "identifiers"
reports = "reports"
# Pseudonymisation keys: held by the operator apart from the data; may be an absolute path.
keys = "keys"

[transparency]
# Whether the public transparency register may show people's names.
show_person_names = false

[airlock]
# Independent output checkers who vote on every file of a release request (never fewer than 1).
checkers = 2
# The largest file a request may hold (MB), and the most rows of a CSV.
max_file_mb = 20
max_csv_rows = 5000
# A file whose automatic checks failed is never released (false). true: it may be, but only when
# every checker who approved it recorded a reason for overriding the checks on that file.
release_failed_with_override = false

[notify]
# The SMTP server that e-mails notifications (a request submitted, returned, approved, released,
# rejected) to its author, its checkers and its recipients. Empty: shown in the service only.
smtp_host = ""
smtp_port = 25
starttls = false
sender = "tre-kit@localhost"

[registration]
# Purpose-quality flags (projects/quality.py) warn the lead on saving and show beside the data
# controllers' decision. Those listed here also stop the submission until the lead mends them:
# open_ended_purpose, justification_generic, justification_repeated, every_item_requested,
# outputs_not_named, period_out_of_line, retention_out_of_line.
block_submission = ["open_ended_purpose"]
# What is out of line: a project longer than this, a data period longer than this (years), and
# retention longer than this after the project's end (years).
max_project_years = 3
max_data_period_years = 5
max_retention_years = 2

[people]
# The registered person each operating-system account on this machine is, for the `tre` command.
# A decision (a controller's approval, a checker's vote, a release) is taken only from the
# decider's own account, never from --actor. An account not listed is the person of the same
# name; root is nobody. Example: accounts = { "cchecker" = "chris.checker" }
accounts = {}

[hub]
# Where workspaces run, each seeing only its project's folders (chosen by the hub, never by the
# person): "local" (the sandbox on this machine: the hub runs as root, with bubblewrap),
# "docker" (DockerSpawner, an internal network without egress; `tre hub config --out DIR`
# writes its docker-compose.yml) or "k8s" (KubeSpawner under Zero to JupyterHub, egress denied
# by NetworkPolicy; `tre hub config --out DIR` writes its values.yaml).
profile = "local"

[disclosure]
# The disclosure policy of every output check (sdc.Policy, documented in sdc/policy.py).
# Unset keys keep ACRO's defaults; a project may only make them stricter.
threshold = 10            # minimum records behind every published cell
zeros_disclosive = true   # an empty cell is disclosive
dominance_n = 2           # (n, k) dominance: the n largest contributions ...
dominance_k = 90.0        # ... may not make k % or more of a cell
p_percent = 10.0          # p % rule
min_residual_df = 10      # regressions
extremes_disclosive = true  # min, max, median and percentiles are one person's value
rounding_base = 5         # published counts are multiples of this
"""


def _describe(error: ErrorDetails) -> str:
    key = ".".join(str(part) for part in error["loc"])
    kind = error["type"]
    if kind == "extra_forbidden":
        return f"{SETTINGS_FILE}: {key}: unknown setting; remove it or check its spelling"
    message = error["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return f"{SETTINGS_FILE}: {key}: {message[0].lower()}{message[1:]}"


def parse_settings(text: str) -> Settings:
    """Parse and validate the text of a tre.toml; raise SettingsError naming the first bad key."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{SETTINGS_FILE}: not valid TOML ({exc}); fix the syntax") from None
    try:
        return Settings.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(error) for error in exc.errors()]
        raise SettingsError("\n".join(lines)) from None


def load_settings(home: Path) -> Settings:
    path = home / SETTINGS_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SettingsError(
            f"{path} does not exist; create an instance with `tre init {home}`"
        ) from None
    return parse_settings(text)
