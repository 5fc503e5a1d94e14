#!/usr/bin/env python3
"""Unseen cases: make comparison cases from every corpus base and the unused Lily Hall pages with seeds
of our own, compare each with `buildtrace compare`, and score them beside the corpus. Prints tables.

    .venv/bin/python scripts/eval_cases.py [--out DIR] [--seeds 101,202] [--only PREFIX,...] [--corpus-too]
                                           [--skip-make] [--skip-run] [--jobs 2]

The cases are other people's drawings: they are made into DIR (a temporary folder by default), never into
the repository. The generator is ../shared/eval/make_cases.py, the scorer ../shared/eval/score.py, the
same ones the engine is judged with.

The generator measures each edit's box on the document in memory, before it saves it with garbage
collection and a content clean-up; on some pages (Lily Hall's sheets with a seal image) the first redaction
makes an image render differently in memory, so the measured box is the edit joined with that image, which
the saved file draws as before: no box drawn around what changed can cover a third of it. So each case is
also made again with every edit measured on the document as saved (`truth_visible.json`, the same edits),
and scored against both: the second table is what an engine can find. The shifted variant of a rotated
page (Foster's sheet) draws the content turned a quarter round but moves the boxes as if it were not;
those cases are left out of the second table.
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
            made = sorted(out.glob(f"{prefix}_*"))
            visible_truths(base, pages, numbers, seed, prefix, variants, made)
            cases += made
    return cases


def visible_truths(base: Path, pages: str, numbers: str, seed: int, prefix: str, variants: str,
                   cases: list[Path]) -> None:
    """Each case's edits again, measured also on the document as the generator saves it: `truth_visible.json`
    beside `truth.json`. The generator's own random sequence is replayed and its own measurement still
    steers it (later edits avoid earlier boxes), so the edits are the same; only the boxes written differ."""
    import importlib.util
    import random

    import numpy as np
    import pymupdf

    spec = importlib.util.spec_from_file_location("shared_make_cases", EVAL / "make_cases.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    in_memory, measure, apply_edits = generator.render_gray, generator.changed_box, generator.apply_edits
    visible: list[tuple[list[float], list[float] | None]] = []  # (the generator's box, the saved file's)

    class Render(np.ndarray):
        saved: np.ndarray

    def render_both(page, dpi=generator.PROBE_DPI):
        img = in_memory(page, dpi)
        if dpi != generator.PROBE_DPI:  # blank_spot's search
            return img
        copy = pymupdf.open("pdf", page.parent.tobytes())
        saved = pymupdf.open("pdf", copy.tobytes(garbage=4, deflate=True, clean=True))
        out = img.view(Render)
        out.saved = in_memory(saved[page.number], dpi)
        return out

    def measure_both(before, after, dpi=generator.PROBE_DPI):
        found = measure(before, after, dpi)
        if found is not None:
            seen = measure(before.saved, after.saved, dpi)
            visible.append(([round(v, 1) for v in found[0]], None if seen is None else [round(v, 1) for v in seen[0]]))
        return found

    def apply_and_swap(doc, pno, rng, n):
        visible.clear()
        changes = apply_edits(doc, pno, rng, n)
        for change, (box, seen) in zip(changes, visible, strict=True):
            assert change["bbox"] == box
            change["bbox"] = seen or box
            change["visible"] = seen is not None
        return changes

    generator.render_gray, generator.changed_box, generator.apply_edits = render_both, measure_both, apply_and_swap
    known = {int(k): v for k, v in (kv.split("=", 1) for kv in numbers.split(",") if kv)}
    with tempfile.TemporaryDirectory() as tmp, pymupdf.open(base) as doc:
        for k, variant in enumerate(variants.split(",")):
            generator.make_variant(doc, [int(p) for p in pages.split(",")], variant,
                                   random.Random(seed * 1000 + k), Path(tmp) / variant, known)
            case = next(c for c in cases if c.name == f"{prefix}_{variant}")
            truth = json.loads((Path(tmp) / variant / "truth.json").read_text())
            # The shifted variant places a rotated page's content turned a quarter round, but moves its
            # boxes as if it were not: no box of that truth is where its change is drawn.
            truth["misplaced"] = variant == "shifted" and any(doc[int(p)].rotation for p in pages.split(","))
            (case / "truth_visible.json").write_text(json.dumps(truth, indent=1))


def compare(case: Path, reports: Path, home: Path, jobs: int) -> tuple[float, int]:
    started = time.perf_counter()
    env = dict(os.environ, BUILDTRACE_HOME=str(home))
    run = subprocess.run([sys.executable, "-m", "buildtrace_desktop", "compare", str(case / "old.pdf"),
                          str(case / "new.pdf"), "--out", str(reports / case.name), "--summary", "none",
                          "--jobs", str(jobs)], capture_output=True, text=True, env=env)
    if run.returncode not in (0, 1):
        print(f"{case.name}: exit {run.returncode}\n{run.stderr[-2000:]}", file=sys.stderr)
    return time.perf_counter() - started, run.returncode


def score(cases: list[Path], reports: Path, truth_name: str = "truth.json") -> None:
    sys.path.insert(0, str(EVAL))
    import score as scorer  # noqa: PLC0415 - the shared scorer, outside the repository

    groups: dict[str, dict] = {}
    rows = []
    for case in cases:
        path = case / truth_name if (case / truth_name).exists() else case / "truth.json"
        truth = json.loads(path.read_text())
        if truth.get("misplaced"):
            print(f"{case.name}: left out (a rotated page's shifted variant: its truth boxes are misplaced)")
            continue
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
    print("\n=== against the generator's truth ===")
    score(cases, reports)
    print("\n=== against the visible truth (every edit measured on the file as saved) ===")
    score(cases, reports, "truth_visible.json")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
