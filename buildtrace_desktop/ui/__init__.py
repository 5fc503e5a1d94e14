"""PySide6 widgets of BuildTrace Desktop. Only this package imports QtWidgets / QtGui."""
