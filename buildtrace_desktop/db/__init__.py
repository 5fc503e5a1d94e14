"""The embedded database: models, sessions, migrations."""
from buildtrace_desktop.db.migrations import MIGRATIONS, current_version, latest_version, migrate
from buildtrace_desktop.db.session import Database, make_engine

__all__ = ["MIGRATIONS", "Database", "current_version", "latest_version", "make_engine", "migrate"]
