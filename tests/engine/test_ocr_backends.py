"""The two ways through ocr.py's door read the same words: libtesseract in process (tesserocr) and one
tesseract process per call (pytesseract), the fallback when tesserocr is missing or finds no language
data. Tesseract runs single-threaded either way."""
from __future__ import annotations

import os
import platform
import stat
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pymupdf
import pytest

from buildtrace_desktop.errors import ExternalToolError, MissingDependencyError
from buildtrace_desktop.processing import ocr

# Where pyproject.toml installs tesserocr (its environment marker): there the in-process backend must be
# the one in use, and a missing tesserocr is a failure, not a skip.
TESSEROCR_INSTALLED = sys.platform == "linux" and platform.machine() == "x86_64"
LINES = ["SHEET NO. A-101", "FIRST FLOOR FINISH PLAN", "ALIGN CPT TO 141"]
DPI = 150
# Off Linux x86_64 (a developer's Mac or Windows machine) tesserocr is not installed: the tests that need it
# do not apply there. CI runs on Linux x86_64, where they all run.
needs_tesserocr = pytest.mark.skipif(not TESSEROCR_INSTALLED, reason="pyproject installs tesserocr on Linux x86_64 only")


CACHED = (ocr.probe_tesseract, ocr.ocr_backend, ocr._tessdata_dir)  # the originals, even while patched


@pytest.fixture(autouse=True)
def fresh_door(monkeypatch: pytest.MonkeyPatch):
    """Each test probes and picks a backend afresh, and leaves no spoof or choice cached behind it."""
    def clear() -> None:
        for cached in CACHED:
            cached.cache_clear()

    clear()
    monkeypatch.setattr(ocr, "_local", threading.local())
    monkeypatch.delenv("BUILDTRACE_OCR_BACKEND", raising=False)
    yield
    clear()


def text_image(lines: list[str] = LINES, fontsize: float = 14.0) -> tuple[np.ndarray, list[tuple]]:
    """Gray render (uint8) of `lines` of Helvetica, and each line's clip in pixels (x0, y0, x1, y1)."""
    doc = pymupdf.open()
    page = doc.new_page(width=420, height=40 + 36 * len(lines))
    clips = []
    k = DPI / 72.0
    for i, line in enumerate(lines):
        y = 40 + 36 * i
        page.insert_text((24, y), line, fontsize=fontsize)
        clips.append((0, int((y - 1.4 * fontsize) * k), int(420 * k), int((y + 0.6 * fontsize) * k)))
    pix = page.get_pixmap(dpi=DPI, colorspace=pymupdf.csGRAY, alpha=False)
    return np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width).copy(), clips


def read(backend: str, gray: np.ndarray, psm: int) -> list[tuple[str, tuple]]:
    return [(w.text, w.box) for w, _conf in ocr.ocr_words_with(backend, gray, psm=psm, min_conf=30)]


@needs_tesserocr
def test_the_in_process_backend_is_used_where_it_is_installed() -> None:
    assert ocr.ocr_backend() == "tesserocr"
    assert "tesserocr" in ocr.backend_description() and "in process" in ocr.backend_description()


@needs_tesserocr
@pytest.mark.parametrize("psm", [11, 6])
def test_both_backends_read_the_same_words_and_boxes(psm: int) -> None:
    gray, _ = text_image()
    cli, lib = read("pytesseract", gray, psm), read("tesserocr", gray, psm)
    assert " ".join(text for text, _box in cli) == " ".join(LINES)
    assert lib == cli


@needs_tesserocr
def test_both_backends_read_a_single_line_alike() -> None:
    gray, clips = text_image()
    x0, y0, x1, y1 = clips[0]
    line = gray[y0:y1, x0:x1]
    cli, lib = read("pytesseract", line, 7), read("tesserocr", line, 7)
    assert [text for text, _box in cli] == LINES[0].split()
    assert lib == cli


@needs_tesserocr
def test_confidences_are_whole_numbers_and_filter_alike() -> None:
    gray, _ = text_image()
    for backend in ocr.BACKENDS:
        words = ocr.ocr_words_with(backend, gray, psm=11, min_conf=0)
        assert words and all(conf == int(conf) and 0 <= conf <= 100 for _w, conf in words)
        assert ocr.ocr_words_with(backend, gray, psm=11, min_conf=101) == []


@needs_tesserocr
def test_the_api_is_kept_and_reused_per_thread() -> None:
    gray, _ = text_image()
    ocr.ocr_words(gray)
    api = ocr._local.api
    ocr.ocr_words(gray, psm=6)
    assert ocr._local.api is api
    other: list = []
    thread = threading.Thread(target=lambda: (ocr.ocr_words(gray), other.append(ocr._local.api)))
    thread.start()
    thread.join()
    assert other and other[0] is not api  # an API is not shared between threads


def test_fallback_when_tesserocr_cannot_be_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tesserocr", None)  # `import tesserocr` raises ImportError
    gray, _ = text_image()
    assert ocr.ocr_backend() == "pytesseract"
    assert [w.text for w, _conf in ocr.ocr_words(gray)] == " ".join(LINES).split()
    assert "pytesseract" in ocr.backend_description()


def test_fallback_when_tesserocr_finds_no_language_data(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ocr, "_tessdata_dir", lambda exe: None)
    assert ocr.ocr_backend() == "pytesseract"
    gray, _ = text_image()
    assert [w.text for w, _conf in ocr.ocr_words(gray)] == " ".join(LINES).split()


def test_the_fallback_can_be_forced(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILDTRACE_OCR_BACKEND", "pytesseract")
    assert ocr.ocr_backend() == "pytesseract"


def test_missing_tesseract_is_a_missing_dependency_with_either_backend(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("BUILDTRACE_TESSERACT", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no tesseract on it
    monkeypatch.setattr(ocr, "_bundled_tesseract", lambda: None)
    gray, _ = text_image()
    with pytest.raises(MissingDependencyError, match="To fix: "):
        ocr.ocr_words(gray)


@needs_tesserocr
def test_a_recognition_past_the_deadline_is_an_external_tool_error(monkeypatch: pytest.MonkeyPatch) -> None:
    gray, _ = text_image([f"LINE {i} OF NOTES TO READ 1234 ABCD" for i in range(30)])
    gray = np.tile(gray, (1, 3))
    monkeypatch.setattr(ocr, "TIMEOUT_S", 0.001)
    with pytest.raises(ExternalToolError, match="timed out"):
        ocr.ocr_words_with("tesserocr", gray, psm=11)
    monkeypatch.setattr(ocr, "TIMEOUT_S", 120)
    assert ocr.ocr_words_with("tesserocr", gray, psm=11)  # the API reads again after a timeout


@pytest.mark.skipif(sys.platform == "win32", reason="the spoof tesseract is a shell script")
def test_each_tesseract_process_gets_one_thread(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = ocr.probe_tesseract().path
    ocr.probe_tesseract.cache_clear()
    log = tmp_path / "omp.log"
    spoof = tmp_path / "tesseract"
    spoof.write_text(f'#!/bin/sh\necho "OMP_THREAD_LIMIT=$OMP_THREAD_LIMIT" >> "{log}"\nexec "{real}" "$@"\n')
    spoof.chmod(spoof.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("BUILDTRACE_TESSERACT", str(spoof))
    monkeypatch.setenv("OMP_THREAD_LIMIT", "4")  # a user's own setting does not win
    gray, _ = text_image()
    assert ocr.ocr_words_with("pytesseract", gray, psm=11)
    assert log.read_text().splitlines()[-1] == "OMP_THREAD_LIMIT=1"


def test_libtesseract_is_loaded_with_one_thread_in_effect() -> None:
    """In a fresh interpreter (tesserocr not yet imported): the limit is in the environment when the
    library is loaded, which is when OpenMP reads it."""
    code = """
import importlib.abc, os, sys
seen = []
class Watch(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "tesserocr":
            seen.append(os.environ.get("OMP_THREAD_LIMIT"))
        return None
sys.meta_path.insert(0, Watch())
import numpy as np
from buildtrace_desktop.processing import ocr
ocr.ocr_words(np.full((40, 40), 255, np.uint8))
print(ocr.ocr_backend(), seen)
"""
    env = {**os.environ, "OMP_THREAD_LIMIT": "4"}
    env.pop("BUILDTRACE_OCR_BACKEND", None)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                         check=True).stdout.strip().split(maxsplit=1)
    if TESSEROCR_INSTALLED:
        assert out == ["tesserocr", "['1']"]
    else:
        assert out[0] in ocr.BACKENDS and out[1] in ("['1']", "[]")
