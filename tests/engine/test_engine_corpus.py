"""The corpus cases (../shared/corpus/edits), compared by `buildtrace compare` and scored by the shared
scorer (../shared/eval/score.py), against the targets of the engine issue.

Where the engine does not reach a target yet, the floor below is what it reaches today (a ratchet: raise
it when the engine improves, never lower it); README.md lists the measured figures and the gaps.
"""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys

import pytest
from tests_paths import CORPUS, EVAL

pytestmark = pytest.mark.corpus

VECTOR = ["lily_edits", "lily_shifted", "lily_shuffled", "va_edits", "va_shifted"]
SCANNED = ["lily_scanned", "va_scanned"]
NOCHANGE = ["lily_nochange", "lily_nochange_scanned"]

# Per case: recall, precision, kind, text floors. Targets: vector 0.95 / 0.90 / 0.90 / 0.80 (all vector
# cases together), scanned 0.90 / 0.80. lily_edits and lily_shifted each have one change whose truth box
# is the extent of a PDF object that is mostly invisible (its visible difference is a small part of it).
FLOORS = {
    "lily_edits": (0.92, 0.90, 0.90, 0.80),
    "lily_shifted": (0.92, 0.90, 0.90, 0.80),
    "lily_shuffled": (0.95, 0.90, 0.90, 0.80),
    "va_edits": (0.95, 0.90, 0.90, 0.80),
    "va_shifted": (0.95, 0.90, 0.90, 0.80),
    # Scans: at 150 dpi a double line turned single moves less ink than a scan's tolerance (known gap).
    "lily_scanned": (0.91, 0.80, 0.90, 0.80),
    "va_scanned": (0.90, 0.80, 0.90, 0.80),
}


def _scorer():
    spec = importlib.util.spec_from_file_location("shared_score", EVAL / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, tuple[dict, dict]]:
    """Every case compared once, each in its own data folder, through the real command."""
    out = tmp_path_factory.mktemp("corpus")
    results = {}
    for case in VECTOR + SCANNED + NOCHANGE:
        case_dir = CORPUS / "edits" / case
        env = dict(os.environ, BUILDTRACE_HOME=str(out / "home"))
        run = subprocess.run([sys.executable, "-m", "buildtrace_desktop", "compare", str(case_dir / "old.pdf"),
                              str(case_dir / "new.pdf"), "--out", str(out / case), "--summary", "none"],
                             capture_output=True, text=True, env=env, timeout=900)
        assert run.returncode in (0, 1), f"{case}: exit {run.returncode}\n{run.stderr}"
        report = json.loads((out / case / "report.json").read_text())
        truth = json.loads((case_dir / "truth.json").read_text())
        results[case] = (report, truth)
    return results


@pytest.mark.parametrize("case", VECTOR + SCANNED)
def test_case_reaches_its_floor(reports, case: str) -> None:
    score = _scorer()
    report, truth = reports[case]
    row = score.summarize(case, score.score_case(report, truth))
    recall, precision, kind, text = FLOORS[case]
    assert row["sheets"] == 1.0 and row["numbers"] == 1.0, row
    assert row["recall"] >= recall and row["precision"] >= precision, row
    assert row["kind"] >= kind and row["text"] >= text, row


def test_vector_cases_together_reach_the_targets(reports) -> None:
    score = _scorer()
    total = None
    for case in VECTOR:
        r = score.score_case(*reports[case])
        total = r if total is None else {k: total[k] + r[k] for k in r}
    row = score.summarize("vector", total)
    assert row["recall"] >= 0.95 and row["precision"] >= 0.90 and row["kind"] >= 0.90 and row["text"] >= 0.80, row


def test_nothing_changed_reports_nothing(reports) -> None:
    report, _ = reports["lily_nochange"]
    assert sum(len(s["changes"]) for s in report["sheets"]) == 0
    report, _ = reports["lily_nochange_scanned"]
    assert all(len(s["changes"]) <= 1 for s in report["sheets"]), [len(s["changes"]) for s in report["sheets"]]


# --- unseen cases: made by the shared generator from a corpus base with a seed of our own -----------------

GENERATED_BASE = "wsdot-sr167-its-oneline.pdf"  # 4 sheets numbered in a labelled box; a contract number
GENERATED_NUMBERS = "0=TSDE01,1=TSDE02,2=TSDE03,3=TSDE04"  # that make_cases' own reader cannot read
GENERATED_SEED = 7321


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, tuple[dict, dict]]:
    """Every variant of one base made with our seed, compared through the real command, with its truth."""
    out = tmp_path_factory.mktemp("generated")
    subprocess.run([sys.executable, str(EVAL / "make_cases.py"), str(CORPUS / "bases" / GENERATED_BASE),
                    str(out / "cases"), "--seed", str(GENERATED_SEED), "--pages", "0,1,2,3", "--prefix", "gen",
                    "--numbers", GENERATED_NUMBERS], check=True, capture_output=True, text=True, timeout=600)
    results = {}
    for case_dir in sorted((out / "cases").iterdir()):
        env = dict(os.environ, BUILDTRACE_HOME=str(out / "home"))
        run = subprocess.run([sys.executable, "-m", "buildtrace_desktop", "compare", str(case_dir / "old.pdf"),
                              str(case_dir / "new.pdf"), "--out", str(out / case_dir.name), "--summary", "none"],
                             capture_output=True, text=True, env=env, timeout=900)
        assert run.returncode in (0, 1), f"{case_dir.name}: exit {run.returncode}\n{run.stderr}"
        results[case_dir.name.removeprefix("gen_")] = (json.loads((out / case_dir.name / "report.json").read_text()),
                                                      json.loads((case_dir / "truth.json").read_text()))
    return results


def _row(generated, variants: list[str]) -> dict:
    score = _scorer()
    total = None
    for variant in variants:
        r = score.score_case(*generated[variant])
        total = r if total is None else {k: total[k] + r[k] for k in r}
    return score.summarize("+".join(variants), total)


def test_generated_cases_pair_every_sheet_and_read_every_number(generated) -> None:
    for variant in generated:
        row = _row(generated, [variant])
        assert row["sheets"] == 1.0 and row["numbers"] == 1.0, row


# Targets: vector recall 0.98, precision 0.95, text 0.95, what 0.90; scanned recall 0.95, precision 0.90.
# Floors where a target is not met yet (a ratchet, as above), measured on this seed:
# - vector precision 0.925: the case's line-work removals also removed three light gray L-shaped paths
#   that the generator's own measure (36 dpi, a change of 40 gray levels) does not see, so its truth
#   lacks them; they are real removals on the page;
# - scanned recall 0.889: two changed values in 4 pt text ("12/31/2024" -> "20/31/2024", 167 -> 176,
#   2 x 4 pt) leave fewer pixels than a scan's noise floor.
GENERATED_VECTOR_FLOORS = {"recall": 0.98, "precision": 0.92, "text": 0.95, "what": 0.90}
GENERATED_SCANNED_FLOORS = {"recall": 0.88, "precision": 0.90}


def test_generated_vector_cases_reach_their_floors(generated) -> None:
    row = _row(generated, ["edits", "shuffled", "shifted"])
    assert all(row[k] >= v for k, v in GENERATED_VECTOR_FLOORS.items()), row


def test_generated_scanned_case_reaches_its_floors(generated) -> None:
    row = _row(generated, ["scanned"])
    assert all(row[k] >= v for k, v in GENERATED_SCANNED_FLOORS.items()), row


def test_generated_unchanged_sets_report_nothing(generated) -> None:
    report, _truth = generated["nochange"]
    assert sum(len(s["changes"]) for s in report["sheets"]) == 0
    report, _truth = generated["nochange_scanned"]
    sheets = [s for s in report["sheets"] if s["status"] == "matched"]
    assert sum(len(s["changes"]) for s in sheets) <= len(sheets) / 4, [len(s["changes"]) for s in sheets]
