"""The main window driven like a user would: import, compare, view, review, cancel, export, settings."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, Qt
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox
from ui_helpers import NEW_PDF, OLD_PDF

from buildtrace_desktop.db.models import ChangeRow
from buildtrace_desktop.services import projects

JOB_SECONDS = 180_000  # ms; the waits end as soon as the job does (no timing is asserted)


def open_sample_comparison(window) -> int:  # noqa: ANN001
    comparison_id = projects.list_comparisons(window.app, window.project_pane.current_project_id())[0].id
    window.project_pane.select_comparison(comparison_id)
    assert window.comparison_id == comparison_id
    return comparison_id


def test_import_two_sets_and_compare_through_the_dialogs(qtbot, empty_window) -> None:  # noqa: ANN001
    window = empty_window
    pane = window.project_pane
    pane.create_project("Clinic")
    for path, label in ((OLD_PDF, "IFC Rev 2"), (NEW_PDF, "IFC Rev 3")):
        pane.ask_import([str(path)])
        dialog = pane.import_dialog
        dialog.label_edit.setText(label)
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
        job_id = window.job_panel.selected_job_id()
        assert job_id is not None  # the ingest job was submitted and shows in the job panel
        qtbot.waitUntil(lambda j=job_id: projects.get_job(window.app, j).state == "done", timeout=JOB_SECONDS)
    qtbot.waitUntil(lambda: pane.sheet_table.rowCount() == 2 and pane.sheet_table.item(0, 1).text() == "AF101",
                    timeout=JOB_SECONDS)
    assert pane.set_list.count() == 2
    assert not pane.sheet_table.item(0, 0).icon().isNull()  # thumbnail
    pane.ask_compare()
    dialog = pane.compare_dialog
    assert dialog.old_combo.currentText() == "IFC Rev 2" and dialog.new_combo.currentText() == "IFC Rev 3"
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Ok), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: window.comparison_id is not None and len(window.changes) > 0, timeout=JOB_SECONDS)
    rows = window.sheet_list.visible_rows()
    assert [r.number for r in rows] == ["AF101", "AF600"]
    assert all(r.status == "matched" and r.changes > 0 for r in rows)
    assert window.viewer.has_pair
    assert window.job_panel.state_of(window.job_panel.selected_job_id()) == "done"


def test_clicking_a_change_moves_the_view_to_it_and_review_is_saved(qtbot, window) -> None:  # noqa: ANN001
    open_sample_comparison(window)
    qtbot.waitUntil(lambda: window.viewer.has_pair)
    tree, rows = window.change_panel.tree, window.change_panel.tree_model
    assert len(window.changes) >= 2
    row = 1
    rect = tree.visualRect(rows.index_of_change(row, 3))
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.changes.current == row
    x0, y0, x1, y1 = window.changes[row].bbox
    visible = window.viewer.main_view.visible_scene_rect()
    assert visible.contains(QPointF((x0 + x1) / 2, (y0 + y1) / 2))
    assert visible.width() < 1500  # zoomed in around it
    assert abs(visible.center().x() - (x0 + x1) / 2) < 5 and abs(visible.center().y() - (y0 + y1) / 2) < 5
    # review status and note go to the database at once
    change_id = window.changes[row].change_id
    window.change_panel.note_edit.setText("check with structural")
    window.change_panel.set_status("needs_rfi")
    with window.app.db.read() as s:
        stored = s.get(ChangeRow, change_id)
        assert (stored.review_status, stored.note) == ("needs_rfi", "check with structural")
    assert "Needs RFI" in rows.index_of_change(row, 4).data()
    # another sheet and back: the list shows what the database holds
    window.sheet_list.table.setCurrentCell(1, 0)
    window.sheet_list.table.setCurrentCell(0, 0)
    index = window.changes.index_of(change_id)
    assert window.changes[index].status == "needs_rfi"
    # a note typed without Enter is kept when the user moves on with N
    window.changes.current = 0
    window.change_panel.note_edit.setText("typed, then N")
    qtbot.keyClick(window.viewer.main_view, Qt.Key.Key_N)
    assert window.changes.current == 1
    with window.app.db.read() as s:
        assert s.get(ChangeRow, window.changes[0].change_id).note == "typed, then N"
    assert window.change_panel.note_edit.text() == window.changes[1].note


def test_changed_only_filter_and_renumber_free_sheet_list(window) -> None:  # noqa: ANN001
    open_sample_comparison(window)
    rows = window.sheet_list.visible_rows()
    window.sheet_list.changed_only.setChecked(True)
    assert window.sheet_list.visible_rows() == [r for r in rows if r.changes or r.status != "matched"]


def test_cancel_a_running_job(qtbot, window) -> None:  # noqa: ANN001
    pane = window.project_pane
    sets = projects.list_sets(window.app, pane.current_project_id())
    comparison_id = pane.compare(sets[0].id, sets[1].id)
    job = projects.list_jobs(window.app, comparison_id=comparison_id)[0]
    qtbot.waitUntil(lambda: window.runner.is_active(job.id))
    window.job_panel.refresh()
    window.job_panel.select_job(job.id)
    assert window.job_panel.cancel_button.isEnabled()
    qtbot.mouseClick(window.job_panel.cancel_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: projects.get_job(window.app, job.id).state == "cancelled", timeout=JOB_SECONDS)
    qtbot.waitUntil(lambda: window.job_panel.state_of(job.id) == "cancelled")
    window.job_panel.select_job(job.id)
    assert window.job_panel.retry_button.isEnabled()
    assert projects.get_comparison(window.app, comparison_id).status == "cancelled"


def test_a_corrupt_file_gives_a_clear_message_and_stores_nothing(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.7\n" + b"garbage " * 100)
    sets_before = len(projects.list_sets(window.app, window.project_pane.current_project_id()))
    window.project_pane.import_set([str(bad)], "Broken")
    box = window.findChild(QMessageBox, "error_box")
    assert box is not None and box.isVisible()
    assert "broken.pdf" in box.text() and "Traceback" not in box.text()
    box.close()
    assert len(projects.list_sets(window.app, window.project_pane.current_project_id())) == sets_before


def test_project_create_rename_archive_and_delete_after_confirmation(qtbot, window) -> None:  # noqa: ANN001
    pane = window.project_pane
    project_id = pane.create_project("Temporary")
    assert pane.current_project_id() == project_id
    projects.rename_project(window.app, project_id, "Renamed")
    pane.refresh_projects()
    assert pane.project_list.currentItem().text() == "Renamed"
    pane.toggle_archive()
    assert projects.get_project(window.app, project_id).archived
    assert all(pane.project_list.item(i).text() != "Renamed" for i in range(pane.project_list.count()))
    pane.show_archived.setChecked(True)
    pane.select_project(project_id)
    pane.ask_delete_project()
    box = pane.confirm_box
    assert box.isVisible() and "Renamed" in box.text()
    box.button(QMessageBox.StandardButton.Cancel).click()
    assert projects.get_project(window.app, project_id)  # still there
    pane.ask_delete_project()
    pane.confirm_box.button(QMessageBox.StandardButton.Yes).click()
    assert all(p.id != project_id for p in projects.list_projects(window.app, include_archived=True))


def test_sheet_number_correction_is_stored(window) -> None:  # noqa: ANN001
    pane = window.project_pane
    pane.set_list.setCurrentRow(0)
    item = pane.sheet_table.item(0, 1)
    sheet_id = item.data(Qt.ItemDataRole.UserRole)
    item.setText("AF-101A")
    sheet = projects.get_sheet(window.app, sheet_id)
    assert sheet.user_number == "AF-101A" and sheet.effective_number == "AF-101A"
    assert pane.sheet_table.item(0, 1).text() == "AF-101A"


def test_export_writes_report_pdf_and_csv_with_review_status(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    comparison_id = open_sample_comparison(window)
    window.changes.current = 0
    window.change_panel.set_status("accepted")
    out = tmp_path / "export"
    thread = window.export(comparison_id, str(out))
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=JOB_SECONDS)
    assert (out / "report.pdf").stat().st_size > 10_000
    assert "accepted" in (out / "changes.csv").read_text()
    assert not window.banner.text


def test_settings_dialog_persists_with_qsettings(window) -> None:  # noqa: ANN001
    from buildtrace_desktop.ui.settings import load_settings

    window.open_settings()
    dialog = window.settings_dialog
    dialog.dpi.setValue(200)
    dialog.palette.setCurrentIndex(dialog.palette.findData("colour_blind"))
    dialog.accept()
    assert load_settings().dpi == 200 and load_settings().palette == "colour_blind"
    assert window.state.palette == "colour_blind"
    assert window.compare_settings().dpi == 200


def test_about_dialog_shows_what_doctor_prints(window) -> None:  # noqa: ANN001
    window.open_about()
    text = window.about_dialog.text.toPlainText()
    assert "Tesseract:" in text and "5." in text  # Tesseract 5.x is installed here
    assert str(window.app.config.db_path) in text and "PyMuPDF" in text


def test_failed_job_shows_a_banner_with_what_to_do(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    """A stored drawing vanished from the data folder: the comparison job fails, and the window says so
    with the engine's message and what to do, not with a traceback."""
    app = window.app
    project_id = window.project_pane.current_project_id()
    copy = tmp_path / "new_copy.pdf"
    copy.write_bytes(NEW_PDF.read_bytes() + b"\n% a different file, so it is stored apart\n")
    imported = projects.import_drawing_set(app, project_id, [copy], "Vanishing", ingest=False)
    sheet = projects.list_sheets(app, imported.set_id)[0]
    projects.sheet_file_path(app, sheet).unlink()
    old_set = projects.list_sets(app, project_id)[0]
    comparison_id = window.project_pane.compare(old_set.id, imported.set_id)
    job = projects.list_jobs(app, comparison_id=comparison_id)[0]
    qtbot.waitUntil(lambda: window.banner.isVisible(), timeout=JOB_SECONDS)
    assert projects.get_job(app, job.id).state == "failed"
    text = window.banner.text
    assert f"Job {job.id} failed" in text and "Retry" in text and "Traceback" not in text


def test_sample_mode_opens_a_real_comparison_on_first_run(qtbot, empty_home: Path) -> None:  # noqa: ANN001
    from ui_helpers import close_window

    from buildtrace_desktop.ui.app import create_window

    window = create_window(empty_home, sample=True)
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: len(window.changes) > 0, timeout=JOB_SECONDS)
        assert window.project_pane.project_list.currentItem().text() == "Sample"
        assert window.viewer.has_pair and window.sheet_list.visible_rows()[0].number == "AF101"
    finally:
        close_window(window)
    again = create_window(empty_home, sample=True)  # second start: reuses the stored comparison
    qtbot.addWidget(again)
    try:
        assert len(projects.list_comparisons(again.app, again.project_pane.current_project_id())) == 1
        assert len(again.changes) > 0
    finally:
        close_window(again)


def test_dropping_files_on_the_project_pane_opens_the_import_dialog(window) -> None:  # noqa: ANN001
    from PySide6.QtCore import QMimeData, QUrl
    from PySide6.QtGui import QDropEvent

    pane = window.project_pane
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(NEW_PDF))])
    event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    pane.dropEvent(event)  # Qt delivers synthetic drops only during a real drag; call the handler itself
    assert event.isAccepted()
    dialog = pane.import_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.paths == [str(NEW_PDF)] and dialog.label == "new"
    dialog.reject()


def test_closing_during_a_job_and_reopening_resumes_it(qtbot, window, home: Path) -> None:  # noqa: ANN001
    from ui_helpers import close_window, make_window

    pane = window.project_pane
    sets = projects.list_sets(window.app, pane.current_project_id())
    comparison_id = pane.compare(sets[1].id, sets[0].id)  # new -> old: not in the result cache's order
    job_id = projects.list_jobs(window.app, comparison_id=comparison_id)[0].id
    qtbot.waitUntil(lambda: window.runner.is_active(job_id))
    window.confirm_quit = lambda running: job_id in running  # the user answers "Quit anyway"
    window.close()
    assert not window.isVisible()
    assert projects.get_job(window.app, job_id).state == "pending"  # suspended, not cancelled
    reopened = make_window(qtbot, home)
    try:
        qtbot.waitUntil(lambda: projects.get_job(reopened.app, job_id).state == "done", timeout=JOB_SECONDS)
        assert projects.get_comparison(reopened.app, comparison_id).status == "done"
    finally:
        close_window(reopened)


def test_a_removed_sheet_opens_with_the_old_page_and_no_changes(qtbot, window, tmp_path: Path) -> None:  # noqa: ANN001
    import pymupdf

    one_sheet = tmp_path / "only_af101.pdf"
    with pymupdf.open(NEW_PDF) as doc:
        doc.select([0])
        doc.save(one_sheet)
    pane = window.project_pane
    project_id = pane.current_project_id()
    old_set = projects.list_sets(window.app, project_id)[0]
    imported = projects.import_drawing_set(window.app, project_id, [one_sheet], "AF101 only", ingest=False)
    comparison_id = pane.compare(old_set.id, imported.set_id)
    qtbot.waitUntil(lambda: projects.get_comparison(window.app, comparison_id).status == "done",
                    timeout=JOB_SECONDS)
    qtbot.waitUntil(lambda: window.comparison_id == comparison_id and len(window.sheet_list.visible_rows()) == 2)
    rows = window.sheet_list.visible_rows()
    assert [r.status for r in rows] == ["matched", "removed"]
    window.sheet_list.select_pair(rows[1].pair_id)
    assert window.pair_id == rows[1].pair_id and window.viewer.has_pair
    assert len(window.changes) == 0
    assert "Removed" in window.viewer.new_pane.caption.text()
