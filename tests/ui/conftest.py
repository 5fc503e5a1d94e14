"""Fixtures of the GUI tests: real widgets offscreen, a private data folder and private QSettings.

The environment is set before anything imports Qt, so every test here (and pytest-qt's QApplication)
runs on the offscreen platform with settings files under a temporary folder.
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

os.environ["QT_QPA_PLATFORM"] = "offscreen"
_CONFIG = tempfile.mkdtemp(prefix="buildtrace-ui-settings-")
os.environ["XDG_CONFIG_HOME"] = _CONFIG  # QSettings of the tests never touch the user's settings

import pytest  # noqa: E402
from ui_helpers import NEW_PDF, OLD_PDF, SAMPLE, close_window, make_window  # noqa: E402,F401


@pytest.fixture(scope="session")
def compared_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding project "Sample" with the sample's two sets compared (done), built once
    through the services and the real job runner; tests get a copy (see `home`)."""
    from buildtrace_desktop.jobs.runner import JobRunner
    from buildtrace_desktop.services import projects
    from buildtrace_desktop.services.app import AppContext

    home = tmp_path_factory.mktemp("compared_home")
    with AppContext(home) as app:
        project = projects.create_project(app, "Sample")
        old = projects.import_drawing_set(app, project.id, [OLD_PDF], "Rev A", ingest=False)
        new = projects.import_drawing_set(app, project.id, [NEW_PDF], "Rev B", ingest=False)
        created = projects.create_comparison(app, project.id, old.set_id, new.set_id)
        runner = JobRunner(app, max_workers=2, in_process=True)
        runner.submit(created.job_id)
        assert runner.wait(created.job_id) == "done"
        runner.shutdown()
    return home


@pytest.fixture
def home(compared_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of `compared_home`; BUILDTRACE_HOME points at it."""
    target = tmp_path / "home"
    shutil.copytree(compared_home, target)
    monkeypatch.setenv("BUILDTRACE_HOME", str(target))
    return target


@pytest.fixture
def empty_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    target = tmp_path / "empty_home"
    monkeypatch.setenv("BUILDTRACE_HOME", str(target))
    return target


@pytest.fixture
def window(qtbot, home: Path):  # noqa: ANN001, ANN201
    """The main window on a copy of the compared sample."""
    win = make_window(qtbot, home)
    yield win
    close_window(win)


@pytest.fixture
def empty_window(qtbot, empty_home: Path):  # noqa: ANN001, ANN201
    win = make_window(qtbot, empty_home)
    yield win
    close_window(win)
