from tests.projects.conftest import active, populated, spec_data  # noqa: F401 (fixtures)
