"""Layering: the database, storage and job-planning modules import no Qt (only jobs.runner uses QtCore)."""
from __future__ import annotations

import subprocess
import sys


def test_db_storage_and_services_without_the_runner_import_no_qt() -> None:
    code = (
        "import sys\n"
        "import buildtrace_desktop.config, buildtrace_desktop.storage, buildtrace_desktop.db\n"
        "import buildtrace_desktop.jobs.plans, buildtrace_desktop.jobs.stages\n"
        "import buildtrace_desktop.services.projects, buildtrace_desktop.services.export\n"
        "print(sorted(m for m in sys.modules if m.startswith('PySide6')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_the_runner_uses_qtcore_only() -> None:
    code = (
        "import sys\n"
        "import buildtrace_desktop.jobs.runner, buildtrace_desktop.services.compare\n"
        "print(sorted(m for m in sys.modules if m.startswith('PySide6.Qt') and m != 'PySide6.QtCore'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
