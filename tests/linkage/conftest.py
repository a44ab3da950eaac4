import pytest

from app.demo import projects as demo_projects
from app.demo.data import generate
from tests.projects.conftest import TODAY


@pytest.fixture(scope="session")
def town(tmp_path_factory):
    out = tmp_path_factory.mktemp("town")
    generate(2000, 11, out)
    return out


@pytest.fixture
def registered(sqlite_instance):
    """An instance whose data asset register holds the demo datasets."""
    demo_projects.populate(sqlite_instance, "operator:test", TODAY)
    return sqlite_instance
