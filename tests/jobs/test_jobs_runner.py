"""The job runner's mechanics, with stand-in engine functions: order, rows, failures, cancel, resume."""
from __future__ import annotations

import os
import subprocess
import sys

import jobs_helpers
from jobs_helpers import SampleProject
from sqlalchemy import select, update

from buildtrace_desktop.db.models import ChangeRow, Job, JobStage, PairResultCache, SheetPair
from buildtrace_desktop.errors import ExitCode
from buildtrace_desktop.jobs.runner import JobRunner
from buildtrace_desktop.services import projects


def _run(sample: SampleProject, job_id: int, **overrides) -> tuple[JobRunner, str]:
    events: dict[str, list] = {"progress": [], "finished": []}
    runner = JobRunner(sample.app, max_workers=2, functions=jobs_helpers.stand_ins(**overrides), in_process=True,
                       on_progress=lambda *a: events["progress"].append(a),
                       on_finished=lambda *a: events["finished"].append(a))
    runner.submit(job_id)
    state = runner.wait(job_id, timeout=60)
    runner.shutdown()
    runner.events = events  # type: ignore[attr-defined]
    return runner, state


def _stages(sample: SampleProject, job_id: int) -> dict[str, JobStage]:
    return {st.key: st for st in projects.list_stages(sample.app, job_id)}


def _change_count(sample: SampleProject, comparison_id: int) -> int:
    return sum(projects.count_changes(sample.app, comparison_id).values())


def test_a_compare_job_runs_every_stage_once_and_writes_its_rows(sample: SampleProject) -> None:
    created = sample.comparison()
    runner, state = _run(sample, created.job_id)

    assert state == "done"
    stages = _stages(sample, created.job_id)
    assert list(stages) == ["sheet:old:0", "sheet:old:1", "sheet:new:0", "sheet:new:1", "match",
                            "diff:0:0", "diff:1:1", "report"]
    assert {(st.state, st.attempts) for st in stages.values()} == {("done", 1)}
    assert jobs_helpers.CALLS == {"read_sheet": 4, "match_sheets": 1, "compare_pair": 2}
    pairs = projects.list_pairs(sample.app, created.comparison_id)
    assert [(p.status, p.match_method, p.diff_state) for p in pairs] == [("matched", "number", "done")] * 2
    changes = projects.list_changes(sample.app, pairs[0].id)
    assert [(c.kind, c.bbox, c.text_added, c.review_status) for c in changes] == [
        ("added", (10.0, 20.0, 30.0, 40.0), ["NOTE 0"], "open"), ("removed", (100.0, 120.0, 130.0, 140.0), [], "open")]
    sheets = projects.list_sheets(sample.app, sample.new_set_id)
    assert [(s.sheet_number, s.width_pt) for s in sheets] == [("A101", 3024.0), ("A102", 3024.0)]
    comparison = projects.get_comparison(sample.app, created.comparison_id)
    assert (comparison.status, comparison.exit_code, comparison.warnings_json) == ("done", 0, [])
    job = projects.get_job(sample.app, created.job_id)
    assert (job.state, job.progress, job.worker_pid) == ("done", 1.0, None)
    assert runner.events["finished"] == [(created.job_id, "done")]
    last = runner.events["progress"][-1]
    assert last[0] == created.job_id and last[1] == last[2] == 8

    _, state = _run(sample, created.job_id)  # submitting a finished job again changes nothing
    assert state == "done" and jobs_helpers.CALLS["compare_pair"] == 2
    assert projects.get_comparison(sample.app, created.comparison_id).status == "done"


def test_sheets_read_by_ingest_are_not_read_again(sample: SampleProject) -> None:
    project = projects.create_project(sample.app, "Ingested")
    imported = projects.import_drawing_set(sample.app, project.id, [jobs_helpers.SAMPLE / "new.pdf"], "Rev 3")
    early = projects.create_comparison(sample.app, project.id, imported.set_id, imported.set_id)
    assert len([k for k in _stages(sample, early.job_id) if k.startswith("sheet:")]) == 4  # none read yet
    _, state = _run(sample, imported.job_id)
    assert state == "done"
    assert jobs_helpers.CALLS["read_sheet"] == 2
    _, state = _run(sample, early.job_id)  # its sheet stages find the sheets read by ingest
    assert state == "done"
    assert jobs_helpers.CALLS["read_sheet"] == 2
    assert all(s.read_at is not None for s in projects.list_sheets(sample.app, imported.set_id))
    created = projects.create_comparison(sample.app, project.id, imported.set_id, imported.set_id)
    assert list(_stages(sample, created.job_id)) == ["match", "report"]


def test_a_failed_pair_is_a_warning_and_retry_finishes_it(sample: SampleProject) -> None:
    created = sample.comparison()
    _, state = _run(sample, created.job_id, compare_pair=jobs_helpers.failing_second_pair)

    assert state == "done"
    failed = _stages(sample, created.job_id)["diff:1:1"]
    assert (failed.state, failed.error_code) == ("failed", int(ExitCode.bad_input))
    assert "damaged" in failed.error
    comparison = projects.get_comparison(sample.app, created.comparison_id)
    assert comparison.exit_code == int(ExitCode.warnings)
    assert any("A102" in w and "damaged" in w for w in comparison.warnings_json)
    assert _change_count(sample, created.comparison_id) == 2  # the good pair's changes are there

    runner = JobRunner(sample.app, functions=jobs_helpers.stand_ins(), in_process=True)
    runner.retry(created.job_id)
    assert runner.wait(created.job_id, timeout=60) == "done"
    runner.shutdown()
    stages = _stages(sample, created.job_id)
    assert (stages["diff:1:1"].state, stages["diff:1:1"].attempts) == ("done", 2)
    assert stages["diff:0:0"].attempts == 1  # done stages are never redone
    comparison = projects.get_comparison(sample.app, created.comparison_id)
    assert (comparison.exit_code, comparison.warnings_json) == (0, [])
    assert _change_count(sample, created.comparison_id) == 4


def test_a_missing_tool_fails_the_job_with_its_exit_code_and_message(sample: SampleProject) -> None:
    created = sample.comparison()
    _, state = _run(sample, created.job_id, read_sheet=jobs_helpers.tesseract_missing)
    assert state == "failed"
    job = projects.get_job(sample.app, created.job_id)
    assert job.error_code == int(ExitCode.missing_dependency)
    assert "apt install tesseract-ocr" in job.error_message
    assert projects.get_comparison(sample.app, created.comparison_id).status == "failed"
    assert _stages(sample, created.job_id)["match"].state == "pending"  # nothing ran after the failure


def test_an_unexpected_exception_is_an_internal_error_with_its_message(sample: SampleProject) -> None:
    created = sample.comparison()
    _, state = _run(sample, created.job_id, read_sheet=jobs_helpers.crashing_read_sheet)
    assert state == "failed"
    job = projects.get_job(sample.app, created.job_id)
    assert job.error_code == int(ExitCode.internal_error)
    assert "ZeroDivisionError" in job.error_message


def test_cancel_abandons_running_stages_and_writes_no_partial_rows(sample: SampleProject) -> None:
    created = sample.comparison()
    runner = JobRunner(sample.app, max_workers=2, functions=jobs_helpers.stand_ins(
        compare_pair=jobs_helpers.blocking_compare), in_process=True)
    runner.submit(created.job_id)
    assert jobs_helpers.ENTERED.wait(60)
    runner.cancel(created.job_id)
    assert runner.wait(created.job_id, timeout=60) == "cancelled"
    jobs_helpers.GATE.set()
    runner.shutdown()

    stages = _stages(sample, created.job_id)
    assert stages["match"].state == "done"
    assert {stages[k].state for k in ("diff:0:0", "diff:1:1", "report")} == {"cancelled"}
    assert _change_count(sample, created.comparison_id) == 0
    assert projects.get_comparison(sample.app, created.comparison_id).status == "cancelled"
    assert projects.get_job(sample.app, created.job_id).error_code == int(ExitCode.cancelled)

    runner = JobRunner(sample.app, functions=jobs_helpers.stand_ins(), in_process=True)
    runner.retry(created.job_id)
    assert runner.wait(created.job_id, timeout=60) == "done"
    runner.shutdown()
    assert _change_count(sample, created.comparison_id) == 4
    assert jobs_helpers.CALLS["read_sheet"] == 4  # sheets were not read again


def test_cancelling_a_job_that_is_not_running_records_it(sample: SampleProject) -> None:
    created = sample.comparison()
    runner = JobRunner(sample.app, functions=jobs_helpers.stand_ins(), in_process=True)
    runner.cancel(created.job_id)
    assert projects.get_job(sample.app, created.job_id).state == "cancelled"
    assert {st.state for st in projects.list_stages(sample.app, created.job_id)} == {"cancelled"}


def test_a_job_left_running_by_a_dead_process_is_resumed_without_redoing_done_stages(sample: SampleProject) -> None:
    created = sample.comparison()
    _run(sample, created.job_id)
    before = _stages(sample, created.job_id)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    # What a kill -9 during the second diff leaves: that stage running, the report pending, its rows absent.
    with sample.app.db.write() as s:
        stage = s.get(JobStage, before["diff:1:1"].id)
        stage.state = "running"
        s.execute(update(JobStage).where(JobStage.id == before["report"].id).values(state="pending"))
        s.get(Job, created.job_id).state = "running"
        s.get(Job, created.job_id).worker_pid = int(dead.stdout)
        pair = s.scalars(select(SheetPair).where(SheetPair.comparison_id == created.comparison_id,
                                                 SheetPair.ordinal == 1)).one()
        s.query(ChangeRow).filter(ChangeRow.pair_id == pair.id).delete()
        s.query(PairResultCache).filter(PairResultCache.new_key.endswith(":1")).delete()  # same transaction
    jobs_helpers.CALLS.clear()

    runner = JobRunner(sample.app, functions=jobs_helpers.stand_ins(), in_process=True)
    assert runner.resume_incomplete() == [created.job_id]
    assert runner.wait(created.job_id, timeout=60) == "done"
    runner.shutdown()

    after = _stages(sample, created.job_id)
    assert jobs_helpers.CALLS == {"compare_pair": 1}
    for key in ("sheet:old:0", "match", "diff:0:0"):
        assert (after[key].finished_at, after[key].attempts) == (before[key].finished_at, before[key].attempts)
    assert after["diff:1:1"].attempts == 2
    assert _change_count(sample, created.comparison_id) == 4


def test_a_job_of_a_live_process_is_left_alone(sample: SampleProject) -> None:
    created = sample.comparison()
    with sample.app.db.write() as s:
        s.get(Job, created.job_id).state = "running"
        s.get(Job, created.job_id).worker_pid = os.getppid()  # alive, and not us
    runner = JobRunner(sample.app, functions=jobs_helpers.stand_ins(), in_process=True)
    assert runner.resume_incomplete() == []
    runner.shutdown()


def test_corrected_sheet_numbers_are_used_for_matching(sample: SampleProject) -> None:
    first = sample.comparison()
    _run(sample, first.job_id)
    new_second = projects.list_sheets(sample.app, sample.new_set_id)[1]
    projects.correct_sheet(sample.app, new_second.id, "Z999", None)

    second = sample.comparison()
    _run(sample, second.job_id)
    pairs = projects.list_pairs(sample.app, second.comparison_id)
    assert sorted(p.status for p in pairs) == ["added", "matched", "removed"]
    assert projects.get_sheet(sample.app, new_second.id).sheet_number == "A102"  # what was read is kept


def test_review_status_and_note_round_trip(sample: SampleProject) -> None:
    created = sample.comparison()
    _run(sample, created.job_id)
    pair = projects.list_pairs(sample.app, created.comparison_id)[0]
    change = projects.list_changes(sample.app, pair.id)[0]
    projects.set_review(sample.app, change.id, "needs_rfi", "door swing conflicts with casework")
    again = projects.list_changes(sample.app, pair.id)[0]
    assert (again.review_status, again.note) == ("needs_rfi", "door swing conflicts with casework")
    assert again.reviewed_at is not None
    try:
        projects.set_review(sample.app, change.id, "maybe")
    except Exception as exc:  # noqa: BLE001
        assert "needs_rfi" in str(exc)
    else:
        raise AssertionError("an unknown review status was accepted")


def test_shutdown_mid_job_suspends_it_and_the_next_start_resumes_it(sample: SampleProject) -> None:
    """Closing the app during a job: nothing is cancelled, the next start finishes it."""
    created = sample.comparison()
    finished: list[tuple] = []
    runner = JobRunner(sample.app, max_workers=2, functions=jobs_helpers.stand_ins(
        compare_pair=jobs_helpers.blocking_compare), in_process=True, on_finished=lambda *a: finished.append(a))
    runner.submit(created.job_id)
    assert jobs_helpers.ENTERED.wait(60)
    runner.shutdown()

    assert finished == [(created.job_id, "pending")]
    assert projects.get_job(sample.app, created.job_id).state == "pending"
    stages = _stages(sample, created.job_id)
    assert stages["match"].state == "done"
    assert {stages[k].state for k in ("diff:0:0", "diff:1:1", "report")} == {"pending"}
    assert _change_count(sample, created.comparison_id) == 0

    runner = JobRunner(sample.app, functions=jobs_helpers.stand_ins(), in_process=True)
    assert runner.resume_incomplete() == [created.job_id]
    assert runner.wait(created.job_id, timeout=60) == "done"
    runner.shutdown()
    assert _change_count(sample, created.comparison_id) == 4
    assert _stages(sample, created.job_id)["match"].attempts == 1


def test_a_failed_pair_is_exported_as_a_warning_not_as_changes(sample: SampleProject, tmp_path) -> None:  # noqa: ANN001
    import json

    from buildtrace_desktop.services.export import export_comparison

    created = sample.comparison()
    _run(sample, created.job_id, compare_pair=jobs_helpers.failing_second_pair)
    report = json.loads(export_comparison(sample.app, created.comparison_id, tmp_path / "out").read_text())
    good, failed = report["sheets"]
    assert len(good["changes"]) == 2 and good["changes"][0]["review_status"] == "open"
    assert failed["changes"] == [] and failed["warnings"]
    assert any("damaged" in w for w in report["warnings"])
    assert (tmp_path / "out" / "changes.csv").read_text().count("\n") == 3  # header + the good pair's 2


def test_a_pdf_password_reaches_the_stages_and_is_never_written(tmp_path) -> None:  # noqa: ANN001
    import pymupdf

    from buildtrace_desktop.processing.types import CompareSettings
    from buildtrace_desktop.services.compare import compare_paths

    locked = tmp_path / "locked.pdf"
    with pymupdf.open(jobs_helpers.SAMPLE / "new.pdf") as doc:
        doc.save(locked, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner-pw", user_pw="s3cret-pw")
    settings = CompareSettings(password="s3cret-pw")
    functions = jobs_helpers.stand_ins(read_sheet=jobs_helpers.read_sheet_needing_password)
    outcome = compare_paths([locked], [locked], tmp_path / "out", settings, home=tmp_path / "home",
                            functions=functions)
    assert outcome.exit_code == 0
    for path in (tmp_path / "home").rglob("*"):
        if path.is_file():
            assert b"s3cret-pw" not in path.read_bytes(), path
