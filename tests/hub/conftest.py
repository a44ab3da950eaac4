from tests.projects.conftest import active, approved, populated, spec_data  # noqa: F401 (fixtures)
