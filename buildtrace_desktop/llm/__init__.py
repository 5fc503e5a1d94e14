"""LLM change summaries through the `openai` client (OpenAI or an OpenAI-compatible local server).

settings: LLMConfig, the API key in the OS keyring; schema: the JSON the model answers with and its
validator; crops: image crops around changes; client: the request with retries and a per-comparison budget.
"""
from buildtrace_desktop.llm.client import (
    Budget,
    LLMResult,
    Usage,
    estimate_cost,
    model_price,
    summarize_with_llm,
)
from buildtrace_desktop.llm.errors import LLMAuthError, LLMBudgetError, LLMConfigError, LLMError
from buildtrace_desktop.llm.settings import (
    ApiKey,
    KeyringStatus,
    LLMConfig,
    delete_api_key,
    keyring_status,
    load_api_key,
    missing_key_message,
    save_api_key,
)

__all__ = [
    "ApiKey",
    "Budget",
    "KeyringStatus",
    "LLMAuthError",
    "LLMBudgetError",
    "LLMConfig",
    "LLMConfigError",
    "LLMError",
    "LLMResult",
    "Usage",
    "delete_api_key",
    "estimate_cost",
    "keyring_status",
    "load_api_key",
    "missing_key_message",
    "model_price",
    "save_api_key",
    "summarize_with_llm",
]
