"""Qt-free models of the sheet viewer: layers, viewer state, change list and page tiles.

Nothing here imports PySide6; the widgets in `buildtrace_desktop.ui` observe these models.
"""
