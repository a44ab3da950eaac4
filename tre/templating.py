"""The Jinja2 environment of every HTML page the kit writes, served or saved.

A package that owns a page keeps its template in a ``templates`` folder beside its modules and
renders it with :func:`render`; the web service's pages (``tre.web``) use the same environment
with the base templates of ``tre/templates``. Jinja2 escapes every value (``autoescape``), so no
page escapes text by hand. (``sdc``, below tre, makes its own environment the same way.)
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parent / "templates"


def human_date(value: date | str | None) -> str:
    """A date as people write it (``1 June 2026``), from a date or an ISO date or timestamp;
    anything else as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            return human_date(date.fromisoformat(value[:10]))
        except ValueError:
            return value
    return f"{value.day} {value:%B %Y}"


def human_time(value: datetime | str | None) -> str:
    """A moment as people write it (``5 December 2026 at 08:38 UTC``), from a datetime or an ISO
    timestamp (taken as UTC when it names no zone); anything else as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            return human_time(datetime.fromisoformat(value))
        except ValueError:
            return value
    if value.tzinfo is not None:
        value = value.astimezone(UTC)
    return f"{human_date(value)} at {value:%H:%M} UTC"


def prose(items) -> str:
    """Names as a sentence lists them: ``a``, ``a and b``, ``a, b and c``."""
    names = [str(i) for i in items]
    if len(names) < 2:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


def environment(*folders: Path, keep_trailing_newline: bool = False) -> jinja2.Environment:
    made = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(str(f)) for f in (TEMPLATES, *folders)]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=keep_trailing_newline,
    )
    made.filters["human_date"] = human_date
    made.filters["human_time"] = human_time
    made.filters["prose"] = prose
    return made


@cache
def _pages(folder: Path) -> jinja2.Environment:
    return environment(folder, keep_trailing_newline=True)


def render(folder: Path, template: str, /, **values: Any) -> str:
    """The page TEMPLATE from FOLDER (a package's templates), every value escaped."""
    return _pages(Path(folder)).get_template(template).render(**values)
