"""Sheet stages read runs of consecutive pages: how many, which, and their keys."""
from __future__ import annotations

from buildtrace_desktop.jobs import plans


def test_runs_keep_every_set_shared_out_and_are_capped() -> None:
    assert plans.sheets_per_stage(2) == 1  # a small set: a page per stage, as before
    assert plans.sheets_per_stage(22) == 2
    assert plans.sheets_per_stage(100) == 12
    assert plans.sheets_per_stage(506) == plans.MAX_SHEETS_PER_STAGE
    for unread in (1, 7, 8, 22, 100, 506):
        stages = -(-unread // plans.sheets_per_stage(unread))
        assert stages >= min(unread, plans.MIN_SHEET_STAGES)


def test_keys_name_their_pages_and_old_single_page_keys_still_read() -> None:
    assert plans.sheet_key("old", 4, 7) == "sheet:old:4-7"
    assert plans.sheet_key("new", 3, 3) == plans.sheet_key("new", 3) == "sheet:new:3"
    assert plans.sheet_key(None, 0, 15) == "sheet:0-15"
    assert plans.sheet_indexes("sheet:old:4-7") == [4, 5, 6, 7]
    assert plans.sheet_indexes("sheet:new:3") == [3]  # a key written before runs existed
    assert plans.sheet_indexes("sheet:9") == [9]
    assert plans.describe_key("sheet:old:4-7") == "read old pages 5-8"
    assert plans.describe_key("sheet:new:3") == "read new page 4"


def test_a_compare_job_reads_runs_of_pages_once_each(sample, tmp_path) -> None:  # noqa: ANN001
    import jobs_helpers
    import pymupdf

    from buildtrace_desktop.jobs.runner import JobRunner
    from buildtrace_desktop.services import projects

    doc = pymupdf.open()
    for i in range(20):
        doc.new_page(width=612, height=792).insert_text((72, 72), f"SHEET A-{i + 1:03d}")
    doc.save(tmp_path / "twenty.pdf")
    old = projects.import_drawing_set(sample.app, sample.project_id, [tmp_path / "twenty.pdf"], "Old", ingest=False)
    new = projects.import_drawing_set(sample.app, sample.project_id, [tmp_path / "twenty.pdf"], "New", ingest=False)
    created = projects.create_comparison(sample.app, sample.project_id, old.set_id, new.set_id)
    keys = [st.key for st in projects.list_stages(sample.app, created.job_id) if st.name == "sheet"]
    assert keys == [f"sheet:{side}:{i}-{i + 1}" for side in ("old", "new") for i in range(0, 20, 2)]

    runner = JobRunner(sample.app, max_workers=2, functions=jobs_helpers.stand_ins(), in_process=True)
    runner.submit(created.job_id)
    assert runner.wait(created.job_id, timeout=60) == "done"
    runner.shutdown()
    assert jobs_helpers.CALLS["read_sheet"] == 40  # every page once
    sheets = projects.list_sheets(sample.app, new.set_id)
    assert all(s.read_at is not None for s in sheets)
    assert [s.sheet_number for s in sheets[:3]] == ["A101", "A102", "A103"]  # the stand-in's numbers, in order
