"""Fixtures for every test: a private data folder, Qt offscreen, and where the shared corpus lives.

The corpus (../shared/corpus, beside the checkout) holds other people's drawings that may not ship with
the app. Tests marked `corpus` run wherever it exists; in CI (CI=true) its absence is an error, never a
silent skip.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# No test may touch the user's real data folder.
os.environ.setdefault("BUILDTRACE_HOME", tempfile.mkdtemp(prefix="buildtrace-test-home-"))

import pytest  # noqa: E402
from tests_paths import CORPUS, SAMPLE_DIR  # noqa: E402


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CORPUS.is_dir():
        return
    if os.environ.get("CI"):
        raise pytest.UsageError(f"the shared corpus is missing at {CORPUS}; CI must run the corpus tests")
    skip = pytest.mark.skip(reason=f"no shared corpus at {CORPUS} (only on a fresh clone outside the workspace)")
    for item in items:
        if "corpus" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def sample_old() -> Path:
    return SAMPLE_DIR / "old.pdf"


@pytest.fixture(scope="session")
def sample_new() -> Path:
    return SAMPLE_DIR / "new.pdf"
