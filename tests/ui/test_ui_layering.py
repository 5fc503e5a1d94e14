"""Models and views apart: viewer/, db/, jobs/ and processing/ import no Qt widgets or Qt GUI classes."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "buildtrace_desktop"
QT_ONLY = ("PySide6.QtWidgets", "PySide6.QtGui")
HEADLESS = ("viewer", "db", "jobs", "processing")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("package", HEADLESS)
def test_no_module_of_a_headless_package_names_qt_widgets_or_gui(package: str) -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(n for n in _imports(path) if n.startswith(QT_ONLY))
        for path in (PACKAGE / package).rglob("*.py")
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_importing_the_headless_packages_loads_no_qt_widgets_or_gui() -> None:
    modules = [
        f"buildtrace_desktop.{p.relative_to(PACKAGE).with_suffix('').as_posix().replace('/', '.')}"
        for package in HEADLESS for p in sorted((PACKAGE / package).rglob("*.py"))
    ]
    modules = [m.removesuffix(".__init__") for m in modules]
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        f"bad = [m for m in sys.modules if m.startswith({QT_ONLY!r})]\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == ""


def test_viewer_models_do_not_need_qt_at_all() -> None:
    code = (
        "import sys\n"
        "import buildtrace_desktop.viewer.layers, buildtrace_desktop.viewer.state\n"
        "import buildtrace_desktop.viewer.changes, buildtrace_desktop.viewer.tiles\n"
        "print(','.join(m for m in sys.modules if m.startswith('PySide6')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == ""
