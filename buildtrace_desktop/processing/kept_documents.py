"""Large documents kept open between pages in a worker process (see KeptDocuments)."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import pymupdf

KEEP_MIN_PAGES = 64
KEEP_MAX_USES = 32


class KeptDocuments:
    """Large documents kept open from one page to the next, in a worker process that reads page after
    page of the same files. Opening a PDF and loading a page costs time in proportion to its pages
    (10 ms for 506 pages, 1 ms for 22): 6 % of a worker's time on a 500-sheet set, and growing with it.

    Only documents of at least KEEP_MIN_PAGES pages are kept, and each for KEEP_MAX_USES pages at most:
    an open document keeps what MuPDF has parsed and decoded of every page it served (0.2 MB a page
    read for text, more for rendered ones), so it is opened afresh now and then to bound that.

    Off unless `keep_documents_open` turns it on (worker processes do): in the app's own threads a
    document must not be shared between threads, and an open file cannot be deleted on Windows. Kept
    documents left idle for a few seconds are closed (`close_idle`, from the worker's watch thread), so a
    worker between jobs holds no file."""

    def __init__(self) -> None:
        self.limit = 0
        self.lock = threading.Lock()
        self.entries: dict[tuple, list] = {}  # key: [document, users, last used, uses]; insertion order = age

    @staticmethod
    def _key(path: str | Path, password: str | None) -> tuple:
        stat = Path(path).stat()
        return str(path), stat.st_size, stat.st_mtime_ns, password

    def acquire(self, path: str | Path, password: str | None) -> pymupdf.Document | None:
        if self.limit <= 0:
            return None
        key = self._key(path, password)
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            if entry[3] >= KEEP_MAX_USES:  # served enough pages: let it go once its users are done
                if entry[1] == 0:
                    self.entries.pop(key)[0].close()
                return None
            entry[1] += 1
            entry[3] += 1
            return entry[0]

    def keep(self, path: str | Path, password: str | None, doc: pymupdf.Document) -> bool:
        """Keep `doc` (in use once), if it is large enough to be worth it; False if not kept."""
        if doc.page_count < KEEP_MIN_PAGES:
            return False
        key = self._key(path, password)
        with self.lock:
            if key in self.entries:
                return False  # another copy is kept already (in use elsewhere); this one is closed after use
            self.entries[key] = [doc, 1, time.monotonic(), 1]
            idle = [k for k, e in self.entries.items() if e[1] == 0]
            for old in idle[: max(0, len(self.entries) - self.limit)]:
                self.entries.pop(old)[0].close()
        return True

    def release(self, doc: pymupdf.Document) -> None:
        with self.lock:
            for key, entry in list(self.entries.items()):
                if entry[0] is doc:
                    entry[1] -= 1
                    entry[2] = time.monotonic()
                    if entry[1] == 0 and entry[3] >= KEEP_MAX_USES:
                        self.entries.pop(key)[0].close()

    def close_idle(self, idle_seconds: float) -> None:
        with self.lock:
            now = time.monotonic()
            for key in [k for k, e in self.entries.items() if e[1] == 0 and now - e[2] >= idle_seconds]:
                self.entries.pop(key)[0].close()


KEPT = KeptDocuments()


def keep_documents_open(count: int) -> None:
    """Keep up to `count` large documents open between pages (in a worker process; see KeptDocuments)."""
    KEPT.limit = count


def close_idle_documents(idle_seconds: float) -> None:
    KEPT.close_idle(idle_seconds)
