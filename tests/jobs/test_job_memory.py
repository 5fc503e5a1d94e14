"""The run's memory budget: diff stages that would not fit beside each other run one at a time."""
from __future__ import annotations

import threading
from pathlib import Path

import jobs_helpers
import pytest
from jobs_helpers import SampleProject

from buildtrace_desktop.jobs import memory
from buildtrace_desktop.jobs.memory import MemoryBudget
from buildtrace_desktop.jobs.runner import JobRunner


def test_a_stage_waits_for_room_and_a_lone_stage_always_runs() -> None:
    budget = MemoryBudget(500)
    assert budget.take(800, lambda: False)  # larger than the budget, but alone: it runs
    taken = threading.Event()
    waiter = threading.Thread(target=lambda: budget.take(100, lambda: False) and taken.set())
    waiter.start()
    assert not taken.wait(0.3)  # no room beside the first
    budget.give_back(800)
    assert taken.wait(5)
    waiter.join()
    assert budget.take(300, lambda: False)  # 100 + 300 fit
    assert not budget.take(200, lambda: True)  # no room, and cancelled meanwhile: nothing taken
    assert (budget.holders, budget.held_mb) == (2, 400)


def test_a_scan_pair_is_estimated_larger_than_a_vector_pair_and_large_pages_are_capped() -> None:
    sheet = [(3024.0, 2160.0), (3024.0, 2160.0)]  # 42 x 30 in
    vector = memory.pair_memory_mb(sheet, 150, 60_000_000, scan_like=False)
    scan = memory.pair_memory_mb(sheet, 150, 60_000_000, scan_like=True)
    assert 150 < vector < memory.budget_for_workers(2) / 2 < scan  # two vector pairs fit at once, two scans not
    huge = memory.pair_memory_mb([(14000.0, 14000.0)], 150, 60_000_000, scan_like=False)
    assert huge == pytest.approx(60_000_000 * memory.VECTOR_BYTES_PER_PIXEL / 2**20)


def test_pairs_that_do_not_fit_beside_each_other_run_one_at_a_time(sample: SampleProject, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    monkeypatch.setenv("BT_TEST_PID_DIR", str(marks))
    monkeypatch.setenv("BUILDTRACE_MEMORY_MB", "700")  # room for one 42 x 30 in pair beside the processes
    created = sample.comparison()
    runner = JobRunner(sample.app, max_workers=2, functions=jobs_helpers.stand_ins(compare_pair=jobs_helpers.timed_compare))
    try:
        runner.submit(created.job_id)
        assert runner.wait(created.job_id, timeout=120) == "done"
    finally:
        runner.shutdown()
    spans = sorted(tuple(map(float, p.read_text().split())) for p in marks.iterdir())
    assert len(spans) == 2
    assert spans[0][1] <= spans[1][0]  # the second started after the first ended
