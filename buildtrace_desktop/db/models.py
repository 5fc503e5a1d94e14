"""SQLAlchemy 2.0 models of the embedded database (SQLite).

Geometry is in the NEW page's PDF points. JSON columns hold plain lists / dicts. Unique constraints make
every writer idempotent: a stage that is re-run deletes and re-inserts its rows, it cannot duplicate them.
A change to these models needs a new migration in `migrations.py` (a test compares the two).
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class SchemaVersion(Base):
    """One row per applied migration; the highest `version` is the schema's version."""

    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    applied_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Project(Base):
    __tablename__ = "projects"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    sets: Mapped[list[DrawingSet]] = relationship(back_populates="project", passive_deletes=True)


class StoredFile(Base):
    """A file in the content-addressed store (storage.FileStore), known by its SHA-256."""

    __tablename__ = "stored_files"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    suffix: Mapped[str] = mapped_column(String(16), default="")  # ".pdf", ".png": part of the stored name
    original_name: Mapped[str] = mapped_column(String(500))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class DrawingSet(Base):
    """One revision of a drawing set: an ordered list of files, each page a sheet."""

    __tablename__ = "drawing_sets"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    issue_date: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)

    project: Mapped[Project] = relationship(back_populates="sets")
    files: Mapped[list[SetFile]] = relationship(order_by="SetFile.position", passive_deletes=True)
    sheets: Mapped[list[Sheet]] = relationship(order_by="Sheet.set_index", passive_deletes=True)


class SetFile(Base):
    __tablename__ = "set_files"
    __table_args__ = (UniqueConstraint("set_id", "position"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("drawing_sets.id", ondelete="CASCADE"))
    file_sha: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    original_path: Mapped[str] = mapped_column(Text)


class Sheet(Base):
    """One page of a drawing set. `read_at` is set once read_sheet has filled the sheet's info."""

    __tablename__ = "sheets"
    __table_args__ = (UniqueConstraint("set_id", "set_index"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    set_id: Mapped[int] = mapped_column(ForeignKey("drawing_sets.id", ondelete="CASCADE"))
    set_index: Mapped[int] = mapped_column(Integer)
    file_sha: Mapped[str] = mapped_column(ForeignKey("stored_files.sha256"), index=True)
    page_index: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(8))  # "pdf" | "image"
    sheet_number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    title: Mapped[str | None] = mapped_column(Text, nullable=True)
    number_source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    user_number: Mapped[str | None] = mapped_column(String(100), nullable=True)  # user's correction
    user_title: Mapped[str | None] = mapped_column(Text, nullable=True)
    width_pt: Mapped[float | None] = mapped_column(Float, nullable=True)
    height_pt: Mapped[float | None] = mapped_column(Float, nullable=True)
    has_text_layer: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    thumbnail_json: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    read_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    # Every number reading ([text, weight, box]) and, for pages read by OCR, the title block's words:
    # matching weighs them against the other set (schema v3)
    number_candidates_json: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    ocr_words_json: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)

    @property
    def effective_number(self) -> str | None:
        return self.user_number or self.sheet_number

    @property
    def effective_title(self) -> str | None:
        return self.user_title or self.title


class Comparison(Base):
    __tablename__ = "comparisons"
    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    old_set_id: Mapped[int] = mapped_column(ForeignKey("drawing_sets.id", ondelete="CASCADE"))
    new_set_id: Mapped[int] = mapped_column(ForeignKey("drawing_sets.id", ondelete="CASCADE"))
    settings_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    settings_key: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|running|done|failed|cancelled
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    warnings_json: Mapped[list[Any]] = mapped_column(JSON, default=list)


class SheetPair(Base):
    """One row of a comparison's sheet table. Alignment fields are filled by the pair's diff stage."""

    __tablename__ = "sheet_pairs"
    __table_args__ = (
        UniqueConstraint("comparison_id", "ordinal"),
        Index(
            "uq_sheet_pairs_sheets",
            "comparison_id",
            text("coalesce(old_sheet_id, 0)"),
            text("coalesce(new_sheet_id, 0)"),
            unique=True,
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    comparison_id: Mapped[int] = mapped_column(ForeignKey("comparisons.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    old_sheet_id: Mapped[int | None] = mapped_column(ForeignKey("sheets.id", ondelete="CASCADE"), nullable=True)
    new_sheet_id: Mapped[int | None] = mapped_column(ForeignKey("sheets.id", ondelete="CASCADE"), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # matched | added | removed
    match_method: Mapped[str] = mapped_column(String(16))
    renumbered: Mapped[bool] = mapped_column(Boolean, default=False)
    diff_state: Mapped[str] = mapped_column(String(16), default="none")  # none|pending|done|failed
    matrix_json: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    align_method: Mapped[str | None] = mapped_column(String(16), nullable=True)
    dpi: Mapped[float | None] = mapped_column(Float, nullable=True)
    text_source: Mapped[str | None] = mapped_column(String(16), nullable=True)
    seconds: Mapped[float | None] = mapped_column(Float, nullable=True)
    warnings_json: Mapped[list[Any]] = mapped_column(JSON, default=list)
    overlay_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    side_by_side_path: Mapped[str | None] = mapped_column(Text, nullable=True)
    # processing.summary.location_context of the new page (grid lines, phrases near the changes)
    location_context_json: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # Schema v3. The pairing: its confidence, what the user should check, and the numbers and titles as
    # read in the light of both sets (a scan's reading mended by the other set's).
    match_confidence: Mapped[float | None] = mapped_column(Float, nullable=True)
    match_notes_json: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    old_number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    new_number: Mapped[str | None] = mapped_column(String(100), nullable=True)
    old_title: Mapped[str | None] = mapped_column(Text, nullable=True)
    new_title: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The diff's revision clouds and review groups (PairResult.clouds / .groups)
    clouds_json: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)
    groups_json: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)

    changes: Mapped[list[ChangeRow]] = relationship(order_by="ChangeRow.ordinal", passive_deletes=True)

    def number_of(self, sheet: Sheet | None) -> str | None:
        """The number shown for one of the pair's sheets: the user's, else as read in the light of both
        sets, else as read on the page."""
        if sheet is None:
            return None
        read = self.new_number if sheet.id == self.new_sheet_id else self.old_number
        return sheet.user_number or read or sheet.sheet_number

    def title_of(self, sheet: Sheet | None) -> str | None:
        if sheet is None:
            return None
        read = self.new_title if sheet.id == self.new_sheet_id else self.old_title
        return sheet.user_title or read or sheet.title


REVIEW_STATUSES = ("open", "accepted", "rejected", "needs_rfi")


class ChangeRow(Base):
    """One change region of a sheet pair, with the reviewer's status and note."""

    __tablename__ = "changes"
    __table_args__ = (UniqueConstraint("pair_id", "ordinal"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("sheet_pairs.id", ondelete="CASCADE"))
    ordinal: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # added | removed | modified
    x0: Mapped[float] = mapped_column(Float)
    y0: Mapped[float] = mapped_column(Float)
    x1: Mapped[float] = mapped_column(Float)
    y1: Mapped[float] = mapped_column(Float)
    area: Mapped[float] = mapped_column(Float)
    text_removed: Mapped[list[Any]] = mapped_column(JSON, default=list)
    text_added: Mapped[list[Any]] = mapped_column(JSON, default=list)
    added_px: Mapped[int] = mapped_column(Integer, default=0)
    removed_px: Mapped[int] = mapped_column(Integer, default=0)
    # Schema v3: what the change is in a reviewer's words, the revision cloud around it, its review group,
    # and a revision cloud's tag
    what: Mapped[str | None] = mapped_column(String(40), nullable=True)
    cloud: Mapped[int | None] = mapped_column(Integer, nullable=True)
    group_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    tag: Mapped[str | None] = mapped_column(String(40), nullable=True)
    review_status: Mapped[str] = mapped_column(String(16), default="open")
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)


class Summary(Base):
    """A summary of a comparison (pair_id NULL) or of one sheet pair. Edits are new versions."""

    __tablename__ = "summaries"
    __table_args__ = (
        Index(
            "uq_summaries_version",
            "comparison_id",
            text("coalesce(pair_id, 0)"),
            "source",
            "version",
            unique=True,
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    comparison_id: Mapped[int] = mapped_column(ForeignKey("comparisons.id", ondelete="CASCADE"), index=True)
    pair_id: Mapped[int | None] = mapped_column(ForeignKey("sheet_pairs.id", ondelete="CASCADE"), nullable=True)
    source: Mapped[str] = mapped_column(String(100))  # "offline" or the model's name
    version: Mapped[int] = mapped_column(Integer, default=1)
    text: Mapped[str] = mapped_column(Text, default="")
    data_json: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    edited_by_user: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    tokens_in: Mapped[int] = mapped_column(Integer, default=0)
    tokens_out: Mapped[int] = mapped_column(Integer, default=0)
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)


class PairResultCache(Base):
    """A diff result keyed by (old sheet key, new sheet key, settings key); sheet key = '<sha256>:<page>'."""

    __tablename__ = "pair_results"
    __table_args__ = (UniqueConstraint("old_key", "new_key", "settings_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    old_key: Mapped[str] = mapped_column(String(80))
    new_key: Mapped[str] = mapped_column(String(80))
    settings_key: Mapped[str] = mapped_column(String(32))
    result_json: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


JOB_STATES = ("pending", "running", "done", "failed", "cancelled")


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "ingest" | "compare"
    comparison_id: Mapped[int | None] = mapped_column(
        ForeignKey("comparisons.id", ondelete="CASCADE"), nullable=True, index=True
    )
    set_id: Mapped[int | None] = mapped_column(
        ForeignKey("drawing_sets.id", ondelete="CASCADE"), nullable=True, index=True
    )
    state: Mapped[str] = mapped_column(String(16), default="pending")
    progress: Mapped[float] = mapped_column(Float, default=0.0)  # 0..1
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error_message: Mapped[str | None] = mapped_column(Text, nullable=True)
    params_json: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    worker_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)  # process running it, if any
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)

    stages: Mapped[list[JobStage]] = relationship(order_by="JobStage.position", passive_deletes=True)


class JobStage(Base):
    """One unit of a job's work: 'sheet:old:3', 'match', 'diff:2:5', 'report'."""

    __tablename__ = "job_stages"
    __table_args__ = (UniqueConstraint("job_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(16))  # sheet | match | diff | report
    key: Mapped[str] = mapped_column(String(64))
    position: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)
