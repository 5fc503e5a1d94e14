"""LLM settings and the API key.

The key lives in the OS keyring (service "BuildTrace Desktop"), never in a plain file, a setting or a log.
When no keyring backend is usable, `load_api_key` says so and falls back to `OPENAI_API_KEY` from the
environment for the session. Every keyring function takes an optional backend so tests (and a future
portable build) can pass one; by default it is `keyring.get_keyring()`.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlparse

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyring.backends import chainer, fail, null

from buildtrace_desktop.llm.errors import KeyringUnavailableError, LLMConfigError

KEYRING_SERVICE = "BuildTrace Desktop"
KEYRING_ACCOUNT = "llm-api-key"
ENV_API_KEY = "OPENAI_API_KEY"
ENV_PREFIX = "BUILDTRACE_LLM_"  # BUILDTRACE_LLM_MODEL, BUILDTRACE_LLM_BASE_URL, … (see LLMConfig.from_env)
OPENAI_BASE_URL = "https://api.openai.com/v1"


@dataclass
class LLMConfig:
    """Everything about the LLM call except the key. Validated on creation; `to_dict` / `from_dict` for
    QSettings or JSON (unknown keys are rejected so a typo is not silently ignored)."""

    model: str = "gpt-4o-mini"
    base_url: str | None = None  # None: OpenAI; else an OpenAI-compatible server, e.g. http://127.0.0.1:8080/v1
    timeout_s: float = 60.0  # per request
    max_output_tokens: int = 2000  # per request
    max_tokens_per_comparison: int = 200_000  # input + output, over all requests of one comparison
    max_cost_usd: float = 0.50  # per comparison, estimated from the price table
    send_images: bool = False  # crops of old / new / overlay around each change
    max_images: int = 12
    image_max_side: int = 512  # pixels
    max_retries: int = 3  # for rate limits and server errors
    retry_backoff_s: float = 1.0  # first wait; doubles each retry (Retry-After is honoured up to 30 s)

    def __post_init__(self) -> None:
        if not self.model.strip():
            raise LLMConfigError("Set the LLM model name in Settings (for example gpt-4o-mini).")
        if self.base_url:
            parsed = urlparse(self.base_url)
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise LLMConfigError(
                    f"The LLM base URL {self.base_url!r} is not an http(s) URL: "
                    "use for example http://127.0.0.1:8080/v1, or leave it empty for OpenAI."
                )
        for name in ("timeout_s", "max_output_tokens", "max_tokens_per_comparison", "image_max_side"):
            if getattr(self, name) <= 0:
                raise LLMConfigError(f"LLM setting {name} must be positive, got {getattr(self, name)}.")
        for name in ("max_cost_usd", "max_images", "max_retries", "retry_backoff_s"):
            if getattr(self, name) < 0:
                raise LLMConfigError(f"LLM setting {name} must not be negative, got {getattr(self, name)}.")

    @property
    def effective_base_url(self) -> str:
        return (self.base_url or OPENAI_BASE_URL).rstrip("/")

    @property
    def is_openai(self) -> bool:
        return urlparse(self.effective_base_url).netloc.endswith("api.openai.com")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LLMConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise LLMConfigError(f"Unknown LLM settings: {', '.join(unknown)}.")
        return cls(**dict(data))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> LLMConfig:
        """Settings from BUILDTRACE_LLM_<FIELD> variables (BUILDTRACE_LLM_MODEL, …_BASE_URL, …_SEND_IMAGES,
        …_MAX_COST_USD, …), then `overrides` (CLI flags; None values are ignored). For the CLI."""
        env = environ if environ is not None else os.environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw.strip():
                values[f.name] = _parse_setting(f.name, raw.strip(), f.type)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(values)


def _parse_setting(name: str, raw: str, kind: Any) -> Any:
    kind = str(kind)
    try:
        if "bool" in kind:
            return raw.lower() in ("1", "true", "yes", "on")
        if kind.startswith("int"):
            return int(raw)
        if kind.startswith("float"):
            return float(raw)
    except ValueError:
        raise LLMConfigError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a valid {kind}.") from None
    return raw


# ---------------------------------------------------------------- keyring


@dataclass(frozen=True)
class KeyringStatus:
    usable: bool
    backend: str  # the backend's class, for the diagnostics dialog
    message: str  # what the user should know


@dataclass(frozen=True)
class ApiKey:
    value: str
    source: str  # "keyring" | "environment" | "given"

    def __repr__(self) -> str:  # never print the key itself
        return f"ApiKey(source={self.source!r}, value='…{self.value[-4:] if len(self.value) > 8 else ''}')"

    __str__ = __repr__


def _backend(backend: KeyringBackend | None) -> KeyringBackend:
    return backend if backend is not None else keyring.get_keyring()


def _is_placeholder(backend: KeyringBackend) -> bool:
    """fail / null backends, or a chainer with nothing in it, cannot keep a secret."""
    if isinstance(backend, fail.Keyring | null.Keyring):
        return True
    return isinstance(backend, chainer.ChainerBackend) and not chainer.ChainerBackend.backends


def keyring_status(backend: KeyringBackend | None = None) -> KeyringStatus:
    """Whether the OS keyring can store the API key, and a message for the Settings page."""
    kr = _backend(backend)
    name = f"{type(kr).__module__}.{type(kr).__name__}"
    no_keyring = (
        "No system keyring is available on this computer ({why}): the API key cannot be saved. "
        f"Set {ENV_API_KEY} in the environment before starting BuildTrace; it is used for this session only."
    )
    if _is_placeholder(kr):
        return KeyringStatus(False, name, no_keyring.format(why="no keyring backend"))
    try:
        kr.get_password(KEYRING_SERVICE, KEYRING_ACCOUNT)
    except Exception as exc:  # locked or broken backends raise many different errors
        return KeyringStatus(False, name, no_keyring.format(why=f"{type(exc).__name__}: {exc}"))
    return KeyringStatus(True, name, f"The API key is kept in the system keyring ({type(kr).__name__}).")


def save_api_key(key: str, backend: KeyringBackend | None = None) -> None:
    """Store the key in the OS keyring. Raises KeyringUnavailableError when there is none."""
    key = key.strip()
    if not key:
        raise LLMConfigError("The API key is empty: paste the key, or use Remove to delete the stored one.")
    status = keyring_status(backend)
    if not status.usable:
        raise KeyringUnavailableError(status.message)
    try:
        _backend(backend).set_password(KEYRING_SERVICE, KEYRING_ACCOUNT, key)
    except Exception as exc:
        raise KeyringUnavailableError(
            f"The system keyring refused to store the key ({type(exc).__name__}). "
            f"Unlock the keyring and try again, or set {ENV_API_KEY} for this session."
        ) from None


def delete_api_key(backend: KeyringBackend | None = None) -> bool:
    """Remove the stored key. False when there was none or no keyring exists."""
    if not keyring_status(backend).usable:
        return False
    try:
        _backend(backend).delete_password(KEYRING_SERVICE, KEYRING_ACCOUNT)
    except keyring.errors.PasswordDeleteError:
        return False
    return True


def load_api_key(
    backend: KeyringBackend | None = None, environ: Mapping[str, str] | None = None
) -> ApiKey | None:
    """The key from the keyring, else from OPENAI_API_KEY, else None (the caller says what to do)."""
    status = keyring_status(backend)
    if status.usable:
        try:
            stored = _backend(backend).get_password(KEYRING_SERVICE, KEYRING_ACCOUNT)
        except Exception:
            stored = None
        if stored:
            return ApiKey(stored, "keyring")
    env_key = (environ if environ is not None else os.environ).get(ENV_API_KEY, "").strip()
    return ApiKey(env_key, "environment") if env_key else None


def describe_setup(config: LLMConfig, backend: KeyringBackend | None = None,
                   environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """What `buildtrace doctor` and the About dialog show about the LLM (never the key itself)."""
    status = keyring_status(backend)
    key = load_api_key(backend, environ)
    if key is not None:
        key_text = f"set (from the {key.source})"
    elif not config.is_openai:
        key_text = "not set (a local server may not need one)"
    else:
        key_text = "not set: " + missing_key_message(backend)
    return {"model": config.model, "base_url": config.effective_base_url, "api_key": key_text,
            "keyring": status.message, "images": "sent" if config.send_images else "not sent",
            "limit": f"{config.max_tokens_per_comparison} tokens, ${config.max_cost_usd:.2f} per comparison"}


def missing_key_message(backend: KeyringBackend | None = None) -> str:
    """What to tell the user when `load_api_key` found nothing."""
    status = keyring_status(backend)
    if status.usable:
        return f"No LLM API key is set: enter one in Settings (it is kept in the system keyring), or set {ENV_API_KEY}."
    return status.message
