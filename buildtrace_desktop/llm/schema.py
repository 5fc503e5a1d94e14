"""The JSON the model must answer with, and a small validator for it (no jsonschema dependency).

The schema is written for OpenAI's strict structured outputs: every property required, no extra ones.
"""
from __future__ import annotations

import json
from typing import Any

from buildtrace_desktop.llm.errors import LLMInvalidResponseError

SEVERITIES = ("low", "medium", "high")
KINDS = ("added", "removed", "modified")
ITEM_FIELDS = ("title", "description", "kind", "location", "trade", "severity", "sheet")

ITEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": list(ITEM_FIELDS),
    "properties": {
        "title": {"type": "string", "description": "a few words, e.g. 'Door 104 widened'"},
        "description": {"type": "string", "description": "what changed, with old and new text or values"},
        "kind": {"type": "string", "enum": list(KINDS)},
        "location": {"type": "string", "description": "where on the sheet: region, grid, room"},
        "trade": {"type": "string", "description": "e.g. architectural, structural, electrical, plumbing"},
        "severity": {"type": "string", "enum": list(SEVERITIES)},
        "sheet": {"type": "string", "description": "the sheet number as given"},
    },
}

SUMMARY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["summary", "items"],
    "properties": {
        "summary": {"type": "string", "description": "a short overall summary for a project engineer"},
        "items": {"type": "array", "items": ITEM_SCHEMA},
    },
}

RESPONSE_FORMAT: dict[str, Any] = {
    "type": "json_schema",
    "json_schema": {"name": "buildtrace_change_summary", "strict": True, "schema": SUMMARY_SCHEMA},
}


def parse_summary_json(content: str | None) -> dict[str, Any]:
    """Parse and validate the model's answer. Raises LLMInvalidResponseError saying what is wrong."""
    if not content or not content.strip():
        raise LLMInvalidResponseError("the answer was empty")
    text = content.strip()
    if text.startswith("```"):  # some local models wrap JSON in a code fence despite the schema
        text = text.strip("`").removeprefix("json").strip()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LLMInvalidResponseError(f"the answer is not valid JSON ({exc.msg} at character {exc.pos})") from None
    return validate_summary(data)


def validate_summary(data: Any) -> dict[str, Any]:
    """Check `data` against SUMMARY_SCHEMA; returns a clean copy (strings stripped)."""
    if not isinstance(data, dict):
        raise LLMInvalidResponseError("the answer is not a JSON object")
    _no_extra_keys(data, {"summary", "items"}, "the answer")
    summary = _string(data, "summary", "the answer")
    items = data.get("items")
    if not isinstance(items, list):
        raise LLMInvalidResponseError("'items' is missing or not a list")
    return {"summary": summary, "items": [_validate_item(item, i) for i, item in enumerate(items)]}


def _validate_item(item: Any, index: int) -> dict[str, str]:
    where = f"items[{index}]"
    if not isinstance(item, dict):
        raise LLMInvalidResponseError(f"{where} is not an object")
    _no_extra_keys(item, set(ITEM_FIELDS), where)
    clean = {name: _string(item, name, where) for name in ITEM_FIELDS}
    clean["kind"] = clean["kind"].lower()
    clean["severity"] = clean["severity"].lower()
    if clean["kind"] not in KINDS:
        raise LLMInvalidResponseError(f"{where}.kind is {clean['kind']!r}, not one of {', '.join(KINDS)}")
    if clean["severity"] not in SEVERITIES:
        raise LLMInvalidResponseError(
            f"{where}.severity is {clean['severity']!r}, not one of {', '.join(SEVERITIES)}"
        )
    return clean


def _string(obj: dict, name: str, where: str) -> str:
    value = obj.get(name)
    if not isinstance(value, str):
        raise LLMInvalidResponseError(f"{where}.{name} is missing or not a string")
    return value.strip()


def _no_extra_keys(obj: dict, allowed: set[str], where: str) -> None:
    extra = sorted(set(obj) - allowed)
    if extra:
        raise LLMInvalidResponseError(f"{where} has unexpected fields: {', '.join(extra)}")
