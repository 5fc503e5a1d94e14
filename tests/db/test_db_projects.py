"""Project and drawing-set services on a real data folder, with the sample PDFs."""
from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from db_helpers import SAMPLE

from buildtrace_desktop.db.models import StoredFile
from buildtrace_desktop.errors import BadInputError
from buildtrace_desktop.services import projects
from buildtrace_desktop.services.app import AppContext


def test_data_folder_comes_from_buildtrace_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BUILDTRACE_HOME", str(tmp_path / "portable"))
    with AppContext() as app:
        assert app.home == (tmp_path / "portable").resolve()
        assert app.config.db_path.is_file()
        assert app.config.db_path.name == "buildtrace.db"
        assert app.config.files_dir.is_dir() and app.config.results_dir.is_dir()


def test_create_rename_archive_and_list_recent_first(app: AppContext) -> None:
    clinic = projects.create_project(app, "Clinic")
    school = projects.create_project(app, "  School ")
    assert school.name == "School"
    assert [p.name for p in projects.list_projects(app)] == ["School", "Clinic"]

    projects.import_drawing_set(app, clinic.id, [SAMPLE / "old.pdf"], "IFC Rev 1", ingest=False)
    assert [p.name for p in projects.list_projects(app)][0] == "Clinic"  # used last

    projects.rename_project(app, clinic.id, "Clinic West")
    with pytest.raises(BadInputError, match="already exists"):
        projects.rename_project(app, school.id, "Clinic West")
    with pytest.raises(BadInputError, match="already exists"):
        projects.create_project(app, "School")

    projects.archive_project(app, school.id)
    assert [p.name for p in projects.list_projects(app)] == ["Clinic West"]
    assert {p.name for p in projects.list_projects(app, include_archived=True)} == {"Clinic West", "School"}


def test_import_stores_files_and_creates_one_sheet_per_page(app: AppContext) -> None:
    project = projects.create_project(app, "Clinic")
    imported = projects.import_drawing_set(app, project.id, [SAMPLE / "old.pdf"], "IFC Rev 1",
                                           issue_date=dt.date(2026, 3, 1))
    assert imported.sheet_count == 2
    sheets = projects.list_sheets(app, imported.set_id)
    assert [(s.set_index, s.page_index, s.kind, s.read_at) for s in sheets] == [(0, 0, "pdf", None),
                                                                              (1, 1, "pdf", None)]
    stored = projects.sheet_file_path(app, sheets[0])
    assert stored.read_bytes() == (SAMPLE / "old.pdf").read_bytes()
    drawing_set = projects.list_sets(app, project.id)[0]
    assert (drawing_set.label, drawing_set.issue_date) == ("IFC Rev 1", dt.date(2026, 3, 1))
    stages = projects.list_stages(app, imported.job_id)
    assert [st.key for st in stages] == ["sheet:0", "sheet:1"]
    assert projects.get_job(app, imported.job_id).kind == "ingest"


def test_a_folder_imports_every_drawing_in_it(app: AppContext, tmp_path: Path) -> None:
    folder = tmp_path / "rev2"
    folder.mkdir()
    shutil.copy(SAMPLE / "old.pdf", folder / "a.pdf")
    shutil.copy(SAMPLE / "new.pdf", folder / "b.pdf")
    shutil.copy(SAMPLE / "new.pdf", folder / "c.pdf")  # the same drawing twice: stored once
    project = projects.create_project(app, "Clinic")
    imported = projects.import_drawing_set(app, project.id, [folder], "Rev 2", ingest=False)
    assert imported.sheet_count == 6
    shas = projects.set_file_shas(app, imported.set_id)
    assert len(shas) == 3 and shas[1] == shas[2]
    assert len([p for p in app.config.files_dir.rglob("*") if p.is_file()]) == 2


def test_a_bad_file_imports_nothing(app: AppContext, tmp_path: Path) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"this is not a drawing")
    project = projects.create_project(app, "Clinic")
    with pytest.raises(BadInputError, match="broken.pdf"):
        projects.import_drawing_set(app, project.id, [SAMPLE / "new.pdf", broken], "Rev 2")
    assert projects.list_sets(app, project.id) == []
    with app.db.read() as s:
        assert s.query(StoredFile).count() == 0


def test_delete_project_removes_only_files_no_other_project_uses(app: AppContext) -> None:
    clinic = projects.create_project(app, "Clinic")
    school = projects.create_project(app, "School")
    projects.import_drawing_set(app, clinic.id, [SAMPLE / "old.pdf"], "Rev 1", ingest=False)
    clinic_new = projects.import_drawing_set(app, clinic.id, [SAMPLE / "new.pdf"], "Rev 2", ingest=False)
    projects.import_drawing_set(app, school.id, [SAMPLE / "new.pdf"], "Rev 1", ingest=False)
    old_sha = projects.set_file_shas(app, projects.list_sets(app, clinic.id)[0].id)[0]
    new_sha = projects.set_file_shas(app, clinic_new.set_id)[0]

    removed = projects.delete_project(app, clinic.id)

    assert removed == [old_sha]
    assert not app.store.has(old_sha, ".pdf")
    assert app.store.has(new_sha, ".pdf")
    assert [p.name for p in projects.list_projects(app)] == ["School"]
    with app.db.read() as s:
        assert {f.sha256 for f in s.query(StoredFile)} == {new_sha}
    school_sheets = projects.list_sheets(app, projects.list_sets(app, school.id)[0].id)
    assert projects.sheet_file_path(app, school_sheets[0]).is_file()


def test_sheet_corrections_are_kept_beside_what_was_read(app: AppContext) -> None:
    project = projects.create_project(app, "Clinic")
    imported = projects.import_drawing_set(app, project.id, [SAMPLE / "old.pdf"], "Rev 1", ingest=False)
    sheet = projects.list_sheets(app, imported.set_id)[0]
    projects.correct_sheet(app, sheet.id, " A-101 ", "Ground floor")
    again = projects.get_sheet(app, sheet.id)
    assert (again.user_number, again.user_title, again.sheet_number) == ("A-101", "Ground floor", None)
    assert (again.effective_number, again.effective_title) == ("A-101", "Ground floor")
    projects.correct_sheet(app, sheet.id, "", None)
    assert projects.get_sheet(app, sheet.id).user_number is None


def test_comparing_sets_of_another_project_is_refused(app: AppContext) -> None:
    clinic = projects.create_project(app, "Clinic")
    school = projects.create_project(app, "School")
    a = projects.import_drawing_set(app, clinic.id, [SAMPLE / "old.pdf"], "Rev 1", ingest=False)
    b = projects.import_drawing_set(app, school.id, [SAMPLE / "new.pdf"], "Rev 1", ingest=False)
    with pytest.raises(BadInputError, match="belong"):
        projects.create_comparison(app, clinic.id, a.set_id, b.set_id)


def test_delete_set_and_comparison_keep_what_others_use(app: AppContext) -> None:
    project = projects.create_project(app, "Clinic")
    old = projects.import_drawing_set(app, project.id, [SAMPLE / "old.pdf"], "Rev 1", ingest=False)
    new = projects.import_drawing_set(app, project.id, [SAMPLE / "new.pdf"], "Rev 2", ingest=False)
    again = projects.import_drawing_set(app, project.id, [SAMPLE / "new.pdf"], "Rev 2 again", ingest=False)
    created = projects.create_comparison(app, project.id, old.set_id, new.set_id)
    assert projects.job_title(app, created.job_id) == "Compare Rev 1 → Rev 2 (Clinic)"

    projects.delete_comparison(app, created.comparison_id)
    assert projects.list_comparisons(app, project.id) == []
    assert projects.list_jobs(app, comparison_id=created.comparison_id) == []
    assert len(projects.list_sets(app, project.id)) == 3

    assert projects.delete_set(app, new.set_id) == []  # "Rev 2 again" still uses the file
    new_sha = projects.set_file_shas(app, again.set_id)[0]
    assert projects.delete_set(app, again.set_id) == [new_sha]
    assert not app.store.has(new_sha, ".pdf")
    assert [s.label for s in projects.list_sets(app, project.id)] == ["Rev 1"]
