"""`buildtrace compare --summary llm` end to end: the real command, the real openai client, a local
OpenAI-compatible server started by the test."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from summary_helpers import SAMPLE, Answer, ChatServer, completion, error_body

KEY = "sk-test-cli-0123456789"
ANSWER = {
    "summary": "Dimension 167 changed to 175 on AF101; an owner-furnished equipment note was added on AF600.",
    "items": [{"title": "Dimension 167 to 175", "description": "Room dimension changed.", "kind": "modified",
               "location": "top centre", "trade": "architectural", "severity": "medium", "sheet": "AF101"}],
}


def compare(tmp_path: Path, server: ChatServer) -> subprocess.CompletedProcess:
    env = dict(os.environ, BUILDTRACE_HOME=str(tmp_path / "home"), OPENAI_API_KEY=KEY,
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", BUILDTRACE_LLM_TIMEOUT_S="5",
               BUILDTRACE_LLM_RETRY_BACKOFF_S="0.01")
    return subprocess.run([sys.executable, "-m", "buildtrace_desktop", "compare", str(SAMPLE / "old.pdf"),
                           str(SAMPLE / "new.pdf"), "--out", str(tmp_path / "out"), "--summary", "llm",
                           "--llm-model", "local-model", "--llm-base-url", server.base_url],
                          capture_output=True, text=True, env=env, timeout=300)


def test_llm_summary_goes_into_the_report(tmp_path: Path, chat_server: ChatServer) -> None:
    chat_server.queue(Answer(200, completion(json.dumps(ANSWER))))
    result = compare(tmp_path, chat_server)
    assert result.returncode == 0, result.stderr
    summary = json.loads((tmp_path / "out" / "report.json").read_text())["summary"]
    assert summary["source"] == "local-model" and summary["text"].startswith(ANSWER["summary"])
    request = chat_server.requests[0]
    assert request.headers["authorization"] == f"Bearer {KEY}" and request.body["model"] == "local-model"
    assert "175" in json.dumps(request.body["messages"])  # the structured changes were sent
    assert KEY not in result.stdout + result.stderr


def test_rejected_key_keeps_the_offline_summary_and_warns(tmp_path: Path, chat_server: ChatServer) -> None:
    chat_server.queue(Answer(401, error_body("Incorrect API key provided", "invalid_api_key")))
    result = compare(tmp_path, chat_server)
    assert result.returncode == 1, result.stderr
    assert "API key was rejected" in result.stderr
    summary = json.loads((tmp_path / "out" / "report.json").read_text())["summary"]
    assert summary["source"] == "offline" and "“167” → “175”" in summary["text"]
