import pytest

from app.demo import projects as demo_projects
from app.demo.data import generate
from app.demo.data.generate import PERIOD_END
from tests.projects.conftest import TODAY

# the town's ages are counted to the end of its data period, as the demo counts them
AGES_ON = PERIOD_END.astype(object)


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
