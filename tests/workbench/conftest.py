import pytest

from workbench.demo_project import build_demo_project


@pytest.fixture
def demo_project(tmp_path):
    project = build_demo_project(tmp_path / "demo")
    yield project
    project.close()
