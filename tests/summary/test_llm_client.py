"""The LLM summary end to end through the real `openai` client, against a local OpenAI-compatible HTTP
server on 127.0.0.1 that checks what it receives and answers as the test scripts it."""
from __future__ import annotations

import base64
import json
import logging

import cv2
import numpy as np
import pytest
from summary_helpers import SAMPLE, Answer, ChatServer, completion, error_body, report_from_truth

from buildtrace_desktop.llm.client import Budget, estimate_cost, model_price, summarize_with_llm
from buildtrace_desktop.llm.crops import SheetImages, change_crops
from buildtrace_desktop.llm.errors import (
    LLMAuthError,
    LLMBudgetError,
    LLMConfigError,
    LLMInvalidResponseError,
    LLMRateLimitError,
    LLMRefusalError,
    LLMTimeoutError,
)
from buildtrace_desktop.llm.schema import SUMMARY_SCHEMA
from buildtrace_desktop.llm.settings import LLMConfig
from buildtrace_desktop.processing.summary import summarize_report
from buildtrace_desktop.processing.types import PageRef

KEY = "sk-test-0123456789abcdef"

GOOD = {
    "summary": "Two dimensions changed and an owner-furnished equipment note was added.",
    "items": [
        {"title": "Dimension 167 to 175", "description": "Dimension changed 167 → 175.", "kind": "modified",
         "location": "top centre, grid 5–6 / B–C", "trade": "architectural", "severity": "medium",
         "sheet": "AF101"},
        {"title": "OFE note", "description": "Note added: OWNER FURNISHED EQUIPMENT.", "kind": "added",
         "location": "middle left", "trade": "general", "severity": "low", "sheet": "AF600"},
    ],
}


@pytest.fixture(scope="module")
def sample() -> tuple[dict, dict]:
    report, words = report_from_truth(SAMPLE)
    return report, summarize_report(report, words)


def config(server: ChatServer, **overrides) -> LLMConfig:
    values = {"model": "gpt-4o-mini", "base_url": server.base_url, "timeout_s": 1.0, "retry_backoff_s": 0.01,
              "max_retries": 2}
    values.update(overrides)
    return LLMConfig(**values)


def ok_answer(tokens: tuple[int, int] = (1200, 300)) -> Answer:
    return Answer(200, completion(json.dumps(GOOD), tokens=tokens))


def test_valid_answer_and_the_request_it_came_from(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    chat_server.queue(ok_answer())
    result = summarize_with_llm(report, offline, config(chat_server), KEY)

    assert len(chat_server.requests) == 1
    request = chat_server.requests[0]
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == f"Bearer {KEY}"
    body = request.body
    assert body["model"] == "gpt-4o-mini"
    assert body["max_tokens"] == 2000  # a local server: the classic parameter
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert body["response_format"]["json_schema"]["schema"] == SUMMARY_SCHEMA
    system, user = body["messages"]
    assert system["role"] == "system" and "JSON" in system["content"]
    texts = [part["text"] for part in user["content"] if part["type"] == "text"]
    assert not [part for part in user["content"] if part["type"] != "text"]  # images are off by default
    changes = json.loads(texts[0].split("\n", 1)[1])
    af101 = changes["sheets"][0]
    assert af101["sheet"] == "AF101"
    assert {"id": 3, "kind": "modified", "bbox": [1480, 694, 1492, 702], "text_removed": ["167"],
            "text_added": ["175"], "location": "top centre, grid 5–6 / B–C, near “VOLTAGE”"} in af101["changes"]
    assert offline["text"] in texts[1]

    summary = result.summary
    assert summary["source"] == "gpt-4o-mini"
    assert summary["text"] == GOOD["summary"]
    assert summary["items"] == GOOD["items"]
    assert "Dimension changed 167 → 175." in summary["sheets"]["AF101"]
    assert result.usage.tokens_in == 1200 and result.usage.tokens_out == 300
    assert result.usage.cost_usd == pytest.approx(estimate_cost("gpt-4o-mini", 1200, 300))
    assert result.usage.cost_usd == pytest.approx((1200 * 0.15 + 300 * 0.60) / 1e6)
    assert result.notes == []


def test_images_are_sent_as_png_data_urls_within_the_size_limit(chat_server: ChatServer, sample, tmp_path) -> None:
    report, offline = sample
    overlay = tmp_path / "overlay.png"  # a stand-in overlay at 75 dpi, coloured, as the diff stage writes
    width, height = report["sheets"][0]["page_size"]
    cv2.imwrite(str(overlay), np.full((round(height * 75 / 72), round(width * 75 / 72), 3), (40, 90, 200), np.uint8))
    images = {
        0: SheetImages(PageRef(str(SAMPLE / "new.pdf"), 0, 0, "pdf"), PageRef(str(SAMPLE / "old.pdf"), 0, 0, "pdf"),
                       [[1, 0, 0], [0, 1, 0]], str(overlay)),
        1: SheetImages(PageRef(str(SAMPLE / "new.pdf"), 1, 1, "pdf"), PageRef(str(SAMPLE / "old.pdf"), 1, 1, "pdf")),
    }
    crops = change_crops(report, images, max_images=7, max_side=256)
    assert len(crops) == 7
    # Line work first (the biggest: the revision cloud on AF600); overlay first where there is one.
    assert (crops[0].sheet, crops[0].change_index) == ("AF600", 5)
    assert [c.view for c in crops if c.sheet == "AF101"][:3] == ["overlay", "old", "new"]
    assert all(max(c.width, c.height) <= 256 for c in crops)

    chat_server.queue(ok_answer())
    cfg = config(chat_server, send_images=True, max_images=7, image_max_side=256)
    summarize_with_llm(report, offline, cfg, KEY, crops=crops)
    parts = chat_server.requests[0].body["messages"][1]["content"]
    image_parts = [p for p in parts if p["type"] == "image_url"]
    assert len(image_parts) == 7
    for part in image_parts:
        url = part["image_url"]["url"]
        assert url.startswith("data:image/png;base64,")
        pixels = cv2.imdecode(np.frombuffer(base64.b64decode(url.split(",", 1)[1]), np.uint8), cv2.IMREAD_UNCHANGED)
        assert pixels is not None and max(pixels.shape[:2]) <= 256
        assert part["image_url"]["detail"] == "low"
    overlay_crop = next(c for c in crops if c.view == "overlay")
    first = cv2.imdecode(np.frombuffer(overlay_crop.png, np.uint8), cv2.IMREAD_COLOR)
    assert tuple(int(v) for v in first[0, 0]) == (40, 90, 200)  # the overlay crop keeps its colours
    labels = [p["text"] for p in parts if p["type"] == "text" and p["text"].startswith("Image: ")]
    assert labels[:3] == [f"Image: sheet AF600, change 6, {view}" for view in ("old", "new")] + [
        "Image: sheet AF101, change 2, overlay"]


def test_invalid_json_is_asked_again_with_a_stricter_message(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    chat_server.queue(Answer(200, completion('{"summary": "cut off', tokens=(1000, 50))), ok_answer())
    result = summarize_with_llm(report, offline, config(chat_server), KEY)

    assert result.summary["text"] == GOOD["summary"]
    assert len(chat_server.requests) == 2
    retry = chat_server.requests[1].body["messages"]
    assert retry[-2] == {"role": "assistant", "content": '{"summary": "cut off'}
    assert "not valid JSON" in retry[-1]["content"] and "only one JSON object" in retry[-1]["content"]
    assert result.usage.requests == 2 and result.usage.tokens_in == 2200
    assert "asked again" in result.notes[0]


def test_schema_violations_twice_give_up_with_a_clear_message(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    wrong = {"summary": "x", "items": [{**GOOD["items"][0], "severity": "critical"}]}
    chat_server.queue(Answer(200, completion(json.dumps(wrong))))
    with pytest.raises(LLMInvalidResponseError, match="unusable twice .*severity is 'critical'") as caught:
        summarize_with_llm(report, offline, config(chat_server), KEY)
    assert len(chat_server.requests) == 2
    assert caught.value.usage.requests == 2  # what the failed requests cost is still recorded


def test_rate_limit_then_success(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    limited = Answer(429, error_body("Rate limit reached", "rate_limit_exceeded", "requests"),
                     headers={"retry-after": "0"})
    chat_server.queue(limited, ok_answer())
    result = summarize_with_llm(report, offline, config(chat_server), KEY)
    assert result.summary["text"] == GOOD["summary"]
    assert len(chat_server.requests) == 2
    assert result.usage.requests == 1  # the 429 used no tokens


def test_rate_limit_that_never_ends_is_reported(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    chat_server.queue(Answer(429, error_body("Rate limit reached", "rate_limit_exceeded", "requests")))
    with pytest.raises(LLMRateLimitError, match="rate-limiting .* try the summary again"):
        summarize_with_llm(report, offline, config(chat_server, max_retries=2), KEY)
    assert len(chat_server.requests) == 3


def test_no_quota_is_not_retried(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    chat_server.queue(Answer(429, error_body("You exceeded your current quota", "insufficient_quota")))
    with pytest.raises(LLMRateLimitError, match="no quota left"):
        summarize_with_llm(report, offline, config(chat_server), KEY)
    assert len(chat_server.requests) == 1


def test_server_error_then_success(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    chat_server.queue(Answer(503, error_body("overloaded", kind="server_error")), ok_answer())
    result = summarize_with_llm(report, offline, config(chat_server), KEY)
    assert result.summary["items"] == GOOD["items"]
    assert len(chat_server.requests) == 2


def test_rejected_key_is_not_retried_and_says_what_to_do(chat_server: ChatServer, sample, caplog) -> None:
    report, offline = sample
    chat_server.queue(Answer(401, error_body("Incorrect API key provided", "invalid_api_key")))
    caplog.set_level(logging.DEBUG)
    with pytest.raises(LLMAuthError, match="^The API key was rejected: set a new key in Settings.$"):
        summarize_with_llm(report, offline, config(chat_server), KEY)
    assert len(chat_server.requests) == 1
    assert KEY not in caplog.text  # not even the openai client's debug log shows the key


def test_slow_server_times_out_is_retried_once_then_reported(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    chat_server.queue(Answer(200, completion(json.dumps(GOOD)), delay_s=2.5))
    with pytest.raises(LLMTimeoutError, match="did not answer within 1 s, twice"):
        summarize_with_llm(report, offline, config(chat_server, timeout_s=1.0), KEY)
    assert len(chat_server.requests) == 2


def test_slow_once_then_fast_succeeds(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    chat_server.queue(Answer(200, completion(json.dumps(GOOD)), delay_s=2.5), ok_answer())
    result = summarize_with_llm(report, offline, config(chat_server, timeout_s=1.0), KEY)
    assert result.summary["text"] == GOOD["summary"]
    assert "timed out" in result.notes[0]


def test_refusal_is_reported_not_retried(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    chat_server.queue(Answer(200, completion(None, refusal="I can't help with that.")))
    with pytest.raises(LLMRefusalError, match="refused to summarise \\(I can't help with that.\\)"):
        summarize_with_llm(report, offline, config(chat_server), KEY)
    assert len(chat_server.requests) == 1


def test_server_without_vision_gets_the_request_again_without_images(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    crops = change_crops(report, {0: SheetImages(PageRef(str(SAMPLE / "new.pdf"), 0, 0, "pdf"))}, max_images=2)
    chat_server.queue(Answer(400, error_body("image input is not supported by this model")), ok_answer())
    result = summarize_with_llm(report, offline, config(chat_server, send_images=True), KEY, crops=crops)
    first, second = (r.body["messages"][1]["content"] for r in chat_server.requests)
    assert any(p["type"] == "image_url" for p in first)
    assert not any(p["type"] == "image_url" for p in second)
    assert "refused the images" in result.notes[0]


def test_budget_stops_before_any_request(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    chat_server.queue(ok_answer())
    with pytest.raises(LLMBudgetError, match="limit of 3000 tokens per comparison"):
        summarize_with_llm(report, offline, config(chat_server, max_tokens_per_comparison=3000), KEY)
    with pytest.raises(LLMBudgetError, match=r"limit of \$0.01 per comparison \(\$0.009 used\)"):
        summarize_with_llm(report, offline, config(chat_server, max_cost_usd=0.01), KEY,
                           budget=Budget(tokens=0, cost_usd=0.009))
    assert chat_server.requests == []


def test_budget_counts_the_first_request_before_a_retry(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    # The first (invalid) answer reports 9000 tokens: the retry would pass the 12000-token limit.
    chat_server.queue(Answer(200, completion("not json", tokens=(8000, 1000))))
    with pytest.raises(LLMBudgetError) as caught:
        summarize_with_llm(report, offline, config(chat_server, max_tokens_per_comparison=12000), KEY)
    assert len(chat_server.requests) == 1
    assert caught.value.usage.tokens_in == 8000


def test_unknown_model_costs_zero_with_a_note(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    chat_server.queue(ok_answer())
    result = summarize_with_llm(report, offline, config(chat_server, model="llama-3.1-8b-instruct"), None)
    assert result.usage.cost_usd == 0.0
    assert "No price is known for model llama-3.1-8b-instruct" in result.notes[0]
    assert result.summary["source"] == "llama-3.1-8b-instruct"
    # A local server without a key still gets a syntactically valid bearer token.
    assert chat_server.requests[0].headers["authorization"] == "Bearer no-key"


def test_price_table() -> None:
    assert model_price("gpt-4o-mini-2024-07-18") == model_price("gpt-4o-mini")
    assert model_price("gpt-4o-2024-08-06") == model_price("gpt-4o")
    assert model_price("openai/gpt-4.1-mini") == model_price("gpt-4.1-mini")
    assert model_price("mistral-7b") is None
    assert estimate_cost("gpt-4o", 1_000_000, 1_000_000) == pytest.approx(12.5)


def test_openai_without_a_key_is_a_config_error() -> None:
    with pytest.raises(LLMConfigError, match="No OpenAI API key"):
        summarize_with_llm({"sheets": []}, {"text": ""}, LLMConfig(), None)


def test_unreachable_server_is_reported(sample) -> None:
    report, offline = sample
    server = ChatServer()  # bound but never serving: connections are refused once it is closed
    url = server.base_url
    server.httpd.server_close()
    from buildtrace_desktop.llm.errors import LLMConnectionError

    with pytest.raises(LLMConnectionError, match="Cannot reach the LLM server"):
        summarize_with_llm(report, offline, LLMConfig(model="m", base_url=url, timeout_s=1, retry_backoff_s=0.01),
                           KEY)


def test_server_without_structured_outputs_gets_plain_json_mode(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    chat_server.queue(Answer(400, error_body("response_format json_schema is not supported")), ok_answer())
    result = summarize_with_llm(report, offline, config(chat_server), KEY)
    first, second = (r.body for r in chat_server.requests)
    assert first["response_format"]["type"] == "json_schema"
    assert second["response_format"] == {"type": "json_object"}
    assert second["messages"][-1]["content"].startswith("Answer with one JSON object that matches this JSON schema")
    assert result.summary["items"] == GOOD["items"]
    assert "refused the JSON schema" in result.notes[0]


def test_a_request_the_server_keeps_refusing_is_reported(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    chat_server.queue(Answer(400, error_body("context length exceeded")))
    from buildtrace_desktop.llm.errors import LLMRequestError

    with pytest.raises(LLMRequestError, match=r"rejected the request \(HTTP 400: context length exceeded\)"):
        summarize_with_llm(report, offline, config(chat_server), KEY)
    assert len(chat_server.requests) == 2


def test_unknown_model_is_reported(chat_server: ChatServer, sample) -> None:
    report, offline = sample
    chat_server.queue(Answer(404, error_body("The model `gpt-9` does not exist", "model_not_found")))
    from buildtrace_desktop.llm.errors import LLMRequestError

    with pytest.raises(LLMRequestError, match="Model gpt-9 was not found at http://127.0.0.1"):
        summarize_with_llm(report, offline, config(chat_server, model="gpt-9"), KEY)
