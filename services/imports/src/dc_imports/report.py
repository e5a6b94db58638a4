"""The error report (``errors.csv``): every rejected or duplicate row, one line per error.

Columns: ``line``, ``field``, ``reason``, then the row's original values under the file's own
header names. Written for Belgian Excel: UTF-8 with BOM, ``;`` as delimiter, CRLF line ends.
Every cell is made safe against formula injection: a value starting with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return (or their full-width forms) gets a leading apostrophe, so a
spreadsheet shows it as text instead of running it.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Protocol

from dc_imports.formats import FileError
from dc_imports.records import RowError

REPORT_COLUMNS = ("line", "field", "reason")
DELIMITER = ";"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")
_BATCH = 500


class Rejected(Protocol):
    """A row with errors: :class:`~dc_imports.records.RowResult` is one."""

    @property
    def errors(self) -> tuple[RowError, ...]: ...

    @property
    def original(self) -> tuple[str, ...]: ...


def safe_cell(value: str) -> str:
    """The value, with a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


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
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator="\r\n")
    writer.writerow([safe_cell(cell) for cell in _header(names)])
    yield b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8")
    buffer.seek(0)
    buffer.truncate()
    pending = 0
    for row in rejected:
        values = [safe_cell(value) for value in row.original]
        for error in row.errors:
            writer.writerow(
                [str(error.line), safe_cell(error.field), safe_cell(error.reason), *values]
            )
            pending += 1
        if pending >= _BATCH:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


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
