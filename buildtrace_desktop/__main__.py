"""`python -m buildtrace_desktop` and the entry script of the PyInstaller build (buildtrace.spec)."""
import multiprocessing

if __name__ == "__main__":
    # First thing: in a frozen app a spawned job worker starts this same executable, and freeze_support()
    # runs the worker's task and exits instead of opening another GUI. The guard keeps spawned workers of
    # `python -m buildtrace_desktop` (which import this file as __mp_main__) from running the CLI again.
    multiprocessing.freeze_support()
    from buildtrace_desktop.cli import run

    run()
