"""Tesseract behind one door: a probe (found? which version?) and `ocr_words` for a gray image.

A missing or too-old Tesseract becomes a MissingDependencyError with install advice for the platform;
a crash or a timeout becomes an ExternalToolError quoting Tesseract's own message.
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from buildtrace_desktop.errors import ExternalToolError, MissingDependencyError
from buildtrace_desktop.processing.types import Word

MIN_VERSION = (4, 0)
TIMEOUT_S = 120

INSTALL_ADVICE = {
    "linux": "install it with your package manager, e.g. `sudo apt-get install tesseract-ocr`",
    "darwin": "install it with Homebrew: `brew install tesseract`",
    "win32": "install it from https://github.com/UB-Mannheim/tesseract/wiki and tick 'Add to PATH', "
    "or set BUILDTRACE_TESSERACT to tesseract.exe",
}


@dataclass(frozen=True)
class TesseractInfo:
    path: str
    version: str


def install_advice() -> str:
    return INSTALL_ADVICE.get(sys.platform, INSTALL_ADVICE["linux"])


def _bundled_tesseract() -> str | None:
    """Tesseract shipped beside a frozen app (Windows installer), or Homebrew's on macOS: apps started
    from the Finder do not get the shell's PATH."""
    candidates = []
    if getattr(sys, "frozen", False):
        name = "tesseract.exe" if os.name == "nt" else "tesseract"
        candidates.append(Path(sys.executable).parent / "tesseract" / name)
    if sys.platform == "darwin":
        candidates += [Path("/opt/homebrew/bin/tesseract"), Path("/usr/local/bin/tesseract")]
    return next((str(p) for p in candidates if p.is_file()), None)


@functools.lru_cache(maxsize=1)
def probe_tesseract() -> TesseractInfo:
    """Find Tesseract (BUILDTRACE_TESSERACT, then PATH) and check its version. Cached per process."""
    exe = os.environ.get("BUILDTRACE_TESSERACT") or _bundled_tesseract() or shutil.which("tesseract")
    if not exe:
        raise MissingDependencyError(
            "Tesseract OCR was not found; it reads sheet numbers and text on scanned pages. "
            f"To fix: {install_advice()}."
        )
    try:
        out = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MissingDependencyError(f"Tesseract at {exe} does not run ({exc}). To fix: {install_advice()}.") from exc
    match = re.search(r"tesseract\s+v?(\d+)\.(\d+)(\.\d+)?", out.stdout + out.stderr, re.IGNORECASE)
    if not match:
        raise MissingDependencyError(f"Tesseract at {exe} did not report a version. To fix: {install_advice()}.")
    version = tuple(int(g) for g in match.groups()[:2])
    if version < MIN_VERSION:
        raise MissingDependencyError(
            f"Tesseract {match.group(0)} at {exe} is too old; version 4.0 or newer is needed. "
            f"To fix: {install_advice()}."
        )
    return TesseractInfo(exe, ".".join(str(v) for v in version) + (match.group(3) or ""))


FRAME_MARKS = "|_"  # box edges and underlines next to a word, read as characters of it


def ocr_words(gray: np.ndarray, psm: int = 11, min_conf: float = 30.0) -> list[tuple[Word, float]]:
    """Words Tesseract reads in `gray` (uint8), boxes in PIXELS of `gray`, with confidences (0-100).

    psm 11 (sparse text) suits drawings: text is scattered among line work, not in paragraphs.
    """
    import pytesseract

    info = probe_tesseract()
    pytesseract.pytesseract.tesseract_cmd = info.path
    if gray.size == 0:
        return []
    try:
        data = pytesseract.image_to_data(
            gray, config=f"--psm {psm}", output_type=pytesseract.Output.DICT, timeout=TIMEOUT_S
        )
    except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
        raise ExternalToolError(f"Tesseract timed out after {TIMEOUT_S} s on a page region ({exc}).") from exc
    except pytesseract.TesseractError as exc:
        raise ExternalToolError(f"Tesseract failed: {exc.message or exc}") from exc
    words: list[tuple[Word, float]] = []
    for i, text in enumerate(data["text"]):
        text = (text or "").strip().strip(FRAME_MARKS)
        conf = float(data["conf"][i])
        if not text or conf < min_conf:
            continue
        x, y, w, h = data["left"][i], data["top"][i], data["width"][i], data["height"][i]
        words.append((Word((float(x), float(y), float(x + w), float(y + h)), text), conf))
    return words


