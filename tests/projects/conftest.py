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
def active(populated):
    """... and the demo project, approved by every controller, terms accepted, active."""
    demo_projects.approve_project(populated, TODAY)
    return populated


@pytest.fixture
def spec_data():
    return yaml.safe_load(demo_projects.PROJECT_FILE.read_text())
