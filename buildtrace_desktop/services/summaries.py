"""Summaries of a comparison: made (offline always, LLM when asked), stored as versions, edited, read.

Two doors:
- `summary_for_report(report, ...)` is pure apart from the optional LLM call: report dict in, the dict for
  report.json's "summary" out. The CLI's `compare --summary offline|llm` calls it.
- `summarize_comparison(app, comparison_id, ...)` reads a stored comparison, makes its summaries and stores
  them in the `summaries` table (one row per version; a user's edit is a new version and the machine's
  version stays). `buildtrace summarize COMPARISON_ID` and the GUI call it.
LLM failures never lose the offline summary: it is stored first, and the error comes back in the outcome.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from buildtrace_desktop.db.models import Sheet, StoredFile, Summary
from buildtrace_desktop.errors import BadInputError, BuildTraceError
from buildtrace_desktop.processing.summary import WordTuple, summarize_report
from buildtrace_desktop.processing.types import CompareSettings, PageRef
from buildtrace_desktop.services.app import AppContext

if TYPE_CHECKING:  # the LLM layer (openai, OpenCV for crops, keyring: 0.1 s to import) loads only when an
    # LLM summary is made; an offline summary, every `buildtrace compare`'s, never needs it
    from keyring.backend import KeyringBackend

    from buildtrace_desktop.llm.client import LLMResult
    from buildtrace_desktop.llm.crops import SheetImages
    from buildtrace_desktop.llm.errors import LLMError
    from buildtrace_desktop.llm.settings import ApiKey, LLMConfig
    from buildtrace_desktop.llm.usage import Budget

OFFLINE = "offline"
FAILED_PREFIX = "failed:"  # source of a row that only records what a failed LLM request cost
MODES = ("offline", "llm")


@dataclass(frozen=True)
class SummaryRecord:
    """One stored summary version, detached from the database."""

    id: int
    comparison_id: int
    pair_id: int | None
    source: str
    version: int
    text: str
    data: dict[str, Any]
    edited_by_user: bool
    tokens_in: int
    tokens_out: int
    cost_usd: float

    def report_dict(self) -> dict[str, Any]:
        """This version as report.json's "summary" object."""
        return {**self.data, "source": self.source, "text": self.text, "version": self.version,
                "edited_by_user": self.edited_by_user}

    @classmethod
    def of(cls, row: Summary) -> SummaryRecord:
        return cls(row.id, row.comparison_id, row.pair_id, row.source, row.version, row.text,
                   dict(row.data_json or {}), row.edited_by_user, row.tokens_in, row.tokens_out, row.cost_usd)


@dataclass(frozen=True)
class SummarizeOutcome:
    """What summarize_comparison stored. `llm_error` is the user-facing message when the LLM failed."""

    offline: SummaryRecord
    llm: SummaryRecord | None = None
    llm_error: str | None = None

    @property
    def best(self) -> SummaryRecord:
        return self.llm or self.offline


# ---------------------------------------------------------------- the pure door (CLI compare)


def summary_for_report(
    report: Mapping[str, Any],
    mode: str = "offline",
    llm_config: LLMConfig | None = None,
    api_key: ApiKey | str | None = None,
    words: Mapping[Any, Sequence[WordTuple]] | None = None,
    images: Mapping[int, SheetImages] | None = None,
    budget: Budget | None = None,
    keyring_backend: KeyringBackend | None = None,
) -> dict[str, Any]:
    """The "summary" of report.json. Offline always; with mode "llm" the model's summary, which keeps the
    offline one under "offline". When the LLM fails, the offline summary with "llm_error" set.

    `words`: per sheet (position in report["sheets"] or sheet number) the NEW page's words in points.
    `images`: per sheet position where its pages and overlay are, for crops (with llm_config.send_images).
    """
    _check_mode(mode)
    offline = summarize_report(report, words)
    if mode == OFFLINE:
        return offline
    from buildtrace_desktop.llm.errors import LLMError
    from buildtrace_desktop.llm.settings import LLMConfig

    config = llm_config or LLMConfig()
    try:
        result = _run_llm(report, offline, config, api_key, images, budget, keyring_backend)
    except LLMError as error:
        return {**offline, "llm_error": str(error), "llm_usage": _error_usage(error)}
    return {**result.summary, "offline": offline}


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise BadInputError(f"--summary must be one of {', '.join(MODES)}, got {mode!r}.")


def _run_llm(report: Mapping[str, Any], offline: Mapping[str, Any], config: LLMConfig,
             api_key: ApiKey | str | None, images: Mapping[int, SheetImages] | None, budget: Budget | None,
             keyring_backend: KeyringBackend | None) -> LLMResult:
    from buildtrace_desktop.llm.client import summarize_with_llm
    from buildtrace_desktop.llm.crops import change_crops
    from buildtrace_desktop.llm.errors import LLMConfigError
    from buildtrace_desktop.llm.settings import load_api_key, missing_key_message

    key = api_key if api_key is not None else load_api_key(keyring_backend)
    if key is None and config.is_openai:
        raise LLMConfigError(missing_key_message(keyring_backend))
    crops = []
    if config.send_images and images:
        try:
            crops = change_crops(report, images, config.max_images, config.image_max_side)
        except BuildTraceError:
            crops = []  # pictures are optional: an unreadable page must not cost the summary
    return summarize_with_llm(report, offline, config, key, crops=crops, budget=budget)


def _error_usage(error: LLMError) -> dict[str, Any]:
    usage = getattr(error, "usage", None)
    return usage.as_dict() if usage is not None else {}


# ---------------------------------------------------------------- stored comparisons


def summarize_comparison(
    app: AppContext,
    comparison_id: int,
    mode: str = "offline",
    llm_config: LLMConfig | None = None,
    api_key: ApiKey | str | None = None,
    keyring_backend: KeyringBackend | None = None,
) -> SummarizeOutcome:
    """Make and store the comparison's offline summary, and with mode "llm" its LLM summary.

    The offline summary is stored first (a re-run with the same result adds no version). An LLM failure is
    returned as `llm_error`; the tokens it used are recorded so the per-comparison limit counts them.
    """
    from buildtrace_desktop.services.export import build_comparison_report

    _check_mode(mode)
    report, results = build_comparison_report(app, comparison_id)
    pages = _sheet_pages(app, report, comparison_id)
    contexts = _location_contexts(report, results)
    words = _page_words({i: refs for i, refs in pages.items() if i not in contexts}, report)
    offline = summarize_report(report, words, contexts)
    offline_row = _store_machine(app, comparison_id, offline)
    if mode == OFFLINE:
        return SummarizeOutcome(offline_row)
    from buildtrace_desktop.llm.errors import LLMError
    from buildtrace_desktop.llm.settings import LLMConfig

    config = llm_config or LLMConfig()
    images = _sheet_images(report, results, pages)
    try:
        result = _run_llm(report, offline, config, api_key, images, llm_usage(app, comparison_id), keyring_backend)
    except LLMError as error:
        _store_failure(app, comparison_id, config, error)
        return SummarizeOutcome(offline_row, None, str(error))
    usage = result.usage
    llm_row = _insert(app, comparison_id, config.model[:100], result.summary["text"], result.summary,
                      tokens=(usage.tokens_in, usage.tokens_out, usage.cost_usd))
    return SummarizeOutcome(offline_row, llm_row)


def edit_summary(app: AppContext, summary_id: int, text: str) -> SummaryRecord:
    """Store the user's text as a new version of the summary; the version edited stays as it was."""
    if not text.strip():
        raise BadInputError("The summary text is empty: write the summary, or keep the machine's version.")
    with app.db.read() as s:
        base = s.get(Summary, summary_id)
        if base is None:
            raise BadInputError(f"There is no summary with id {summary_id}.")
        base_record = SummaryRecord.of(base)
    data = {**base_record.data, "edited_from": base_record.id, "text": text}
    return _insert(app, base_record.comparison_id, base_record.source, text, data, edited=True,
                   pair_id=base_record.pair_id)


def latest_summaries(app: AppContext, comparison_id: int) -> list[SummaryRecord]:
    """The newest version of each summary of the comparison (offline first, then each model)."""
    with app.db.read() as s:
        rows = s.scalars(select(Summary).where(Summary.comparison_id == comparison_id)
                         .order_by(Summary.source, Summary.version)).all()
        newest: dict[tuple[int | None, str], Summary] = {}
        for row in rows:
            if not row.source.startswith(FAILED_PREFIX):
                newest[(row.pair_id, row.source)] = row
        records = [SummaryRecord.of(row) for row in newest.values()]
    return sorted(records, key=lambda r: (r.source != OFFLINE, r.pair_id or 0, r.id))


def report_summary(app: AppContext, comparison_id: int) -> dict[str, Any] | None:
    """The summary a report of the comparison shows: the newest stored version (a user's edit, the LLM's
    or the offline one), or None when none is stored yet."""
    records = latest_summaries(app, comparison_id)
    return max(records, key=lambda r: r.id).report_dict() if records else None


def summary_versions(app: AppContext, comparison_id: int, source: str = OFFLINE) -> list[SummaryRecord]:
    """Every version of one summary, oldest first (machine versions and the user's edits)."""
    with app.db.read() as s:
        rows = s.scalars(select(Summary).where(Summary.comparison_id == comparison_id, Summary.source == source,
                                               Summary.pair_id.is_(None)).order_by(Summary.version)).all()
        return [SummaryRecord.of(row) for row in rows]


def llm_usage(app: AppContext, comparison_id: int) -> Budget:
    """Tokens and estimated cost of every LLM request of the comparison so far (failed ones too)."""
    from buildtrace_desktop.llm.usage import Budget

    with app.db.read() as s:
        tokens, cost = s.execute(
            select(func.coalesce(func.sum(Summary.tokens_in + Summary.tokens_out), 0),
                   func.coalesce(func.sum(Summary.cost_usd), 0.0))
            .where(Summary.comparison_id == comparison_id, Summary.edited_by_user.is_(False),
                   Summary.source != OFFLINE)
        ).one()
    return Budget(int(tokens), float(cost))


# ---------------------------------------------------------------- rows


def _next_version(session: Session, comparison_id: int, pair_id: int | None, source: str) -> int:
    pair_clause = Summary.pair_id.is_(None) if pair_id is None else Summary.pair_id == pair_id
    current = session.scalar(select(func.max(Summary.version)).where(
        Summary.comparison_id == comparison_id, pair_clause, Summary.source == source))
    return (current or 0) + 1


def _insert(app: AppContext, comparison_id: int, source: str, text: str, data: Mapping[str, Any], *,
            edited: bool = False, pair_id: int | None = None,
            tokens: tuple[int, int, float] = (0, 0, 0.0)) -> SummaryRecord:
    with app.db.write() as s:
        row = Summary(comparison_id=comparison_id, pair_id=pair_id, source=source,
                      version=_next_version(s, comparison_id, pair_id, source), text=text, data_json=dict(data),
                      edited_by_user=edited, tokens_in=tokens[0], tokens_out=tokens[1], cost_usd=tokens[2])
        s.add(row)
        s.flush()
        return SummaryRecord.of(row)


def _store_machine(app: AppContext, comparison_id: int, summary: Mapping[str, Any]) -> SummaryRecord:
    """A new offline version, unless the newest machine version is the same (re-runs add nothing)."""
    with app.db.read() as s:
        newest = s.scalars(select(Summary).where(
            Summary.comparison_id == comparison_id, Summary.pair_id.is_(None), Summary.source == OFFLINE,
            Summary.edited_by_user.is_(False)).order_by(Summary.version.desc())).first()
        if newest is not None and newest.text == summary["text"] and newest.data_json == dict(summary):
            return SummaryRecord.of(newest)
    return _insert(app, comparison_id, OFFLINE, summary["text"], summary)


def _store_failure(app: AppContext, comparison_id: int, config: LLMConfig, error: LLMError) -> None:
    usage = getattr(error, "usage", None)
    if usage is None or usage.requests == 0:
        return  # nothing was spent (no key, budget already used up, server unreachable)
    _insert(app, comparison_id, (FAILED_PREFIX + config.model)[:100], "", {"error": str(error), "usage": usage.as_dict()},
            tokens=(usage.tokens_in, usage.tokens_out, usage.cost_usd))


# ---------------------------------------------------------------- pages, words and pictures


@dataclass(frozen=True)
class _SheetPages:
    old: PageRef | None
    new: PageRef | None


def _sheet_pages(app: AppContext, report: Mapping[str, Any], comparison_id: int) -> dict[int, _SheetPages]:
    """Per report sheet position, the old and new pages as PageRefs on the stored files."""
    from buildtrace_desktop.db.models import Comparison

    with app.db.read() as s:
        comparison = s.get(Comparison, comparison_id)
        old = _set_pages(app, s, comparison.old_set_id)
        new = _set_pages(app, s, comparison.new_set_id)
    return {
        i: _SheetPages(old.get(sheet.get("old_page")), new.get(sheet.get("new_page")))
        for i, sheet in enumerate(report.get("sheets") or [])
    }


def _set_pages(app: AppContext, session: Session, set_id: int) -> dict[int, PageRef]:
    suffixes = dict(session.execute(select(StoredFile.sha256, StoredFile.suffix)).all())
    pages = {}
    rows = session.execute(select(Sheet.set_index, Sheet.file_sha, Sheet.page_index, Sheet.kind)
                           .where(Sheet.set_id == set_id))  # not whole rows: their thumbnails are heavy
    for set_index, file_sha, page_index, kind in rows:
        path = app.store.path_for(file_sha, suffixes.get(file_sha, ""))
        pages[set_index] = PageRef(str(path), page_index, set_index, kind)
    return pages


def _location_contexts(report: Mapping[str, Any], results: Mapping) -> dict[int, dict]:
    """The location contexts the diff stage stored, by sheet position (pairs diffed before there were
    any have none: their pages' words are read instead)."""
    contexts = {}
    for position, sheet in enumerate(report.get("sheets") or []):
        result = results.get((sheet.get("old_page"), sheet.get("new_page")))
        if result is not None and result.location_context is not None:
            contexts[position] = result.location_context
    return contexts


def _page_words(pages: Mapping[int, _SheetPages], report: Mapping[str, Any]) -> dict[int, list[WordTuple]]:
    """Words of the NEW pages of sheets with changes: only changes are located by words, and reading a
    page's words costs as much as parsing it."""
    sheets = list(report.get("sheets") or [])
    changed = {i for i, sheet in enumerate(sheets) if sheet.get("changes")}
    return report_words({position: refs.new for position, refs in pages.items() if position in changed})


def report_words(new_pages: Mapping[int, PageRef | None], password: str | None = None) -> dict[int, list[WordTuple]]:
    """The text-layer words of each NEW page, by sheet position, for `summary_for_report(words=...)`.

    Scans have no text layer: their locations use the region only. An unreadable page is skipped.
    """
    from buildtrace_desktop.processing import documents

    words: dict[int, list[WordTuple]] = {}
    settings = CompareSettings(password=password)
    for position, ref in new_pages.items():
        if ref is None or ref.kind != "pdf":
            continue
        try:
            with documents.open_page(ref, settings) as page:
                words[position] = [(*w.box, w.text) for w in page.words()]
        except BuildTraceError:
            continue  # an unreadable page only loses the grid and room names of its summary
    return words


def report_pages(report: Mapping[str, Any], old_pages: Sequence[PageRef], new_pages: Sequence[PageRef]
                 ) -> tuple[dict[int, PageRef | None], dict[int, PageRef | None]]:
    """Per sheet position of the report, its OLD and NEW PageRef (None where the sheet has none)."""
    old_by = {p.set_index: p for p in old_pages}
    new_by = {p.set_index: p for p in new_pages}
    sheets = list(report.get("sheets") or [])
    return ({i: old_by.get(s.get("old_page")) for i, s in enumerate(sheets)},
            {i: new_by.get(s.get("new_page")) for i, s in enumerate(sheets)})


def report_images(report: Mapping[str, Any], old_pages: Sequence[PageRef], new_pages: Sequence[PageRef],
                  results: Mapping) -> dict[int, SheetImages]:
    """Where each sheet's pictures are, for `summary_for_report(images=...)` (LLM crops).

    `results` maps (old set index, new set index) to the PairResult of `compare_pair` (for the alignment
    matrix and the overlay PNG), as `build_report` takes them.
    """
    olds, news = report_pages(report, old_pages, new_pages)
    pages = {i: _SheetPages(olds[i], news[i]) for i in olds}
    return _sheet_images(report, results, pages)


def _sheet_images(report: Mapping[str, Any], results: Mapping, pages: Mapping[int, _SheetPages]) -> dict:
    from buildtrace_desktop.llm.crops import SheetImages

    images: dict[int, SheetImages] = {}
    for position, sheet in enumerate(report.get("sheets") or []):
        refs = pages.get(position)
        if refs is None or refs.new is None:
            continue
        result = results.get((sheet.get("old_page"), sheet.get("new_page")))
        matrix = result.alignment.matrix if result is not None else None
        overlay = result.overlay_png if result is not None else None
        images[position] = SheetImages(refs.new, refs.old, matrix, overlay)
    return images
