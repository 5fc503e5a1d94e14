"""Tesseract behind one door: a probe (found? which version?) and `ocr_words` for a gray image.

A missing or too-old Tesseract becomes a MissingDependencyError with install advice for the platform;
a crash or a timeout becomes an ExternalToolError quoting Tesseract's own message.

Two ways through the door (`ocr_backend()` picks one per process), reading with the same language data
(the tessdata folder of the Tesseract the probe found) at the same page segmentation mode:
- "tesserocr": libtesseract inside this process (the tesserocr wheel bundles it), one API per thread kept
  and reused, so no process start and no model load per call.
- "pytesseract": one `tesseract` process per call. The fallback where tesserocr is not installed
  (pyproject.toml installs it on Linux x86_64 only) or cannot find the language data;
  BUILDTRACE_OCR_BACKEND=pytesseract forces it.
Either way Tesseract runs single-threaded: its OpenMP threads only fight the worker processes for the
cores (corpus va_scanned, 2 workers on 2 cores: 19-21 s with them, 10.5 s without, the same report).
In process, a call saves the process start and model load (~0.13 s) and pytesseract's PNG encoding (up
to 0.5 s for a title-block strip): 4.5x less OCR time over 258 calls of scripts/bench_ocr.py.
"""
from __future__ import annotations

import ctypes
import functools
import os
import re
import shlex
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from buildtrace_desktop.errors import BuildTraceError, ExternalToolError, MissingDependencyError
from buildtrace_desktop.processing.types import Word

MIN_VERSION = (4, 0)
TIMEOUT_S = 120
LANG = "eng"  # what the tesseract executable reads when given no -l, as pytesseract calls it

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

# One word as Tesseract's TSV has it: text, confidence (0-100, truncated to an integer as pytesseract
# does), left, top, width, height (pixels).
RawWord = tuple[str, float, int, int, int, int]


def ocr_words(gray: np.ndarray, psm: int = 11, min_conf: float = 30.0,
              characters: str | None = None) -> list[tuple[Word, float]]:
    """Words Tesseract reads in `gray` (uint8), boxes in PIXELS of `gray`, with confidences (0-100).

    psm 11 (sparse text) suits drawings: text is scattered among line work, not in paragraphs.
    `characters`: read only these (a dimension is digits and marks; Tesseract then stops reading a 9 as
    a "g" or a 5 as an "S").
    """
    return ocr_words_with(ocr_backend(), gray, psm, min_conf, characters)


def ocr_words_with(backend: str, gray: np.ndarray, psm: int = 11,
                   min_conf: float = 30.0, characters: str | None = None) -> list[tuple[Word, float]]:
    """`ocr_words` through the named backend ("tesserocr" or "pytesseract"): for benchmarks and tests."""
    probe_tesseract()
    if gray.size == 0:
        return []
    words: list[tuple[Word, float]] = []
    for text, conf, x, y, w, h in BACKENDS[backend](gray, psm, characters):
        text = text.strip().strip(FRAME_MARKS)
        if not text or conf < min_conf:
            continue
        words.append((Word((float(x), float(y), float(x + w), float(y + h)), text), conf))
    return words


def single_threaded() -> None:
    """Limit Tesseract to one OpenMP thread: in this process's environment, which every tesseract
    subprocess inherits (pytesseract passes os.environ) and which libgomp reads when libtesseract is
    loaded, so this runs before tesserocr is imported. Overrides a user's own setting on purpose."""
    os.environ["OMP_THREAD_LIMIT"] = "1"


@functools.lru_cache(maxsize=1)
def ocr_backend() -> str:
    """The backend this process uses: "tesserocr" when it imports and loads the language data, else
    "pytesseract". Decided once per process; raises MissingDependencyError as probe_tesseract does."""
    single_threaded()
    probe_tesseract()
    if os.environ.get("BUILDTRACE_OCR_BACKEND", "").strip().lower() == "pytesseract":
        return "pytesseract"
    try:
        _thread_api()
    except BuildTraceError:
        raise
    except Exception:  # not installed, a broken build, no language data: the executable still reads
        return "pytesseract"
    return "tesserocr"


def backend_description() -> str:
    """One line for `buildtrace doctor`: which backend reads, with its library version and data folder."""
    try:
        backend = ocr_backend()
    except BuildTraceError as exc:
        return f"none ({exc})"
    if backend == "pytesseract":
        return "pytesseract (one tesseract process per call)"
    import tesserocr

    return (f"tesserocr {tesserocr.__version__} in process (libtesseract "
            f"{tesserocr.tesseract_version().split()[1]}, data in {_tessdata_dir(probe_tesseract().path)})")


def _read_pytesseract(gray: np.ndarray, psm: int, characters: str | None = None) -> list[RawWord]:
    """One tesseract process: image_to_data at `psm`, language data and all defaults of the executable."""
    import pytesseract

    single_threaded()
    pytesseract.pytesseract.tesseract_cmd = probe_tesseract().path
    try:
        data = pytesseract.image_to_data(
            gray, config=f"--psm {psm}" + (" -c " + shlex.quote(f"tessedit_char_whitelist={characters}")
                                            if characters else ""),
            output_type=pytesseract.Output.DICT, timeout=TIMEOUT_S
        )
    except RuntimeError as exc:  # pytesseract raises RuntimeError on timeout
        raise ExternalToolError(f"Tesseract timed out after {TIMEOUT_S} s on a page region ({exc}).") from exc
    except pytesseract.TesseractError as exc:
        raise ExternalToolError(f"Tesseract failed: {exc.message or exc}") from exc
    return [(text or "", float(data["conf"][i]), data["left"][i], data["top"][i], data["width"][i],
             data["height"][i]) for i, text in enumerate(data["text"])]


def _read_tesserocr(gray: np.ndarray, psm: int, characters: str | None = None) -> list[RawWord]:
    """libtesseract in this process, the same TSV the executable writes for pytesseract.

    Time is bounded by Recognize's deadline (TIMEOUT_S), which Tesseract checks word by word during
    recognition; the layout analysis before it has no deadline, but it is linear in the pixels and our
    regions are at most a page at 150-300 dpi. There is no process to kill: a hang there hangs the worker.
    """
    api = _thread_api()
    image = np.ascontiguousarray(gray, dtype=np.uint8)
    channels = 1 if image.ndim == 2 else image.shape[2]
    started = time.monotonic()
    try:
        api.SetPageSegMode(psm)
        api.SetVariable("tessedit_char_whitelist", characters or "")
        # The pixels the executable gets from pytesseract's PNG: 8-bit gray with no resolution set, so
        # Tesseract settles the resolution the same way in both.
        api.SetImageBytes(image.tobytes(), image.shape[1], image.shape[0], channels, image.strides[0])
        if not api.Recognize(timeout=max(1, int(TIMEOUT_S * 1000))):
            if time.monotonic() - started >= TIMEOUT_S:
                raise ExternalToolError(f"Tesseract timed out after {TIMEOUT_S} s on a page region.")
            raise ExternalToolError("Tesseract failed to recognise a page region (libtesseract returned an error).")
        tsv = api.GetTSVText(0)
    except RuntimeError as exc:
        raise ExternalToolError(f"Tesseract failed: {exc}") from exc
    finally:
        api.SetVariable("tessedit_char_whitelist", "")
        api.Clear()
        api.ClearAdaptiveClassifier()  # each call reads afresh, as a new tesseract process does
    return _words_from_tsv(tsv)


def _words_from_tsv(tsv: str) -> list[RawWord]:
    """Word rows (level 5) of Tesseract's TSV, numbers truncated to integers as pytesseract does."""
    words: list[RawWord] = []
    for line in tsv.splitlines():
        cells = line.split("\t", 11)
        if len(cells) == 12 and cells[0] == "5":
            left, top, width, height = (int(float(c)) for c in cells[6:10])
            words.append((cells[11], float(int(float(cells[10]))), left, top, width, height))
    return words


BACKENDS = {"tesserocr": _read_tesserocr, "pytesseract": _read_pytesseract}


class _TesserocrUnavailable(Exception):
    pass


_local = threading.local()  # one API per thread: an API is not safe to share between threads


def _thread_api() -> Any:  # a tesserocr.PyTessBaseAPI; tesserocr is imported only here
    """This thread's PyTessBaseAPI, made on first use (~50 ms: loads the language model) and kept."""
    api = getattr(_local, "api", None)
    if api is None:
        single_threaded()  # before libtesseract is loaded
        import tesserocr

        folder = _tessdata_dir(probe_tesseract().path)
        if folder is None:
            raise _TesserocrUnavailable(f"no {LANG}.traineddata where {probe_tesseract().path} looks")
        api = tesserocr.PyTessBaseAPI(path=folder, lang=LANG)
        _quiet(api)
        _local.api = api
    return api


LEPT_SEVERITY_NONE = 6  # leptonica's L_SEVERITY_NONE


def _quiet(api: Any) -> None:
    """Keep Tesseract's and Leptonica's diagnostics ("Error in pixScanForForeground: invalid box") off
    our stderr: from the executable pytesseract captured them and nobody saw them. Leptonica's switch is
    reached through the library already loaded (Linux: its path in /proc/self/maps); elsewhere they print."""
    api.SetVariable("debug_file", "/dev/null")  # Tesseract's tprintf; it maps /dev/null to nul on Windows
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return
    for path in sorted(set(re.findall(r"(/\S*/lib(?:leptonica|lept)[^/\s]*\.so[^/\s]*)", maps))):
        try:
            ctypes.CDLL(path).setMsgSeverity(LEPT_SEVERITY_NONE)
        except (OSError, AttributeError):
            pass


@functools.lru_cache(maxsize=4)
def _tessdata_dir(exe: str) -> str | None:
    """The folder the tesseract executable reads its language data from (it honours TESSDATA_PREFIX),
    if LANG is there: tesserocr then reads the very same files. The wheel's own default is no folder."""
    try:
        out = subprocess.run([exe, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r'languages in "(.+?)"', out.stdout + out.stderr)
    if not match or not (Path(match.group(1)) / f"{LANG}.traineddata").is_file():
        return None
    return match.group(1)
