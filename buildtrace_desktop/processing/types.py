"""Plain data that flows between the processing stages. No Qt, no database.

Units: every box is in PDF points (1/72 in), origin top-left, as PyMuPDF gives them, unless a name says
`_px`. Change boxes are in the NEW page's points.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class PageRef:
    """One page of a drawing set: a page of a PDF, or an image file (page 0)."""

    path: str
    page_index: int  # 0-based page inside `path`
    set_index: int  # 0-based position of the page in its drawing set
    kind: str  # "pdf" | "image"


@dataclass(frozen=True)
class Word:
    box: Box
    text: str


@dataclass
class SheetInfo:
    """What identifies a page as a sheet."""

    set_index: int
    sheet_number: str | None
    title: str | None
    number_source: str | None  # "text" | "ocr" | "user" | None
    page_size: tuple[float, float]  # width, height in points (rotation applied)
    has_text_layer: bool
    thumbnail: list[list[int]] | None = None  # tiny gray image for visual matching, row-major
    # Every sheet-number reading of the page, best first: [text, weight 0..1, box]. Matching picks the one
    # the sets agree with; `sheet_number` is the first.
    number_candidates: list[list] = field(default_factory=list)
    # The title block's words as OCR read them (pages without a text layer): matching looks for the other
    # set's numbers among them when the page's own reading is off.
    ocr_words: list[str] = field(default_factory=list)


@dataclass
class SheetMatch:
    """One row of the sheet table: a matched pair, or an added / removed sheet."""

    status: str  # "matched" | "added" | "removed"
    old_index: int | None
    new_index: int | None
    method: str  # "number" | "title" | "visual" | "only" | "none"
    renumbered: bool = False  # matched, but the sheet number changed
    confidence: float = 1.0  # how sure the pairing (or, for added / removed sheets, the lack of one) is
    # The sheet numbers as read in the light of both sets (a scan's slip mended by the other set's
    # reading, a contract number on every sheet passed over); None where the sheet is absent or unnumbered
    old_number: str | None = None
    new_number: str | None = None
    old_title: str | None = None  # likewise: a scan's title shown as the other set reads it
    new_title: str | None = None
    notes: list[str] = field(default_factory=list)  # for the user: readings that disagree, low confidence


@dataclass
class Alignment:
    """Transform from OLD page points to NEW page points: [x', y'] = M[:, :2] @ [x, y] + M[:, 2]."""

    matrix: list[list[float]]  # 2 x 3
    confidence: float  # 0..1; below settings.min_confidence the pair carries a warning
    method: str  # "identity" | "text" | "phase" | "features" | "ecc" | "failed"

    @staticmethod
    def identity(confidence: float = 1.0, method: str = "identity") -> Alignment:
        return Alignment([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]], confidence, method)


@dataclass
class Change:
    kind: str  # "added" | "removed" | "modified"
    bbox: Box  # NEW page points
    area: float  # square points of ink that changed
    text_removed: list[str] = field(default_factory=list)
    text_added: list[str] = field(default_factory=list)
    added_px: int = 0  # changed-ink pixel counts at the diff DPI (for kind and sorting)
    removed_px: int = 0
    what: str = ""  # in a reviewer's words: "note added", "dimension changed", "revision cloud added" ...
    cloud: int | None = None  # id of the revision cloud (PairResult.clouds) that encloses the change
    group: int | None = None  # id of the review group (PairResult.groups) it belongs to
    tag: str | None = None  # a revision cloud's own change: the text of its tag ("3", "B")


@dataclass
class PairResult:
    """Everything the diff of one sheet pair produced."""

    alignment: Alignment
    changes: list[Change]
    dpi: float  # the DPI the diff ran at
    warnings: list[str] = field(default_factory=list)
    text_source: str = "none"  # "text" | "ocr" | "mixed" | "none"
    overlay_png: str | None = None  # file written by the pair stage, if asked for
    side_by_side_png: str | None = None
    seconds: float = 0.0
    # summary.location_context of the NEW page for these changes; None when not made (no changes, or a
    # result stored before it existed: the summary then reads the page's words itself)
    location_context: dict | None = None
    # Thumbnails of both pages (sheets.thumbnail_of), when asked for: a comparison's sheet stage leaves
    # them to the diff, which renders the pages anyway
    old_thumbnail: list[list[int]] | None = None
    new_thumbnail: list[list[int]] | None = None
    # Revision clouds found in the changed ink: {"id", "bbox" (new points), "tag", "status" ("added" |
    # "removed"), "change" (id of the cloud's own change), "changes" (ids of the changes it encloses)}
    clouds: list[dict] = field(default_factory=list)
    # Review groups, the units a reviewer checks at once: {"id", "label", "bbox", "cloud", "changes"}
    groups: list[dict] = field(default_factory=list)


@dataclass
class CompareSettings:
    """Every option that changes a result. Validated before any work; hashed to key cached results."""

    dpi: float = 150.0
    max_pixels: int = 60_000_000  # a page rendered larger than this is rendered at a lower DPI
    min_confidence: float = 0.6
    ocr: bool = True  # Tesseract for scans (title block and changed text)
    password: str | None = None  # for encrypted PDFs; not part of the hash
    overlay_dpi: float = 75.0  # the overlay / side-by-side PNGs and the report PDF

    def __post_init__(self) -> None:
        from buildtrace_desktop.errors import BadInputError

        if not 20 <= self.dpi <= 600:
            raise BadInputError(f"--dpi must be between 20 and 600, got {self.dpi:g}.")
        if not 10 <= self.overlay_dpi <= 300:
            raise BadInputError(f"overlay DPI must be between 10 and 300, got {self.overlay_dpi:g}.")
        if not 0 <= self.min_confidence <= 1:
            raise BadInputError("min_confidence must be between 0 and 1.")

    def key(self) -> str:
        """Hash of the settings that change results (not the password)."""
        data = {k: v for k, v in asdict(self).items() if k != "password"}
        data["engine"] = ENGINE_VERSION
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


# Bump when a change to processing/ changes results, so cached results are not reused.
ENGINE_VERSION = "2"


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()
