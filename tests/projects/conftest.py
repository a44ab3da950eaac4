from datetime import date

import pytest
import yaml

from app.demo import projects as demo_projects

TODAY = date(2026, 6, 1)  # inside the demo project's dates (2026-01-01 to 2027-12-31)


@pytest.fixture
def populated(instance):
    """An instance with the demo's organisations, people and datasets, and no project."""
    demo_projects.populate(instance, "operator:test", TODAY)
    return instance


@pytest.fixture
def approved(populated):
    """... and the demo project, approved by every controller, terms accepted, active from its
    start date: its data not yet prepared."""
    demo_projects.approve_project(populated)
    return populated


@pytest.fixture
def active(approved):
    """... and its data prepared by the operator (as `tre data extract` records it)."""
    from projects import registry

    with approved.db.session() as session:
        registry.record_prepared_data(session, "ops.operator", "supporting-families", 1, [])
    return approved


@pytest.fixture
def spec_data():
    return yaml.safe_load(demo_projects.PROJECT_FILE.read_text())
