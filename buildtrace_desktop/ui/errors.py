"""How errors reach the user: a message box or a banner that says what to do, never a traceback."""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QToolButton, QWidget

from buildtrace_desktop.errors import BuildTraceError

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])


def user_message(exc: BaseException) -> str:
    """What to tell the user about `exc`: a BuildTraceError's own message, else a short generic one."""
    if isinstance(exc, BuildTraceError):
        return str(exc)
    return (f"Something went wrong ({type(exc).__name__}: {exc}). Your data is safe; "
            "try again, and if it happens again, send the log from Help > About to support.")


def show_error(parent: QWidget | None, exc: BaseException, title: str = "BuildTrace") -> None:
    if not isinstance(exc, BuildTraceError):
        log.error("unexpected error", exc_info=exc)
    box = QMessageBox(QMessageBox.Icon.Warning, title, user_message(exc), QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("error_box")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.open()  # window-modal, does not block the event loop (jobs keep reporting)


def guarded(method: F) -> F:
    """Run a slot of a widget; a raised error becomes a message box on that widget instead of a crash."""

    @functools.wraps(method)
    def wrapper(self: QWidget, *args: Any, **kwargs: Any) -> Any:
        try:
            return method(self, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every error ends in front of the user, not in a traceback
            show_error(self.window() if isinstance(self, QWidget) else None, exc)
            return None

    return wrapper  # type: ignore[return-value]


class ErrorBanner(QWidget):
    """A yellow strip at the top of the window for errors that happen in the background (jobs)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("error_banner")
        self.setStyleSheet("#error_banner { background: #fff4ce; border-bottom: 1px solid #e0c36c; }")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        close = QToolButton()
        close.setText("✕")
        close.setToolTip("Dismiss")
        close.clicked.connect(self.hide)
        layout.addWidget(self.label, 1)
        layout.addWidget(close)
        self.hide()

    def show_message(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    @property
    def text(self) -> str:
        return self.label.text() if self.isVisible() else ""
