#!/usr/bin/env python3
"""The job layer's own cost per sheet, without the engine: prints figures, asserts nothing.

    .venv/bin/python scripts/bench_job_layer.py [--sheets 22 100 506] [--repeat 3]

A comparison of N one-line sheets against N runs through the real job layer (database, runner, stages,
report export) with stand-in engine functions that return at once results of a real pair's size (its
thumbnails, two changes, a location context). The runner calls them in its own threads (`in_process`),
so the process's CPU time is all the job layer's: CPU, not wall time, so that a busy machine does not
blur the figures. The CPU per sheet must not grow with N.
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pymupdf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from buildtrace_desktop.jobs.stages import StageFunctions  # noqa: E402
from buildtrace_desktop.processing.types import (  # noqa: E402
    Alignment,
    Change,
    CompareSettings,
    PageRef,
    PairResult,
    SheetInfo,
    SheetMatch,
)
from buildtrace_desktop.services.compare import compare_paths  # noqa: E402

THUMBNAIL = [[(x * y) % 256 for x in range(64)] for y in range(46)]  # a real one's size


def read_sheet(page: PageRef, settings: CompareSettings, with_thumbnail: bool = True) -> SheetInfo:
    number = f"A-{page.page_index + 1:03d}"
    return SheetInfo(page.set_index, number, f"FLOOR PLAN LEVEL {page.page_index + 1}", "text", (612.0, 792.0),
                     True, None, [[number, 0.9, [500.0, 740.0, 560.0, 765.0]], ["SR 167", 0.2, [36.0, 36.0, 90.0, 50.0]]])


def match_sheets(old: list[SheetInfo], new: list[SheetInfo], thumbnail=None, reread=None) -> list[SheetMatch]:  # noqa: ANN001
    return [SheetMatch("matched", o.set_index, n.set_index, "number", False, 1.0, o.sheet_number, n.sheet_number,
                       o.title, n.title) for o, n in zip(old, new, strict=True)]


def compare_pair(old: PageRef, new: PageRef, settings: CompareSettings, out_dir=None, name=None,  # noqa: ANN001
                 thumbnails: bool = False) -> PairResult:
    changes = [Change("modified", (72.0, 60.0, 260.0, 76.0), 3000.0, ["ISSUED"], ["REVISED"], 120, 110,
                      what="text changed", group=1),
               Change("added", (300.0, 400.0, 340.0, 420.0), 800.0, [], ["NOTE"], 40, 0, what="note added", group=2)]
    return PairResult(Alignment.identity(0.99), changes, dpi=settings.dpi, text_source="text",
                      location_context={"grid": {}, "phrases": [[72.0, 60.0, "SHEET A-001 REVISED NOTE"]]},
                      old_thumbnail=THUMBNAIL, new_thumbnail=THUMBNAIL,
                      groups=[{"id": 1, "label": "text changed", "bbox": [72, 60, 260, 76], "cloud": None,
                               "changes": [1]}, {"id": 2, "label": "note added", "bbox": [300, 400, 340, 420],
                                                 "cloud": None, "changes": [2]}])


def one_line_set(path: Path, count: int, word: str) -> Path:
    doc = pymupdf.open()
    for i in range(count):
        page = doc.new_page(width=612, height=792)
        page.insert_text((72, 72), f"SHEET A-{i + 1:03d} {word} NOTE", fontsize=11)
    doc.save(path)
    doc.close()
    return path


def run(count: int, work: Path) -> tuple[float, float]:
    """CPU and wall seconds of one comparison of `count` sheets against `count`, fresh data folder."""
    old = one_line_set(work / f"old_{count}.pdf", count, "ISSUED")
    new = one_line_set(work / f"new_{count}.pdf", count, "REVISED")
    home = work / f"home_{count}"
    shutil.rmtree(home, ignore_errors=True)
    functions = StageFunctions(read_sheet, match_sheets, compare_pair)
    cpu, wall = time.process_time(), time.perf_counter()
    compare_paths([old], [new], work / f"out_{count}", jobs=1, home=home, functions=functions)
    return time.process_time() - cpu, time.perf_counter() - wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sheets", type=int, nargs="+", default=[22, 100, 506])
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="buildtrace-joblayer-"))
    run(2, work)  # imports, first database: not counted
    print(f"{'sheets':>6} {'cpu s (best)':>13} {'ms per sheet':>13} {'wall s':>7}")
    for count in a.sheets:
        runs = [run(count, work) for _ in range(a.repeat)]
        cpu = min(r[0] for r in runs)
        print(f"{count:>6} {cpu:>13.2f} {1000 * cpu / count:>13.1f} "
              f"{statistics.median(r[1] for r in runs):>7.2f}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
