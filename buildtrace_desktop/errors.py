"""Errors that carry their exit code and a message that says what to do.

Converted to an exit code in exactly two places: the CLI, and the job runner (which stores the code and
message on the job row for the GUI to show).
"""
from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    ok = 0
    warnings = 1  # compared, but some results need a human look (low-confidence alignment, no sheet number)
    bad_input = 2  # bad file, bad option, usage error
    missing_dependency = 3
    cancelled = 4
    internal_error = 15


class BuildTraceError(Exception):
    """Base of every error a user can be shown. `str(err)` is the user-facing message."""

    exit_code = ExitCode.internal_error


class BadInputError(BuildTraceError):
    exit_code = ExitCode.bad_input


class CorruptFileError(BadInputError):
    pass


class EncryptedFileError(BadInputError):
    pass


class EmptyDocumentError(BadInputError):
    pass


class UnsupportedFileError(BadInputError):
    pass


class PageTooLargeError(BadInputError):
    pass


class MissingDependencyError(BuildTraceError):
    exit_code = ExitCode.missing_dependency


class ExternalToolError(BuildTraceError):
    """An external tool (Tesseract) crashed, timed out or returned nothing usable."""

    exit_code = ExitCode.internal_error


class CancelledError(BuildTraceError):
    exit_code = ExitCode.cancelled
