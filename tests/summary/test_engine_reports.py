"""The offline summary of reports the real engine produced (the lead's pipeline, as `buildtrace compare`
runs it): every change the engine found appears, with its text, and the true changes' texts are there."""
from __future__ import annotations

import json
from pathlib import Path

import pymupdf
import pytest
from summary_helpers import CORPUS, SAMPLE, Answer, ChatServer, completion

from buildtrace_desktop.llm.settings import LLMConfig
from buildtrace_desktop.processing import pipeline
from buildtrace_desktop.processing.report import build_report
from buildtrace_desktop.processing.summary import MAX_TEXT_CHARS, summarize_report
from buildtrace_desktop.processing.types import CompareSettings
from buildtrace_desktop.services.summaries import (
    report_images,
    report_pages,
    report_words,
    summary_for_report,
)


def run_engine(case: Path, out_dir: Path | None = None):  # noqa: ANN201 (report, pages, results)
    """What `buildtrace compare` does: pages, sheets, matches, pair results, the report dict."""
    settings = CompareSettings()
    old = pipeline.list_pages([str(case / "old.pdf")])
    new = pipeline.list_pages([str(case / "new.pdf")])
    old_infos = [pipeline.read_sheet(p, settings) for p in old]
    new_infos = [pipeline.read_sheet(p, settings) for p in new]
    matches = pipeline.match_sheets(old_infos, new_infos)
    results = {(m.old_index, m.new_index): pipeline.compare_pair(old[m.old_index], new[m.new_index], settings,
                                                                 out_dir=out_dir, name=f"pair_{i}")
               for i, m in enumerate(matches) if m.status == "matched"}
    sets = [{"path": str(case / f"{n}.pdf"), "sha256": "", "pages": len(p)} for n, p in (("old", old), ("new", new))]
    return build_report(*sets, old_infos, new_infos, matches, results), old, new, results


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory):  # noqa: ANN201
    """The sample compared once for this module, with its overlay PNGs."""
    return run_engine(SAMPLE, tmp_path_factory.mktemp("sample_run"))


def new_page_words(case: Path, report: dict) -> dict[int, list]:
    words = {}
    with pymupdf.open(case / "new.pdf") as doc:
        for position, sheet in enumerate(report["sheets"]):
            if sheet["new_page"] is not None:
                words[position] = [tuple(w[:5]) for w in doc[sheet["new_page"]].get_text("words")]
    return words


def check_summary(case: Path, report: dict) -> dict:
    words = new_page_words(case, report)
    summary = summarize_report(report, words)
    assert len(summary["items"]) == sum(len(s["changes"]) for s in report["sheets"])
    for key, sheet in zip(summary["sheets"], report["sheets"], strict=True):
        for change in sheet["changes"]:
            for side in ("text_removed", "text_added"):
                phrase = " ".join(change[side])
                if phrase and len(phrase) <= MAX_TEXT_CHARS:
                    assert phrase in summary["sheets"][key], (key, phrase)
                elif phrase:  # a long block of text is cut, but starts the same
                    assert change[side][0] in summary["sheets"][key]
    truth = json.loads((case / "truth.json").read_text())
    all_text = summary["text"]
    for sheet in truth["sheets"]:
        for change in sheet.get("changes", []):
            for side in ("text_removed", "text_added"):
                if change.get(side):
                    assert " ".join(change[side]) in all_text, (sheet["sheet_number"], change)
    return summary


def test_summary_of_the_engine_report_on_the_sample(sample_run) -> None:
    summary = check_summary(SAMPLE, sample_run[0])
    assert "dimension increased “167” → “175”" in summary["sheets"]["AF101"]


def test_location_context_from_the_diff_stage_gives_the_summary_of_the_whole_pages(sample_run) -> None:
    """The diff stage keeps only the grid lines and the phrases near its changes; the summary made from
    them must say exactly what the summary made from every word of the pages says."""
    report, _old, _new, results = sample_run
    contexts = {i: results[(s["old_page"], s["new_page"])].location_context
                for i, s in enumerate(report["sheets"]) if s["changes"]}
    assert contexts and all(c is not None and c["phrases"] for c in contexts.values())
    from_contexts = summarize_report(report, None, contexts)
    assert from_contexts == summarize_report(report, new_page_words(SAMPLE, report))
    assert "near “" in from_contexts["text"]  # the contexts did name labels


def test_llm_summary_of_an_engine_report_sends_its_crops(sample_run, chat_server: ChatServer) -> None:
    """The CLI's door: summary_for_report with the words and pictures of a real compare run."""
    report, old, new, results = sample_run
    words = report_words(report_pages(report, old, new)[1])
    images = report_images(report, old, new, results)
    assert all(Path(i.overlay_png).is_file() for i in images.values())
    answer = {"summary": "Changes on AF101 and AF600.", "items": []}
    chat_server.queue(Answer(200, completion(json.dumps(answer))))
    config = LLMConfig(model="gpt-4.1-mini", base_url=chat_server.base_url, timeout_s=2, send_images=True,
                       max_images=6, image_max_side=384)
    summary = summary_for_report(report, "llm", config, api_key="sk-test-123456789", words=words, images=images)

    assert summary["source"] == "gpt-4.1-mini" and summary["text"] == answer["summary"]
    assert "grid 5–6 / B–C" in summary["offline"]["sheets"]["AF101"]
    parts = chat_server.requests[0].body["messages"][1]["content"]
    views = [p["text"].rsplit(", ", 1)[1] for p in parts if p["type"] == "text" and p["text"].startswith("Image: ")]
    assert len(views) == 6 and views[:3] == ["overlay", "old", "new"]
    assert len([p for p in parts if p["type"] == "image_url"]) == 6


@pytest.mark.corpus
def test_summary_of_the_engine_report_with_added_and_removed_sheets() -> None:
    case = CORPUS / "edits" / "lily_shuffled"
    summary = check_summary(case, run_engine(case)[0])
    assert "“VERIFY EXISTING CONDITIONS IN FIELD”" in summary["text"]
