"""Fixtures of the database tests: a fresh data folder per test."""
from __future__ import annotations

from pathlib import Path

import pytest

from buildtrace_desktop.services.app import AppContext


@pytest.fixture
def app(tmp_path: Path):
    with AppContext(tmp_path / "home") as context:
        yield context
