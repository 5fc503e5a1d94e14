"""Fixtures of the summary tests: a real OpenAI-compatible HTTP server on 127.0.0.1, an in-memory keyring
backend (the stand-in for the OS keyring), the corpus, and report dicts built from the corpus truth files."""
from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pymupdf
import pytest
from keyring.backend import KeyringBackend

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"


# ---------------------------------------------------------------- a local OpenAI-compatible server


def completion(content: str | None, *, refusal: str | None = None, finish: str = "stop",
               tokens: tuple[int, int] = (1200, 300)) -> dict[str, Any]:
    """The body of a chat completion, as OpenAI's API returns it."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": "test-model",
        "choices": [{
            "index": 0,
            "message": {"role": "assistant", "content": content, "refusal": refusal},
            "finish_reason": finish,
        }],
        "usage": {"prompt_tokens": tokens[0], "completion_tokens": tokens[1], "total_tokens": sum(tokens)},
    }


def error_body(message: str, code: str | None = None, kind: str = "invalid_request_error") -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "code": code, "param": None}}


@dataclass
class Answer:
    status: int = 200
    body: dict[str, Any] | str = field(default_factory=dict)
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # names in lower case
    body: dict[str, Any]


class ChatServer:
    """Answers POST /v1/chat/completions with the queued answers, in order (the last one repeats)."""

    def __init__(self) -> None:
        self.answers: list[Answer] = []
        self.requests: list[Received] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("content-length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                answer = server.record(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
                if answer.delay_s:
                    time.sleep(answer.delay_s)
                payload = answer.body if isinstance(answer.body, str) else json.dumps(answer.body)
                try:
                    self.send_response(answer.status)
                    self.send_header("content-type", "application/json")
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(payload.encode())))
                    self.end_headers()
                    self.wfile.write(payload.encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (the timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False  # a handler still sleeping (the timeout test) must not hold us
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def record(self, received: Received) -> Answer:
        with self._lock:
            self.requests.append(received)
            index = min(len(self.requests) - 1, len(self.answers) - 1)
            return self.answers[index] if index >= 0 else Answer(500, error_body("no answer queued"))

    def queue(self, *answers: Answer) -> None:
        self.answers.extend(answers)


@pytest.fixture
def chat_server() -> Iterator[ChatServer]:
    server = ChatServer()
    server.thread.start()
    yield server
    server.httpd.shutdown()
    server.httpd.server_close()


# ---------------------------------------------------------------- keyring stand-in


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps secrets in memory: the stand-in for the OS keyring in tests."""

    # keyring registers every backend subclass; a negative priority keeps this one from ever becoming the
    # process's default keyring (fail.Keyring has 0) for other tests that call keyring.get_keyring().
    priority = -10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if (service, username) not in self.secrets:
            raise PasswordDeleteError("not found")
        del self.secrets[(service, username)]


@pytest.fixture
def memory_keyring() -> MemoryKeyring:
    return MemoryKeyring()


# ---------------------------------------------------------------- reports from truth files


def report_from_truth(case_dir: Path, words: bool = True) -> tuple[dict[str, Any], dict[int, list]]:
    """A report-shaped dict from a corpus case's truth.json (page sizes from its new / old PDF), and the
    words of each NEW page (text layer) keyed by the sheet's position."""
    truth = json.loads((case_dir / "truth.json").read_text())
    report: dict[str, Any] = {"format": "buildtrace-report/1", "sheets": []}
    page_words: dict[int, list] = {}
    with pymupdf.open(case_dir / "new.pdf") as new_doc, pymupdf.open(case_dir / "old.pdf") as old_doc:
        for position, sheet in enumerate(truth["sheets"]):
            on_new = sheet.get("new_page") is not None
            page = new_doc[sheet["new_page"]] if on_new else old_doc[sheet["old_page"]]
            report["sheets"].append({
                "sheet_number": sheet.get("sheet_number"),
                "title": None,
                "status": sheet.get("status", "matched"),
                "old_page": sheet.get("old_page"),
                "new_page": sheet.get("new_page"),
                "page_size": [page.rect.width, page.rect.height],
                "changes": [
                    {key: change[key] for key in ("kind", "bbox", "text_removed", "text_added") if key in change}
                    for change in sheet.get("changes", [])
                ],
            })
            if words and on_new:
                page_words[position] = [tuple(w[:5]) for w in page.get_text("words")]
    return report, page_words


def truth_cases() -> list[Path]:
    return sorted(p for p in (CORPUS / "edits").glob("*") if (p / "truth.json").exists())
