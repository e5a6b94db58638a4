"""The rules of an import: pure, no database, no Temporal.

- What makes an upload the same import (:func:`import_key`): the same bytes, of the same kind,
  for the same company and the same branch, or for the company as a whole.
- One chunk of a file, read and checked, ready to store. A chunk is checked on its own (every
  row against the rules of :mod:`dc_imports.validation`), then its duplicates are resolved
  against the first occurrences of the keys in the earlier chunks, which the caller looks up in
  the database (:func:`keys_of_chunk` says which). The result is the same as checking the whole
  file in one pass with a :class:`~dc_imports.validation.FileValidator`, whichever chunk size is
  used, and the same every time a chunk is checked again.
- A row's fate is decided once (:func:`may_record`), so the counts an import shows only grow
  (:func:`chunk_counts`): progress never moves backwards, whatever late or repeated attempt of a
  step finishes when.
- Failed is final for a file refused as a whole; an import stopped by a step that kept failing
  may be retried (:func:`may_retry`), from the first chunk not finished (:func:`resume_cursor`).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from dc_imports.columns import FileKind
from dc_imports.formats import Chunk, RawRow, Source, read_chunk
from dc_imports.records import Outcome, Record, RowError, ServiceRecord, WorkerRecord
from dc_imports.validation import ROW, duplicate_reason, service_natural_key, validate_row
from dc_workflows.contracts.imports import (
    ImportCounts,
    ImportCursor,
    ImportedService,
    ImportedWorker,
    ImportStatus,
    RowFate,
)

COMPANY_WIDE = "company"
"""The scope of an import for the whole company, in its key (a branch is 10 digits)."""

# -- the import ---------------------------------------------------------------------------------


def import_key(company_id: str, branch_id: str | None, kind: str, content_hash: str) -> str:
    """The business key of an import (its workflow id comes from it): the same bytes of the
    same kind are one import per company and branch, or per company for the whole company."""
    return f"{company_id}-{branch_id or COMPANY_WIDE}-{kind}-{content_hash}"


def is_refused(status: str, retryable: bool) -> bool:
    """A file refused as a whole: failed for good (sending it again is the same import)."""
    return status == ImportStatus.FAILED.value and not retryable


def may_retry(status: str, retryable: bool) -> bool:
    """Only an import stopped by a step that kept failing is retried."""
    return status == ImportStatus.FAILED.value and retryable


def progress_percent(status: str, retryable: bool, rows_read: int, rows_total: int) -> int:
    """100 once nothing more will happen; before, the share of the rows read (at most 99). A
    stopped import shows how far it came, so its retry does not make it go back."""
    if status == ImportStatus.DONE.value or is_refused(status, retryable):
        return 100
    if not rows_total:
        return 0
    return min(99, rows_read * 100 // rows_total)


@dataclass(frozen=True, slots=True)
class StoredChunk:
    start_line: int
    next_line: int
    next_offset: int | None
    done: bool


def resume_cursor(line: int, chunks: Iterable[StoredChunk], counts: ImportCounts) -> ImportCursor:
    """Where a new run of a stopped import starts: at ``line``, the first line not finished,
    from the byte offset the chunk before it ended at (every chunk finished when that chunk
    was the last one)."""
    before = [chunk for chunk in chunks if chunk.start_line < line]
    ending = [chunk for chunk in before if chunk.next_line == line]
    return ImportCursor(
        next_line=line,
        next_offset=ending[0].next_offset if ending else None,
        chunks_done=len(before),
        counts=counts,
        done=bool(ending) and ending[0].done,
    )


# -- rows ---------------------------------------------------------------------------------------


def may_record(outcome: str) -> bool:
    """A row's fate is set once: only a row the file's checks accepted, waiting for its
    registration, takes what the registration made of it. A late or repeated answer for a row
    already registered, rejected or found a duplicate changes nothing."""
    return outcome == Outcome.ACCEPTED.value


def chunk_counts(by_outcome: Mapping[str, int]) -> dict[str, int]:
    """A chunk's counts from its rows by outcome. A row counts once its fate is known: a row
    waiting for its registration is read, not yet accepted, so no count ever goes down."""
    registered = by_outcome.get(RowFate.REGISTERED.value, 0)
    return {
        "accepted": registered,
        "registered": registered,
        "rejected": by_outcome.get(Outcome.REJECTED.value, 0),
        "duplicates": by_outcome.get(Outcome.DUPLICATE.value, 0),
    }


# -- chunks -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CheckedRow:
    row: RawRow
    result: Record | list[RowError]

    @property
    def record(self) -> Record | None:
        return None if isinstance(self.result, list) else self.result


@dataclass(frozen=True, slots=True)
class CheckedChunk:
    chunk: Chunk
    rows: list[CheckedRow]


@dataclass(frozen=True, slots=True)
class PreparedRow:
    """A row as it is stored: what the file's own checks made of it."""

    line: int
    outcome: Outcome
    natural_key: str | None
    other_key: str | None
    duplicate_of: int | None
    errors: list[dict[str, Any]] | None
    record: dict[str, Any] | None
    raw: list[str]


def check_chunk(
    source: Source,
    kind: FileKind,
    *,
    start_line: int,
    size: int,
    start_offset: int | None,
    today: date,
) -> CheckedChunk:
    """Read lines ``start_line`` .. ``start_line + size - 1`` and check every row on its own.

    Raises :class:`~dc_imports.formats.FileError` when the file cannot be read."""
    chunk = read_chunk(source, kind, start_line=start_line, size=size, start_offset=start_offset)
    return CheckedChunk(
        chunk, [CheckedRow(row, validate_row(row, today=today)) for row in chunk.rows]
    )


def keys(record: Record) -> tuple[str, str | None]:
    """The keys by which a record repeats another: a service's natural key; a worker's
    national number and login."""
    if isinstance(record, ServiceRecord):
        return service_natural_key(record), None
    return record.national_number, record.login


def keys_of_chunk(checked: CheckedChunk) -> tuple[set[str], set[str]]:
    """Every natural key and other key of the chunk's valid rows."""
    natural: set[str] = set()
    other: set[str] = set()
    for row in checked.rows:
        if row.record is not None:
            first, second = keys(row.record)
            natural.add(first)
            if second is not None:
                other.add(second)
    return natural, other


def prepare(
    checked: CheckedChunk,
    earlier_natural: Mapping[str, int],
    earlier_other: Mapping[str, int],
) -> list[PreparedRow]:
    """The chunk's rows with duplicates resolved: ``earlier_*`` map the keys of the earlier
    chunks to the line of their first occurrence."""
    first_natural = dict(earlier_natural)
    first_other = dict(earlier_other)
    prepared: list[PreparedRow] = []
    for checked_row in checked.rows:
        row, record = checked_row.row, checked_row.record
        raw = list(row.original())
        if record is None:
            assert isinstance(checked_row.result, list)
            errors = [_error(error.field, error.reason) for error in checked_row.result]
            prepared.append(
                PreparedRow(row.line, Outcome.REJECTED, None, None, None, errors, None, raw)
            )
            continue
        natural, other = keys(record)
        repeated = _repeats(natural, other, first_natural, first_other)
        values = _record_values(record)
        if repeated is not None:
            column, line = repeated
            errors = [_error(column, duplicate_reason(column, line))]
            prepared.append(
                PreparedRow(row.line, Outcome.DUPLICATE, natural, other, line, errors, values, raw)
            )
            continue
        first_natural[natural] = row.line
        if other is not None:
            first_other[other] = row.line
        prepared.append(
            PreparedRow(row.line, Outcome.ACCEPTED, natural, other, None, None, values, raw)
        )
    return prepared


def _repeats(
    natural: str,
    other: str | None,
    first_natural: Mapping[str, int],
    first_other: Mapping[str, int],
) -> tuple[str, int] | None:
    """(field, first line) as :class:`~dc_imports.validation.Duplicates` reports it."""
    same_natural = first_natural.get(natural)
    if other is None:
        return None if same_natural is None else (ROW, same_natural)
    same_other = first_other.get(other)
    if same_natural is not None and same_natural == same_other:
        return ROW, same_natural
    if same_natural is not None:
        return "national_number", same_natural
    if same_other is not None:
        return "login", same_other
    return None


def _error(field: str, reason: str) -> dict[str, Any]:
    return {"field": field, "reason": reason}


def _record_values(record: Record) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude={"line"})


def imported_service(line: int, natural_key: str, values: Mapping[str, Any]) -> ImportedService:
    return ImportedService.model_validate({**values, "line": line, "natural_key": natural_key})


def imported_worker(line: int, values: Mapping[str, Any]) -> ImportedWorker:
    return ImportedWorker.model_validate({**values, "line": line})


def service_record(line: int, values: Mapping[str, Any]) -> ServiceRecord:
    return ServiceRecord.model_validate({**values, "line": line})


__all__ = [
    "COMPANY_WIDE",
    "CheckedChunk",
    "CheckedRow",
    "PreparedRow",
    "StoredChunk",
    "WorkerRecord",
    "check_chunk",
    "chunk_counts",
    "import_key",
    "imported_service",
    "imported_worker",
    "is_refused",
    "keys",
    "keys_of_chunk",
    "may_record",
    "may_retry",
    "prepare",
    "progress_percent",
    "resume_cursor",
    "service_record",
]
