"""The Jinja2 environment of every HTML page the kit writes, served or saved.

A package that owns a page keeps its template in a ``templates`` folder beside its modules and
renders it with :func:`render`; the web service's pages (``tre.web``) use the same environment
with the base templates of ``tre/templates``. Jinja2 escapes every value (``autoescape``), so no
page escapes text by hand. (``sdc``, below tre, makes its own environment the same way.)
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2

TEMPLATES = Path(__file__).parent / "templates"


def environment(*folders: Path, keep_trailing_newline: bool = False) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [jinja2.FileSystemLoader(str(f)) for f in (TEMPLATES, *folders)]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=keep_trailing_newline,
    )


@cache
def _pages(folder: Path) -> jinja2.Environment:
    return environment(folder, keep_trailing_newline=True)


def render(folder: Path, template: str, /, **values: Any) -> str:
    """The page TEMPLATE from FOLDER (a package's templates), every value escaped."""
    return _pages(Path(folder)).get_template(template).render(**values)
