"""Entry point of the desktop app: `run_gui(argv, sample=False) -> exit code`.

With `sample=True` the window opens on the bundled sample comparison (project "Sample": the VA sample's
old.pdf and new.pdf), creating and running it on first use, so a new user sees a real result at once.
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication, QMessageBox

from buildtrace_desktop.errors import BuildTraceError
from buildtrace_desktop.services import projects
from buildtrace_desktop.services.app import AppContext
from buildtrace_desktop.ui.errors import user_message
from buildtrace_desktop.ui.settings import APPLICATION, ORGANIZATION, load_settings

SAMPLE_PROJECT = "Sample"
SAMPLE_DIR = Path(__file__).resolve().parents[2] / "resources" / "sample"
log = logging.getLogger(__name__)


def sample_paths() -> tuple[Path, Path]:
    """The bundled sample's old and new PDF (next to the package, or in a PyInstaller bundle)."""
    base = Path(getattr(sys, "_MEIPASS", "")) / "resources" / "sample" if hasattr(sys, "_MEIPASS") else SAMPLE_DIR
    return base / "old.pdf", base / "new.pdf"


def ensure_sample(window) -> int:  # noqa: ANN001 - MainWindow
    """Open the sample project's comparison, creating the project, its two sets and the comparison (and
    starting its job) the first time. Returns the comparison id."""
    app = window.app
    project = projects.find_project(app, SAMPLE_PROJECT)
    if project is None:
        project = projects.create_project(app, SAMPLE_PROJECT)
    comparisons = projects.list_comparisons(app, project.id)
    if comparisons:
        comparison_id = comparisons[0].id
    else:
        old_pdf, new_pdf = sample_paths()
        settings = window.compare_settings()
        old = projects.import_drawing_set(app, project.id, [old_pdf], "Sample Rev A (old)", ingest=False,
                                          settings=settings)
        new = projects.import_drawing_set(app, project.id, [new_pdf], "Sample Rev B (new)", ingest=False,
                                          settings=settings)
        created = projects.create_comparison(app, project.id, old.set_id, new.set_id, settings)
        comparison_id = created.comparison_id
        window.start_job(created.job_id)
    window.project_pane.refresh_projects()
    window.project_pane.select_project(project.id)
    window.open_comparison(comparison_id, force=True)
    return comparison_id


def create_window(home: str | Path | None = None, sample: bool = False):  # noqa: ANN201 - MainWindow
    """The main window on data folder `home`; by default BUILDTRACE_HOME, else the folder chosen in
    Settings, else the platform's user data folder."""
    import os

    from buildtrace_desktop.config import HOME_ENV
    from buildtrace_desktop.ui.main_window import MainWindow

    settings = load_settings()
    if home is None and not os.environ.get(HOME_ENV):
        home = settings.data_folder or None
    app_context = AppContext(home)
    window = MainWindow(app_context, settings)
    if sample:
        ensure_sample(window)
    return window


def run_gui(argv: list[str] | None = None, sample: bool = False) -> int:
    """Open the main window and run the Qt event loop; returns the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    qt_app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    qt_app.setOrganizationName(ORGANIZATION)
    qt_app.setApplicationName(APPLICATION)
    try:
        window = create_window(sample=sample)
    except BuildTraceError as exc:  # e.g. an unusable data folder: say what to do, then stop
        QMessageBox.critical(None, "BuildTrace cannot start", user_message(exc))
        return int(exc.exit_code)
    window.show()
    code = qt_app.exec()
    window.app.close()
    return int(code)
