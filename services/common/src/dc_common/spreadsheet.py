"""CSV the way a Belgian Excel opens it right: UTF-8 with BOM, ``;`` between cells, CRLF line
ends, dates as ``dd/mm/yyyy`` and decimals with a comma; every cell safe against formula
injection (a value starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return, or their
full-width forms, gets a leading apostrophe, so a spreadsheet shows it as text instead of
running it)."""

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from decimal import Decimal

DELIMITER = ";"
BOM = b"\xef\xbb\xbf"
CONTENT_TYPE = "text/csv; charset=utf-8"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: str) -> str:
    """The value, with a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def cell(value: object) -> str:
    """A value as Belgian Excel reads it back: dates day first, decimals with a comma."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float | Decimal):
        return str(value).replace(".", ",")
    return safe_cell(str(value))


class CsvEncoder:
    """Lines of a CSV file as encoded pieces, for a streamed answer or a file: the header
    first (with the BOM), then the rows in batches."""

    def __init__(self) -> None:
        self._buffer = io.StringIO()
        self._writer = csv.writer(self._buffer, delimiter=DELIMITER, lineterminator="\r\n")

    def header(self, names: Sequence[str]) -> bytes:
        return BOM + self.rows([names])

    def rows(self, rows: Iterable[Sequence[object]]) -> bytes:
        for row in rows:
            self._writer.writerow([cell(value) for value in row])
        piece = self._buffer.getvalue().encode("utf-8")
        self._buffer.seek(0)
        self._buffer.truncate()
        return piece
