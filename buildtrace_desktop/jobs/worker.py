"""Headless job worker: `python -m buildtrace_desktop.jobs.worker [--home DIR] [--jobs N] COMMAND`.

    resume [--job ID]            run jobs left pending or running (by a crash or kill) to the end
    compare OLD NEW --out DIR    the same as `buildtrace compare`, without the CLI's table

Exit code: 0 done, 1 done with warnings, else the failed job's error code.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from buildtrace_desktop.errors import BuildTraceError, ExitCode


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "resume":
            return resume(args.home, args.jobs, args.job)
        from buildtrace_desktop.services.compare import compare_paths

        outcome = compare_paths([args.old], [args.new], args.out, jobs=args.jobs, home=args.home,
                                progress=lambda d, t, _k, m: print(f"[{d}/{t}] {m}", flush=True))
        return outcome.exit_code
    except BuildTraceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_code)


def resume(home: str | None, jobs: int, job_id: int | None = None) -> int:
    """Run one job, or every unfinished job, to the end; the worst exit code."""
    from buildtrace_desktop.jobs.runner import JobRunner
    from buildtrace_desktop.services import projects
    from buildtrace_desktop.services.app import AppContext

    with AppContext(home) as app:
        runner = JobRunner(app, max_workers=jobs, in_process=jobs <= 1)
        try:
            if job_id is not None:
                runner.submit(job_id)
                ids = [job_id]
            else:
                ids = runner.resume_incomplete()
            codes = [_exit_code(projects.get_job(app, i), runner.wait(i)) for i in ids]
        finally:
            runner.shutdown()
    return max(codes, default=0)


def _exit_code(job: object, state: str) -> int:
    if state == "done":
        return 0
    return int(getattr(job, "error_code", None) or ExitCode.internal_error)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m buildtrace_desktop.jobs.worker")
    parser.add_argument("--home", help="data folder (default: BUILDTRACE_HOME or the user data folder)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes")
    sub = parser.add_subparsers(dest="command", required=True)
    resume_cmd = sub.add_parser("resume", help="finish jobs a crash left unfinished")
    resume_cmd.add_argument("--job", type=int, default=None)
    compare_cmd = sub.add_parser("compare", help="compare two drawing sets")
    compare_cmd.add_argument("old")
    compare_cmd.add_argument("new")
    compare_cmd.add_argument("--out", required=True)
    return parser


if __name__ == "__main__":
    raise SystemExit(main())
