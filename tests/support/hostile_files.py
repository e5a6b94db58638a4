"""Files an attacker or a broken program might upload as an import: each one made here from a
real workbook or CSV file, altered the way it would be in the wild."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from openpyxl import Workbook

SERVICES_HEADER = ("Werknemer", "Gebruikersnummer", "Datum", "Uren", "Activiteit", "Vestiging")
SHEET = "xl/worksheets/sheet1.xml"


@dataclass(frozen=True)
class Hostile:
    """A hostile file and the words its refusal must contain."""

    name: str
    content: bytes
    refusal: str


def workbook(rows: Sequence[Sequence[object]]) -> bytes:
    """An XLSX file as openpyxl writes it (as Excel would: one sheet, inline rows)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def rezipped(content: bytes, part: str, change: Callable[[bytes], bytes]) -> bytes:
    """The workbook with one part changed, everything else as it was."""
    source = zipfile.ZipFile(io.BytesIO(content))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            target.writestr(info.filename, change(data) if info.filename == part else data)
    return out.getvalue()


def _with_dtd(root: bytes, dtd: bytes, cell: bytes) -> Callable[[bytes], bytes]:
    """A sheet with a document type declaration before ``root`` and ``cell`` in a new row."""

    def change(xml: bytes) -> bytes:
        row = b'<row r="3"><c r="A3" t="inlineStr"><is><t>' + cell + b"</t></is></c></row>"
        xml = xml.replace(b"<" + root, b"<!DOCTYPE w [" + dtd + b"]><" + root, 1)
        return xml.replace(b"</sheetData>", row + b"</sheetData>", 1)

    return change


def _huge_cell(size: int) -> Callable[[bytes], bytes]:
    def change(xml: bytes) -> bytes:
        row = b'<row r="3"><c r="A3" t="inlineStr"><is><t>' + b"x" * size + b"</t></is></c></row>"
        return xml.replace(b"</sheetData>", row + b"</sheetData>", 1)

    return change


def csv_header() -> bytes:
    return (";".join(SERVICES_HEADER) + "\r\n").encode()


def hostile_files(row: Sequence[str]) -> list[Hostile]:
    """Every kind of hostile file, around a valid ``row`` of the services header."""
    good = workbook([SERVICES_HEADER, row])
    laughs = b"".join(
        b'<!ENTITY l%d "%s">' % (level, b"&l%d;" % (level - 1) * 10 if level else b"lol")
        for level in range(10)
    )
    many_columns = [*SERVICES_HEADER, *(f"kolom {n}" for n in range(10_000))]
    return [
        Hostile("truncated workbook", good[: len(good) // 2], "not a readable XLSX workbook"),
        Hostile(
            "workbook with a broken sheet",
            rezipped(good, SHEET, lambda xml: xml[: len(xml) - 40]),
            "cannot be read",
        ),
        Hostile(
            "zip bomb (a 300 MB cell packed into 300 KB)",
            rezipped(good, SHEET, _huge_cell(300_000_000)),
            "packed more than 100 times",
        ),
        Hostile(
            "billion laughs (entity expansion)",
            rezipped(good, SHEET, _with_dtd(b"worksheet", laughs, b"&l9;")),
            "not a readable XLSX workbook",
        ),
        Hostile(
            "external entity (XXE) reading /etc/passwd",
            rezipped(
                good,
                SHEET,
                _with_dtd(b"worksheet", b'<!ENTITY x SYSTEM "file:///etc/passwd">', b"&x;"),
            ),
            "not a readable XLSX workbook",
        ),
        Hostile(
            "Excel 97 binary workbook",
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4096),
            "Excel 97-2003",
        ),
        Hostile("binary noise", bytes(range(256)) * 4000, "is not that of a services file"),
        Hostile(
            "UTF-16 text",
            "\ufeff".encode("utf-16-le") + ";".join(SERVICES_HEADER).encode("utf-16-le"),
            "UTF-16",
        ),
        Hostile(
            "a 20 MB cell",
            csv_header() + b"sofie;" + b"1" * 20_000_000 + b"\r\n",
            "line 2 cannot be read as CSV",
        ),
        Hostile("a 20 MB header line", b"a" * 20_000_000 + b"\r\n", "line 1 cannot be read as CSV"),
        Hostile(
            "10,000 columns",
            (";".join(many_columns) + "\r\n" + ";".join(row) + "\r\n").encode(),
            "9980 more columns like these",
        ),
        Hostile("a workbook of 10,000 columns", workbook([many_columns, row]), "more columns"),
        Hostile("an empty file", b"", "the file is empty"),
    ]
