"""Services: what the GUI and the CLI call. They open the database, run jobs and return plain rows."""
from buildtrace_desktop.services.app import AppContext

__all__ = ["AppContext"]
