"""Reads and writes of the imports database. Functions take the caller's session and never
commit; every write is idempotent (natural keys, ``ON CONFLICT DO NOTHING``, recounts)."""

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Table, bindparam, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from dc_common.db import upsert
from dc_imports.domain import PreparedRow, StoredChunk, chunk_counts, resume_cursor
from dc_imports.formats import FileError, FileInfo
from dc_imports.models import Import, ImportChunk, ImportFile, ImportRow
from dc_imports.records import Outcome
from dc_workflows.contracts.imports import (
    ImportCounts,
    ImportCursor,
    ImportStatus,
    ImportStop,
    RowFate,
    RowOutcome,
)

NEW = (Outcome.ACCEPTED.value, RowFate.REGISTERED.value)
"""Outcomes of the rows that count as new (not a duplicate, not rejected)."""
_IN_BATCH = 5000
_ROWS: Table = ImportRow.__table__  # type: ignore[assignment]


# -- files and imports --------------------------------------------------------------------------


async def store_file(
    session: AsyncSession, content_hash: str, content: bytes, now: datetime
) -> None:
    await session.execute(
        upsert(session, ImportFile)
        .values(content_hash=content_hash, size=len(content), content=content, stored_at=now)
        .on_conflict_do_nothing()
    )


async def file_content(session: AsyncSession, content_hash: str) -> bytes | None:
    content: bytes | None = await session.scalar(
        select(ImportFile.content).where(ImportFile.content_hash == content_hash)
    )
    return content


async def get_import(session: AsyncSession, import_id: str) -> Import | None:
    return await session.get(Import, import_id)


async def find_import(
    session: AsyncSession, company_id: str, branch_id: str | None, kind: str, content_hash: str
) -> Import | None:
    """The import of this file, of this kind, for this company and branch (None: for the whole
    company)."""
    result = await session.scalars(
        select(Import).where(
            Import.company_id == company_id,
            Import.branch_id.is_(None) if branch_id is None else Import.branch_id == branch_id,
            Import.kind == kind,
            Import.content_hash == content_hash,
        )
    )
    return result.first()


async def create_import(session: AsyncSession, values: Mapping[str, Any]) -> bool:
    """Insert the import unless the same file of the same kind is there already for the same
    company and branch (or the whole company)."""
    result = await session.execute(
        upsert(session, Import).values(dict(values)).on_conflict_do_nothing()
    )
    created: bool = result.rowcount > 0  # type: ignore[attr-defined]
    return created


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int


async def list_imports(
    session: AsyncSession,
    company_id: str | None,
    *,
    branch_ids: Sequence[str] = (),
    offset: int,
    limit: int,
) -> Page[Import]:
    conditions: list[Any] = []
    if company_id is not None:
        conditions.append(Import.company_id == company_id)
    if branch_ids:
        conditions.append(Import.branch_id.in_(branch_ids))
    items = await session.scalars(
        select(Import)
        .where(*conditions)
        .order_by(Import.created_at.desc(), Import.id.desc())
        .offset(offset)
        .limit(limit)
    )
    total = await session.scalar(select(func.count()).select_from(Import).where(*conditions))
    return Page(list(items), total or 0)


# -- the life of an import ----------------------------------------------------------------------


async def mark_running(
    session: AsyncSession,
    import_id: str,
    *,
    header: Sequence[str],
    info: FileInfo,
    rows_total: int,
    now: datetime,
) -> None:
    await session.execute(
        update(Import)
        .where(Import.id == import_id, Import.status == ImportStatus.QUEUED.value)
        .values(
            status=ImportStatus.RUNNING.value,
            started_at=now,
            header=list(header),
            file_format=info.format.value,
            encoding=info.encoding,
            delimiter=info.delimiter,
            rows_total=rows_total,
        )
    )


async def mark_failed(
    session: AsyncSession, import_id: str, error: FileError, now: datetime
) -> None:
    await session.execute(
        update(Import)
        .where(Import.id == import_id, Import.status != ImportStatus.FAILED.value)
        .values(
            status=ImportStatus.FAILED.value,
            failure=str(error),
            failure_details=error.as_dict(),
            started_at=func.coalesce(Import.started_at, now),
            finished_at=now,
        )
    )


async def mark_done(session: AsyncSession, import_id: str, *, flagged: int, now: datetime) -> None:
    await session.execute(
        update(Import)
        .where(Import.id == import_id)
        .values(
            status=ImportStatus.DONE.value,
            flagged=flagged,
            finished_at=func.coalesce(Import.finished_at, now),
        )
    )


async def mark_stopped(session: AsyncSession, stop: ImportStop, now: datetime) -> None:
    """A step kept failing: the import is failed, with the reason and the line where it stopped,
    until an operator retries it (a refused or finished import stays as it is)."""
    await session.execute(
        update(Import)
        .where(
            Import.id == stop.import_id,
            Import.status.in_((ImportStatus.QUEUED.value, ImportStatus.RUNNING.value)),
        )
        .values(
            status=ImportStatus.FAILED.value,
            retryable=True,
            failure=stop.reason,
            failure_details={
                "reason": stop.reason,
                "line": stop.line,
                "step": stop.step,
                "errors": [],
            },
            finished_at=now,
        )
    )


async def resume(session: AsyncSession, import_id: str) -> None:
    """An operator retries a stopped import: it goes on as it was before it stopped (queued if
    its first chunk was never read, so that chunk still reads the whole file first)."""
    await session.execute(
        update(Import)
        .where(
            Import.id == import_id,
            Import.status == ImportStatus.FAILED.value,
            Import.retryable.is_(True),
        )
        .values(
            status=case(
                (Import.started_at.is_(None), ImportStatus.QUEUED.value),
                else_=ImportStatus.RUNNING.value,
            ),
            retryable=False,
            failure=None,
            failure_details=None,
            finished_at=None,
        )
    )


async def stopped_cursor(session: AsyncSession, imported: Import) -> ImportCursor:
    """Where a new run of a stopped import starts: the line it stopped at."""
    line = int((imported.failure_details or {}).get("line", imported.next_line))
    chunks = await session.execute(
        select(
            ImportChunk.start_line,
            ImportChunk.next_line,
            ImportChunk.next_offset,
            ImportChunk.done,
        ).where(ImportChunk.import_id == imported.id)
    )
    return resume_cursor(line, [StoredChunk(*chunk) for chunk in chunks], counts_of(imported))


# -- chunks and rows ----------------------------------------------------------------------------


async def stored_chunk(
    session: AsyncSession, import_id: str, start_line: int
) -> ImportChunk | None:
    return await session.get(ImportChunk, (import_id, start_line))


async def first_occurrences(
    session: AsyncSession,
    import_id: str,
    *,
    before_line: int,
    natural_keys: Iterable[str],
    other_keys: Iterable[str],
) -> tuple[dict[str, int], dict[str, int]]:
    """The line of the first occurrence, before ``before_line``, of each key that has one."""
    natural: dict[str, int] = {}
    other: dict[str, int] = {}
    for column, wanted, found in (
        (ImportRow.natural_key, sorted(natural_keys), natural),
        (ImportRow.other_key, sorted(other_keys), other),
    ):
        for start in range(0, len(wanted), _IN_BATCH):
            rows = await session.execute(
                select(column, ImportRow.line).where(
                    ImportRow.import_id == import_id,
                    ImportRow.duplicate_of.is_(None),
                    column.is_not(None),
                    column.in_(wanted[start : start + _IN_BATCH]),
                    ImportRow.line < before_line,
                )
            )
            for key, line in rows:
                assert key is not None
                found[key] = min(line, found.get(key, line))
    return natural, other


async def insert_chunk(
    session: AsyncSession,
    import_id: str,
    *,
    start_line: int,
    next_line: int,
    next_offset: int | None,
    done: bool,
    rows: Sequence[PreparedRow],
) -> bool:
    """Store a chunk and its rows; False (and nothing written) when it was stored before."""
    result = await session.execute(
        upsert(session, ImportChunk)
        .values(
            import_id=import_id,
            start_line=start_line,
            next_line=next_line,
            next_offset=next_offset,
            done=done,
            rows_read=len(rows),
        )
        .on_conflict_do_nothing()
    )
    if result.rowcount == 0:  # type: ignore[attr-defined]
        return False
    if rows:
        await session.execute(
            upsert(session, ImportRow).on_conflict_do_nothing(),
            [
                {
                    "import_id": import_id,
                    "line": row.line,
                    "outcome": row.outcome.value,
                    "natural_key": row.natural_key,
                    "other_key": row.other_key,
                    "duplicate_of": row.duplicate_of,
                    "service_id": None,
                    "errors": row.errors,
                    "flags": None,
                    "record": row.record,
                    "raw": row.raw,
                }
                for row in rows
            ],
        )
    await recount_chunk(session, import_id, start_line, next_line)
    return True


async def rows_between(
    session: AsyncSession, import_id: str, start_line: int, next_line: int, outcome: str
) -> list[ImportRow]:
    result = await session.scalars(
        select(ImportRow)
        .where(
            ImportRow.import_id == import_id,
            ImportRow.line >= start_line,
            ImportRow.line < next_line,
            ImportRow.outcome == outcome,
        )
        .order_by(ImportRow.line)
    )
    return list(result)


async def record_outcomes(
    session: AsyncSession, import_id: str, rows: Sequence[RowOutcome]
) -> None:
    """What became of rows after their registration, set once (see
    :func:`dc_imports.domain.may_record`): set again, or answered differently by a late attempt,
    nothing changes."""
    if not rows:
        return
    table = _ROWS
    statement = (
        update(table)
        .where(
            table.c.import_id == bindparam("b_import"),
            table.c.line == bindparam("b_line"),
            table.c.outcome == Outcome.ACCEPTED.value,
        )
        .values(
            outcome=bindparam("b_outcome"),
            service_id=bindparam("b_service"),
            errors=bindparam("b_errors", type_=table.c.errors.type),
        )
    )
    await session.execute(
        statement,
        [
            {
                "b_import": import_id,
                "b_line": row.line,
                "b_outcome": row.fate.value,
                "b_service": row.service_id,
                "b_errors": [problem.model_dump() for problem in row.errors] or None,
            }
            for row in rows
        ],
    )


async def recount_chunk(
    session: AsyncSession, import_id: str, start_line: int, next_line: int
) -> None:
    result = await session.execute(
        select(ImportRow.outcome, func.count())
        .where(
            ImportRow.import_id == import_id,
            ImportRow.line >= start_line,
            ImportRow.line < next_line,
        )
        .group_by(ImportRow.outcome)
    )
    counts = chunk_counts({outcome: number for outcome, number in result})
    await session.execute(
        update(ImportChunk)
        .where(ImportChunk.import_id == import_id, ImportChunk.start_line == start_line)
        .values(**counts)
    )


def _at_least(column: InstrumentedAttribute[int], value: int) -> ColumnElement[int]:
    """The column's value, raised to ``value`` if that is more: a write that never lowers it."""
    return case((column > value, column), else_=value)


async def refresh_totals(
    session: AsyncSession, import_id: str, *, next_line: int | None = None
) -> ImportCounts:
    """The import's counts as the sum of its chunks' (stored on the import too); ``next_line``:
    the lines before it are finished.

    The import's row is locked first: of two transactions changing chunks of one import at the
    same time (a chunk read while the previous one's outcomes are recorded), the one that sums
    last sees the other's chunk, so the stored counts are never left behind. And no count nor
    the cursor is ever written lower than it is: whatever late attempt writes last, progress
    does not move backwards.
    """
    await session.execute(select(Import.id).where(Import.id == import_id).with_for_update())
    sums = (
        await session.execute(
            select(
                func.coalesce(func.sum(ImportChunk.rows_read), 0),
                func.coalesce(func.sum(ImportChunk.accepted), 0),
                func.coalesce(func.sum(ImportChunk.rejected), 0),
                func.coalesce(func.sum(ImportChunk.duplicates), 0),
                func.coalesce(func.sum(ImportChunk.registered), 0),
            ).where(ImportChunk.import_id == import_id)
        )
    ).one()
    names = ("rows_read", "accepted", "rejected", "duplicates", "registered")
    values: dict[str, Any] = {
        name: _at_least(getattr(Import, name), int(total))
        for name, total in zip(names, sums, strict=True)
    }
    if next_line is not None:
        values["next_line"] = _at_least(Import.next_line, next_line)
    await session.execute(update(Import).where(Import.id == import_id).values(**values))
    imported = await session.get(Import, import_id, populate_existing=True)
    assert imported is not None
    return counts_of(imported)


def counts_of(imported: Import) -> ImportCounts:
    return ImportCounts(
        rows_total=imported.rows_total,
        rows_read=imported.rows_read,
        accepted=imported.accepted,
        rejected=imported.rejected,
        duplicates=imported.duplicates,
        registered=imported.registered,
        flagged=imported.flagged,
    )


async def new_rows(
    session: AsyncSession, import_id: str, *, batch: int = 5000
) -> AsyncIterator[ImportRow]:
    """The rows that count as new, in line order, read a batch at a time."""
    after = 0
    while True:
        result = await session.scalars(
            select(ImportRow)
            .where(
                ImportRow.import_id == import_id,
                ImportRow.outcome.in_(NEW),
                ImportRow.line > after,
            )
            .order_by(ImportRow.line)
            .limit(batch)
        )
        rows = list(result)
        for row in rows:
            yield row
        if len(rows) < batch:
            return
        after = rows[-1].line


async def set_flags(
    session: AsyncSession, import_id: str, flags: Mapping[int, list[dict[str, Any]]]
) -> None:
    """Replace the import's flags by these (line -> flags)."""
    await session.execute(
        update(ImportRow)
        .where(ImportRow.import_id == import_id, ImportRow.flags.is_not(None))
        .values(flags=None)
    )
    if not flags:
        return
    table = _ROWS
    statement = (
        update(table)
        .where(table.c.import_id == bindparam("b_import"), table.c.line == bindparam("b_line"))
        .values(flags=bindparam("b_flags", type_=table.c.flags.type))
    )
    await session.execute(
        statement,
        [
            {"b_import": import_id, "b_line": line, "b_flags": value}
            for line, value in flags.items()
        ],
    )


async def list_rows(
    session: AsyncSession,
    import_id: str,
    *,
    outcome: str | None,
    flagged: bool | None,
    offset: int,
    limit: int,
) -> Page[ImportRow]:
    conditions: list[Any] = [ImportRow.import_id == import_id]
    if outcome is not None:
        conditions.append(ImportRow.outcome == outcome)
    if flagged is True:
        conditions.append(ImportRow.flags.is_not(None))
    elif flagged is False:
        conditions.append(ImportRow.flags.is_(None))
    items = await session.scalars(
        select(ImportRow).where(*conditions).order_by(ImportRow.line).offset(offset).limit(limit)
    )
    total = await session.scalar(select(func.count()).select_from(ImportRow).where(*conditions))
    return Page(list(items), total or 0)


async def rows_with_errors(
    session: AsyncSession, import_id: str, *, after_line: int, limit: int
) -> list[ImportRow]:
    """Rejected and duplicate rows, in line order, from ``after_line`` on."""
    result = await session.scalars(
        select(ImportRow)
        .where(
            ImportRow.import_id == import_id,
            ImportRow.outcome.in_((Outcome.REJECTED.value, Outcome.DUPLICATE.value)),
            ImportRow.line > after_line,
        )
        .order_by(ImportRow.line)
        .limit(limit)
    )
    return list(result)
