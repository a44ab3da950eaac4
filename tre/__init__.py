"""tre-kit's ground: what every package may use (settings, instance, database, audit log, errors,
folders, hashing, crates, the web base, the CLI context). It imports no package above it; the
composition (the `tre` command, migrations, the demo) is `app`."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("tre-kit")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0"
