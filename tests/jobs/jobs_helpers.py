"""Stand-in engine functions for testing the runner's own mechanics (order, failure, cancel, resume).

They are module-level (picklable) and fast; the end-to-end tests use the real engine instead.
"""
from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from buildtrace_desktop.errors import CorruptFileError, MissingDependencyError
from buildtrace_desktop.jobs.stages import StageFunctions
from buildtrace_desktop.processing.types import (
    Alignment,
    Change,
    CompareSettings,
    PageRef,
    PairResult,
    SheetInfo,
    SheetMatch,
)
from buildtrace_desktop.services import projects
from buildtrace_desktop.services.app import AppContext

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"
CALLS: Counter[str] = Counter()
GATE = threading.Event()  # blocking_compare waits for it
ENTERED = threading.Event()  # set when blocking_compare has started


def read_sheet(page: PageRef, settings: CompareSettings, with_thumbnail: bool = True) -> SheetInfo:
    CALLS["read_sheet"] += 1
    return SheetInfo(page.set_index, f"A{page.set_index + 101}", f"Plan {page.set_index + 1}", "text",
                     (3024.0, 2160.0), True)


def match_sheets(old: list[SheetInfo], new: list[SheetInfo], thumbnail=None, reread=None) -> list[SheetMatch]:
    """By sheet number only; enough to see that corrections reach the matcher."""
    CALLS["match_sheets"] += 1
    new_by_number = {s.sheet_number: s for s in new}
    matches, used = [], set()
    for o in old:
        n = new_by_number.get(o.sheet_number)
        if n is None:
            matches.append(SheetMatch("removed", o.set_index, None, "none"))
        else:
            used.add(n.set_index)
            matches.append(SheetMatch("matched", o.set_index, n.set_index, "number"))
    matches += [SheetMatch("added", None, n.set_index, "none") for n in new if n.set_index not in used]
    return matches


def compare_pair(old: PageRef, new: PageRef, settings: CompareSettings, out_dir=None, name=None, thumbnails=False) -> PairResult:
    CALLS["compare_pair"] += 1
    changes = [Change("added", (10.0, 20.0, 30.0, 40.0), 50.0, [], [f"NOTE {new.set_index}"]),
               Change("removed", (100.0, 120.0, 130.0, 140.0), 60.0, ["OLD"], [])]
    return PairResult(Alignment.identity(0.99), changes, dpi=settings.dpi)


def failing_second_pair(old: PageRef, new: PageRef, settings: CompareSettings, out_dir=None, name=None, thumbnails=False):
    if new.set_index == 1:
        raise CorruptFileError("new.pdf page 2 is damaged: export it again")
    return compare_pair(old, new, settings, out_dir, name)


def blocking_compare(old: PageRef, new: PageRef, settings: CompareSettings, out_dir=None, name=None, thumbnails=False):
    ENTERED.set()
    GATE.wait(60)
    return compare_pair(old, new, settings, out_dir, name)


def tesseract_missing(page: PageRef, settings: CompareSettings, with_thumbnail: bool = True) -> SheetInfo:
    raise MissingDependencyError("Tesseract is not installed: sudo apt install tesseract-ocr")


def crashing_read_sheet(page: PageRef, settings: CompareSettings, with_thumbnail: bool = True) -> SheetInfo:
    return 1 // 0  # type: ignore[return-value]


def stand_ins(**overrides) -> StageFunctions:
    functions = StageFunctions(read_sheet=read_sheet, match_sheets=match_sheets, compare_pair=compare_pair)
    for name, fn in overrides.items():
        setattr(functions, name, fn)
    return functions


def counting_engine_compare(old: PageRef, new: PageRef, settings: CompareSettings, out_dir=None, name=None, thumbnails=False):
    """The real compare_pair, counted."""
    from buildtrace_desktop.processing import pipeline

    CALLS["engine_compare_pair"] += 1
    return pipeline.compare_pair(old, new, settings, out_dir=out_dir, name=name, thumbnails=thumbnails)


def counting_engine() -> StageFunctions:
    functions = StageFunctions.engine()
    functions.compare_pair = counting_engine_compare
    return functions


def sleeping_compare(old: PageRef, new: PageRef, settings: CompareSettings, out_dir=None, name=None, thumbnails=False):
    """Leaves its process id in $BT_TEST_PID_DIR, then works 'forever' (for killing its parent)."""
    import os
    import time

    (Path(os.environ["BT_TEST_PID_DIR"]) / str(os.getpid())).write_text("")
    time.sleep(300)
    return compare_pair(old, new, settings, out_dir, name)


@dataclass
class SampleProject:
    app: AppContext
    project_id: int
    old_set_id: int
    new_set_id: int

    def comparison(self) -> projects.CreatedComparison:
        return projects.create_comparison(self.app, self.project_id, self.old_set_id, self.new_set_id)


def read_sheet_needing_password(page: PageRef, settings: CompareSettings, with_thumbnail: bool = True) -> SheetInfo:
    """Checks that the password reached the stage (it is never stored, so it must travel in memory)."""
    if settings.password != "s3cret-pw":
        raise AssertionError(f"stage got password {settings.password!r}")
    return read_sheet(page, settings)


def timed_compare(old: PageRef, new: PageRef, settings: CompareSettings, out_dir=None, name=None, thumbnails=False):
    """Leaves when it ran (start and end, wall clock) in $BT_TEST_PID_DIR/<new page>, for overlap checks."""
    import os
    import time

    started = time.time()
    time.sleep(0.5)
    (Path(os.environ["BT_TEST_PID_DIR"]) / str(new.set_index)).write_text(f"{started} {time.time()}")
    return compare_pair(old, new, settings, out_dir, name)
