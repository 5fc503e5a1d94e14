"""LLM change summaries through the `openai` client (OpenAI or an OpenAI-compatible local server).

settings: LLMConfig and the API key in the OS keyring; usage: tokens, prices, the per-comparison budget;
schema: the JSON the model answers with and its validator; crops: image crops around changes;
client: the request with its retries (`summarize_with_llm`).
This package's own import is light: `client` (openai) and `crops` (OpenCV, PyMuPDF) load when imported.
"""
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
from buildtrace_desktop.llm.usage import Budget, Usage, estimate_cost, model_price

__all__ = [
    "ApiKey",
    "Budget",
    "KeyringStatus",
    "LLMAuthError",
    "LLMBudgetError",
    "LLMConfig",
    "LLMConfigError",
    "LLMError",
    "Usage",
    "delete_api_key",
    "estimate_cost",
    "keyring_status",
    "load_api_key",
    "missing_key_message",
    "model_price",
    "save_api_key",
]
