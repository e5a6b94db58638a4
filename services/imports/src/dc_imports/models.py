"""The imports database: uploaded files (stored once), imports, their chunks and their rows."""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Connection,
    Date,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    false,
    func,
    inspect,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.schema import CreateIndex

from dc_common.db import UTCDateTime
from dc_common.migrations import Migrations, migrate


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
    """One file of one company (or one of its branches), of one kind. The same file again for
    the same company and branch (or the whole company) is the same import."""

    __tablename__ = "imports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(10))
    branch_id: Mapped[str | None] = mapped_column(String(10))
    kind: Mapped[str] = mapped_column(String(16))
    content_hash: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(
        String(64),
        doc="national number of who uploaded: the person the import acts as, never shown",
    )
    uploaded_by_name: Mapped[str | None] = mapped_column(
        String(200), doc="who uploaded, by name, as shown"
    )
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
    failure: Mapped[str | None] = mapped_column(
        Text, doc="why the whole file was refused, or why the import stopped"
    )
    failure_details: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), doc="reason, line and errors (the header's; none for a stop)"
    )
    retryable: Mapped[bool] = mapped_column(
        Boolean,
        default=False,
        server_default=false(),
        doc="failed because a step kept failing (not the file): an operator may retry it",
    )
    rows_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rows_read: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    accepted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rejected: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    duplicates: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    registered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    flagged: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_line: Mapped[int] = mapped_column(
        Integer,
        default=2,
        server_default="2",
        doc="the first line not finished: the lines before it are read, checked and registered",
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_imports_company_created", "company_id", "created_at", "id"),)


#: The same file of the same kind is one import per company and branch (or the whole company).
SCOPED_FILE = Index(
    "uq_imports_scoped_file",
    Import.company_id,
    func.coalesce(Import.branch_id, ""),
    Import.kind,
    Import.content_hash,
    unique=True,
)
#: Before, one import per company whatever the branch: the same file of another branch was
#: answered with the first branch's import.
_COMPANY_FILE = "uq_imports_file"


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


MIGRATIONS = Migrations("imports", "dc_imports", Base.metadata, "DC_IMPORTS_DATABASE_URL")


async def create_tables(engine: AsyncEngine) -> None:
    """Migrate the database, and bring one an earlier version made before the migrations up to
    date: its imports unique per company and branch instead of per company."""
    await migrate(engine, MIGRATIONS)
    async with engine.begin() as connection:
        await connection.run_sync(_scope_imports_by_branch)


def _scope_imports_by_branch(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(f"ALTER TABLE imports DROP CONSTRAINT IF EXISTS {_COMPANY_FILE}"))
    else:
        created: str = connection.execute(
            text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'imports'")
        ).scalar_one()
        if _COMPANY_FILE in created:
            _rebuild_sqlite_imports(connection)
    connection.execute(CreateIndex(SCOPED_FILE, if_not_exists=True))


def _rebuild_sqlite_imports(connection: Connection) -> None:
    """SQLite cannot drop a table's constraint: copy the imports into the table as it is now."""
    table = Import.__table__
    old = inspect(connection)
    columns = [c["name"] for c in old.get_columns("imports") if c["name"] in table.columns]
    for index in old.get_indexes("imports"):
        if index["name"]:
            connection.execute(text(f'DROP INDEX "{index["name"]}"'))
    connection.execute(text("ALTER TABLE imports RENAME TO imports_before_branch_scope"))
    table.create(connection)  # type: ignore[attr-defined]
    names = ", ".join(f'"{name}"' for name in columns)
    connection.execute(
        # Column names from the model, no input.
        text(f"INSERT INTO imports ({names}) SELECT {names} FROM imports_before_branch_scope")  # nosec B608
    )
    connection.execute(text("DROP TABLE imports_before_branch_scope"))
