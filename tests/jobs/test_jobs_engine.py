"""End to end with the real engine on the sample (2 sheets, AF101 and AF600): compare_paths, worker
processes, the result cache, export with review status, and resume after kill -9."""
from __future__ import annotations

import csv
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import jobs_helpers
import pytest

from buildtrace_desktop.db.models import PairResultCache
from buildtrace_desktop.services import projects
from buildtrace_desktop.services.app import AppContext
from buildtrace_desktop.services.compare import compare_paths
from buildtrace_desktop.services.export import export_comparison

OLD, NEW = jobs_helpers.SAMPLE / "old.pdf", jobs_helpers.SAMPLE / "new.pdf"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compared(tmp_path_factory: pytest.TempPathFactory):
    """One comparison in worker processes (jobs=2), then the same again in-process, counting engine calls."""
    root = tmp_path_factory.mktemp("engine")
    lines: list[tuple] = []
    first = compare_paths([OLD], [NEW], root / "out1", jobs=2, home=root / "home",
                          progress=lambda *a: lines.append(a))
    jobs_helpers.CALLS.clear()
    second = compare_paths([OLD], [NEW], root / "out2", jobs=1, home=root / "home",
                           functions=jobs_helpers.counting_engine())
    return root, first, second, lines, dict(jobs_helpers.CALLS)


def test_compare_paths_writes_the_report_and_records_the_comparison(compared) -> None:
    root, first, _, lines, _ = compared
    report = json.loads(first.report_path.read_text())
    assert [(s["sheet_number"], s["status"]) for s in report["sheets"]] == [("AF101", "matched"),
                                                                          ("AF600", "matched")]
    assert all(s["changes"] and s["alignment"]["confidence"] > 0.9 for s in report["sheets"])
    assert report["old"]["path"] == str(OLD) and report["old"]["pages"] == 2
    for name in ("report.json", "changes.csv", "report.pdf", "001_AF101_overlay.png", "002_AF600_side_by_side.png"):
        assert (root / "out1" / name).is_file(), name
    assert first.exit_code == 0 and first.warnings == []
    assert [(r["sheet_number"], r["status"]) for r in first.sheet_rows] == [("AF101", "matched"), ("AF600", "matched")]
    assert [r["changes"] for r in first.sheet_rows] == [len(s["changes"]) for s in report["sheets"]]
    assert lines[-1][0] == lines[-1][1]  # progress reached done == total
    with AppContext(root / "home") as app:
        comparison = projects.get_comparison(app, first.comparison_id)
        assert comparison.status == "done"
        assert [p.name for p in projects.list_projects(app)] == ["Command line"]


def test_a_second_identical_compare_reuses_sets_and_cached_pair_results(compared) -> None:
    root, first, second, _, calls = compared
    assert second.comparison_id != first.comparison_id
    assert calls.get("engine_compare_pair", 0) == 0  # both pairs came from the cache
    first_report = json.loads(first.report_path.read_text())
    second_report = json.loads(second.report_path.read_text())
    assert _changes(second_report) == _changes(first_report)
    with AppContext(root / "home") as app:
        with app.db.read() as s:
            assert s.query(PairResultCache).count() == 2
        assert len(projects.list_sets(app, projects.find_project(app, "Command line").id)) == 2
        second_job = projects.list_stages(app, second.job_id)
        assert [st.key for st in second_job] == ["match", "diff:0:0", "diff:1:1", "report"]  # sheets not re-read


def test_export_carries_review_status_into_the_csv(compared, tmp_path: Path) -> None:
    root, first, _, _, _ = compared
    with AppContext(root / "home") as app:
        pair = projects.list_pairs(app, first.comparison_id)[0]
        change = projects.list_changes(app, pair.id)[0]
        projects.set_review(app, change.id, "accepted", "as per ASI 4")
        export_comparison(app, first.comparison_id, tmp_path / "export")
    rows = list(csv.DictReader((tmp_path / "export" / "changes.csv").open()))
    assert (rows[0]["review_status"], rows[0]["note"]) == ("accepted", "as per ASI 4")
    assert {r["review_status"] for r in rows[1:]} == {"open"}
    report = json.loads((tmp_path / "export" / "report.json").read_text())
    assert report["sheets"][0]["changes"][0]["change_id"] == change.id


def _changes(report: dict) -> list[list[dict]]:
    """Changes without their database ids (each comparison has rows of its own)."""
    return [[{k: v for k, v in c.items() if k != "change_id"} for c in s["changes"]] for s in report["sheets"]]


def _stage_rows(db: Path) -> dict[str, tuple]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT key, state, attempts, finished_at FROM job_stages").fetchall()
    return {key: (state, attempts, finished) for key, state, attempts, finished in rows}


def _worker(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "buildtrace_desktop.jobs.worker", "--home", str(home), *args]


def test_a_compare_killed_mid_way_resumes_without_redoing_or_duplicating(tmp_path: Path) -> None:
    home, db = tmp_path / "home", tmp_path / "home" / "buildtrace.db"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen(_worker(home, "compare", str(OLD), str(NEW), "--out", str(tmp_path / "out")),
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        while proc.poll() is None:  # kill as soon as the first stage is done
            if db.exists() and any(v[0] == "done" for v in _safe_stage_rows(db).values()):
                break
            time.sleep(0.02)
        assert proc.poll() is None, f"the worker ended before it could be killed: {proc.stderr.read()}"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    killed = _stage_rows(db)
    done_before = {k: v for k, v in killed.items() if v[0] == "done"}
    assert done_before and len(done_before) < len(killed)

    rerun = subprocess.run(_worker(home, "compare", str(OLD), str(NEW), "--out", str(tmp_path / "out")),
                           cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert rerun.returncode == 0, rerun.stderr

    resumed = _stage_rows(db)
    for key, (_, attempts, finished) in done_before.items():
        assert resumed[key] == ("done", attempts, finished), key  # kept, not redone
    assert {v[0] for v in resumed.values()} == {"done"}
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM comparisons").fetchone()[0] == 1  # resumed, not restarted
        assert conn.execute("SELECT count(*) FROM jobs").fetchone()[0] == 1
        dupes = conn.execute("SELECT pair_id, ordinal, count(*) FROM changes GROUP BY pair_id, ordinal "
                             "HAVING count(*) > 1").fetchall()
        assert dupes == []
        per_pair = conn.execute("SELECT count(*) FROM changes GROUP BY pair_id ORDER BY pair_id").fetchall()
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [len(s["changes"]) for s in report["sheets"]] == [n for (n,) in per_pair]


def _safe_stage_rows(db: Path) -> dict[str, tuple]:
    try:
        return _stage_rows(db)
    except sqlite3.OperationalError:  # tables not created yet
        return {}
