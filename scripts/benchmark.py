#!/usr/bin/env python3
"""Speed and memory of the comparison engine: prints figures, asserts nothing.

    .venv/bin/python scripts/benchmark.py [--dpi 150] [--jobs 2] [--corpus ../shared/corpus] [--out DIR]
                                          [--repeat 3] [--skip-per-sheet] [--skip-cases]

1. Builds a large set: every sheet of the Lily Hall set and of corpus/bases/ joined in one PDF, and a
   revised copy with edits of our own (notes added, line work added, areas blanked out).
2. The floor: the time to render both sets at the same DPI, in one process, gray.
3. The engine in one process, pair by pair: wall time, CPU time and peak RSS after each pair (RSS must
   not grow with the number of sheets).
4. `buildtrace compare --jobs N` as a user runs it (job layer, database, worker processes, report):
   wall time, CPU time and peak RSS of the whole process tree, and its ratio to the floor; the floor and
   the command alternate `--repeat` times, and the median ratio is printed.
5. The same command on every corpus edits case.
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pymupdf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from buildtrace_desktop.processing import documents, pipeline  # noqa: E402
from buildtrace_desktop.processing.types import CompareSettings  # noqa: E402


def build_large_set(corpus: Path, folder: Path) -> tuple[Path, Path]:
    old = pymupdf.open()
    for path in [corpus / "purdue_lilyhall_cd_set_single_rev" / "set.pdf", *sorted((corpus / "bases").glob("*.pdf"))]:
        with pymupdf.open(path) as src:
            old.insert_pdf(src)
    old_path = folder / "large_old.pdf"
    old.save(old_path)
    for i, page in enumerate(old):
        w, h = page.rect.width, page.rect.height
        if i % 2 == 0:
            page.insert_text((w * 0.3, h * 0.4), f"VERIFY EXISTING CONDITIONS {i}", fontsize=10)
        if i % 3 == 0:
            page.draw_rect(pymupdf.Rect(w * 0.5, h * 0.2, w * 0.5 + 80, h * 0.2 + 50), width=1.5)
        if i % 4 == 1:
            page.add_redact_annot(pymupdf.Rect(w * 0.2, h * 0.6, w * 0.2 + 60, h * 0.6 + 30), fill=(1, 1, 1))
            page.apply_redactions()
    new_path = folder / "large_new.pdf"
    old.save(new_path)
    old.close()
    return old_path, new_path


def render_floor(paths: list[Path], dpi: float) -> float:
    started = time.perf_counter()
    for path in paths:
        with pymupdf.open(path) as doc:
            for page in doc:
                page.get_pixmap(dpi=int(dpi), colorspace=pymupdf.csGRAY)
    return time.perf_counter() - started


def engine_per_sheet(old: Path, new: Path, dpi: float, out: Path) -> None:
    settings = CompareSettings(dpi=dpi)
    old_pages, new_pages = documents.list_pages([old]), documents.list_pages([new])
    print(f"\n{'pair':>4} {'sheet':<12} {'wall s':>7} {'cpu s':>7} {'peak RSS MB':>12} {'changes':>8}")
    for i, (o, n) in enumerate(zip(old_pages, new_pages, strict=True)):
        wall, cpu = time.perf_counter(), time.process_time()
        info = pipeline.read_sheet(n, settings)
        result = pipeline.compare_pair(o, n, settings, out, f"bench_{i:03d}")
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{i + 1:>4} {info.sheet_number or '-':<12} {wall:>7.2f} {cpu:>7.2f} {rss:>12.0f} {len(result.changes):>8}")


def run_cli(old: Path, new: Path, out: Path, dpi: float, jobs: int, home: Path) -> tuple[float, float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    env = dict(os.environ, BUILDTRACE_HOME=str(home))
    proc = subprocess.run([sys.executable, "-m", "buildtrace_desktop", "compare", str(old), str(new), "--out", str(out),
                           "--dpi", str(dpi), "--jobs", str(jobs), "--summary", "offline"],
                          capture_output=True, text=True, env=env)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    peak = after.ru_maxrss / 1024  # the largest single process of the tree
    if proc.returncode not in (0, 1):
        print(proc.stderr)
    return wall, cpu, peak, proc.returncode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dpi", type=float, default=150.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--skip-per-sheet", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="floor and compare runs on the large set, in turn")
    ap.add_argument("--skip-cases", action="store_true", help="only the large set")
    a = ap.parse_args()
    work = a.out or Path(tempfile.mkdtemp(prefix="buildtrace-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cores; dpi {a.dpi:g}; jobs {a.jobs}; work folder {work}")

    old, new = build_large_set(a.corpus, work)
    sheets = pymupdf.open(old).page_count
    if not a.skip_per_sheet:
        engine_per_sheet(old, new, a.dpi, work / "per_sheet")
    # The floor and `compare` in turn, each compare on a fresh data folder (nothing reused): on a shared
    # machine both drift by 10-30 % over minutes, and alternating keeps each ratio's two figures together.
    print(f"\nlarge set: {sheets} sheets; floor = render both sets at {a.dpi:g} dpi in one process")
    ratios, walls, floors = [], [], []
    for run in range(1, a.repeat + 1):
        floor = render_floor([old, new], a.dpi)
        wall, cpu, peak, code = run_cli(old, new, work / f"large_report_{run}", a.dpi, a.jobs, work / f"home_{run}")
        ratios.append(wall / floor)
        walls.append(wall)
        floors.append(floor)
        print(f"run {run}: floor {floor:.2f} s; buildtrace compare --jobs {a.jobs}: exit {code}, wall {wall:.2f} s, "
              f"cpu {cpu:.2f} s, peak RSS {peak:.0f} MB, {wall / sheets:.2f} s per sheet; ratio to floor {wall / floor:.2f}")
    print(f"ratio to floor over {a.repeat} runs: median {statistics.median(ratios):.2f}, "
          f"range {min(ratios):.2f}-{max(ratios):.2f}; best compare / best floor {min(walls) / min(floors):.2f}")

    print(f"\n{'case':<24} {'sheets':>6} {'floor s':>8} {'wall s':>7} {'cpu s':>7} {'peak MB':>8} {'ratio':>6}")
    for case in [] if a.skip_cases else sorted((a.corpus / "edits").glob("*/truth.json")):
        case_dir = case.parent
        pages = pymupdf.open(case_dir / "new.pdf").page_count
        case_floor = render_floor([case_dir / "old.pdf", case_dir / "new.pdf"], a.dpi)
        wall, cpu, peak, code = run_cli(case_dir / "old.pdf", case_dir / "new.pdf", work / case_dir.name, a.dpi, a.jobs,
                                        work / "home")
        print(f"{case_dir.name:<24} {pages:>6} {case_floor:>8.2f} {wall:>7.2f} {cpu:>7.2f} {peak:>8.0f} "
              f"{wall / case_floor:>6.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
