"""Where BuildTrace keeps its data: one folder holding the database, the file store and results.

The folder is the platform's user data folder (platformdirs) unless `BUILDTRACE_HOME` is set; tests and
portable installs set it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

HOME_ENV = "BUILDTRACE_HOME"
DB_FILENAME = "buildtrace.db"


def default_home() -> Path:
    """`BUILDTRACE_HOME` if set, else the per-user data folder of the platform."""
    env = os.environ.get(HOME_ENV)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("BuildTrace", "BuildTrace"))


@dataclass(frozen=True)
class AppConfig:
    """Paths inside the data folder. `ensure()` creates the folders."""

    home: Path

    @classmethod
    def load(cls, home: str | Path | None = None) -> AppConfig:
        return cls(Path(home).expanduser().resolve() if home is not None else default_home().resolve())

    @property
    def db_path(self) -> Path:
        return self.home / DB_FILENAME

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.db_path}"

    @property
    def files_dir(self) -> Path:
        """Content-addressed store of imported files (files/ab/cdef...)."""
        return self.home / "files"

    @property
    def results_dir(self) -> Path:
        """Per-comparison outputs (overlay PNGs, reports): results/<comparison id>/."""
        return self.home / "results"

    def comparison_dir(self, comparison_id: int) -> Path:
        return self.results_dir / f"comparison_{comparison_id}"

    def ensure(self) -> AppConfig:
        for folder in (self.home, self.files_dir, self.results_dir):
            folder.mkdir(parents=True, exist_ok=True)
        return self
