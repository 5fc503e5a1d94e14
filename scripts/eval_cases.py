#!/usr/bin/env python3
"""Unseen cases: make comparison cases from every corpus base and the unused Lily Hall pages with seeds
of our own, compare each with `buildtrace compare`, and score them beside the corpus. Prints tables.

    .venv/bin/python scripts/eval_cases.py [--out DIR] [--seeds 101,202] [--only PREFIX,...] [--corpus-too]
                                           [--skip-make] [--skip-run] [--jobs 2]

The cases are other people's drawings: they are made into DIR (a temporary folder by default), never into
the repository. The generator is ../shared/eval/make_cases.py, the scorer ../shared/eval/score.py, the
same ones the engine is judged with.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BUILDTRACE_CORPUS", ROOT.parent / "shared" / "corpus")).parent
CORPUS, EVAL = SHARED / "corpus", SHARED / "eval"
LILY = CORPUS / "purdue_lilyhall_cd_set_single_rev" / "set.pdf"

# Pages of each base, and the sheet numbers their title blocks show where make_cases' own reader (a
# corner regex for A-101 shapes) finds none. Lily Hall pages 2, 4, 5 and 8 are the corpus cases' own.
SOURCES = {
    "va": (CORPUS / "bases" / "va-stcloud-bldg28-finish.pdf", "0,1", "0=AF101,1=AF600"),
    "wsdot": (CORPUS / "bases" / "wsdot-sr167-its-oneline.pdf", "0,1,2,3",
              "0=TSDE01,1=TSDE02,2=TSDE03,3=TSDE04"),
    "hga": (CORPUS / "bases" / "hga-e201a-power-signal.pdf", "0", ""),
    "fosters": (CORPUS / "bases" / "fosters-redsea-door-details.pdf", "0", "0=L01-H01D01-FOS-00-XX-MUP-AR-80050"),
    "lilyA": (LILY, "0,1,3", ""),
    "lilyB": (LILY, "6,7,9", ""),
    "lilyC": (LILY, "10,11,12,13", ""),
}
ALL_VARIANTS = "edits,shuffled,shifted,scanned,nochange,nochange_scanned"
SINGLE_PAGE_VARIANTS = "edits,shifted,scanned,nochange,nochange_scanned"  # shuffled needs two pages


def make(out: Path, seeds: list[int], only: list[str]) -> list[Path]:
    cases = []
    for name, (base, pages, numbers) in SOURCES.items():
        if only and not any(name.startswith(o) for o in only):
            continue
        variants = SINGLE_PAGE_VARIANTS if "," not in pages else ALL_VARIANTS
        for seed in seeds:
            prefix = f"{name}{seed}"
            cmd = [sys.executable, str(EVAL / "make_cases.py"), str(base), str(out), "--seed", str(seed),
                   "--pages", pages, "--prefix", prefix, "--variants", variants]
            if numbers:
                cmd += ["--numbers", numbers]
            subprocess.run(cmd, check=True, capture_output=True, text=True)
            cases += sorted(out.glob(f"{prefix}_*"))
    return cases


def compare(case: Path, reports: Path, home: Path, jobs: int) -> tuple[float, int]:
    started = time.perf_counter()
    env = dict(os.environ, BUILDTRACE_HOME=str(home))
    run = subprocess.run([sys.executable, "-m", "buildtrace_desktop", "compare", str(case / "old.pdf"),
                          str(case / "new.pdf"), "--out", str(reports / case.name), "--summary", "none",
                          "--jobs", str(jobs)], capture_output=True, text=True, env=env)
    if run.returncode not in (0, 1):
        print(f"{case.name}: exit {run.returncode}\n{run.stderr[-2000:]}", file=sys.stderr)
    return time.perf_counter() - started, run.returncode


def score(cases: list[Path], reports: Path) -> None:
    sys.path.insert(0, str(EVAL))
    import score as scorer  # noqa: PLC0415 - the shared scorer, outside the repository

    groups: dict[str, dict] = {}
    rows = []
    for case in cases:
        truth = json.loads((case / "truth.json").read_text())
        path = reports / case.name / "report.json"
        report = json.loads(path.read_text()) if path.exists() else {"sheets": []}
        r = scorer.score_case(report, truth)
        rows.append(scorer.summarize(case.name, r))
        variant = truth["variant"]
        group = "nochange_scanned" if variant == "nochange_scanned" else "nochange" if variant == "nochange" \
            else "scanned" if variant == "scanned" else "vector"
        groups[group] = r if group not in groups else {k: groups[group][k] + r[k] for k in r}
    scorer.print_table(rows)
    print()
    scorer.print_table([scorer.summarize(g, r) for g, r in sorted(groups.items())])
    for group in ("nochange", "nochange_scanned"):
        if group in groups:
            sheets = sum(1 for c in cases if json.loads((c / "truth.json").read_text())["variant"] == group
                         for _ in json.loads((c / "truth.json").read_text())["sheets"])
            print(f"{group}: {groups[group]['reported']} changes reported on {sheets} unchanged sheets")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--seeds", default="101,202")
    ap.add_argument("--only", default="", help="source prefixes (va, wsdot, hga, fosters, lily...)")
    ap.add_argument("--corpus-too", action="store_true", help="also run and score ../shared/corpus/edits")
    ap.add_argument("--skip-make", action="store_true", help="use the cases already in --out")
    ap.add_argument("--skip-run", action="store_true", help="score the reports already in --out")
    ap.add_argument("--variants", default="", help="only these variants (comma-separated)")
    ap.add_argument("--jobs", type=int, default=2)
    a = ap.parse_args()
    out = a.out or Path(tempfile.mkdtemp(prefix="buildtrace-cases-"))
    cases_dir, reports = out / "cases", out / "reports"
    cases_dir.mkdir(parents=True, exist_ok=True)
    only = [o for o in a.only.split(",") if o]
    seeds = [int(s) for s in a.seeds.split(",") if s]
    if a.skip_make:
        cases = sorted(p for p in cases_dir.iterdir() if (p / "truth.json").exists()
                       and (not only or any(p.name.startswith(o) for o in only)))
    else:
        cases = make(cases_dir, seeds, only)
    if a.variants:
        wanted = set(a.variants.split(","))
        cases = [c for c in cases if json.loads((c / "truth.json").read_text())["variant"] in wanted]
    if a.corpus_too:
        cases += sorted(p.parent for p in (CORPUS / "edits").glob("*/truth.json"))
    print(f"{len(cases)} cases in {out}")
    if not a.skip_run:
        shutil.rmtree(out / "home", ignore_errors=True)  # no results cached by an earlier engine
        for case in cases:
            seconds, code = compare(case, reports, out / "home", a.jobs)
            print(f"  {case.name:<28} {seconds:6.1f} s  exit {code}", flush=True)
    score(cases, reports)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
