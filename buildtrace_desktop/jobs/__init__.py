"""Jobs: stages persisted in the database, run by `runner.JobRunner` (QThreadPool + worker processes).

Kept import-light on purpose: `plans` and `stages` need no Qt; only `runner` imports QtCore.
"""
