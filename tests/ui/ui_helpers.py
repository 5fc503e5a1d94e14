"""What the GUI tests share besides fixtures (a module of its own: `from conftest import` finds whichever
test folder's conftest was imported first when the whole suite runs)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "resources" / "sample"
OLD_PDF = SAMPLE / "old.pdf"
NEW_PDF = SAMPLE / "new.pdf"


def make_window(qtbot, home: Path):  # noqa: ANN001, ANN201
    from buildtrace_desktop.ui.app import create_window

    window = create_window(home)
    qtbot.addWidget(window)
    window.resize(1500, 950)
    window.show()
    qtbot.waitExposed(window)
    return window


def close_window(window) -> None:  # noqa: ANN001
    window.summary_panel.shutdown()  # a background summary must finish before the database closes
    window.runner.shutdown(cancel=True)
    window.viewer.close_pair()
    window.app.close()
