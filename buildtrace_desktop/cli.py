"""The `buildtrace` command: the GUI (no arguments), `compare`, `summarize`, `doctor`.

This is one of the two places where errors become exit codes (the job runner is the other): every
BuildTraceError prints its message and exits with its code; anything else is a bug, reported as such.
"""
from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import sys
import threading
import time
from pathlib import Path

from buildtrace_desktop import __version__
from buildtrace_desktop.errors import BadInputError, BuildTraceError, ExitCode


def main(argv: list[str] | None = None) -> int:
    # First thing: a spawned job worker of a frozen (PyInstaller) app runs its task here and exits.
    multiprocessing.freeze_support()
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser()
    if not argv:
        argv = ["gui"]
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except BuildTraceError as exc:
        print(f"buildtrace: error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("buildtrace: interrupted; run the same command again to continue.", file=sys.stderr)
        return int(ExitCode.cancelled)
    except Exception as exc:  # a bug: say so plainly, keep the details in a log file
        log = _write_crash_log()
        print(f"buildtrace: internal error: {exc.__class__.__name__}: {exc}\n"
              f"This is a bug in BuildTrace. Details are in {log}; please send that file to support.",
              file=sys.stderr)
        return int(ExitCode.internal_error)


def run() -> None:
    """The `buildtrace` console script: `main`, then exit with its code.

    After a headless command, the process leaves without finalizing the interpreter: by then every
    output is written (atomically) and the database closed, and tearing down SQLAlchemy, NumPy, MuPDF
    and Qt would take another 0.3 s after a comparison for nothing. The GUI exits the usual way."""
    code = main()
    argv = sys.argv[1:]
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    if argv and argv[0] != "gui" and not others:
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    raise SystemExit(code)


def _write_crash_log() -> Path:
    import tempfile
    import traceback

    from buildtrace_desktop.config import AppConfig

    try:
        folder = AppConfig.load().home / "logs"
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        folder = Path(tempfile.gettempdir())
    path = folder / f"crash-{time.strftime('%Y%m%d-%H%M%S')}.log"
    path.write_text(traceback.format_exc(), encoding="utf-8")
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="buildtrace", description="Compare revisions of drawing sets.")
    parser.add_argument("--version", action="version", version=f"buildtrace {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    gui = sub.add_parser("gui", help="open the desktop app (the default)")
    gui.add_argument("--sample", action="store_true", help="open the bundled sample comparison")
    gui.set_defaults(func=cmd_gui)

    compare = sub.add_parser("compare", help="compare two drawing sets and write a report")
    compare.add_argument("old", help="old set: a PDF, an image or a folder of them")
    compare.add_argument("new", help="new set: a PDF, an image or a folder of them")
    compare.add_argument("--out", required=True, help="folder for report.json, changes.csv, PNGs, report.pdf")
    compare.add_argument("--dpi", type=float, default=150.0, help="render resolution (default 150)")
    compare.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                         help="worker processes (default: 2, or 1 on a one-core machine)")
    compare.add_argument("--password", help="password of encrypted PDFs")
    compare.add_argument("--no-ocr", action="store_true", help="do not run Tesseract on scanned pages")
    compare.add_argument("--summary", choices=["offline", "llm", "none"], default="offline",
                         help="summary to add to the report (default offline; llm needs a configured model)")
    compare.add_argument("--project", default="Command line", help="project to record the comparison in")
    add_llm_options(compare)
    compare.set_defaults(func=cmd_compare)

    summarize = sub.add_parser("summarize", help="(re)write the change summary of a stored comparison")
    summarize.add_argument("comparison_id", type=int)
    summarize.add_argument("--mode", choices=["offline", "llm"], default="offline")
    add_llm_options(summarize)
    summarize.set_defaults(func=cmd_summarize)

    doctor = sub.add_parser("doctor", help="print versions, Tesseract, data folder and database path")
    doctor.set_defaults(func=cmd_doctor)
    return parser


def add_llm_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("LLM summary (also BUILDTRACE_LLM_* variables; the API key comes from "
                                      "the OS keyring, set in the app's Settings, or OPENAI_API_KEY)")
    group.add_argument("--llm-model", help="model name, e.g. gpt-4o-mini or a local server's model")
    group.add_argument("--llm-base-url", help="an OpenAI-compatible server, e.g. http://localhost:11434/v1")
    group.add_argument("--llm-images", action="store_true", default=None,
                       help="send crops of the old, new and overlay images around each change")


def llm_config(args: argparse.Namespace):
    from buildtrace_desktop.llm.settings import LLMConfig

    return LLMConfig.from_env(model=args.llm_model, base_url=args.llm_base_url, send_images=args.llm_images)


def cmd_gui(args: argparse.Namespace) -> int:
    from buildtrace_desktop.ui.app import run_gui

    return run_gui(sys.argv[:1], sample=args.sample)


def cmd_compare(args: argparse.Namespace) -> int:
    if args.jobs < 1:
        raise BadInputError("--jobs must be 1 or more.")
    for path in (args.old, args.new):
        if not Path(path).exists():
            raise BadInputError(f"{path}: no such file or folder.")
    from buildtrace_desktop.jobs.processes import discard_early_workers, start_workers_early

    start_workers_early(args.jobs)  # one worker, before the imports below, which take one core for 0.4 s
    try:
        return _compare(args)
    finally:
        discard_early_workers()  # none left unless the command failed before it needed them


def _compare(args: argparse.Namespace) -> int:
    from buildtrace_desktop.processing.types import CompareSettings
    from buildtrace_desktop.services.compare import compare_paths

    settings = CompareSettings(dpi=args.dpi, password=args.password, ocr=not args.no_ocr)
    started = time.perf_counter()

    def progress(done: int, total: int, _key: str, message: str) -> None:
        print(f"[{done:>3}/{total}] {message}", flush=True)

    llm_errors: list[str] = []

    def make_summary(app, comparison_id: int) -> None:
        if args.summary == "none":
            return
        from buildtrace_desktop.services import summaries

        made = summaries.summarize_comparison(app, comparison_id, args.summary,
                                              llm_config(args) if args.summary == "llm" else None)
        if made.llm_error:
            llm_errors.append(made.llm_error)

    outcome = compare_paths([args.old], [args.new], args.out, settings, jobs=args.jobs, progress=progress,
                            project_name=args.project, before_export=make_summary)
    exit_code = outcome.exit_code
    for error in llm_errors:
        print(f"warning: the LLM summary failed, the offline one is kept: {error}", file=sys.stderr)
        exit_code = max(exit_code, int(ExitCode.warnings))
    print()
    print_sheet_table(outcome.sheet_rows)
    print(f"\nComparison {outcome.comparison_id} in {time.perf_counter() - started:.1f} s. "
          f"Report: {outcome.report_path}")
    for warning in outcome.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return exit_code


def print_sheet_table(rows: list[dict]) -> None:
    header = f"{'sheet':<14} {'status':<10} {'changes':>7} {'align':>6}  title / notes"
    print(header)
    print("-" * len(header))
    for row in rows:
        number = row.get("sheet_number") or "(no number)"
        status = row["status"] + ("*" if row.get("renumbered") else "")
        conf = row.get("confidence")
        notes = row.get("title") or ""
        if row.get("renumbered"):
            notes = f"renumbered from {row.get('old_sheet_number')}; " + notes
        if row.get("warnings"):
            notes += "  [" + "; ".join(row["warnings"]) + "]"
        print(f"{number:<14} {status:<10} {row.get('changes', 0):>7} {'' if conf is None else f'{conf:.2f}':>6}  {notes}")


def cmd_summarize(args: argparse.Namespace) -> int:
    from buildtrace_desktop.services import summaries
    from buildtrace_desktop.services.app import AppContext

    with AppContext() as app:
        outcome = summaries.summarize_comparison(app, args.comparison_id, args.mode,
                                                 llm_config(args) if args.mode == "llm" else None)
    print(outcome.best.text)
    if outcome.llm_error:
        print(f"warning: the LLM summary failed, the offline one is kept: {outcome.llm_error}", file=sys.stderr)
        return int(ExitCode.warnings)
    return 0


def cmd_doctor(_args: argparse.Namespace) -> int:
    from buildtrace_desktop.services.diagnostics import diagnostics

    report = diagnostics()
    width = max(len(k) for k in report)
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    return 0 if report.get("tesseract", "").startswith("found") else int(ExitCode.warnings)


if __name__ == "__main__":
    raise SystemExit(main())
