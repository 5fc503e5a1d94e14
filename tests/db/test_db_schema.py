"""The SQLite database: pragmas, foreign keys, unique constraints and the migration runner."""
from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError

from buildtrace_desktop.db import MIGRATIONS, Database, current_version, latest_version, make_engine, migrate
from buildtrace_desktop.db.migrations import Migration, SchemaTooNewError
from buildtrace_desktop.db.models import Base, Project, Sheet


def test_every_connection_has_wal_foreign_keys_and_busy_timeout(tmp_path: Path) -> None:
    db = Database(tmp_path / "bt.db")
    with db.read() as s:
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert s.execute(text("PRAGMA busy_timeout")).scalar() >= 1000
    db.close()
    # WAL is a property of the file: a plain sqlite3 connection sees it too.
    with sqlite3.connect(tmp_path / "bt.db") as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_foreign_keys_are_enforced(tmp_path: Path) -> None:
    db = Database(tmp_path / "bt.db")
    with pytest.raises(IntegrityError), db.write() as s:
        s.add(Sheet(set_id=999, set_index=0, file_sha="0" * 64, page_index=0, kind="pdf"))
    with db.read() as s:
        assert s.query(Sheet).count() == 0


def test_project_names_are_unique(tmp_path: Path) -> None:
    db = Database(tmp_path / "bt.db")
    with db.write() as s:
        s.add(Project(name="Clinic"))
    with pytest.raises(IntegrityError), db.write() as s:
        s.add(Project(name="Clinic"))


def test_a_new_database_is_at_the_latest_version(tmp_path: Path) -> None:
    db = Database(tmp_path / "bt.db")
    with db.engine.connect() as conn:
        assert current_version(conn) == latest_version() == MIGRATIONS[-1].version
    assert migrate(db.engine) == []  # opening again applies nothing


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_migrated_schema_matches_the_models(tmp_path: Path) -> None:
    """Guards against a model change without a migration: columns and unique indexes must agree."""
    migrated = make_engine(tmp_path / "migrated.db")
    migrate(migrated)
    reference = make_engine(tmp_path / "reference.db")
    Base.metadata.create_all(reference)
    got, want = inspect(migrated), inspect(reference)
    assert set(got.get_table_names()) == set(want.get_table_names())
    for table in want.get_table_names():
        assert _columns(got, table) == _columns(want, table), table
        assert _unique_constraints(got, table) == _unique_constraints(want, table), table
    assert _index_sql(migrated) == _index_sql(reference)


def _columns(insp, table: str) -> dict:
    return {c["name"]: (str(c["type"]), c["nullable"]) for c in insp.get_columns(table)}


def _unique_constraints(insp, table: str) -> set:
    return {tuple(u["column_names"]) for u in insp.get_unique_constraints(table)}


def _index_sql(engine) -> set:
    """Every explicit index with its SQL (SQLAlchemy cannot reflect expression indexes)."""
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL")
        return {(name, " ".join(sql.split())) for name, sql in rows}


def _add_column_migration(conn) -> None:
    conn.exec_driver_sql("ALTER TABLE projects ADD COLUMN client VARCHAR(200)")
    conn.exec_driver_sql("UPDATE projects SET client = 'unknown'")


def test_an_older_database_is_migrated_and_keeps_its_data(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "old.db")
    assert migrate(engine, MIGRATIONS[:1]) == [1]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO projects (name, archived, created_at, updated_at) "
                          "VALUES ('Clinic', 0, '2026-01-01', '2026-01-01')"))
    engine.dispose()

    engine = make_engine(tmp_path / "old.db")  # a later release, with one more migration
    newer = [*MIGRATIONS, Migration(latest_version() + 1, "projects get a client", _add_column_migration)]
    assert migrate(engine, newer) == list(range(2, latest_version() + 2))  # every release's, in order
    with engine.connect() as conn:
        assert current_version(conn) == latest_version() + 1
        assert "location_context_json" in {c["name"] for c in inspect(conn).get_columns("sheet_pairs")}
        rows = conn.execute(text("SELECT name, client FROM projects")).all()
    assert [tuple(r) for r in rows] == [("Clinic", "unknown")]


def test_a_failing_migration_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "bt.db")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO projects (name, archived, created_at, updated_at) "
                          "VALUES ('Clinic', 0, '2026-01-01', '2026-01-01')"))

    def broken(conn) -> None:
        conn.exec_driver_sql("ALTER TABLE projects ADD COLUMN client VARCHAR(200)")
        raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        migrate(engine, [*MIGRATIONS, Migration(latest_version() + 1, "broken", broken)])
    with engine.connect() as conn:
        assert current_version(conn) == latest_version()
        assert "client" not in {c["name"] for c in inspect(conn).get_columns("projects")}
        assert conn.execute(text("SELECT count(*) FROM projects")).scalar() == 1


def test_a_database_from_a_newer_release_is_refused(tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "bt.db")
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO schema_version (version, applied_at) VALUES (999, CURRENT_TIMESTAMP)"))
    with pytest.raises(SchemaTooNewError, match="newer"):
        migrate(engine)


def test_a_write_takes_the_write_lock_up_front_and_a_read_does_not(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: two writers (GUI and a CLI run) queue on the busy timeout instead of failing when a
    read lock cannot be upgraded."""
    from sqlalchemy import event

    db = Database(tmp_path / "bt.db")
    statements: list[str] = []
    event.listen(db.engine, "before_cursor_execute", lambda _c, _cur, sql, *_a: statements.append(sql))
    with db.write() as s:
        s.add(Project(name="Clinic"))
    with db.read() as s:
        s.query(Project).all()
    assert [x for x in statements if x.startswith("BEGIN")] == ["BEGIN IMMEDIATE", "BEGIN"]


WRITER = """
import sys
from buildtrace_desktop.db import Database
from buildtrace_desktop.db.models import Project
db = Database(sys.argv[1])
for i in range(40):
    with db.write() as s:
        s.add(Project(name=f"{sys.argv[2]}-{i}"))
"""


def test_two_processes_writing_at_once_both_succeed(tmp_path: Path) -> None:
    """A CLI compare and the GUI may write the same database at the same time."""
    import subprocess
    import sys

    Database(tmp_path / "bt.db").close()
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "bt.db"), name],
                                stderr=subprocess.PIPE, text=True) for name in ("gui", "cli")]
    errors = [w.communicate(timeout=120)[1] for w in writers]
    assert [w.returncode for w in writers] == [0, 0], errors
    db = Database(tmp_path / "bt.db")
    with db.read() as s:
        assert s.query(Project).count() == 80


def test_processes_creating_the_database_at_once_all_succeed(tmp_path: Path) -> None:
    """Two `buildtrace compare` runs started together on a new data folder: both create and migrate the
    same database file. Switching a new file to WAL needs it alone for a moment, and a migration must
    take the write lock before it reads the version, or one of them fails with "database is locked"."""
    import subprocess
    import sys

    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path / "bt.db"), f"run{i}"],
                                stderr=subprocess.PIPE, text=True) for i in range(4)]
    errors = [w.communicate(timeout=120)[1] for w in writers]
    assert [w.returncode for w in writers] == [0] * 4, errors
    db = Database(tmp_path / "bt.db")
    with db.read() as s:
        assert s.query(Project).count() == 160
        assert current_version(s.connection()) == latest_version()
