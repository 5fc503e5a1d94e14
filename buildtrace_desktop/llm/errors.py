"""Errors of the LLM summary. Each message says what to do; the offline summary is kept in every case."""
from __future__ import annotations

from typing import TYPE_CHECKING

from buildtrace_desktop.errors import BuildTraceError, ExitCode

if TYPE_CHECKING:
    from buildtrace_desktop.llm.usage import Usage


class LLMError(BuildTraceError):
    """The LLM summary failed; the comparison and its offline summary are fine (exit code 1: warnings)."""

    exit_code = ExitCode.warnings
    usage: Usage | None = None  # set by the client: what the failed requests used (tokens still cost money)
    notes: list[str] | None = None


class LLMConfigError(LLMError):
    """A setting is missing or wrong (no key, bad base URL, bad limit)."""

    exit_code = ExitCode.bad_input


class KeyringUnavailableError(LLMConfigError):
    """No usable OS keyring: the key cannot be stored; OPENAI_API_KEY works for the session."""


class LLMAuthError(LLMConfigError):
    """401 / 403: the key was rejected."""


class LLMRateLimitError(LLMError):
    pass


class LLMTimeoutError(LLMError):
    pass


class LLMConnectionError(LLMError):
    pass


class LLMRefusalError(LLMError):
    pass


class LLMInvalidResponseError(LLMError):
    pass


class LLMRequestError(LLMError):
    """The server rejected the request itself (400, 404, 422): a setting such as the model is wrong."""


class LLMBudgetError(LLMError):
    """The per-comparison token or cost limit would be exceeded."""
