#!/usr/bin/env python3
"""The two OCR backends side by side: libtesseract in process (tesserocr) against one tesseract process
per call (pytesseract). Time per call, words read, and how many words differ. Prints figures, asserts
nothing.

    .venv/bin/python scripts/bench_ocr.py CASE_DIR [CASE_DIR ...] [--dpi 150,300] [--psm 11,7,6]
                                          [--changes 4]

A CASE_DIR holds new.pdf (scanned pages, no text layer) and truth.json, as shared/eval/make_cases.py
makes them, e.g. `make_cases.py ../shared/corpus/bases/va-stcloud-bldg28-finish.pdf /tmp/cases --seed 5
--pages 0,1 --variants scanned` (keep the cases outside the repository). Crops of each new page:
- title: the two title-block regions that sheets.py reads (bottom-right corner, right-hand strip);
- change: each truth change box (at most --changes per page), padded as textdiff.py pads it.
Each crop is rendered at each --dpi and read at each --psm by both backends, alternating which goes first.
Words are compared as (text, box) pairs; "differ" counts the words one backend read that the other did
not (the symmetric difference), "text differ" the same over texts only.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from buildtrace_desktop.processing import documents, ocr  # noqa: E402
from buildtrace_desktop.processing.types import CompareSettings, PageRef  # noqa: E402

MIN_CONF = {"title": 10.0, "change": 40.0}  # what sheets.py and textdiff.py ask for
CHANGE_PAD_PT = 6.0  # textdiff.OCR_PAD_PT


def crops(case: Path, max_changes: int) -> list[tuple[str, int, tuple[float, float, float, float]]]:
    """(kind, page index, clip in points) for the new pages of a case."""
    truth = json.loads((case / "truth.json").read_text())
    out = []
    for sheet in truth["sheets"]:
        page = sheet.get("new_page")
        if page is None:
            continue
        with documents.open_page(PageRef(str(case / "new.pdf"), page, page, "pdf"), CompareSettings()) as opened:
            w, h = opened.size
        out += [("title", page, (0.62 * w, 0.78 * h, w, h)), ("title", page, (0.86 * w, 0.0, w, 0.78 * h))]
        for change in sheet.get("changes", [])[:max_changes]:
            x0, y0, x1, y1 = change["bbox"]
            out.append(("change", page, (max(0.0, x0 - CHANGE_PAD_PT), max(0.0, y0 - CHANGE_PAD_PT),
                                         min(w, x1 + CHANGE_PAD_PT), min(h, y1 + CHANGE_PAD_PT))))
    return out


def timed(backend: str, gray, psm: int, min_conf: float) -> tuple[float, list]:
    started = time.perf_counter()
    words = ocr.ocr_words_with(backend, gray, psm, min_conf)
    return time.perf_counter() - started, words


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("cases", nargs="+", type=Path)
    ap.add_argument("--dpi", default="150,300")
    ap.add_argument("--psm", default="11,7,6")
    ap.add_argument("--changes", type=int, default=4, help="change crops per page at most")
    args = ap.parse_args()
    dpis = [float(d) for d in args.dpi.split(",")]
    psms = [int(p) for p in args.psm.split(",")]

    started = time.perf_counter()
    backend = ocr.ocr_backend()  # makes this thread's tesserocr API (loads the model) outside the timings
    print(f"default backend: {backend} ({ocr.backend_description()}), set up in "
          f"{time.perf_counter() - started:.3f} s; OMP_THREAD_LIMIT={os.environ.get('OMP_THREAD_LIMIT')}")
    print(f"tesseract executable: {ocr.probe_tesseract().version} at {ocr.probe_tesseract().path}")
    if backend != "tesserocr":
        print("tesserocr is not usable here: nothing to compare")
        return

    # (kind, dpi, psm) -> lists of figures
    rows: dict[tuple[str, float, int], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    examples: list[str] = []
    flip = False
    for case in args.cases:
        for kind, page, clip in crops(case, args.changes):
            ref = PageRef(str(case / "new.pdf"), page, page, "pdf")
            with documents.open_page(ref, CompareSettings()) as opened:
                grays = {dpi: opened.render_gray(dpi, clip) for dpi in dpis}
            for dpi, gray in grays.items():
                for psm in psms:
                    order = ["pytesseract", "tesserocr"][:: -1 if flip else 1]
                    flip = not flip
                    result = {b: timed(b, gray, psm, MIN_CONF[kind]) for b in order}
                    (t_cli, w_cli), (t_lib, w_lib) = result["pytesseract"], result["tesserocr"]
                    a = Counter((w.text, w.box) for w, _ in w_cli)
                    b = Counter((w.text, w.box) for w, _ in w_lib)
                    ta, tb = Counter(w.text for w, _ in w_cli), Counter(w.text for w, _ in w_lib)
                    r = rows[(kind, dpi, psm)]
                    r["t_cli"].append(t_cli)
                    r["t_lib"].append(t_lib)
                    r["px"].append(gray.size)
                    r["n_cli"].append(len(w_cli))
                    r["n_lib"].append(len(w_lib))
                    r["differ"].append(sum(((a - b) + (b - a)).values()))
                    r["text_differ"].append(sum(((ta - tb) + (tb - ta)).values()))
                    if ta != tb and len(examples) < 12:
                        examples.append(f"{case.name} p{page} {kind} {dpi:.0f}dpi psm{psm}: "
                                        f"only pytesseract {sorted((ta - tb).elements())[:6]}, "
                                        f"only tesserocr {sorted((tb - ta).elements())[:6]}")

    header = (f"{'crop':7} {'dpi':>4} {'psm':>3} {'calls':>5} {'Mpx':>5} {'cli ms':>8} {'lib ms':>8} {'x':>5} "
              f"{'words cli':>9} {'words lib':>9} {'differ':>6} {'text differ':>11}")
    print("\nper call (median ms; words summed over the calls)")
    print(header)
    totals: dict[str, float] = defaultdict(float)
    for (kind, dpi, psm), r in sorted(rows.items()):
        cli, lib = statistics.median(r["t_cli"]) * 1000, statistics.median(r["t_lib"]) * 1000
        print(f"{kind:7} {dpi:4.0f} {psm:3d} {len(r['t_cli']):5d} {statistics.mean(r['px']) / 1e6:5.2f} "
              f"{cli:8.1f} {lib:8.1f} {cli / max(lib, 1e-9):5.1f} {sum(r['n_cli']):9d} {sum(r['n_lib']):9d} "
              f"{sum(r['differ']):6d} {sum(r['text_differ']):11d}")
        for key in ("t_cli", "t_lib", "n_cli", "n_lib", "differ", "text_differ"):
            totals[key] += sum(r[key])
        totals["calls"] += len(r["t_cli"])
    print(f"\nall {int(totals['calls'])} calls: pytesseract {totals['t_cli']:.1f} s, tesserocr {totals['t_lib']:.1f} s "
          f"({totals['t_cli'] / max(totals['t_lib'], 1e-9):.1f}x); words {int(totals['n_cli'])} / "
          f"{int(totals['n_lib'])}, differ {int(totals['differ'])} (text {int(totals['text_differ'])}, "
          f"{100 * totals['text_differ'] / max(1, totals['n_cli'] + totals['n_lib']):.2f}% of words read)")
    if examples:
        print("\nexamples of texts read by one backend only:")
        print("\n".join(f"  {e}" for e in examples))


if __name__ == "__main__":
    main()
