"""Frames: two text layers in one frame are recognised by their words (most of them in place); a re-plot moved by a point, which
the coarse images cannot tell from one not moved, is measured and reports no change (it reported 52
changes at half a point and 169 at one point)."""
from __future__ import annotations

from pathlib import Path

import pdf_makers
import pytest

from buildtrace_desktop.processing import align, documents, pipeline
from buildtrace_desktop.processing.types import CompareSettings


def test_words_in_place_mean_one_frame_and_moved_words_do_not(tmp_path: Path, sample_old: Path) -> None:
    old = pdf_makers.subset(sample_old, [0], tmp_path / "old.pdf")
    retyped = tmp_path / "retyped.pdf"
    pdf_makers.retype_word(sample_old, retyped, 0, "140", "141")
    moved = pdf_makers.replot(old, tmp_path / "moved.pdf", 1.0, 1.0, 0.0)
    settings = CompareSettings()
    with documents.open_page(documents.list_pages([old])[0], settings) as a, \
            documents.open_page(documents.list_pages([retyped])[0], settings) as b, \
            documents.open_page(documents.list_pages([moved])[0], settings) as c:
        assert align._words_in_frame(a, b)
        assert not align._words_in_frame(a, c)


@pytest.mark.parametrize("dx, dy", [(0.5, 0.0), (1.0, -2.0)])
def test_a_re_plot_moved_by_a_point_is_aligned_and_unchanged(tmp_path: Path, sample_old: Path, dx: float,
                                                             dy: float) -> None:
    old = pdf_makers.subset(sample_old, [0], tmp_path / "old.pdf")
    moved = pdf_makers.replot(old, tmp_path / "moved.pdf", 1.0, dx, dy)
    result = pipeline.compare_pair(documents.list_pages([old])[0], documents.list_pages([moved])[0], CompareSettings())
    assert abs(result.alignment.matrix[0][2] - dx) < 0.1 and abs(result.alignment.matrix[1][2] - dy) < 0.1
    assert result.changes == []
