"""Memory of the sheet viewer: open ten sheet pairs one after another and print the RSS growth.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/bench_viewer_memory.py [--sheets 10]

Each sheet is opened, fitted, then viewed at full detail (2 and 4 px per point) in several places, in
every mode, so its tile caches fill up. The viewer keeps tiles of the open pair only (bounded caches) and
drops them when the next pair opens, so RSS after the tenth sheet should exceed RSS after the first by less
than one sheet's images (old + new page as 8-bit gray at 150 DPI; as RGB for comparison).
Uses ten sheets of the Lily Hall set in ../shared/corpus when present (42 x 30 in), else the bundled
two-sheet sample, opened in turn.
"""
from __future__ import annotations

import argparse
import gc
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
CORPUS_SET = ROOT.parent / "shared" / "corpus" / "purdue_lilyhall_cd_set_single_rev" / "set.pdf"
SAMPLE = ROOT / "resources" / "sample"


def pairs_to_open(count: int) -> list[tuple[str, str, int]]:
    """(old, new, page): ten different sheets of the Lily Hall set (each against itself) when the corpus
    is here, else the sample's two sheets in turn."""
    import pymupdf

    old, new = (CORPUS_SET, CORPUS_SET) if CORPUS_SET.exists() else (SAMPLE / "old.pdf", SAMPLE / "new.pdf")
    with pymupdf.open(new) as doc:
        pages = doc.page_count
    return [(str(old), str(new), i % pages) for i in range(count)]


def rss_mb() -> float:
    import psutil

    return psutil.Process().memory_info().rss / 1e6


def print_pan_frame_times(viewer, app) -> None:  # noqa: ANN001
    """Pan across the open sheet at 4 px/pt (288 DPI) in overlay mode; time each synchronous repaint.
    A frame renders new tiles for at most the paint budget, then shows coarser ones until the next."""
    import statistics

    viewer.state.mode = "overlay"
    width, height = viewer.store.page_size
    frames = []
    for step in range(40):
        viewer.main_view.set_view(4.0, width * 0.2 + step * 40, height * 0.5)
        started = time.perf_counter()
        viewer.main_view.viewport().repaint()
        frames.append((time.perf_counter() - started) * 1000)
        app.processEvents()
    print(f"pan at 288 DPI, overlay mode, 40 frames: median {statistics.median(frames):.0f} ms, "
          f"max {max(frames):.0f} ms per frame")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=10)
    args = parser.parse_args()

    import pymupdf
    from PySide6.QtWidgets import QApplication

    from buildtrace_desktop.ui.viewer_widget import PairViewer
    from buildtrace_desktop.viewer.tiles import PageSpec

    app = QApplication.instance() or QApplication(sys.argv[:1])
    viewer = PairViewer()
    viewer.resize(1400, 900)
    viewer.show()
    rows = []
    baseline = rss_mb()
    for number, (old, new, page) in enumerate(pairs_to_open(args.sheets), start=1):
        started = time.perf_counter()
        viewer.open_pair(PageSpec.of(old, page), PageSpec.of(new, page), [], "Old", "New")
        viewer.wait_until_rendered(app.processEvents)
        opened = time.perf_counter() - started
        width, height = viewer.store.page_size
        for mode in ("overlay", "side_by_side", "swipe"):
            viewer.state.mode = mode
            for zoom in (2.0, 4.0):
                for fx, fy in ((0.25, 0.25), (0.75, 0.5), (0.5, 0.8)):
                    viewer.main_view.set_view(zoom, width * fx, height * fy)
                    viewer.wait_until_rendered(app.processEvents)
        tiles, cached = viewer.store.rendered, viewer.store.cached_bytes / 1e6
        gc.collect()
        rows.append((number, page + 1, opened, tiles, cached, rss_mb()))
        print(f"sheet {number:2d} (page {page + 1:2d}): opened and fitted in {opened:5.2f} s, "
              f"{tiles:4d} tiles rendered, cache {cached:6.1f} MB, RSS {rows[-1][5]:7.1f} MB", flush=True)
    print_pan_frame_times(viewer, app)
    viewer.close_pair()
    with pymupdf.open(pairs_to_open(1)[0][1]) as doc:
        w_in, h_in = doc[0].rect.width / 72, doc[0].rect.height / 72
    gray_pair = 2 * round(w_in * 150) * round(h_in * 150) / 1e6
    growth = rows[-1][5] - rows[0][5]
    print(f"\nRSS before the first sheet {baseline:.1f} MB, after the first {rows[0][5]:.1f} MB, "
          f"after sheet {len(rows)} {rows[-1][5]:.1f} MB")
    print(f"growth from sheet 1 to sheet {len(rows)}: {growth:+.1f} MB")
    print(f"one sheet's images ({w_in:.0f} x {h_in:.0f} in, old + new at 150 DPI): {gray_pair:.1f} MB gray, "
          f"{3 * gray_pair:.1f} MB RGB")
    verdict = "PASS" if growth < gray_pair else "FAIL"
    print(f"{verdict}: growth {'<' if growth < gray_pair else '>='} one sheet's gray images")
    viewer.deleteLater()
    app.processEvents()
    sys.stdout.flush()
    # Skip interpreter teardown: PySide6 6.12 can abort while garbage-collecting Qt wrappers at exit.
    os._exit(0 if verdict == "PASS" else 1)


if __name__ == "__main__":
    raise SystemExit(main())
