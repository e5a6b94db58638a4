"""The imports database: uploaded files (stored once), imports, their chunks and their rows."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from dc_common.db import UTCDateTime


class Base(DeclarativeBase):
    pass


class ImportFile(Base):
    """The bytes of an uploaded file, once per content (the same file for two companies too)."""

    __tablename__ = "import_files"

    content_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Import(Base):
    """One file of one company, of one kind. The same file again is the same import."""

    __tablename__ = "imports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(10))
    branch_id: Mapped[str | None] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(64), doc="national number of who uploaded")
    actor_kind: Mapped[str] = mapped_column(String(16))
    actor_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    workflow_id: Mapped[str] = mapped_column(String(200))
    service_day: Mapped[date] = mapped_column(
        Date, doc="today in Brussels at upload: the last service date a row may have"
    )
    file_format: Mapped[str | None] = mapped_column(String(8))
    encoding: Mapped[str | None] = mapped_column(String(16))
    delimiter: Mapped[str | None] = mapped_column(String(4))
    header: Mapped[list[str] | None] = mapped_column(
        JSON(none_as_null=True), doc="the header names as in the file"
    )
    failure: Mapped[str | None] = mapped_column(Text, doc="why the whole file was refused")
    failure_details: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    rows_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_read: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    accepted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rejected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duplicates: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    registered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    flagged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_line: Mapped[int] = mapped_column(Integer, default=2, server_default="2")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (
        UniqueConstraint("company_id", "kind", "content_hash", name="uq_imports_file"),
        Index("ix_imports_company_created", "company_id", "created_at", "id"),
    )


class ImportChunk(Base):
    """The counts of one chunk; an import's counts are their sum, so storing a chunk twice
    cannot count it twice."""

    __tablename__ = "import_chunks"

    import_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    start_line: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_line: Mapped[int] = mapped_column(Integer)
    next_offset: Mapped[int | None] = mapped_column(Integer)
    done: Mapped[bool] = mapped_column(Boolean, default=False)
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    registered: Mapped[int] = mapped_column(Integer, default=0)


class ImportRow(Base):
    """What became of one line of an import.

    ``outcome``: ``accepted`` (valid, waiting to be registered), ``registered`` (stored in its
    owning service: a lifecycle started, a worker upserted), ``duplicate`` (of an earlier line,
    or of a service already known) or ``rejected`` (``errors`` say why). ``natural_key`` is set
    on every valid row; among the rows still counted as new (accepted or registered) it is
    unique per import.
    """

    __tablename__ = "import_rows"

    import_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    line: Mapped[int] = mapped_column(Integer, primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))
    natural_key: Mapped[str | None] = mapped_column(String(80))
    other_key: Mapped[str | None] = mapped_column(
        String(20), doc="a workers file's second key: the login"
    )
    duplicate_of: Mapped[int | None] = mapped_column(Integer)
    service_id: Mapped[str | None] = mapped_column(String(36))
    errors: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    flags: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON(none_as_null=True))
    record: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), doc="the values as understood"
    )
    raw: Mapped[list[str]] = mapped_column(
        JSON(none_as_null=True), doc="the values as they were in the file"
    )


Index(
    "uq_import_rows_new_key",
    ImportRow.import_id,
    ImportRow.natural_key,
    unique=True,
    sqlite_where=text("outcome IN ('accepted', 'registered')"),
    postgresql_where=text("outcome IN ('accepted', 'registered')"),
)
Index(
    "ix_import_rows_first_keys",
    ImportRow.import_id,
    ImportRow.natural_key,
    sqlite_where=text("duplicate_of IS NULL AND natural_key IS NOT NULL"),
    postgresql_where=text("duplicate_of IS NULL AND natural_key IS NOT NULL"),
)
Index(
    "ix_import_rows_first_other_keys",
    ImportRow.import_id,
    ImportRow.other_key,
    sqlite_where=text("duplicate_of IS NULL AND other_key IS NOT NULL"),
    postgresql_where=text("duplicate_of IS NULL AND other_key IS NOT NULL"),
)
Index("ix_import_rows_outcome", ImportRow.import_id, ImportRow.outcome, ImportRow.line)
