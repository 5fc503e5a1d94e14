"""`buildtrace compare` and `buildtrace doctor` as a user runs them: exit codes, messages, files."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pdf_makers
import pytest

from buildtrace_desktop.services import projects
from buildtrace_desktop.services.app import AppContext


def run(home: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, BUILDTRACE_HOME=str(home))
    return subprocess.run([sys.executable, "-m", "buildtrace_desktop", *args], capture_output=True, text=True,
                          env=env, timeout=600)


def test_compare_sample_writes_report_and_records_it(tmp_path: Path, sample_old: Path, sample_new: Path) -> None:
    out = tmp_path / "out"
    result = run(tmp_path / "home", "compare", str(sample_old), str(sample_new), "--out", str(out), "--summary", "none")
    assert result.returncode == 0, result.stderr
    assert "AF101" in result.stdout and "AF600" in result.stdout and "matched" in result.stdout
    report = json.loads((out / "report.json").read_text())
    assert [len(s["changes"]) for s in report["sheets"]] == [3, 6]
    assert {p.name for p in out.iterdir()} >= {"report.json", "changes.csv", "report.pdf"}
    with AppContext(tmp_path / "home") as app:  # the GUI can open it later
        project = projects.find_project(app, "Command line")
        assert len(projects.list_comparisons(app, project.id)) == 1
        # with every sheet's thumbnail, made by the diff stage from its renders
        thumbnails = [sheet.thumbnail_json for drawing_set in projects.list_sets(app, project.id)
                      for sheet in projects.list_sheets(app, drawing_set.id)]
        assert len(thumbnails) == 4 and all(len(t) > 10 and len(t[0]) == 64 for t in thumbnails)


def test_two_compares_started_together_on_a_new_data_folder_both_succeed(tmp_path: Path, sample_old: Path,
                                                                         sample_new: Path) -> None:
    """Both create the database, migrate it and record into the same "Command line" project."""
    env = dict(os.environ, BUILDTRACE_HOME=str(tmp_path / "home"))
    runs = [subprocess.Popen([sys.executable, "-m", "buildtrace_desktop", "compare", str(sample_old), str(sample_new),
                              "--out", str(tmp_path / f"out{i}"), "--summary", "none"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env) for i in range(2)]
    errors = [r.communicate(timeout=600)[1] for r in runs]
    assert [r.returncode for r in runs] == [0, 0], errors
    with AppContext(tmp_path / "home") as app:
        assert [p.name for p in projects.list_projects(app)] == ["Command line"]


@pytest.mark.parametrize("make, needle", [
    (lambda d, s: pdf_makers.truncated(s, d / "cut.pdf"), "cut.pdf"),
    (lambda d, s: pdf_makers.zero_pages(d / "empty.pdf"), "no pages"),
    (lambda d, s: pdf_makers.encrypted(s, d / "locked.pdf", "pw"), "--password"),
    (lambda d, s: d / "nowhere.pdf", "no such file"),
])
def test_bad_input_exits_2_without_a_report(tmp_path: Path, sample_old: Path, make, needle) -> None:
    bad = make(tmp_path, sample_old)
    out = tmp_path / "out"
    result = run(tmp_path / "home", "compare", str(sample_old), str(bad), "--out", str(out))
    assert result.returncode == 2, result.stdout + result.stderr
    assert needle in result.stderr and "Traceback" not in result.stderr
    assert not (out / "report.json").exists()


def test_encrypted_set_opens_with_its_password(tmp_path: Path, sample_old: Path) -> None:
    locked = pdf_makers.encrypted(sample_old, tmp_path / "locked.pdf", "pw")
    result = run(tmp_path / "home", "compare", str(sample_old), str(locked), "--out", str(tmp_path / "out"),
                 "--password", "pw", "--summary", "none")
    assert result.returncode == 0, result.stderr
    assert [len(s["changes"]) for s in json.loads((tmp_path / "out" / "report.json").read_text())["sheets"]] == [0, 0]


def test_one_sheet_against_two_reports_the_removed_sheet(tmp_path: Path, sample_old: Path, sample_new: Path) -> None:
    one = pdf_makers.subset(sample_new, [1], tmp_path / "one.pdf")
    result = run(tmp_path / "home", "compare", str(sample_old), str(one), "--out", str(tmp_path / "out"),
                 "--summary", "none")
    assert result.returncode == 0, result.stderr
    sheets = json.loads((tmp_path / "out" / "report.json").read_text())["sheets"]
    assert sorted((s["sheet_number"], s["status"]) for s in sheets) == [("AF101", "removed"), ("AF600", "matched")]


def test_images_without_numbers_compare_with_a_warning(tmp_path: Path) -> None:
    old = np.full((600, 900), 255, np.uint8)
    cv2.rectangle(old, (50, 50), (850, 550), 0, 3)
    cv2.line(old, (50, 300), (850, 300), 0, 2)
    new = old.copy()
    cv2.circle(new, (450, 420), 60, 0, 3)  # a new round thing in the lower half
    for name, img in (("old", old), ("new", new)):
        (tmp_path / name).mkdir()
        cv2.imwrite(str(tmp_path / name / "plan.png"), img)
    out = tmp_path / "out"
    result = run(tmp_path / "home", "compare", str(tmp_path / "old"), str(tmp_path / "new"), "--out", str(out),
                 "--summary", "none")
    assert result.returncode == 1, result.stdout + result.stderr  # compared, with a warning
    assert "number" in result.stderr.lower()
    sheet = json.loads((out / "report.json").read_text())["sheets"][0]
    assert sheet["status"] == "matched" and sheet["page_size"] == [900.0, 600.0]
    assert len(sheet["changes"]) == 1 and sheet["changes"][0]["kind"] == "added"
    x0, y0, x1, y1 = sheet["changes"][0]["bbox"]
    assert 380 <= x0 <= 395 and 355 <= y0 <= 365 and 505 <= x1 <= 520 and 475 <= y1 <= 485


def test_huge_sheet_is_compared_at_a_lower_dpi_with_a_warning(tmp_path: Path) -> None:
    old = pdf_makers.huge_page(tmp_path / "old.pdf")
    new = pdf_makers.huge_page(tmp_path / "new.pdf")
    result = run(tmp_path / "home", "compare", str(old), str(new), "--out", str(tmp_path / "out"), "--dpi", "300",
                 "--summary", "none")
    assert result.returncode == 1, result.stderr
    assert "large sheet (60 x 42 in)" in result.stderr


def test_usage_errors_exit_2(tmp_path: Path, sample_old: Path) -> None:
    assert run(tmp_path, "compare", str(sample_old)).returncode == 2
    result = run(tmp_path, "compare", str(sample_old), str(sample_old), "--out", str(tmp_path / "o"), "--dpi", "5")
    assert result.returncode == 2 and "--dpi" in result.stderr


def test_doctor_reports_tesseract_and_paths(tmp_path: Path) -> None:
    result = run(tmp_path / "home", "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "tesseract" in result.stdout and "found, version" in result.stdout
    assert str(tmp_path / "home") in result.stdout and "buildtrace.db" in result.stdout
