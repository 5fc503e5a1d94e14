#!/usr/bin/env python3
"""Speed and memory of the comparison engine: prints figures, asserts nothing.

    .venv/bin/python scripts/benchmark.py [--dpi 150] [--jobs 2] [--corpus ../shared/corpus] [--out DIR]
                                          [--repeat 3] [--skip-per-sheet] [--skip-cases]
                                          [--fixed-cost] [--copies 23]

1. Builds a large set: every sheet of the Lily Hall set and of corpus/bases/ joined in one PDF, and a
   revised copy with edits of our own (notes added, line work added, areas blanked out).
2. The floor: the time to render both sets at the same DPI, in one process, gray.
3. The engine in one process, pair by pair: wall time, CPU time and peak RSS after each pair (RSS must
   not grow with the number of sheets).
4. `buildtrace compare --jobs N` as a user runs it (job layer, database, worker processes, report):
   wall time, CPU time and peak memory, and its ratio to the floor; the floor and
   the command alternate `--repeat` times, and the median ratio is printed.
5. `--fixed-cost`: 100 one-line letter-size sheets against 100, and 2 against 2 (the cost of a run
   that is not the drawings'); `--copies N`: the large set copied N times, each copy marked with its
   number (sheet numbers repeat N times), and its cost per sheet against the large set's.
6. The same command on every corpus edits case.

Peak memory is that of all the run's processes together (the main process and its workers).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sqlite3
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


# The app as installed runs from compiled bytecode (pip and PyInstaller write it); a development shell
# with PYTHONDONTWRITEBYTECODE=1 would make every process of every run compile the app's sources again
# (0.18 s of CPU for all of them). The runs here may write and reuse __pycache__, as an installed app does.
CLI_ENV_DROP = ("PYTHONDONTWRITEBYTECODE",)


def run_cli(old: Path, new: Path, out: Path, dpi: float, jobs: int, home: Path) -> tuple[float, float, float, int]:
    """Wall and CPU seconds, the peak of all the run's processes' resident memory together (MB, sampled
    every 50 ms), and the exit code of one `buildtrace compare`. Prints where the wall time went (the job
    stages' timestamps) and each process's memory at the peak."""
    import psutil

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started, started_utc = time.perf_counter(), dt.datetime.now(dt.UTC).replace(tzinfo=None)
    env = {k: v for k, v in os.environ.items() if k not in CLI_ENV_DROP}
    env["BUILDTRACE_HOME"] = str(home)
    proc = subprocess.Popen([sys.executable, "-m", "buildtrace_desktop", "compare", str(old), str(new), "--out",
                             str(out), "--dpi", str(dpi), "--jobs", str(jobs), "--summary", "offline"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    peak, at_peak = 0.0, []
    root = psutil.Process(proc.pid)
    while proc.poll() is None:
        try:
            rss = [p.memory_info().rss / 2**20 for p in [root, *root.children(recursive=True)]]
            if sum(rss) > peak:
                peak, at_peak = sum(rss), sorted(rss, reverse=True)
        except psutil.Error:
            pass  # a worker came or went between listing and reading
        time.sleep(0.05)
    stderr = proc.stderr.read()
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode not in (0, 1):
        print(stderr)
    print(f"    timeline: {stage_timeline(home, started_utc, wall)}; MB by process at the peak: "
          f"{', '.join(f'{v:.0f}' for v in at_peak)}")
    return wall, cpu, peak, proc.returncode


def stage_timeline(home: Path, started_utc: dt.datetime, wall: float) -> str:
    """Seconds from the command's start: when the job began, each phase's span, and the time after it."""
    db = home / "buildtrace.db"
    if not db.is_file():
        return "no database"
    with sqlite3.connect(db) as conn:
        job = conn.execute("SELECT started_at, finished_at, id FROM jobs ORDER BY id DESC LIMIT 1").fetchone()
        phases = conn.execute("SELECT name, min(started_at), max(finished_at), count(*) FROM job_stages "
                              "WHERE job_id = ? GROUP BY name ORDER BY min(started_at)", (job[2],)).fetchall() \
            if job else []
    if not job or not job[0] or not job[1]:
        return "job unfinished"

    def at(stamp: str) -> float:
        return (dt.datetime.fromisoformat(stamp) - started_utc).total_seconds()

    spans = [f"{name} x{count} {at(a):.2f}-{at(b):.2f}" for name, a, b, count in phases if a and b]
    return f"job {at(job[0]):.2f}-{at(job[1]):.2f} s ({', '.join(spans)}), then {wall - at(job[1]):.2f} s"


def build_one_line_sets(folder: Path, count: int) -> tuple[Path, Path]:
    """`count` letter-size sheets with one line of text each, and a revision with every other line
    retyped: the fixed cost of a run, per sheet."""
    paths = []
    for side in ("old", "new"):
        doc = pymupdf.open()
        for i in range(count):
            page = doc.new_page(width=612, height=792)
            word = "REVISED" if side == "new" and i % 2 == 0 else "ISSUED"
            page.insert_text((72, 72), f"SHEET A-{i + 1:03d} {word} NOTE", fontsize=11)
            page.insert_text((500, 760), f"A-{i + 1:03d}", fontsize=14)
        paths.append(folder / f"one_line_{side}_{count}.pdf")
        doc.save(paths[-1])
        doc.close()
    return paths[0], paths[1]


def build_copies(old: Path, new: Path, folder: Path, copies: int) -> tuple[Path, Path]:
    """The large set `copies` times over, each copy's pages marked with its copy number (so every sheet
    number repeats `copies` times): how the cost per sheet grows with the set."""
    out = []
    for path in (old, new):
        doc = pymupdf.open()
        with pymupdf.open(path) as src:
            for copy in range(copies):
                start = doc.page_count
                doc.insert_pdf(src)
                for page in doc.pages(start, doc.page_count):
                    page.insert_text((36, 36), f"COPY {copy + 1}", fontsize=12)
        out.append(folder / f"copies_{copies}_{path.name}")
        doc.save(out[-1], garbage=3, deflate=True)
        doc.close()
    return out[0], out[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dpi", type=float, default=150.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--skip-per-sheet", action="store_true")
    ap.add_argument("--repeat", type=int, default=3, help="floor and compare runs on the large set, in turn")
    ap.add_argument("--skip-cases", action="store_true", help="only the large set")
    ap.add_argument("--fixed-cost", action="store_true", help="also 100 one-line sheets against 2")
    ap.add_argument("--copies", type=int, default=0, help="also the large set copied N times (23: 506 sheets)")
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
              f"cpu {cpu:.2f} s, peak RSS (all processes) {peak:.0f} MB, {wall / sheets:.2f} s per sheet; "
              f"ratio to floor {wall / floor:.2f}")
    print(f"ratio to floor over {a.repeat} runs: median {statistics.median(ratios):.2f}, "
          f"range {min(ratios):.2f}-{max(ratios):.2f}; best compare / best floor {min(walls) / min(floors):.2f}")

    if a.fixed_cost:
        print("\nfixed cost: one-line letter sheets, N against N")
        times = {}
        for count in (2, 100):
            o, n = build_one_line_sets(work, count)
            wall, cpu, peak, code = run_cli(o, n, work / f"one_line_{count}", a.dpi, a.jobs, work / f"home_one_{count}")
            times[count] = wall
            print(f"{count:>4} sheets: exit {code}, wall {wall:.2f} s, cpu {cpu:.2f} s, peak RSS (all processes) {peak:.0f} MB")
        print(f"100 against 2: {times[100] / times[2]:.2f} times the wall time")
    if a.copies:
        o, n = build_copies(old, new, work, a.copies)
        count = pymupdf.open(o).page_count
        wall, cpu, peak, code = run_cli(o, n, work / "copies_report", a.dpi, a.jobs, work / "home_copies")
        per_sheet = wall / count
        print(f"\n{a.copies} copies ({count} sheets): exit {code}, wall {wall:.1f} s, cpu {cpu:.1f} s, "
              f"peak RSS (all processes) {peak:.0f} MB; {per_sheet:.3f} s per sheet, "
              f"{per_sheet / (min(walls) / sheets):.2f} times the large set's cost per sheet")

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
