"""The application context: one data folder's configuration, database and file store."""
from __future__ import annotations

from pathlib import Path

from buildtrace_desktop.config import AppConfig
from buildtrace_desktop.db import Database
from buildtrace_desktop.storage import FileStore


class AppContext:
    """Opens (creating and migrating if needed) the data folder `home`, or the default one.

    Pass it to every service function; close it when done (or use it as a context manager)."""

    def __init__(self, home: str | Path | None = None) -> None:
        self.config = AppConfig.load(home).ensure()
        self.db = Database(self.config.db_path)
        self.store = FileStore(self.config.files_dir)

    @property
    def home(self) -> Path:
        return self.config.home

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> AppContext:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
