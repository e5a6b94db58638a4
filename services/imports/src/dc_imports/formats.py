"""Reading an uploaded file into rows: CSV as Belgian spreadsheets write it, and XLSX.

The file is given as bytes or as a path. Rows stream: nothing but the current row is held, so a
file of 100,000 rows is never all in memory as rows. Line numbers are those a spreadsheet user
sees: the header is line 1 and every record (one spreadsheet row, even when a quoted cell spans
several text lines) is the next line; blank lines count but yield no row.

CSV: the delimiter (``;``, ``,`` or tab) is taken from the header line (or from an Excel
``sep=;`` line before it); the encoding is UTF-8 (with or without BOM) when the whole file is
valid UTF-8, Windows-1252 otherwise; line ends may be CRLF, LF or CR; quoted cells may hold
delimiters, line breaks and doubled quotes. XLSX: the first sheet, read in openpyxl's read-only
mode; date cells arrive as dates, number cells as int or float, formulas as their cached values.

For resumption a chunk of rows is re-read by its start line and size in rows
(:func:`read_chunk`); the byte offset a previous chunk returned lets a CSV chunk start there
without re-parsing the rows before it. Blank lines cost no chunk: a million of them are passed
over in one.

Hostile files end in :class:`FileError`, never in another exception: an XLSX file that unpacks
to far more than it weighs (a zip bomb), XML with entity declarations (refused by defusedxml,
which openpyxl uses when it is installed), broken XML, a CSV line longer than a cell may be, a
header of thousands of columns (the first :data:`MAX_HEADER_ISSUES` are named).
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from dc_imports.columns import COLUMNS, Column, FileKind, match_column, normalise_header

Source = bytes | Path
"""An uploaded file: its content, or the path where it is stored."""

Cell = str | int | float | bool | datetime | date | time | timedelta | None
"""A cell as read: always ``str`` (or None past the end of a short line) from CSV; typed from
XLSX."""

_UTF8_BOM = codecs.BOM_UTF8
_UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_ZIP_MAGIC = b"PK\x03\x04"
_OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_DELIMITERS = (";", ",", "\t")
_SEP_LINE = re.compile(r"^\s*sep=(.)\s*$", re.IGNORECASE)
_SNIFF_BYTES = 64 * 1024
_SCAN_BYTES = 256 * 1024
#: An XLSX file may unpack to at most this much (a sheet of a million rows is about 300 MB)...
MAX_UNPACKED_BYTES = 512 * 1024 * 1024
#: ... and none of its parts may be packed tighter than this: spreadsheet programs write parts
#: packed 5 to 20 times; a zip bomb packs thousands of times.
MAX_PACKING_RATIO = 100
_RATIO_CHECKED_FROM = 1024 * 1024
#: A header refused for more problems than this names these and counts the rest.
MAX_HEADER_ISSUES = 20
#: What reading a damaged or hostile XLSX part may raise (defusedxml's refusals are ValueErrors,
#: broken XML a SyntaxError).
_XLSX_ERRORS = (
    InvalidFileException,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    KeyError,
    OSError,
    EOFError,
    ValueError,
    SyntaxError,
)


class FileFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


@dataclass(frozen=True, slots=True)
class HeaderIssue:
    """One problem with the header: the column concerned and why."""

    column: str
    reason: str


class FileError(ValueError):
    """The whole file cannot be imported: unreadable, or its header is wrong.

    ``issues`` names every column concerned; ``str(error)`` is the full message.
    """

    def __init__(self, reason: str, issues: tuple[HeaderIssue, ...] = (), line: int = 1) -> None:
        self.reason = reason
        self.issues = issues
        self.line = line
        details = "; ".join(f"{issue.column}: {issue.reason}" for issue in issues)
        super().__init__(f"{reason}. {details}" if details else reason)

    def as_dict(self) -> dict[str, Any]:
        return {
            "reason": self.reason,
            "line": self.line,
            "errors": [{"field": i.column, "reason": i.reason} for i in self.issues],
        }


@dataclass(frozen=True, slots=True)
class FileInfo:
    """How a file was read: useful in logs and on the import's status page."""

    format: FileFormat
    encoding: str | None = None
    delimiter: str | None = None


@dataclass(frozen=True, slots=True)
class Header:
    """The header row: the names as written, and the column each position holds."""

    kind: FileKind
    line: int
    names: tuple[str, ...]
    columns: tuple[Column | None, ...]
    index: dict[str, int] = field(compare=False)
    gaps: bool = False
    """True when some header cell is empty (its column is ignored)."""

    @property
    def fields(self) -> tuple[str, ...]:
        """The canonical names of the columns present, in file order."""
        return tuple(column.name for column in self.columns if column is not None)


@dataclass(frozen=True, slots=True)
class RawRow:
    """One non-blank record of the file, as read, before validation."""

    line: int
    cells: tuple[Cell, ...]
    header: Header = field(repr=False, compare=False)
    offset: int | None = None
    """Byte offset of the record in a CSV file (where a chunk starting here may seek to)."""

    def get(self, column: str) -> Cell:
        """The cell under ``column`` (canonical name); None when absent or past the end."""
        position = self.header.index.get(column)
        if position is None or position >= len(self.cells):
            return None
        return self.cells[position]

    def stray_columns(self) -> list[int]:
        """1-based numbers of the columns that hold a value but have no header."""
        width = len(self.header.columns)
        if len(self.cells) <= width and not self.header.gaps:
            return []
        return [
            number
            for number, cell in enumerate(self.cells, start=1)
            if (number > width or self.header.columns[number - 1] is None) and not is_blank(cell)
        ]

    def original(self) -> tuple[str, ...]:
        """The values as text, in file order, at least as wide as the header (for reports)."""
        width = max(len(self.header.names), len(self.cells))
        cells = self.cells + (None,) * (width - len(self.cells))
        return tuple(cell_text(cell) for cell in cells)


@dataclass(frozen=True, slots=True)
class Chunk:
    """Up to ``size`` rows from line ``start_line`` on (blank lines are passed over); the next
    chunk starts at ``next_line``, the line of the row after them."""

    rows: list[RawRow]
    start_line: int
    next_line: int
    next_offset: int | None
    """Byte offset of ``next_line`` in a CSV file, for :func:`read_chunk`'s ``start_offset``."""
    done: bool
    """True when the file ends in this chunk."""


def is_blank(cell: Cell) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def cell_text(cell: Cell) -> str:
    """A cell as text, as a person would read it back (for reports and messages)."""
    if cell is None:
        return ""
    if isinstance(cell, str):
        return cell
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == time() else cell.isoformat(sep=" ")
    if isinstance(cell, date | time):
        return cell.isoformat()
    return str(cell)


# -- detection --------------------------------------------------------------------------------


def detect_format(head: bytes) -> FileFormat:
    """XLSX by its zip signature, CSV otherwise; refuses the formats it cannot read."""
    if head.startswith(_ZIP_MAGIC):
        return FileFormat.XLSX
    if head.startswith(_OLE2_MAGIC):
        raise FileError(
            "this is an Excel 97-2003 (.xls) or a password-protected workbook: "
            "save it as .xlsx (without password) or as CSV"
        )
    if head.startswith(_UTF16_BOMS):
        raise FileError("this text file is UTF-16 ('Unicode text'): save it as CSV (UTF-8)")
    return FileFormat.CSV


def detect_encoding(stream: IO[bytes]) -> str:
    """``utf-8-sig`` (with BOM) or ``utf-8`` when the whole file is valid UTF-8, else
    ``cp1252``. Reads the stream in slices; leaves it at its start."""
    stream.seek(0)
    bom = stream.read(len(_UTF8_BOM)) == _UTF8_BOM
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while block := stream.read(_SCAN_BYTES):
            decoder.decode(block)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        encoding = "utf-8-sig" if bom else "cp1252"
    else:
        encoding = "utf-8-sig" if bom else "utf-8"
    stream.seek(0)
    return encoding


def _split_outside_quotes(line: str, delimiter: str) -> int:
    count, quoted = 0, False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif char == delimiter and not quoted:
            count += 1
    return count


def detect_delimiter(header_line: str) -> str:
    """The delimiter the header line uses most (outside quotes); ``;`` on a tie or none."""
    counts = {d: _split_outside_quotes(header_line, d) for d in _DELIMITERS}
    best = max(_DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] > 0 else ";"


# -- the header -------------------------------------------------------------------------------


def parse_header(kind: FileKind, names: list[str], line: int) -> Header:
    """Match the header cells to ``kind``'s columns; one :class:`FileError` naming every
    unknown, repeated or missing column with the names accepted."""
    columns: list[Column | None] = []
    index: dict[str, int] = {}
    issues: list[HeaderIssue] = []
    for position, raw in enumerate(names):
        name = raw.strip()
        if not name:
            columns.append(None)
            continue
        column = match_column(kind, name)
        columns.append(column)
        if column is None:
            issues.append(HeaderIssue(name, "unknown column"))
        elif column.name in index:
            first = names[index[column.name]].strip()
            issues.append(HeaderIssue(name, f"column {column.name} appears twice ({first!r})"))
        else:
            index[column.name] = position
    for column in COLUMNS[kind]:
        if column.required and column.name not in index:
            accepted = ", ".join(column.accepted)
            issues.append(HeaderIssue(column.name, f"missing column (accepted names: {accepted})"))
    if len(issues) > MAX_HEADER_ISSUES:
        more = len(issues) - MAX_HEADER_ISSUES
        issues = [*issues[:MAX_HEADER_ISSUES], HeaderIssue("…", f"{more} more columns like these")]
    if issues:
        raise FileError(_header_reason(kind, names, line), tuple(issues), line)
    stripped = tuple(name.strip() for name in names)
    gaps = any(column is None for column in columns)
    return Header(kind, line, stripped, tuple(columns), index, gaps)


def expected_columns(kind: FileKind) -> str:
    """The columns of ``kind`` in one phrase, for messages."""
    required = [column.name for column in COLUMNS[kind] if column.required]
    optional = [column.name for column in COLUMNS[kind] if not column.required]
    return f"{', '.join(required)}, and optionally {', '.join(optional)}"


def _header_reason(kind: FileKind, names: list[str], line: int) -> str:
    other = FileKind.WORKERS if kind is FileKind.SERVICES else FileKind.SERVICES
    wanted = {c.name for c in COLUMNS[other] if c.required}
    present = {column.name for name in names if (column := match_column(other, name))}
    looks = f" (it looks like a {other.value} file)" if wanted <= present else ""
    return (
        f"the header (line {line}) is not that of a {kind.value} file{looks}; "
        f"expected the columns {expected_columns(kind)}"
    )


# -- CSV --------------------------------------------------------------------------------------


class _ByteLines:
    """Decoded text lines of a byte stream, keeping the byte offset of what was handed out."""

    def __init__(self, stream: IO[bytes], encoding: str, offset: int) -> None:
        self._stream = stream
        self._codec = "utf-8" if encoding == "utf-8-sig" else encoding
        # A file detected as UTF-8 decodes cleanly; one with a UTF-8 BOM but broken bytes, or
        # a Windows-1252 byte the code page leaves undefined, reads with U+FFFD in that cell.
        self._errors = "replace"
        stream.seek(offset)
        self.offset = offset

    def __iter__(self) -> Iterator[str]:
        codec, errors = self._codec, self._errors
        for raw in self._stream:
            self.offset += len(raw)
            yield raw.decode(codec, errors)


def _open_bytes(source: Source) -> IO[bytes]:
    if isinstance(source, bytes):
        return io.BytesIO(source)
    return source.open("rb")


def _cr_only(stream: IO[bytes]) -> bool:
    head = stream.read(_SNIFF_BYTES)
    stream.seek(0)
    return b"\r" in head and b"\n" not in head


class _CsvFile:
    def __init__(self, stream: IO[bytes], kind: FileKind) -> None:
        if _cr_only(stream):  # old Mac line ends: same length with LF, so offsets still hold
            stream = io.BytesIO(stream.read().replace(b"\r", b"\n"))
        self.stream = stream
        self.encoding = detect_encoding(stream)
        self.data_offset = len(_UTF8_BOM) if self.encoding == "utf-8-sig" else 0
        self.delimiter, self.header, self.body_offset = self._read_header(kind)
        self.info = FileInfo(FileFormat.CSV, self.encoding, self.delimiter)

    def _read_header(self, kind: FileKind) -> tuple[str, Header, int]:
        lines = _ByteLines(self.stream, self.encoding, self.data_offset)
        number, delimiter = 0, None
        for text in lines:
            number += 1
            if not text.strip():
                continue
            sep = _SEP_LINE.match(text) if number == 1 else None
            if sep:
                delimiter = sep.group(1)
                continue
            delimiter = delimiter or detect_delimiter(text)
            try:
                names = next(csv.reader([text], delimiter=delimiter), [])
            except csv.Error as error:
                raise FileError(
                    f"line {number} cannot be read as CSV: {error}", line=number
                ) from None
            return delimiter, parse_header(kind, names, number), lines.offset
        raise FileError("the file is empty: it has no header line")

    def records(
        self, start_line: int, start_offset: int | None
    ) -> Iterator[tuple[int, int, list[str]]]:
        """(line, byte offset, cells) of every record from ``start_line`` on, blanks included."""
        line = self.header.line + 1
        offset = self.body_offset
        if start_offset is not None and start_line > line:
            line, offset = start_line, start_offset
        lines = _ByteLines(self.stream, self.encoding, offset)
        reader = csv.reader(lines, delimiter=self.delimiter)
        while True:
            offset = lines.offset
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                raise FileError(f"line {line} cannot be read as CSV: {error}", line=line) from None
            if line >= start_line:
                yield line, offset, cells
            line += 1

    def end_offset(self) -> int:
        self.stream.seek(0, io.SEEK_END)
        return self.stream.tell()


# -- XLSX -------------------------------------------------------------------------------------


def _typed(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | datetime | date | time | timedelta):
        return value
    return str(value)


def _refuse_zip_bombs(stream: IO[bytes]) -> None:
    """Refuse a workbook that would unpack to far more than it weighs, before unpacking any of
    it. The sizes its directory declares bound what unpacking yields: :mod:`zipfile` stops at
    the declared size (and fails on the checksum) when a part holds more."""
    try:
        with zipfile.ZipFile(stream) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:
        raise FileError(f"this is not a readable XLSX workbook ({error})") from None
    finally:
        stream.seek(0)
    unpacked = sum(part.file_size for part in parts)
    if unpacked > MAX_UNPACKED_BYTES:
        raise FileError(
            f"this workbook unpacks to {unpacked:,} bytes, more than the "
            f"{MAX_UNPACKED_BYTES:,} a workbook may: split it, or save it as CSV"
        )
    for part in parts:
        if part.file_size >= _RATIO_CHECKED_FROM and (
            part.file_size > MAX_PACKING_RATIO * max(part.compress_size, 1)
        ):
            raise FileError(
                f"this workbook's part {part.filename} is packed more than "
                f"{MAX_PACKING_RATIO} times (as zip bombs are): it is not read"
            )


def _sheet_rows(sheet: Any, min_row: int = 1) -> Iterator[tuple[object, ...]]:
    """The sheet's rows as values; a part that breaks off or is hostile XML halfway through
    ends in :class:`FileError` naming the row after the last one read."""
    number = min_row
    try:
        for values in sheet.iter_rows(min_row=min_row, values_only=True):
            yield values
            number += 1
    except _XLSX_ERRORS as error:
        raise FileError(
            f"line {number} of the workbook cannot be read ({error})", line=number
        ) from None


class _XlsxFile:
    def __init__(self, stream: IO[bytes], kind: FileKind) -> None:
        _refuse_zip_bombs(stream)
        try:
            self.workbook = load_workbook(stream, read_only=True, data_only=True, keep_links=False)
        except _XLSX_ERRORS as error:
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise FileError(f"this is not a readable XLSX workbook ({first_line})") from None
        if not self.workbook.worksheets:
            raise FileError("the workbook has no sheet")
        sheet = self.workbook.worksheets[0]
        if not hasattr(sheet, "reset_dimensions"):  # a chartsheet
            raise FileError("the first sheet of the workbook holds no cells")
        sheet.reset_dimensions()  # some writers store wrong dimensions: read every row there is
        self.sheet = sheet
        self.header = self._read_header(kind)
        self.info = FileInfo(FileFormat.XLSX)

    def _read_header(self, kind: FileKind) -> Header:
        for number, values in enumerate(_sheet_rows(self.sheet), start=1):
            cells = [_typed(value) for value in values]
            if all(is_blank(cell) for cell in cells):
                continue
            names = [cell_text(cell) for cell in cells]
            while names and not names[-1].strip():
                names.pop()
            return parse_header(kind, names, number)
        raise FileError("the first sheet is empty: it has no header row")

    def records(self, start_line: int) -> Iterator[tuple[int, list[Cell]]]:
        first = max(start_line, self.header.line + 1)
        for number, values in enumerate(_sheet_rows(self.sheet, first), start=first):
            yield number, [_typed(value) for value in values]

    def close(self) -> None:
        self.workbook.close()


# -- the public reader ------------------------------------------------------------------------


class RowStream:
    """The rows of one file; iterate it once. Use as a context manager to close the file.

    ``header`` and ``info`` are known as soon as the stream is open: a wrong header raises
    :class:`FileError` from :func:`open_rows` itself, before any row is read.
    """

    def __init__(
        self,
        source: Source,
        kind: FileKind,
        *,
        start_line: int = 2,
        max_rows: int | None = None,
        start_offset: int | None = None,
    ) -> None:
        self.kind = kind
        self._stream = _open_bytes(source)
        self._start_line = start_line
        self._max_rows = max_rows
        self._start_offset = start_offset
        self.next_line: int | None = None
        self.next_offset: int | None = None
        self.done = False
        try:
            head = self._stream.read(len(_OLE2_MAGIC))
            self._stream.seek(0)
            self.format = detect_format(head)
            if self.format is FileFormat.XLSX:
                self._xlsx: _XlsxFile | None = _XlsxFile(self._stream, kind)
                self._csv: _CsvFile | None = None
                self.header, self.info = self._xlsx.header, self._xlsx.info
            else:
                self._xlsx = None
                self._csv = _CsvFile(self._stream, kind)
                self.header, self.info = self._csv.header, self._csv.info
        except BaseException:
            self._stream.close()
            raise

    def __iter__(self) -> Iterator[RawRow]:
        header, room = self.header, self._max_rows
        if self._csv is not None:
            for line, offset, cells in self._csv.records(self._start_line, self._start_offset):
                if any(cell.strip() for cell in cells):
                    if room == 0:
                        self.next_line, self.next_offset = line, offset
                        return
                    room = None if room is None else room - 1
                    yield RawRow(line, tuple(cells), header, offset)
            self._mark_done(self._csv.end_offset())
        else:
            assert self._xlsx is not None
            for number, values in self._xlsx.records(self._start_line):
                if not all(is_blank(value) for value in values):
                    if room == 0:
                        self.next_line = number
                        return
                    room = None if room is None else room - 1
                    yield RawRow(number, tuple(values), header)
            self._mark_done(None)

    def _mark_done(self, offset: int | None) -> None:
        self.done = True
        self.next_offset = offset

    def close(self) -> None:
        if self._xlsx is not None:
            self._xlsx.close()
        self._stream.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def open_rows(source: Source, kind: FileKind, *, start_line: int = 2) -> RowStream:
    """Open a file of ``kind`` for streaming its rows (from ``start_line`` on).

    Raises :class:`FileError` when the file cannot be read or its header is wrong.
    """
    return RowStream(source, kind, start_line=start_line)


def read_header(source: Source, kind: FileKind) -> tuple[Header, FileInfo]:
    """Only the header and how the file is encoded; raises :class:`FileError` like
    :func:`open_rows`."""
    with RowStream(source, kind) as stream:
        return stream.header, stream.info


def read_chunk(
    source: Source,
    kind: FileKind,
    *,
    start_line: int = 2,
    size: int = 1000,
    start_offset: int | None = None,
) -> Chunk:
    """The first ``size`` rows from line ``start_line`` on (blank lines passed over).

    ``start_offset`` is a previous chunk's ``next_offset``: given, a CSV file is read from that
    byte on instead of from the top (it must belong to ``start_line``). Re-reading a chunk gives
    the same rows, so an activity that crashed can simply read its chunk again.
    """
    if size < 1:
        raise ValueError("size must be at least 1")
    start_line = max(start_line, 2)
    stream = RowStream(
        source,
        kind,
        start_line=start_line,
        max_rows=size,
        start_offset=start_offset,
    )
    with stream:
        rows = list(stream)
    next_line = start_line + size if stream.next_line is None else stream.next_line
    return Chunk(rows, start_line, next_line, stream.next_offset, stream.done)


def iter_chunks(source: Source, kind: FileKind, *, size: int = 1000) -> Iterator[Chunk]:
    """Every chunk of the file in order, each started from the previous one's offset."""
    line, offset = 2, None
    while True:
        chunk = read_chunk(source, kind, start_line=line, size=size, start_offset=offset)
        yield chunk
        if chunk.done:
            return
        line, offset = chunk.next_line, chunk.next_offset


__all__ = [
    "COLUMNS",
    "Cell",
    "Chunk",
    "FileError",
    "FileFormat",
    "FileInfo",
    "FileKind",
    "Header",
    "HeaderIssue",
    "RawRow",
    "RowStream",
    "Source",
    "cell_text",
    "detect_delimiter",
    "detect_encoding",
    "detect_format",
    "expected_columns",
    "is_blank",
    "iter_chunks",
    "normalise_header",
    "open_rows",
    "parse_header",
    "read_chunk",
    "read_header",
]
