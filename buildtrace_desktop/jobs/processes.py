"""Processes and threads for the job runner: the worker-process pool, a watchdog that ends a worker when
its app dies, a daemon-thread call that can be abandoned, and whether a process id is alive (portable)."""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def make_process_pool(max_workers: int) -> cf.ProcessPoolExecutor:
    """Spawned workers (a fresh interpreter: safe beside Qt's threads, which fork would copy half-locked);
    those `start_workers_early` started, if it started as many."""
    early = _EARLY_POOLS.pop(max_workers, None)
    if early is not None:
        return early
    return cf.ProcessPoolExecutor(max_workers, mp_context=multiprocessing.get_context("spawn"),
                                  initializer=start_worker, initargs=(os.getpid(),))


_EARLY_POOLS: dict[int, cf.ProcessPoolExecutor] = {}


def start_workers_early(max_workers: int) -> None:
    """Start the first worker process of the next `make_process_pool(max_workers)` now, importing the
    engine. The CLI calls this before it imports the rest of the app (0.4 s on one core): that worker's
    imports use the other core. One only: more would take CPU from the app's own imports, which come
    first on the way to the first stage; the others start with the runner (a pool spawns a process per
    task submitted while none is idle)."""
    if max_workers > 1 and max_workers not in _EARLY_POOLS:
        pool = make_process_pool(max_workers)
        pool.submit(import_engine)
        _EARLY_POOLS[max_workers] = pool


def discard_early_workers() -> None:
    """Stop workers started early that no runner took (the command failed before it needed them)."""
    while _EARLY_POOLS:
        _, pool = _EARLY_POOLS.popitem()
        pool.shutdown(wait=False, cancel_futures=True)


# A worker keeps the large documents it reads open from one page to the next (processing.kept_documents): a comparison's two files, or a few of a set made of several. It closes them
# once they have been idle this long, so that between jobs it holds no file open.
KEPT_DOCUMENTS = 4
KEPT_DOCUMENT_IDLE_SECONDS = 3.0


def start_worker(parent_pid: int) -> None:
    """In a new worker process: watch the parent, keep freed page images for reuse, and keep documents
    open between pages."""
    from buildtrace_desktop.processing import kept_documents

    kept_documents.keep_documents_open(KEPT_DOCUMENTS)
    watch_parent(parent_pid, every_second=lambda: kept_documents.close_idle_documents(KEPT_DOCUMENT_IDLE_SECONDS))
    keep_freed_memory()


# Extra heap glibc takes and keeps whenever it grows the heap: a sheet's images (20-35 MB each, a dozen per
# pair) then reuse pages the process already has instead of each one being mapped afresh and faulted in
# page by page. 0.5-0.8 s of system time less per 22 pairs; peak RSS unchanged (measured).
HEAP_PAD_BYTES = 256 * 1024 * 1024
_M_TOP_PAD = -2


def keep_freed_memory() -> None:
    """Ask glibc's malloc for HEAP_PAD_BYTES of padding (Linux only; elsewhere nothing to do)."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    try:
        ctypes.CDLL(None).mallopt(_M_TOP_PAD, HEAP_PAD_BYTES)
    except (OSError, AttributeError):  # not glibc (musl has no mallopt): the default is only slower
        pass


def import_engine() -> None:
    """In a worker process: import the engine (NumPy, OpenCV, PyMuPDF) ahead of the first stage."""
    import buildtrace_desktop.processing.pipeline  # noqa: F401


def read_sheets(fn: Callable[..., Any], pages: list[Any], settings: Any, with_thumbnail: bool) -> list[Any]:
    """The sheet stage's call in a worker process: read a run of pages, one after another. The memory
    that took goes back to the OS: the diffs that follow need it in another shape (and OCR of a scan's
    title block leaves 50-90 MB behind in each worker)."""
    try:
        return [fn(page, settings, with_thumbnail) for page in pages]
    finally:
        release_freed_memory()


def run_compare_pair(fn: Callable[..., Any], old: Any, new: Any, settings: Any, out_dir: str, name: str,
                     thumbnails: bool = False, release_memory: bool = False) -> Any:
    """The diff stage's call in a worker process (top level: picklable). It lives here, not in `stages`,
    so that a worker imports the engine only, not the database layer (0.2 s per worker). With
    `release_memory`, the memory the pair used goes back to the OS afterwards (jobs.memory)."""
    Path(out_dir).mkdir(parents=True, exist_ok=True)
    try:
        return fn(old, new, settings, out_dir=out_dir, name=name, thumbnails=thumbnails)
    finally:
        if release_memory:
            release_freed_memory()
        else:  # what MuPDF decoded for the pair (fonts, images) would stay while a document is kept open:
            _empty_mupdf_cache()  # 100-200 MB more per worker on a 500-sheet set, for no time saved (measured)


def _empty_mupdf_cache() -> None:
    import pymupdf

    pymupdf.TOOLS.store_shrink(100)


def release_freed_memory() -> None:
    """Give the heap's free pages (the padding of keep_freed_memory too) and MuPDF's cache of decoded
    images and fonts back to the OS."""
    _empty_mupdf_cache()
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None).malloc_trim(0)
        except (OSError, AttributeError):  # not glibc
            pass


def terminate_pool(pool: cf.ProcessPoolExecutor) -> None:
    """Stop a pool now, killing work in progress (abandoned work: its result would be dropped anyway)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def watch_parent(parent_pid: int, every_second: Callable[[], None] | None = None) -> None:
    """In a worker process: exit when the app that started it is gone (killed, crashed); meanwhile call
    `every_second` (housekeeping) once a second.

    A spawned worker holds both ends of its task queue, so it never sees EOF when the parent dies and
    would otherwise live on as an orphan."""

    def parent_alive() -> bool:
        if os.name == "posix":
            return os.getppid() == parent_pid  # a dead parent's children are re-parented
        return _windows_process_alive(parent_pid)

    def watch() -> None:
        while parent_alive():
            time.sleep(1.0)
            if every_second is not None:
                try:
                    every_second()
                except Exception:  # housekeeping must never stop the watch
                    pass
        os._exit(1)

    threading.Thread(target=watch, name="buildtrace-parent-watch", daemon=True).start()


def call_in_thread(fn: Callable[..., Any], args: tuple) -> cf.Future:
    """Run `fn` in a daemon thread of its own, so that the waiting stage can abandon it on cancel."""
    future: cf.Future = cf.Future()

    def call() -> None:
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # handed to the waiting stage, which classifies it
            future.set_exception(exc)

    threading.Thread(target=call, name="buildtrace-stage", daemon=True).start()
    return future


def process_alive(pid: int | None) -> bool:
    """Whether another process with this id runs (our own id counts as not: we are starting afresh)."""
    if pid is None or pid == os.getpid():
        return False
    if os.name == "nt":
        return _windows_process_alive(pid)  # os.kill(pid, 0) would terminate it on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _windows_process_alive(pid: int) -> bool:
    import ctypes

    query_limited_information, still_active = 0x1000, 259
    kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
    handle = kernel32.OpenProcess(query_limited_information, False, pid)
    if not handle:
        return False
    try:
        code = ctypes.c_ulong()
        return bool(kernel32.GetExitCodeProcess(handle, ctypes.byref(code))) and code.value == still_active
    finally:
        kernel32.CloseHandle(handle)
