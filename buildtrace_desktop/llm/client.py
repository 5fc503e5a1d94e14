"""The LLM summary: one chat completion through the `openai` client, with a JSON schema, retries and a budget.

    result = summarize_with_llm(report, offline_summary, config, api_key, crops=[...], budget=Budget())
    result.summary  # {"source": model, "text", "sheets", "items", "usage", "notes"}

What is retried (the openai client's own retries are off, so this is the whole policy):
- invalid or truncated JSON: once, with a stricter message;
- 429 (not "insufficient_quota") and 5xx: up to `config.max_retries` times, waiting `retry_backoff_s`
  doubling (or the server's Retry-After, up to 30 s);
- timeout and connection errors: once;
- 400 with images: once without images (many local servers have no vision); then 400 again: once with
  response_format "json_object" and the schema in the prompt (servers without structured outputs);
- 401 / 403, 404, other 4xx, refusals: never; each raises an LLMError whose message says what to do.
Every request is checked against the per-comparison token and cost limit first. The key is never logged.
"""
from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import openai

from buildtrace_desktop.llm.crops import ImageCrop
from buildtrace_desktop.llm.errors import (
    LLMAuthError,
    LLMBudgetError,
    LLMConfigError,
    LLMConnectionError,
    LLMError,
    LLMInvalidResponseError,
    LLMRateLimitError,
    LLMRefusalError,
    LLMRequestError,
    LLMTimeoutError,
)
from buildtrace_desktop.llm.schema import RESPONSE_FORMAT, SUMMARY_SCHEMA, parse_summary_json
from buildtrace_desktop.llm.settings import ApiKey, LLMConfig
from buildtrace_desktop.llm.usage import Budget, Usage, estimate_cost, model_price
from buildtrace_desktop.processing.summary import sheet_keys

IMAGE_TOKENS = 85  # one crop at detail "low" (at most 512 px): OpenAI's fixed price
CHARS_PER_TOKEN = 3.0  # a cautious estimate for JSON (real English text is about 4)
MAX_RETRY_AFTER_S = 30.0

SYSTEM_PROMPT = """\
You summarise a revision of construction drawings for a project engineer.
You get the changes a drawing comparison found, as JSON: per sheet, changes with kind (added, removed,
modified), an id, bbox in PDF points of the NEW sheet (origin top-left), text_removed and text_added (words that
disappeared or appeared there) and a location in words. Image crops may follow: "overlay" shows ink only in
the old sheet and ink only in the new sheet in distinct colours over common ink; "old" and "new" are the
sheets themselves around the change.
Answer only with a JSON object that matches the given schema:
- "summary": 2 to 6 sentences: what changed overall and what it affects.
- "items": one item per change, or per group of changes that are one thing (a moved door, a re-dimensioned
  wall), on the sheet where it is, using the sheet numbers given. Quote changed text and values exactly,
  old -> new. "trade": architectural, structural, mechanical, electrical, plumbing, fire protection, civil or
  general. "severity": high when it can affect structure, life safety, code compliance, cost or schedule;
  medium when another trade or the site must act; low for notes, tags and drafting.
Do not invent changes that are not in the input."""

STRICTER_PROMPT = (
    "Your previous answer could not be used: {reason}. Answer again with only one JSON object that "
    "matches the schema exactly: keys 'summary' (string) and 'items' (list of objects with exactly the "
    "keys title, description, kind, location, trade, severity, sheet; kind one of added/removed/modified; "
    "severity one of low/medium/high). No code fence, no text before or after the JSON."
)


JSON_OBJECT_FORMAT: dict[str, Any] = {"type": "json_object"}
SCHEMA_IN_PROMPT = "Answer with one JSON object that matches this JSON schema:\n" + json.dumps(SUMMARY_SCHEMA)


@dataclass
class LLMResult:
    summary: dict[str, Any]
    usage: Usage
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- the request


def changes_payload(report: Mapping[str, Any], offline: Mapping[str, Any]) -> dict[str, Any]:
    """The structured changes the model reads: sheets, their status, and each change with its location."""
    locations = {(item["sheet"], item["index"]): item.get("location", "") for item in offline.get("items", [])}
    sheets = list(report.get("sheets") or [])
    out = []
    for key, sheet in zip(sheet_keys(sheets), sheets, strict=True):
        out.append({
            "sheet": key,
            "title": sheet.get("title"),
            "status": sheet.get("status", "matched"),
            "renumbered_from": sheet.get("old_sheet_number") if sheet.get("renumbered") else None,
            "page_size_points": sheet.get("page_size"),
            "warnings": sheet.get("warnings") or [],
            "changes": [
                {
                    "id": change.get("id", i + 1),
                    "kind": change.get("kind"),
                    "bbox": [round(float(v)) for v in change["bbox"]],
                    "text_removed": change.get("text_removed") or [],
                    "text_added": change.get("text_added") or [],
                    "location": locations.get((key, i), ""),
                }
                for i, change in enumerate(sheet.get("changes") or [])
            ],
        })
    return {"sheets": out}


def build_messages(payload: Mapping[str, Any], offline_text: str, crops: Sequence[ImageCrop]) -> list[dict]:
    """System and user messages; the user message has the JSON, the offline summary and the crops."""
    parts: list[dict[str, Any]] = [
        {"type": "text", "text": "Changes found by the comparison (JSON):\n" + json.dumps(payload, ensure_ascii=False)},
        {"type": "text", "text": "The offline summary, for reference:\n" + offline_text},
    ]
    for crop in crops:
        parts.append({"type": "text", "text": f"Image: sheet {crop.sheet}, change {crop.change_id}, {crop.view}"})
        parts.append({"type": "image_url", "image_url": {"url": crop.data_url, "detail": "low"}})
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": parts}]


def estimate_input_tokens(messages: Sequence[Mapping[str, Any]]) -> int:
    chars = 0
    images = 0
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            chars += len(content)
            continue
        for part in content:
            if part["type"] == "text":
                chars += len(part["text"])
            else:
                images += 1
    return int(chars / CHARS_PER_TOKEN) + images * IMAGE_TOKENS + 10 * len(messages)


def _strip_images(messages: list[dict]) -> list[dict]:
    out = []
    for message in messages:
        content = message["content"]
        if isinstance(content, list):
            content = [p for p in content if p["type"] == "text" and not p["text"].startswith("Image: ")]
        out.append({**message, "content": content})
    return out


# ---------------------------------------------------------------- one summary, with its retries


class _Run:
    """The state of one summary request: messages, usage, and which retries are spent."""

    def __init__(self, config: LLMConfig, api_key: ApiKey | str | None, budget: Budget) -> None:
        self.config = config
        self.budget = budget
        self.usage = Usage()
        self.notes: list[str] = []
        self.response_format: dict[str, Any] = RESPONSE_FORMAT
        if model_price(config.model) is None:
            self.notes.append(
                f"No price is known for model {config.model}: its cost is recorded as 0 and only the "
                "token limit applies."
            )
        key = api_key.value if isinstance(api_key, ApiKey) else api_key
        if not key and config.is_openai:
            raise LLMConfigError("No OpenAI API key is set: enter one in Settings or set OPENAI_API_KEY.")
        # Local OpenAI-compatible servers often need no key, but the client insists on one.
        self.client = openai.OpenAI(
            api_key=key or "no-key", base_url=config.effective_base_url, timeout=config.timeout_s, max_retries=0
        )

    def close(self) -> None:
        self.client.close()

    def check_budget(self, messages: Sequence[Mapping[str, Any]]) -> None:
        """Raise LLMBudgetError when this request, at its largest, would pass a per-comparison limit."""
        cfg = self.config
        projected_in = estimate_input_tokens(messages)
        spent_tokens = self.budget.tokens + self.usage.tokens_in + self.usage.tokens_out
        if spent_tokens + projected_in + cfg.max_output_tokens > cfg.max_tokens_per_comparison:
            raise LLMBudgetError(
                f"The LLM summary stopped: this request (about {projected_in} tokens in, up to "
                f"{cfg.max_output_tokens} out) would pass the limit of {cfg.max_tokens_per_comparison} tokens "
                f"per comparison ({spent_tokens} used). Raise the limit in Settings or turn images off."
            )
        spent_usd = self.budget.cost_usd + self.usage.cost_usd
        projected_usd = estimate_cost(cfg.model, projected_in, cfg.max_output_tokens)
        if spent_usd + projected_usd > cfg.max_cost_usd:
            raise LLMBudgetError(
                f"The LLM summary stopped: this request could cost about ${projected_usd:.3f}, which would pass "
                f"the limit of ${cfg.max_cost_usd:.2f} per comparison (${spent_usd:.3f} used). Raise the "
                "limit in Settings, choose a cheaper model or turn images off."
            )

    def record(self, response: Any, messages: Sequence[Mapping[str, Any]]) -> None:
        usage = getattr(response, "usage", None)
        tokens_in = getattr(usage, "prompt_tokens", None) if usage else None
        tokens_out = getattr(usage, "completion_tokens", None) if usage else None
        if tokens_in is None or tokens_out is None:
            self.usage.estimated = True
            content = response.choices[0].message.content if response.choices else ""
            tokens_in = estimate_input_tokens(messages)
            tokens_out = int(len(content or "") / CHARS_PER_TOKEN)
        self.usage.tokens_in += tokens_in
        self.usage.tokens_out += tokens_out
        self.usage.cost_usd += estimate_cost(self.config.model, tokens_in, tokens_out)
        self.usage.requests += 1

    def request(self, messages: list[dict]) -> Any:
        cfg = self.config
        # OpenAI's newer models take max_completion_tokens only; most local servers know only max_tokens.
        token_arg = "max_completion_tokens" if cfg.is_openai else "max_tokens"
        return self.client.chat.completions.create(
            model=cfg.model,
            messages=messages,  # type: ignore[arg-type]
            response_format=self.response_format,  # type: ignore[arg-type]
            **{token_arg: cfg.max_output_tokens},
        )


def _attach_usage(error: LLMError, run: _Run) -> None:
    error.usage = run.usage  # the caller records what failed requests cost
    error.notes = list(run.notes)


def _retry_wait(run: _Run, attempt: int, error: openai.APIStatusError | None = None) -> float:
    wait = run.config.retry_backoff_s * (2**attempt)
    header = error.response.headers.get("retry-after") if error is not None else None
    try:
        if header is not None:
            wait = max(wait, min(MAX_RETRY_AFTER_S, float(header)))
    except ValueError:
        pass
    return wait


def _status_message(error: openai.APIStatusError) -> str:
    """The server's own error text (never contains our key: we do not echo request headers)."""
    body = error.body if isinstance(error.body, dict) else {}
    detail = body.get("message") or (body.get("error") or {}).get("message") if body else None
    return str(detail or error.message)[:300]


def summarize_with_llm(
    report: Mapping[str, Any],
    offline: Mapping[str, Any],
    config: LLMConfig,
    api_key: ApiKey | str | None,
    crops: Sequence[ImageCrop] = (),
    budget: Budget | None = None,
) -> LLMResult:
    """Ask the model for the summary. Raises an LLMError (with `.usage`) when it cannot get a valid one."""
    run = _Run(config, api_key, budget or Budget())
    try:
        messages = build_messages(changes_payload(report, offline), str(offline.get("text", "")), crops)
        data = _ask(run, messages, has_images=bool(crops))
    except LLMError as error:
        _attach_usage(error, run)
        raise
    finally:
        run.close()
    return LLMResult(_summary_dict(data, run, config), run.usage, run.notes)


def _ask(run: _Run, messages: list[dict], has_images: bool) -> dict[str, Any]:  # noqa: C901 (one policy table)
    cfg = run.config
    server_retries = 0
    used = {"invalid": False, "timeout": False, "connection": False}
    while True:
        run.check_budget(messages)
        try:
            response = run.request(messages)
        except openai.AuthenticationError:
            raise LLMAuthError("The API key was rejected: set a new key in Settings.") from None
        except openai.PermissionDeniedError as error:
            raise LLMAuthError(
                f"The API key has no access to model {cfg.model} ({_status_message(error)}): "
                "choose another model or set a new key in Settings."
            ) from None
        except openai.RateLimitError as error:
            body = error.body if isinstance(error.body, dict) else {}
            if "insufficient_quota" in json.dumps(body):
                raise LLMRateLimitError(
                    "The account behind the API key has no quota left: add credit or use another key."
                ) from None
            if server_retries >= cfg.max_retries:
                raise LLMRateLimitError(
                    f"The LLM server is rate-limiting requests ({server_retries + 1} tries): "
                    "try the summary again in a few minutes."
                ) from None
            time.sleep(_retry_wait(run, server_retries, error))
            server_retries += 1
            continue
        except openai.APITimeoutError:
            if used["timeout"]:
                raise LLMTimeoutError(
                    f"The model did not answer within {cfg.timeout_s:g} s, twice: try again later, raise the "
                    "timeout in Settings, or check the server."
                ) from None
            used["timeout"] = True
            run.notes.append("the first request timed out and was sent again")
            continue
        except openai.APIConnectionError:
            if used["connection"]:
                raise LLMConnectionError(
                    f"Cannot reach the LLM server at {cfg.effective_base_url}: check the network or that the "
                    "local server is running, and the base URL in Settings."
                ) from None
            used["connection"] = True
            time.sleep(_retry_wait(run, 0))
            continue
        except openai.APIStatusError as error:
            if error.status_code >= 500:
                if server_retries >= cfg.max_retries:
                    raise LLMConnectionError(
                        f"The LLM server failed {server_retries + 1} times (HTTP {error.status_code}: "
                        f"{_status_message(error)}): try again later."
                    ) from None
                time.sleep(_retry_wait(run, server_retries, error))
                server_retries += 1
                continue
            if error.status_code == 400 and has_images:
                has_images = False
                messages = _strip_images(messages)
                run.notes.append(f"the server refused the images ({_status_message(error)}); sent without them")
                continue
            if error.status_code == 400 and run.response_format is RESPONSE_FORMAT:
                run.response_format = JSON_OBJECT_FORMAT
                messages = [*messages, {"role": "user", "content": SCHEMA_IN_PROMPT}]
                run.notes.append(f"the server refused the JSON schema ({_status_message(error)}); asked for "
                                 "plain JSON with the schema in the prompt")
                continue
            if error.status_code == 404:
                raise LLMRequestError(
                    f"Model {cfg.model} was not found at {cfg.effective_base_url}: check the model name and "
                    "base URL in Settings."
                ) from None
            raise LLMRequestError(
                f"The LLM server rejected the request (HTTP {error.status_code}: {_status_message(error)}): "
                "check the model and base URL in Settings."
            ) from None
        run.record(response, messages)
        try:
            return _answer(response)
        except LLMInvalidResponseError as error:
            if used["invalid"]:
                raise LLMInvalidResponseError(
                    f"The model's answer was unusable twice ({error}): try again, or choose another model."
                ) from None
            used["invalid"] = True
            run.notes.append(f"the first answer was unusable ({error}) and was asked again")
            content = response.choices[0].message.content if response.choices else ""
            messages = [
                *messages,
                {"role": "assistant", "content": content or ""},
                {"role": "user", "content": STRICTER_PROMPT.format(reason=error)},
            ]


def _answer(response: Any) -> dict[str, Any]:
    """The validated JSON of a completion; raises LLMRefusalError or LLMInvalidResponseError."""
    if not response.choices:
        raise LLMInvalidResponseError("the answer had no choices")
    choice = response.choices[0]
    refusal = getattr(choice.message, "refusal", None)
    if refusal or choice.finish_reason == "content_filter":
        raise LLMRefusalError(
            f"The model refused to summarise ({refusal or 'content filter'}). The offline summary is kept; "
            "try another model."
        )
    if choice.finish_reason == "length":
        raise LLMInvalidResponseError("the answer was cut off at the output token limit")
    return parse_summary_json(choice.message.content)


def _summary_dict(data: Mapping[str, Any], run: _Run, config: LLMConfig) -> dict[str, Any]:
    sheets: dict[str, list[str]] = {}
    for item in data["items"]:
        line = f"- {item['title']}: {item['description']}"
        extras = ", ".join(p for p in (item["location"], item["trade"], f"{item['severity']} severity") if p)
        sheets.setdefault(item["sheet"] or "general", []).append(f"{line} ({extras})")
    return {
        "source": config.model,
        "version": 1,
        "text": data["summary"],
        "sheets": {key: "\n".join(lines) for key, lines in sheets.items()},
        "items": list(data["items"]),
        "usage": run.usage.as_dict(),
        "notes": list(run.notes),
        "base_url": config.effective_base_url,
    }
