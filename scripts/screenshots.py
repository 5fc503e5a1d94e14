"""Render screenshots of the app on the bundled sample comparison into docs/screenshots/.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Uses a fresh temporary data folder (your own data is not touched), opens the window in sample mode (which
imports and compares resources/sample/old.pdf and new.pdf), and grabs the main window, each viewer mode
the change list and the summary panel with QWidget.grab().
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def wait_for(condition, app, seconds: float = 300.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out waiting for the sample comparison")
        app.processEvents()
        time.sleep(0.02)


def settle(window, app) -> None:  # noqa: ANN001
    for _ in range(5):
        app.processEvents()
    window.viewer.wait_until_rendered(app.processEvents)
    for _ in range(5):
        app.processEvents()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="buildtrace-screens-"))
    os.environ["BUILDTRACE_HOME"] = str(home)
    os.environ["XDG_CONFIG_HOME"] = str(home / "config")  # default settings, not the user's

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from buildtrace_desktop.ui.app import create_window

    app = QApplication.instance() or QApplication(sys.argv[:1])
    window = create_window(home, sample=True)
    window.resize(1600, 1000)
    window.show()
    wait_for(lambda: len(window.changes) > 0 and window.viewer.has_pair, app)
    written = []

    def shot(widget, name: str) -> None:  # noqa: ANN001
        settle(window, app)
        path = out / f"{name}.png"
        widget.grab().save(str(path))
        written.append(path)

    viewer, state, changes = window.viewer, window.viewer.state, window.changes
    # The first sheet (AF101): the changed dimension 167 -> 175 in the overlay, with review statuses set.
    state.mode = "overlay"
    window.job_dock.show()
    window.resizeDocks([window.job_dock], [170], Qt.Orientation.Vertical)
    window.job_panel.tree.topLevelItem(0).setExpanded(True)  # the compare job's stages
    modified = next((i for i, c in enumerate(changes) if c.kind == "modified"), 0)
    changes.current = modified
    window.change_panel.note_edit.setText("dimension revised, confirm with the architect")
    window.change_panel.set_status("needs_rfi")
    shot(window, "main_window")
    shot(viewer, "viewer_overlay")
    state.mode = "side_by_side"
    changes.current = modified
    shot(viewer, "viewer_side_by_side")
    state.mode = "swipe"
    changes.current = modified
    x0, _, x1, _ = changes[modified].bbox
    state.swipe = ((x0 + x1) / 2) / viewer.store.page_size[0]  # the line through the changed number
    shot(viewer, "viewer_swipe")
    state.palette = "colour_blind"
    state.mode = "overlay"
    changes.current = modified
    shot(viewer, "viewer_overlay_colour_blind")
    state.palette = "default"
    # The second sheet (AF600) has more changes: the change list with a few reviewed.
    window.sheet_list.table.setCurrentCell(1, 0)
    settle(window, app)
    for index, status in ((0, "accepted"), (1, "rejected")):
        changes.current = index
        window.change_panel.set_status(status)
    changes.current = 2
    shot(window.side_tabs, "change_list")
    # The summary tab: the offline summary made in the background when the comparison finished.
    panel = window.summary_panel
    window.side_tabs.setCurrentWidget(panel)
    wait_for(lambda: panel.shown is not None and not panel.busy, app)
    shot(window.side_tabs, "summary_panel")
    window.runner.shutdown(cancel=True)
    window.viewer.close_pair()
    window.app.close()
    for path in written:
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
