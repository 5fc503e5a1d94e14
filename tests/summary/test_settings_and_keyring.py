"""The API key in a keyring backend (an in-memory one stands in for the OS keyring), the no-keyring path
with keyring's own fail backend, and the LLM settings' validation."""
from __future__ import annotations

import pytest
from keyring.backends import fail, null
from summary_helpers import MemoryKeyring

from buildtrace_desktop.errors import ExitCode
from buildtrace_desktop.llm.errors import KeyringUnavailableError, LLMConfigError
from buildtrace_desktop.llm.schema import parse_summary_json
from buildtrace_desktop.llm.settings import (
    KEYRING_SERVICE,
    ApiKey,
    LLMConfig,
    delete_api_key,
    keyring_status,
    load_api_key,
    missing_key_message,
    save_api_key,
)


def test_key_round_trip_through_a_keyring_backend(memory_keyring: MemoryKeyring) -> None:
    assert keyring_status(memory_keyring).usable
    assert load_api_key(memory_keyring, environ={}) is None
    save_api_key("  sk-stored-1234567890  ", memory_keyring)
    assert memory_keyring.secrets == {(KEYRING_SERVICE, "llm-api-key"): "sk-stored-1234567890"}
    key = load_api_key(memory_keyring, environ={"OPENAI_API_KEY": "sk-env"})
    assert key == ApiKey("sk-stored-1234567890", "keyring")  # the stored key wins over the environment
    assert "sk-stored" not in repr(key) and "sk-stored" not in str(key)
    assert delete_api_key(memory_keyring) is True
    assert delete_api_key(memory_keyring) is False
    assert load_api_key(memory_keyring, environ={"OPENAI_API_KEY": "sk-env"}) == ApiKey("sk-env", "environment")


def test_no_keyring_backend_says_so_and_takes_the_environment() -> None:
    backend = fail.Keyring()
    status = keyring_status(backend)
    assert not status.usable
    assert status.backend == "keyring.backends.fail.Keyring"
    assert "No system keyring is available" in status.message and "OPENAI_API_KEY" in status.message
    with pytest.raises(KeyringUnavailableError, match="the API key cannot be saved") as caught:
        save_api_key("sk-nowhere-1234", backend)
    assert caught.value.exit_code == ExitCode.bad_input
    assert load_api_key(backend, environ={"OPENAI_API_KEY": " sk-session "}) == ApiKey("sk-session", "environment")
    assert load_api_key(backend, environ={}) is None
    assert missing_key_message(backend) == status.message
    assert delete_api_key(backend) is False


def test_null_and_broken_backends_are_not_usable(memory_keyring: MemoryKeyring) -> None:
    assert not keyring_status(null.Keyring()).usable

    class LockedKeyring(MemoryKeyring):
        def get_password(self, service: str, username: str) -> str | None:
            raise RuntimeError("the keyring is locked")

    status = keyring_status(LockedKeyring())
    assert not status.usable and "RuntimeError: the keyring is locked" in status.message
    assert "enter one in Settings" in missing_key_message(memory_keyring)


def test_empty_key_is_refused(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(LLMConfigError, match="empty"):
        save_api_key("   ", memory_keyring)


def test_config_validation_and_round_trip() -> None:
    cfg = LLMConfig(model="llama3", base_url="http://127.0.0.1:8080/v1/", send_images=True)
    assert cfg.effective_base_url == "http://127.0.0.1:8080/v1"
    assert not cfg.is_openai and LLMConfig().is_openai
    assert LLMConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(LLMConfigError, match="Unknown LLM settings: api_key"):
        LLMConfig.from_dict({"model": "x", "api_key": "sk-no"})  # the key is never a setting
    with pytest.raises(LLMConfigError, match="not an http"):
        LLMConfig(base_url="127.0.0.1:8080")
    with pytest.raises(LLMConfigError, match="timeout_s must be positive"):
        LLMConfig(timeout_s=0)
    with pytest.raises(LLMConfigError, match="model name"):
        LLMConfig(model=" ")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty"),
        ("[1, 2]", "not a JSON object"),
        ('{"summary": "x"}', "'items' is missing"),
        ('{"summary": "x", "items": [], "extra": 1}', "unexpected fields: extra"),
        ('{"summary": "x", "items": [{"title": "t"}]}', r"items\[0\].description is missing"),
    ],
)
def test_schema_validator_says_what_is_wrong(content: str, message: str) -> None:
    from buildtrace_desktop.llm.errors import LLMInvalidResponseError

    with pytest.raises(LLMInvalidResponseError, match=message):
        parse_summary_json(content)


def test_schema_validator_accepts_a_fenced_answer_and_normalises_case() -> None:
    item = {"title": "t", "description": "d", "kind": "Added", "location": "l", "trade": "civil",
            "severity": "HIGH", "sheet": "C-101"}
    import json

    data = parse_summary_json("```json\n" + json.dumps({"summary": " s ", "items": [item]}) + "\n```")
    assert data == {"summary": "s", "items": [{**item, "kind": "added", "severity": "high"}]}


def test_config_from_environment_with_flag_overrides() -> None:
    env = {"BUILDTRACE_LLM_MODEL": "llama3", "BUILDTRACE_LLM_BASE_URL": "http://127.0.0.1:8080/v1",
           "BUILDTRACE_LLM_SEND_IMAGES": "yes", "BUILDTRACE_LLM_MAX_COST_USD": "1.5",
           "BUILDTRACE_LLM_MAX_IMAGES": "4"}
    cfg = LLMConfig.from_env(env, model="qwen2.5-vl", timeout_s=None)
    assert (cfg.model, cfg.base_url, cfg.send_images, cfg.max_cost_usd, cfg.max_images, cfg.timeout_s) == (
        "qwen2.5-vl", "http://127.0.0.1:8080/v1", True, 1.5, 4, 60.0)
    with pytest.raises(LLMConfigError, match="BUILDTRACE_LLM_MAX_IMAGES='many' is not a valid int"):
        LLMConfig.from_env({"BUILDTRACE_LLM_MAX_IMAGES": "many"})


def test_describe_setup_never_shows_the_key(memory_keyring: MemoryKeyring) -> None:
    from buildtrace_desktop.llm.settings import describe_setup

    save_api_key("sk-secret-abcdef123456", memory_keyring)
    info = describe_setup(LLMConfig(), memory_keyring, environ={})
    assert info["api_key"] == "set (from the keyring)"
    assert "sk-secret" not in repr(info)
    assert describe_setup(LLMConfig(), fail.Keyring(), environ={})["api_key"].startswith("not set: No system keyring")
