"""Five Safes RO-Crates in BagIt bags: how a run and a release are packaged.

A crate describes the five safes of one piece of work: the person (Safe People), the project,
its purpose and legal basis (Safe Project), the inputs by hash (Safe Data), the setting (Safe
Setting) and what was done with what result (Safe Outputs): a ``CreateAction`` for a run, an
``AssessAction`` for each check and each checker's decision of a release.

:func:`package` writes ``ro-crate-metadata.json`` (with the ``rocrate`` library) into a folder of
files, then turns the folder into a BagIt bag (with ``bagit``): the files move under ``data/``
and the bag's manifests hold their SHA-256 and SHA-512. :func:`read` validates the bag and parses
the crate back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tre.errors import TreError

# bagit works by changing the process's working folder and renaming relative paths, and papermill
# changes it too while it saves a notebook: in one process, runs started together from the web
# service would move each other's files. So bagit runs in a short process of its own, with its own
# working folder (about 0.1 s a bag).
_BAGIT = """
import json, sys
import bagit
action, folder, info, checksums = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4:]
try:
    if action == "make":
        bagit.make_bag(folder, info, checksums=checksums)
    else:
        bagit.Bag(folder).validate()
except (bagit.BagError, OSError) as exc:
    print(exc, file=sys.stderr)
    sys.exit(3)
"""


def _bagit(action: str, folder: Path, info: dict[str, str] | None = None) -> str | None:
    """Make or validate the bag FOLDER in a process of its own; the problem, or None."""
    done = subprocess.run(
        [sys.executable, "-c", _BAGIT, action, str(folder), json.dumps(info or {}), *CHECKSUMS],
        capture_output=True,
        text=True,
        cwd="/",
    )
    if done.returncode == 0:
        return None
    return (
        done.stderr.strip().splitlines()[-1] if done.stderr.strip() else f"exit {done.returncode}"
    )


PROFILE = "https://w3id.org/5s-crate/0.4"
CHECKSUMS = ["sha256", "sha512"]


class CrateError(TreError):
    """A crate or its bag is not valid."""


@dataclass
class Entity:
    """A contextual entity: an ``@id`` (``#...`` for local ones), a type and properties. A
    property whose value is an Entity (or a list of them) becomes a reference."""

    id: str
    type: str | list[str]
    properties: dict[str, Any] = field(default_factory=dict)


def project_entities(
    project: dict[str, Any], person: str, organisation: str | None
) -> tuple[Entity, Entity]:
    """The Safe Project and Safe People entities, from a project's description."""
    legal = project.get("legal_basis", {})
    agent = Entity(
        f"#person-{person}",
        "Person",
        {"name": person}
        | ({"affiliation": Entity(f"#org-{organisation}", "Organization")} if organisation else {}),
    )
    entity = Entity(
        f"#project-{project['id']}",
        "Project",
        {
            "name": project.get("title", project["id"]),
            "identifier": project["id"],
            "description": project.get("purpose", ""),
            "version": str(project.get("version", "")),
            "legalBasis": ", ".join(
                str(v) for v in [legal.get("article_6"), legal.get("article_9")] if v
            ),
            "gateways": ", ".join(legal.get("gateways", [])),
            "member": [agent],
        },
    )
    return entity, agent


def _jsonld(value: Any, collect: dict[str, Entity]) -> Any:
    if isinstance(value, Entity):
        collect.setdefault(value.id, value)
        return {"@id": value.id}
    if isinstance(value, list):
        return [_jsonld(v, collect) for v in value]
    return value


def package(
    folder: Path,
    *,
    name: str,
    description: str,
    files: dict[str, dict[str, Any]],
    entities: list[Entity],
    mentions: list[Entity],
    bag_info: dict[str, str] | None = None,
) -> Path:
    """Describe FOLDER (whose FILES, by relative path, carry properties) as a Five Safes crate,
    then bag it in place. Returns the crate's root (``FOLDER/data``)."""
    from rocrate.model.contextentity import ContextEntity
    from rocrate.rocrate import ROCrate

    crate = ROCrate(gen_preview=False)
    crate.name = name
    crate.description = description
    crate.root_dataset["conformsTo"] = {"@id": PROFILE}
    crate.add(ContextEntity(crate, PROFILE, {"@type": ["CreativeWork", "Profile"], "name": "5s"}))
    for relative, properties in files.items():
        if not (folder / relative).is_file():
            raise CrateError(f"{relative} is not in {folder}")
        crate.add_file(dest_path=relative, properties=dict(properties))
    collect: dict[str, Entity] = {}
    for entity in [*entities, *mentions]:
        collect.setdefault(entity.id, entity)
    done: set[str] = set()
    while len(done) < len(collect):
        for entity in list(collect.values()):
            if entity.id in done:
                continue
            done.add(entity.id)
            properties = {"@type": entity.type}
            for key, value in entity.properties.items():
                properties[key] = _jsonld(value, collect)
            crate.add(ContextEntity(crate, entity.id, properties))
    crate.root_dataset["mentions"] = [{"@id": m.id} for m in mentions]
    crate.metadata.write(folder)
    problem = _bagit("make", folder, dict(bag_info or {}))
    if problem is not None:
        raise CrateError(f"{folder} could not be made a BagIt bag: {problem}")
    return folder / "data"


def file_reference(relative: str) -> Entity:
    """A reference to a data entity (a file in the crate) for an action's object or result."""
    return Entity(relative, "File")


@dataclass
class Crate:
    root: Path
    metadata: dict[str, Any]

    def entity(self, identifier: str) -> dict[str, Any]:
        for item in self.metadata["@graph"]:
            if item["@id"] == identifier:
                return item
        raise CrateError(f"the crate has no entity {identifier}")

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        def types(item):
            value = item.get("@type", [])
            return value if isinstance(value, list) else [value]

        return [item for item in self.metadata["@graph"] if kind in types(item)]


def read(folder: Path) -> Crate:
    """Validate FOLDER as a BagIt bag (every file's checksums) and parse its crate."""
    from rocrate.rocrate import ROCrate

    problem = _bagit("validate", folder)
    if problem is not None:
        raise CrateError(f"{folder} is not a valid BagIt bag: {problem}")
    root = Path(folder) / "data"
    ROCrate(str(root))  # parses, or raises
    return Crate(root, json.loads((root / "ro-crate-metadata.json").read_text(encoding="utf-8")))
