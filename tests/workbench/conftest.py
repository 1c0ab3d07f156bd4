import pytest

from workbench.demo_project import build_demo_project


@pytest.fixture
def demo_project(tmp_path):
    project = build_demo_project(tmp_path / "demo")
    yield project
    project.close()


@pytest.fixture
def run_queue():
    """Run every queued job of a project in a worker in this process; returns how many ran."""
    from workbench.jobs.worker import Worker

    def run(project):
        worker = Worker(project)
        try:
            return worker.run(once=True)
        finally:
            worker.close()

    return run
