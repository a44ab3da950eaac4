"""tre-kit: the application shell (CLI, settings, database, audit log, demo)."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tre-kit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
