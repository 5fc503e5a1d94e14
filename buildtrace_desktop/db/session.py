"""Engine and sessions for the embedded SQLite database.

Every connection gets WAL (readers never block the writer), foreign keys ON (SQLite's default is off),
and a busy timeout (another process writing makes us wait, not fail). Transactions are explicit: we issue
BEGIN ourselves, because Python's sqlite3 module otherwise starts them late and commits DDL implicitly.
`Database.write()` begins IMMEDIATE so a writer takes the write lock up front and cannot deadlock on
upgrading a read lock.
"""
from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from buildtrace_desktop.db.migrations import migrate

BUSY_TIMEOUT_MS = 30_000


def make_engine(db_path: str | Path) -> Engine:
    engine = create_engine(
        f"sqlite:///{db_path}",
        connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
    )
    event.listen(engine, "connect", _on_connect)
    event.listen(engine, "begin", _on_begin)
    return engine


def _on_connect(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    dbapi_conn.isolation_level = None  # we emit BEGIN in _on_begin
    cursor = dbapi_conn.cursor()
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    _use_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash loses at most the last commit
    cursor.close()


def _use_wal(cursor: sqlite3.Cursor) -> None:
    """Put the database file in WAL mode, once: the mode is kept in the file.

    Switching needs the file to itself for a moment, and SQLite reports "database is locked" at once,
    without its busy handler, when another process is connecting too (two runs on a new data folder)."""
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
                return
            # It answers with the mode in force, which is the old one when it could not switch.
            if cursor.execute("PRAGMA journal_mode=WAL").fetchone()[0].lower() == "wal":
                return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc):
                raise
        if time.monotonic() > deadline:
            raise sqlite3.OperationalError("database is locked: could not switch it to WAL mode")
        time.sleep(0.02)


def _on_begin(conn) -> None:  # noqa: ANN001 (sqlalchemy Connection)
    immediate = conn.get_execution_options().get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """The migrated database of one data folder, with sessions for reading and writing.

    `write()` also holds a process-wide lock: one writer at a time inside this process, so threads queue
    here instead of spinning on SQLite's busy handler.
    """

    def __init__(self, db_path: str | Path, migrate_schema: bool = True) -> None:
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.engine = make_engine(self.path)
        if migrate_schema:
            migrate(self.engine)
        self._reader = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = sessionmaker(
            self.engine.execution_options(sqlite_immediate=True), expire_on_commit=False
        )
        self._write_lock = threading.RLock()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; rolled back at the end."""
        with self._reader() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed if the block succeeds, rolled back if it raises."""
        with self._write_lock, self._writer() as session, session.begin():
            yield session

    def session(self) -> Session:
        """A plain session (caller commits); for code that manages its own transactions."""
        return self._writer()

    def close(self) -> None:
        self.engine.dispose()
