"""User settings persisted with QSettings: render DPI, palette, worker threads, data folder, and the LLM
settings (as LLMConfig's JSON). The LLM API key is never here: it lives in the OS keyring (llm.settings)."""
from __future__ import annotations

import json
import os
from dataclasses import dataclass, field

from PySide6.QtCore import QSettings

from buildtrace_desktop.errors import BadInputError, BuildTraceError
from buildtrace_desktop.llm.settings import LLMConfig
from buildtrace_desktop.viewer.layers import PALETTES

ORGANIZATION = "BuildTrace"
APPLICATION = "BuildTrace Desktop"


@dataclass
class UserSettings:
    dpi: int = 150  # the comparison's diff DPI
    palette: str = "default"
    workers: int = max(1, min(4, (os.cpu_count() or 2) - 1))
    data_folder: str = ""  # empty: BUILDTRACE_HOME or the platform's data folder
    llm: LLMConfig = field(default_factory=LLMConfig)  # validated when made

    def validate(self) -> UserSettings:
        if not 50 <= self.dpi <= 600:
            raise BadInputError(f"The DPI must be between 50 and 600, got {self.dpi}.")
        if self.palette not in PALETTES:
            raise BadInputError(f"Unknown palette {self.palette!r}.")
        if not 1 <= self.workers <= 32:
            raise BadInputError(f"Worker threads must be between 1 and 32, got {self.workers}.")
        return self


def qsettings() -> QSettings:
    return QSettings(ORGANIZATION, APPLICATION)


def load_settings() -> UserSettings:
    store = qsettings()
    default = UserSettings()
    loaded = UserSettings(
        dpi=_int(store.value("compare/dpi", default.dpi), default.dpi),
        palette=str(store.value("viewer/palette", default.palette)),
        workers=_int(store.value("jobs/workers", default.workers), default.workers),
        data_folder=str(store.value("data/folder", default.data_folder) or ""),
        llm=_llm_config(store.value("llm/config", "")),
    )
    try:
        return loaded.validate()
    except BadInputError:
        return default  # a hand-edited settings file must not stop the app from starting


def save_settings(settings: UserSettings) -> None:
    settings.validate()
    store = qsettings()
    store.setValue("compare/dpi", settings.dpi)
    store.setValue("viewer/palette", settings.palette)
    store.setValue("jobs/workers", settings.workers)
    store.setValue("data/folder", settings.data_folder)
    store.setValue("llm/config", json.dumps(settings.llm.to_dict()))
    store.sync()


def _int(value: object, default: int) -> int:
    try:
        return int(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


def _llm_config(value: object) -> LLMConfig:
    """The stored LLM settings; the defaults when none or a hand-edited, invalid value is stored."""
    try:
        return LLMConfig.from_dict(json.loads(str(value))) if value else LLMConfig()
    except (ValueError, TypeError, BuildTraceError):
        return LLMConfig()
