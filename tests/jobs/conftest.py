"""Fixtures of the job tests: a data folder with the sample's two sets imported into one project."""
from __future__ import annotations

from pathlib import Path

import jobs_helpers
import pytest
from jobs_helpers import SampleProject

from buildtrace_desktop.services import projects
from buildtrace_desktop.services.app import AppContext


@pytest.fixture
def sample(tmp_path: Path):
    jobs_helpers.CALLS.clear()
    jobs_helpers.GATE.clear()
    jobs_helpers.ENTERED.clear()
    with AppContext(tmp_path / "home") as app:
        project = projects.create_project(app, "Sample")
        old = projects.import_drawing_set(app, project.id, [jobs_helpers.SAMPLE / "old.pdf"], "Rev 1", ingest=False)
        new = projects.import_drawing_set(app, project.id, [jobs_helpers.SAMPLE / "new.pdf"], "Rev 2", ingest=False)
        yield SampleProject(app, project.id, old.set_id, new.set_id)
    jobs_helpers.GATE.set()  # never leave a stand-in blocked
