"""Fixtures of the summary tests (the helpers live in summary_helpers.py, importable by the tests)."""
from summary_helpers import chat_server, memory_keyring  # noqa: F401 (fixtures)
