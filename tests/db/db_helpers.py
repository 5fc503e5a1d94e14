"""Shared paths of the database tests (a uniquely named module, importable from the tests)."""
from pathlib import Path

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "sample"
