"""An instance: one folder holding tre.toml, the embedded database, data folders and keys."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path

from tre import audit
from tre.db import Database, sqlite_url
from tre.errors import InstanceError
from tre.settings import DEFAULT_TOML, SETTINGS_FILE, Settings, load_settings, parse_settings

DATA_FOLDERS = (
    "incoming",
    "quarantine",
    "store",
    "identifiers",
    "projects",
    "releases",
    "airlock",
    "reports",
    "keys",
)
KEY_FILE = "pseudonymisation.key"
HOME_VARIABLE = "TRE_HOME"


class InstanceEvent(StrEnum):
    """The audit events the ground records about the instance itself."""

    INIT = "instance.init"


@dataclass
class Instance:
    home: Path
    settings: Settings = field(repr=False)

    def folder(self, name: str) -> Path:
        """The folder a `[paths]` setting names, relative to the instance unless absolute."""
        return self.home / getattr(self.settings.paths, name)

    @property
    def key_path(self) -> Path:
        return self.folder("keys") / KEY_FILE

    @property
    def database_url(self) -> str:
        return self.settings.database.url or sqlite_url(self.home / "tre.db")

    @cached_property
    def db(self) -> Database:
        """The instance's database; its audit events are sealed under the instance's audit key."""
        db = Database(self.database_url)
        audit.anchor(db, self.audit_anchor())
        return db

    def audit_anchor(self) -> audit.AuditAnchor:
        """The audit key and head in the keys folder (a key is made when an instance has none)."""
        return audit.AuditAnchor.in_folder(self.folder("keys"))

    def read_key(self) -> bytes:
        try:
            return bytes.fromhex(self.key_path.read_text().strip())
        except FileNotFoundError:
            raise InstanceError(
                f"the pseudonymisation key {self.key_path} is missing; restore it from the "
                "operator's key store (a new key would break every existing pseudonym)"
            ) from None


def init_instance(
    home: Path,
    migrate: Callable[[Database], None],
    database_url: str = "",
    actor: str = "operator",
) -> Instance:
    """Create an instance; refuse (changing nothing) if the folder already holds one or anything.

    ``migrate`` brings the new database to the schema of the packages composed above (the
    composition root's :func:`app.schema.migrate`); the ground knows no package's tables.
    """
    home = Path(home).absolute()
    if (home / SETTINGS_FILE).exists() or (home / "keys" / KEY_FILE).exists():
        raise InstanceError(
            f"{home} already holds a tre-kit instance; nothing was changed "
            "(choose another folder, or use this one with --home)"
        )
    if home.exists() and any(home.iterdir()):
        raise InstanceError(
            f"{home} is not empty; nothing was changed (tre init needs a new or empty folder)"
        )
    text = DEFAULT_TOML
    if database_url:
        text = text.replace('url = ""', f'url = "{database_url}"', 1)
    settings = parse_settings(text)
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(home, 0o700)
    (home / SETTINGS_FILE).write_text(text, encoding="utf-8")
    os.chmod(home / SETTINGS_FILE, 0o600)
    instance = Instance(home, settings)
    for name in DATA_FOLDERS:
        folder = instance.folder(name)
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(folder, 0o700)
    _write_key(instance.key_path)
    instance.audit_anchor()  # the audit key, made now beside the pseudonymisation key
    migrate(instance.db)
    with instance.db.session() as session:
        audit.record(
            session,
            actor,
            InstanceEvent.INIT,
            "instance",
            instance.settings.instance.name,
            details={"home": str(home), "database": instance.db.engine.dialect.name},
        )
    return instance


def _write_key(path: Path) -> None:
    # O_EXCL: a key is never overwritten, even by a race.
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_hex(32) + "\n")


def open_instance(home: str | Path | None = None) -> Instance:
    """Open the instance named by --home or TRE_HOME, validating its settings first."""
    chosen = home or os.environ.get(HOME_VARIABLE)
    if not chosen:
        raise InstanceError(
            "no instance chosen: pass --home DIR or set TRE_HOME "
            "(create one first with `tre init DIR`)"
        )
    path = Path(chosen).absolute()
    if not path.is_dir():
        raise InstanceError(f"{path} is not a folder; create an instance with `tre init {path}`")
    return Instance(path, load_settings(path))
