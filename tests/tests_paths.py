"""Paths the tests share (importable from any test folder: pytest puts tests/ on sys.path)."""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "resources" / "sample"
CORPUS = Path(os.environ.get("BUILDTRACE_CORPUS", ROOT.parent / "shared" / "corpus"))
EVAL = CORPUS.parent / "eval"
