"""Memory of a run: how much a diff stage needs, and a budget that the stages running at once share.

Two worker processes diffing two large scans at once held 1.2-1.5 GB between them (a scan pair peaks at
650 MB in its worker: its page-wide masks, where a vector pair works tile by tile and peaks at 380 MB).
The runner starts a diff stage in a worker process only while the stages already running leave room
for it in the budget; a stage that needs more than the whole budget runs alone. So a set of scans is
diffed one pair at a time and a vector set two at a time, and the run stays within its budget.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable

# Per pixel of the pair's render, what a worker's resident memory grows by while it diffs the pair
# (measured at 150 dpi: a 42 x 30 in vector pair 380 MB, a scanned one 650 MB, over 130 MB at rest).
VECTOR_BYTES_PER_PIXEL = 9.0
SCAN_BYTES_PER_PIXEL = 19.0
# The run's target (BUILDTRACE_MEMORY_MB overrides it) and what it holds besides the diffs: the main
# process (database, Qt, the engine for matching) and each worker process at rest.
DEFAULT_RUN_MB = 1024.0
MAIN_PROCESS_MB = 180.0
WORKER_AT_REST_MB = 130.0


def pair_memory_mb(sizes: list[tuple[float, float]], dpi: float, max_pixels: int, scan_like: bool) -> float:
    """What diffing a pair of pages of these sizes (points) at `dpi` adds to a worker, in MB. `scan_like`:
    a page without a text layer (a scan is diffed with page-wide masks)."""
    pixels = max((w * dpi / 72.0) * (h * dpi / 72.0) for w, h in sizes)
    pixels = min(pixels, float(max_pixels))  # larger pages are rendered at a lower DPI (documents.choose_dpi)
    return pixels * (SCAN_BYTES_PER_PIXEL if scan_like else VECTOR_BYTES_PER_PIXEL) / 2**20


def budget_for_workers(workers: int) -> float:
    """MB the diff stages running at once may share, for a run with `workers` worker processes."""
    try:
        run_mb = float(os.environ.get("BUILDTRACE_MEMORY_MB", DEFAULT_RUN_MB))
    except ValueError:
        run_mb = DEFAULT_RUN_MB
    return max(0.0, run_mb - MAIN_PROCESS_MB - workers * WORKER_AT_REST_MB)


class MemoryBudget:
    """A counting budget: `take(mb)` waits while the stages holding it leave no room, and never when none
    holds any (a stage larger than the budget runs, alone)."""

    def __init__(self, total_mb: float) -> None:
        self.total_mb = total_mb
        self.held_mb = 0.0
        self.holders = 0
        self._changed = threading.Condition()

    def take(self, mb: float, give_up: Callable[[], bool], poll_seconds: float = 0.1) -> bool:
        """Take `mb` once it fits; False (nothing taken) if `give_up()` turns true first (cancel)."""
        with self._changed:
            while self.holders and self.held_mb + mb > self.total_mb:
                if give_up():
                    return False
                self._changed.wait(poll_seconds)
            self.held_mb += mb
            self.holders += 1
            return True

    def give_back(self, mb: float) -> None:
        with self._changed:
            self.held_mb = max(0.0, self.held_mb - mb)
            self.holders -= 1
            self._changed.notify_all()
