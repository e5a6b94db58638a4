"""The error report (``errors.csv``): every rejected or duplicate row, one line per error.

Columns: ``line``, ``field``, ``reason``, then the row's original values under the file's own
header names. Written for Belgian Excel, every cell safe against formula injection
(:mod:`dc_common.spreadsheet`).
"""

from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Protocol

from dc_common.spreadsheet import CsvEncoder
from dc_imports.formats import FileError
from dc_imports.records import RowError

REPORT_COLUMNS = ("line", "field", "reason")
_BATCH = 500


class Rejected(Protocol):
    """A row with errors: :class:`~dc_imports.records.RowResult` is one."""

    @property
    def errors(self) -> tuple[RowError, ...]: ...

    @property
    def original(self) -> tuple[str, ...]: ...


def _header(names: Sequence[str]) -> list[str]:
    used = set(REPORT_COLUMNS)
    header = list(REPORT_COLUMNS)
    for position, name in enumerate(names, start=1):
        label = name or f"column {position}"
        if label.lower() in used:  # a file column named like ours: keep both readable
            label = f"{label} (file)"
        used.add(label.lower())
        header.append(label)
    return header


def iter_error_report(names: Sequence[str], rejected: Iterable[Rejected]) -> Iterator[bytes]:
    """The report as encoded pieces, for a streaming HTTP response or a file.

    ``names`` are the header names of the imported file, in order; ``rejected`` the rows to
    report (rows without errors are skipped).
    """
    encoder = CsvEncoder()
    yield encoder.header(_header(names))
    lines: list[list[str]] = []
    for row in rejected:
        lines.extend([str(e.line), e.field, e.reason, *row.original] for e in row.errors)
        if len(lines) >= _BATCH:
            yield encoder.rows(lines)
            lines = []
    if lines:
        yield encoder.rows(lines)


def write_error_report(out: IO[bytes], names: Sequence[str], rejected: Iterable[Rejected]) -> None:
    """Write the report to a binary stream."""
    for piece in iter_error_report(names, rejected):
        out.write(piece)


def error_report(names: Sequence[str], rejected: Iterable[Rejected]) -> bytes:
    """The whole report as bytes."""
    return b"".join(iter_error_report(names, rejected))


class _FileProblem:
    def __init__(self, error: FileError) -> None:
        whole = RowError(line=error.line, field="file", reason=error.reason)
        columns = [
            RowError(line=error.line, field=issue.column, reason=issue.reason)
            for issue in error.issues
        ]
        self.errors = (whole, *columns)
        self.original: tuple[str, ...] = ()


def file_error_report(error: FileError) -> bytes:
    """The report of a file refused as a whole: why (field ``file``), then one line per
    header problem."""
    return error_report((), [_FileProblem(error)])
