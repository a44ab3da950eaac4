"""linkage: the data path from an agency's file to a project's de-identified extract."""

from pathlib import Path
from typing import Any

__all__ = ["TEMPLATES", "link"]

# the pages linkage writes (the data dictionary, the data-quality and linkage-quality reports)
TEMPLATES = Path(__file__).parent / "templates"


def __getattr__(name: str) -> Any:  # loaded on first use, so the CLI starts quickly
    if name == "link":
        from linkage.linker import link

        return link
    raise AttributeError(f"module 'linkage' has no attribute {name!r}")
