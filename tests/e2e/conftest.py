"""The end-to-end and browser tests use the session's real hub (``hub_url``, tests/conftest.py)."""

from tests.hubtools import PASSWORD  # noqa: F401 (the tests import it from here)
from tests.projects.conftest import populated, spec_data  # noqa: F401 (fixtures)
