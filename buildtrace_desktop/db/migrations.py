"""A tiny migration runner: numbered migrations, applied in order, each in its own transaction.

`schema_version` holds one row per applied migration. Version 1 is the first release's schema (frozen DDL
in `schema_v1.py`). To change the schema: edit `models.py`, append a migration here, and the test that
compares a migrated database with the models keeps the two honest.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, inspect, text

from buildtrace_desktop.db import schema_v1
from buildtrace_desktop.errors import BuildTraceError


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    apply: Callable[[Connection], None]


def _create_v1(conn: Connection) -> None:
    for statement in schema_v1.STATEMENTS:
        conn.exec_driver_sql(statement)


def _add_location_context(conn: Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE sheet_pairs ADD COLUMN location_context_json JSON")


_V3_COLUMNS = {
    "sheets": ["number_candidates_json JSON", "ocr_words_json JSON"],
    "sheet_pairs": ["match_confidence FLOAT", "match_notes_json JSON", "old_number VARCHAR(100)",
                    "new_number VARCHAR(100)", "old_title TEXT", "new_title TEXT", "clouds_json JSON",
                    "groups_json JSON"],
    "changes": ["what VARCHAR(40)", "cloud INTEGER", "group_id INTEGER", "tag VARCHAR(40)"],
}


def _add_identity_and_review_units(conn: Connection) -> None:
    for table, columns in _V3_COLUMNS.items():
        for column in columns:
            conn.exec_driver_sql(f"ALTER TABLE {table} ADD COLUMN {column}")


MIGRATIONS: list[Migration] = [
    Migration(1, "first release: every table", _create_v1),
    Migration(2, "sheet pairs keep the words around their changes, for summaries", _add_location_context),
    Migration(3, "sheet readings and pairing evidence; what each change is, its cloud and review group",
              _add_identity_and_review_units),
]


class SchemaTooNewError(BuildTraceError):
    """The database was written by a newer BuildTrace."""


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("schema_version"):
        return 0
    return int(conn.execute(text("SELECT coalesce(max(version), 0) FROM schema_version")).scalar_one())


def latest_version(migrations: Sequence[Migration] = MIGRATIONS) -> int:
    return max(m.version for m in migrations)


def migrate(engine: Engine, migrations: Sequence[Migration] = MIGRATIONS) -> list[int]:
    """Bring the database to the latest version; return the versions applied (empty if up to date)."""
    _ensure_version_table(engine)
    applied: list[int] = []
    for migration in sorted(migrations, key=lambda m: m.version):
        # One transaction per migration: a crash leaves the database at the previous version, intact.
        # It takes the write lock before reading the version: two processes opening a new data folder at
        # once would otherwise both read 0 and both create every table.
        with _immediate(engine).begin() as conn:
            version = current_version(conn)
            if version > latest_version(migrations):
                raise SchemaTooNewError(
                    f"This database is at schema version {version}, newer than this BuildTrace "
                    f"understands ({latest_version(migrations)}). Install the newer BuildTrace to open it."
                )
            if migration.version <= version:
                continue
            migration.apply(conn)
            conn.execute(
                text("INSERT INTO schema_version (version, applied_at) VALUES (:v, CURRENT_TIMESTAMP)"),
                {"v": migration.version},
            )
            applied.append(migration.version)
    return applied


def _immediate(engine: Engine) -> Engine:
    """The engine with transactions that begin IMMEDIATE (see db.session._on_begin)."""
    return engine.execution_options(sqlite_immediate=True)


def _ensure_version_table(engine: Engine) -> None:
    with _immediate(engine).begin() as conn:
        conn.exec_driver_sql(
            "CREATE TABLE IF NOT EXISTS schema_version ("
            "version INTEGER NOT NULL PRIMARY KEY, applied_at DATETIME NOT NULL)"
        )
