"""The summary panel beside the change list, driven like a user would: the offline summary made in the
background when a comparison opens, an edit saved as a new version, the LLM button against a real
OpenAI-compatible server on 127.0.0.1, a rejected key shown as a message, and the LLM settings with the key
kept in a keyring (an in-memory backend stands in for the OS keyring)."""
from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtCore import Qt

from buildtrace_desktop.llm.settings import ENV_API_KEY, KEYRING_ACCOUNT, KEYRING_SERVICE, LLMConfig
from buildtrace_desktop.services import projects
from buildtrace_desktop.services.summaries import latest_summaries, summary_versions
from buildtrace_desktop.ui.dialogs import SettingsDialog
from buildtrace_desktop.ui.settings import UserSettings, load_settings, qsettings, save_settings


def _load_summary_helpers():  # noqa: ANN202 - the module
    """tests/summary/summary_helpers.py (the local chat server, the memory keyring), loaded under its own
    name so that it is the same module object the summary tests' conftest uses when both folders run."""
    name = "summary_helpers"
    if name not in sys.modules:
        path = Path(__file__).resolve().parents[1] / "summary" / "summary_helpers.py"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


helpers = _load_summary_helpers()
chat_server = helpers.chat_server  # the fixture: a real HTTP server answering /v1/chat/completions
Answer, completion, error_body = helpers.Answer, helpers.completion, helpers.error_body

WAIT_MS = 120_000  # the waits end as soon as the work does (no timing is asserted)
GOOD = {"summary": "Dimension on AF101 revised and owner-furnished equipment noted.", "items": [
    {"title": "Dimension 167 → 175", "description": "A casework dimension grew from 167 to 175.",
     "kind": "modified", "location": "top centre", "trade": "architectural", "severity": "low", "sheet": "AF101"}]}


@pytest.fixture(autouse=True)
def default_settings() -> Iterator[None]:
    """Every test starts and ends with default QSettings (an LLM server URL must not leak into others)."""
    save_settings(UserSettings())
    yield
    save_settings(UserSettings())


def open_summary(qtbot, window) -> int:  # noqa: ANN001
    """Open the sample comparison, show the Summary tab and wait for the automatic offline summary."""
    comparison_id = projects.list_comparisons(window.app, window.project_pane.current_project_id())[0].id
    window.project_pane.select_comparison(comparison_id)
    assert window.comparison_id == comparison_id
    panel = window.summary_panel
    window.side_tabs.setCurrentWidget(panel)
    qtbot.waitUntil(lambda: panel.shown is not None and not panel.busy, timeout=WAIT_MS)
    return comparison_id


def click(qtbot, button) -> None:  # noqa: ANN001
    assert button.isEnabled(), button.text()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)


def test_opening_a_comparison_makes_and_shows_the_offline_summary(qtbot, window) -> None:  # noqa: ANN001
    panel = window.summary_panel
    comparison_id = projects.list_comparisons(window.app, window.project_pane.current_project_id())[0].id
    window._clear_comparison()
    assert not panel.busy and panel.shown is None
    assert summary_versions(window.app, comparison_id) == []  # the sample has no summary stored yet
    window.open_comparison(comparison_id)
    assert panel.busy and not panel.progress.isHidden()  # running in the background, shown as working
    assert not panel.offline_button.isEnabled()
    qtbot.waitUntil(lambda: panel.shown is not None and not panel.busy, timeout=WAIT_MS)

    text = panel.text.toPlainText()
    assert "AF101" in text and "AF600" in text
    assert "“167” → “175”" in text
    assert panel.text.isReadOnly() and panel.progress.isHidden()
    assert panel.version_combo.currentText() == "offline · v1 · machine"
    assert "offline summary, version 1" in panel.shown_label.text()
    stored = summary_versions(window.app, comparison_id)
    assert [(v.source, v.version, v.edited_by_user) for v in stored] == [("offline", 1, False)]
    assert stored[0].text == text


def test_an_edit_is_saved_as_a_new_version_and_the_machine_version_stays(qtbot, window) -> None:  # noqa: ANN001
    comparison_id = open_summary(qtbot, window)
    panel = window.summary_panel
    machine = panel.shown
    click(qtbot, panel.edit_button)
    assert not panel.text.isReadOnly() and panel.edit_button.text() == "Save"
    assert not panel.llm_button.isEnabled()  # no new summary replaces the text being typed
    panel.text.setPlainText("AF101: casework dimension 167 → 175. Confirm with the architect.")
    click(qtbot, panel.edit_button)

    versions = summary_versions(window.app, comparison_id)
    assert [(v.version, v.edited_by_user) for v in versions] == [(1, False), (2, True)]
    assert versions[0].id == machine.id and versions[0].text == machine.text
    assert versions[1].text.startswith("AF101: casework dimension 167 → 175")
    assert [r.id for r in latest_summaries(window.app, comparison_id)] == [versions[1].id]
    assert panel.shown.id == versions[1].id and panel.text.isReadOnly()
    assert panel.version_combo.currentText() == "offline · v2 · your edit"
    assert "your edit" in panel.shown_label.text() and "(v1) is kept" in panel.shown_label.text()

    panel.version_combo.setCurrentIndex(panel.version_combo.findData(machine.id))  # back to the machine's
    assert panel.text.toPlainText() == machine.text

    window._clear_comparison()  # reopening shows the newest version: the edit
    window.open_comparison(comparison_id)
    assert panel.shown.id == versions[1].id and not panel.busy


def test_llm_settings_key_in_keyring_and_the_llm_button(qtbot, window, chat_server) -> None:  # noqa: ANN001
    comparison_id = open_summary(qtbot, window)
    panel = window.summary_panel
    keyring = helpers.MemoryKeyring()
    panel.keyring_backend = keyring
    key = "sk-ui-test-key-0123456789"

    window.open_settings()
    dialog = window.settings_dialog
    llm = dialog.llm
    llm.model.setText("local-model")
    llm.base_url.setText(chat_server.base_url)
    llm.timeout.setValue(20)
    llm.max_tokens.setValue(50_000)
    llm.key_edit.setText(key)
    dialog.accept()
    assert dialog.result() == SettingsDialog.DialogCode.Accepted

    assert keyring.secrets[(KEYRING_SERVICE, KEYRING_ACCOUNT)] == key
    saved = load_settings().llm
    assert (saved.model, saved.base_url, saved.timeout_s, saved.max_tokens_per_comparison) == (
        "local-model", chat_server.base_url, 20.0, 50_000)
    settings_file = Path(qsettings().fileName())
    assert key not in settings_file.read_text()  # the key is never written to QSettings
    assert panel.llm_config == saved

    chat_server.queue(Answer(200, completion(json.dumps(GOOD), tokens=(3000, 200))))
    click(qtbot, panel.llm_button)
    assert panel.working_label.text() == "Asking the LLM…"
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)

    assert panel.message_text == ""
    assert panel.shown.source == "local-model"
    text = panel.text.toPlainText()
    assert text.startswith(GOOD["summary"]) and "Dimension 167 → 175" in text
    assert "3200 tokens" in panel.shown_label.text()
    assert chat_server.requests[0].headers["authorization"] == f"Bearer {key}"  # the key from the keyring
    assert [r.source for r in latest_summaries(window.app, comparison_id)] == ["offline", "local-model"]
    labels = [panel.version_combo.itemText(i) for i in range(panel.version_combo.count())]
    assert labels == ["offline · v1 · machine", "local-model · v1 · machine"]


def test_a_rejected_key_is_a_clear_message_and_the_offline_summary_stays(qtbot, window, chat_server) -> None:  # noqa: ANN001
    comparison_id = open_summary(qtbot, window)
    panel = window.summary_panel
    offline_text = panel.text.toPlainText()
    panel.llm_config = LLMConfig(model="local-model", base_url=chat_server.base_url, timeout_s=20,
                                 retry_backoff_s=0.01)
    chat_server.queue(Answer(401, error_body("Incorrect API key provided", "invalid_api_key")))
    click(qtbot, panel.llm_button)
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)

    message = panel.message_text
    assert "The API key was rejected: set a new key in Settings." in message
    assert "offline summary is kept" in message and "Traceback" not in message
    assert not panel.message.isHidden()
    assert panel.shown.source == "offline" and panel.text.toPlainText() == offline_text
    assert "“167” → “175”" in offline_text
    assert [r.source for r in latest_summaries(window.app, comparison_id)] == ["offline"]
    assert panel.llm_button.isEnabled()  # the user can fix the key and try again


def test_no_key_for_openai_says_what_to_do(qtbot, window, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.delenv(ENV_API_KEY, raising=False)
    open_summary(qtbot, window)
    panel = window.summary_panel
    panel.keyring_backend = helpers.MemoryKeyring()  # a working keyring holding no key
    panel.llm_config = LLMConfig()  # OpenAI itself: a key is needed, so no request is made
    click(qtbot, panel.llm_button)
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    assert "No LLM API key is set: enter one in Settings" in panel.message_text
    assert panel.shown.source == "offline"


def test_without_a_keyring_the_settings_explain_openai_api_key(qtbot) -> None:  # noqa: ANN001
    dialog = SettingsDialog(UserSettings(), keyring_backend=fail.Keyring())
    qtbot.addWidget(dialog)
    status = dialog.llm.key_status.text()
    assert "No system keyring is available" in status and ENV_API_KEY in status
    assert not dialog.llm.key_edit.isEnabled() and not dialog.llm.store_key_button.isEnabled()

    dialog.llm.base_url.setText("not a url")
    dialog.accept()  # an invalid setting keeps the dialog open with what to fix
    assert dialog.result() != SettingsDialog.DialogCode.Accepted
    assert "is not an http(s) URL" in dialog.error.text()


def test_a_comparison_job_finishing_in_the_window_gets_its_offline_summary(qtbot, window) -> None:  # noqa: ANN001
    project_id = window.project_pane.current_project_id()
    first = projects.list_comparisons(window.app, project_id)[0]
    created = projects.create_comparison(window.app, project_id, first.old_set_id, first.new_set_id)
    window.start_job(created.job_id)  # not opened: the summary is made all the same, in the background
    qtbot.waitUntil(lambda: projects.get_job(window.app, created.job_id).state == "done", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: bool(summary_versions(window.app, created.comparison_id))
                    and not window.summary_panel.busy, timeout=WAIT_MS)
    stored = summary_versions(window.app, created.comparison_id)
    assert [(v.source, v.edited_by_user) for v in stored] == [("offline", False)]
    assert "“167” → “175”" in stored[0].text
    window.open_comparison(created.comparison_id)
    assert window.summary_panel.shown.id == stored[0].id and not window.summary_panel.busy
