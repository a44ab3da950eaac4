"""linkage: the data path from an agency's file to a project's de-identified extract."""

from typing import Any

__all__ = ["link"]


def __getattr__(name: str) -> Any:  # loaded on first use, so the CLI starts quickly
    if name == "link":
        from linkage.linker import link

        return link
    raise AttributeError(f"module 'linkage' has no attribute {name!r}")
