"""Summaries of stored comparisons: a real SQLite data folder, the sample sets compared by the real job
runner, the offline summary stored and versioned, user edits kept beside the machine's version, and the LLM
summary through the real openai client against the local test server."""
from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from keyring.backends import fail
from sqlalchemy import select
from summary_helpers import SAMPLE, Answer, ChatServer, completion, error_body

from buildtrace_desktop.db.models import Summary
from buildtrace_desktop.errors import BadInputError
from buildtrace_desktop.jobs.runner import JobRunner
from buildtrace_desktop.llm.settings import LLMConfig
from buildtrace_desktop.services import AppContext
from buildtrace_desktop.services import projects as P
from buildtrace_desktop.services.summaries import (
    edit_summary,
    latest_summaries,
    llm_usage,
    summarize_comparison,
    summary_for_report,
    summary_versions,
)

GOOD = {"summary": "A dimension and a note changed.", "items": [
    {"title": "Dimension 167 → 175", "description": "Dimension changed 167 → 175.", "kind": "modified",
     "location": "top centre", "trade": "architectural", "severity": "low", "sheet": "AF101"}]}


@pytest.fixture(scope="module")
def compared(tmp_path_factory) -> Iterator[tuple[AppContext, int, int, int]]:
    """A data folder with the sample's two sets, and a project id, to compare them again cheaply."""
    app = AppContext(tmp_path_factory.mktemp("home"))
    project = P.create_project(app, "VA sample")
    old = P.import_drawing_set(app, project.id, [SAMPLE / "old.pdf"], "Rev 1", ingest=False)
    new = P.import_drawing_set(app, project.id, [SAMPLE / "new.pdf"], "Rev 2", ingest=False)
    yield app, project.id, old.set_id, new.set_id
    app.close()


@pytest.fixture
def comparison(compared) -> tuple[AppContext, int]:
    """A finished comparison of the sample (the pair results are cached after the first one)."""
    app, project_id, old_id, new_id = compared
    created = P.create_comparison(app, project_id, old_id, new_id)
    runner = JobRunner(app, in_process=True)
    try:
        runner.submit(created.job_id)
        assert runner.wait(created.job_id, timeout=300) == "done"
    finally:
        runner.shutdown()
    return app, created.comparison_id


def llm_config(server: ChatServer, **overrides) -> LLMConfig:
    values = {"model": "gpt-4o-mini", "base_url": server.base_url, "timeout_s": 1.0, "retry_backoff_s": 0.01}
    return LLMConfig(**{**values, **overrides})


def test_offline_summary_is_stored_once_and_names_the_changed_text(comparison) -> None:
    app, comparison_id = comparison
    outcome = summarize_comparison(app, comparison_id)
    record = outcome.offline
    assert (record.source, record.version, record.edited_by_user) == ("offline", 1, False)
    assert "dimension increased “167” → “175”" in record.text
    assert "“OWNER FURNISHED EQUIPMENT”" in record.text and "“PT-2 AT COLUMNS”" in record.text
    assert record.data["sheets"]["AF101"].startswith("AF101 FIRST FLOOR FINISH PLAN:")
    assert "grid 5–6 / B–C" in record.text  # words came from the stored new PDF
    assert outcome.llm is None and outcome.llm_error is None

    again = summarize_comparison(app, comparison_id)  # a re-run (job resume) adds no duplicate
    assert again.offline.id == record.id
    with app.db.read() as s:
        rows = s.scalars(select(Summary).where(Summary.comparison_id == comparison_id)).all()
    assert len(rows) == 1 and rows[0].data_json["source"] == "offline"


def test_user_edit_is_a_new_version_and_the_machine_version_stays(comparison) -> None:
    app, comparison_id = comparison
    machine = summarize_comparison(app, comparison_id).offline
    edited = edit_summary(app, machine.id, "Dimension 167 → 175 on AF101; check the casework.")
    assert (edited.version, edited.edited_by_user, edited.source) == (2, True, "offline")
    assert edited.data["edited_from"] == machine.id

    versions = summary_versions(app, comparison_id)
    assert [(v.version, v.edited_by_user) for v in versions] == [(1, False), (2, True)]
    assert versions[0].text == machine.text
    assert [r.id for r in latest_summaries(app, comparison_id)] == [edited.id]
    # Summarising again keeps the edit as the newest version: the machine text did not change.
    assert summarize_comparison(app, comparison_id).offline.id == machine.id
    assert latest_summaries(app, comparison_id)[0].text.startswith("Dimension 167 → 175 on AF101")
    with pytest.raises(BadInputError, match="empty"):
        edit_summary(app, machine.id, "  ")
    with pytest.raises(BadInputError, match="no summary with id"):
        edit_summary(app, 10**6, "x")


def test_llm_summary_is_stored_with_tokens_and_cost(comparison, chat_server: ChatServer) -> None:
    app, comparison_id = comparison
    chat_server.queue(Answer(200, completion(json.dumps(GOOD), tokens=(5000, 400))))
    cfg = llm_config(chat_server, send_images=True, max_images=3)
    outcome = summarize_comparison(app, comparison_id, mode="llm", llm_config=cfg, api_key="sk-test-key-123456")

    assert outcome.llm_error is None
    llm = outcome.llm
    assert (llm.source, llm.version, llm.tokens_in, llm.tokens_out) == ("gpt-4o-mini", 1, 5000, 400)
    assert llm.cost_usd == pytest.approx((5000 * 0.15 + 400 * 0.60) / 1e6)
    assert llm.text == GOOD["summary"] and llm.data["items"] == GOOD["items"]
    assert outcome.best == llm
    parts = chat_server.requests[0].body["messages"][1]["content"]
    images = [p for p in parts if p["type"] == "image_url"]
    labels = [p["text"] for p in parts if p["type"] == "text" and p["text"].startswith("Image: ")]
    assert len(images) == 3
    assert labels[0].endswith(", overlay")  # cut from the overlay PNG the diff stage stored
    assert [r.source for r in latest_summaries(app, comparison_id)] == ["offline", "gpt-4o-mini"]
    assert llm_usage(app, comparison_id).tokens == 5400


def test_llm_failure_keeps_the_offline_summary_and_says_what_to_do(comparison, chat_server: ChatServer) -> None:
    app, comparison_id = comparison
    chat_server.queue(Answer(401, error_body("Incorrect API key provided", "invalid_api_key")))
    outcome = summarize_comparison(app, comparison_id, mode="llm", llm_config=llm_config(chat_server),
                                   api_key="sk-wrong-key-123456")
    assert outcome.llm is None
    assert outcome.llm_error == "The API key was rejected: set a new key in Settings."
    assert outcome.best.source == "offline" and "“175”" in outcome.best.text
    assert [r.source for r in latest_summaries(app, comparison_id)] == ["offline"]


def test_failed_requests_count_against_the_comparison_limit(comparison, chat_server: ChatServer) -> None:
    app, comparison_id = comparison
    chat_server.queue(Answer(200, completion("not json at all", tokens=(6000, 500))))
    cfg = llm_config(chat_server, max_tokens_per_comparison=28_000, max_output_tokens=1000)
    first = summarize_comparison(app, comparison_id, mode="llm", llm_config=cfg, api_key="sk-test-key-123456")
    assert "unusable twice" in first.llm_error
    assert llm_usage(app, comparison_id).tokens == 13_000  # two answers of 6500 tokens
    assert [r.source for r in latest_summaries(app, comparison_id)] == ["offline"]

    requests_before = len(chat_server.requests)
    second = summarize_comparison(app, comparison_id, mode="llm", llm_config=cfg, api_key="sk-test-key-123456")
    third = summarize_comparison(app, comparison_id, mode="llm", llm_config=cfg, api_key="sk-test-key-123456")
    assert "unusable twice" in second.llm_error
    assert "limit of 28000 tokens per comparison (26000 used)" in third.llm_error
    assert len(chat_server.requests) == requests_before + 2  # the third run sent nothing


def test_no_key_and_no_keyring_is_reported(comparison, monkeypatch) -> None:
    app, comparison_id = comparison
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)  # this machine's environment must not matter
    outcome = summarize_comparison(app, comparison_id, mode="llm", llm_config=LLMConfig(),
                                   keyring_backend=fail.Keyring())
    assert outcome.llm is None and outcome.offline.source == "offline"
    assert outcome.llm_error.startswith("No system keyring is available on this computer (no keyring backend)")
    assert "Set OPENAI_API_KEY in the environment" in outcome.llm_error


def test_summary_for_report_keeps_the_offline_summary(chat_server: ChatServer) -> None:
    from summary_helpers import report_from_truth

    report, words = report_from_truth(SAMPLE)
    offline = summary_for_report(report, words=words)
    assert offline["source"] == "offline" and "“PT-2 AT COLUMNS”" in offline["text"]

    chat_server.queue(Answer(200, completion(json.dumps(GOOD))))
    llm = summary_for_report(report, "llm", llm_config(chat_server), api_key="sk-test-key-123456", words=words)
    assert llm["source"] == "gpt-4o-mini" and llm["text"] == GOOD["summary"]
    assert llm["offline"] == offline
    assert llm["usage"]["tokens_in"] == 1200

    chat_server.answers[:] = [Answer(401, error_body("bad key"))]
    failed = summary_for_report(report, "llm", llm_config(chat_server), api_key="sk-x-123456789", words=words)
    assert failed["source"] == "offline" and failed["text"] == offline["text"]
    assert failed["llm_error"] == "The API key was rejected: set a new key in Settings."
    with pytest.raises(BadInputError, match="--summary must be one of offline, llm"):
        summary_for_report(report, "cloud")


def test_unfinished_comparison_is_refused_with_what_to_do(compared) -> None:
    app, project_id, old_id, new_id = compared
    pending = P.create_comparison(app, project_id, old_id, new_id)  # its job never ran
    with pytest.raises(BadInputError, match="not finished: run or retry its job first"):
        summarize_comparison(app, pending.comparison_id)
    with pytest.raises(BadInputError, match="--summary must be one of"):
        summarize_comparison(app, pending.comparison_id, mode="gpt")
    assert latest_summaries(app, pending.comparison_id) == []
