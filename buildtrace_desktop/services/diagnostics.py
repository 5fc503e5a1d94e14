"""What `buildtrace doctor` and the About dialog report: versions, Tesseract, data folder, database."""
from __future__ import annotations

import platform
import sys
from importlib import metadata

from buildtrace_desktop import __version__
from buildtrace_desktop.config import AppConfig
from buildtrace_desktop.errors import MissingDependencyError
from buildtrace_desktop.processing import ocr

PACKAGES = ["PySide6-Essentials", "SQLAlchemy", "PyMuPDF", "opencv-python-headless", "numpy", "pytesseract",
            "keyring", "openai", "isal"]


def package_version(name: str) -> str:
    for candidate in (name, name.lower(), name.replace("-Essentials", ""), "opencv-python"):
        try:
            return metadata.version(candidate)
        except metadata.PackageNotFoundError:
            continue
    return "not installed"


def tesseract_status() -> str:
    try:
        info = ocr.probe_tesseract()
    except MissingDependencyError as exc:
        return f"NOT FOUND: {exc}"
    return f"found, version {info.version} at {info.path}; OCR through {ocr.backend_description()}"


def diagnostics() -> dict[str, str]:
    """Ordered name -> value lines. Reads only; creates nothing but the data folder."""
    config = AppConfig.load()
    report = {
        "buildtrace": __version__,
        "python": f"{sys.version.split()[0]} ({platform.system()} {platform.machine()})",
    }
    for name in PACKAGES:
        report[name] = package_version(name)
    report["tesseract"] = tesseract_status()
    report["data folder"] = str(config.home)
    report["database"] = str(config.db_path)
    report.update(_llm_status())
    return report


def _llm_status() -> dict[str, str]:
    """The LLM set-up as configured by environment (BUILDTRACE_LLM_*); never the key itself."""
    try:
        from buildtrace_desktop.llm.settings import LLMConfig, describe_setup

        setup = describe_setup(LLMConfig.from_env())
    except Exception as exc:  # a broken keyring backend must not break the diagnostics
        return {"llm": f"unknown ({exc.__class__.__name__}: {exc})"}
    return {f"llm {name}": value for name, value in setup.items()}
