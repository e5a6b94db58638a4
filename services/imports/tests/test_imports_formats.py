"""Reading real files: every CSV flavour a Belgian spreadsheet writes, and XLSX."""

import io
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook

from dc_imports.columns import COLUMNS, FileKind, normalise_header
from dc_imports.formats import (
    FileError,
    FileFormat,
    RawRow,
    cell_text,
    iter_chunks,
    open_rows,
    read_chunk,
    read_header,
)

S = FileKind.SERVICES
W = FileKind.WORKERS
BOM = b"\xef\xbb\xbf"


def rows_of(data: bytes | Path, kind: FileKind = S) -> list[RawRow]:
    with open_rows(data, kind) as stream:
        return list(stream)


def values(row: RawRow) -> dict[str, object]:
    return {name: row.get(name) for name in row.header.fields}


# -- encodings, delimiters, line ends ---------------------------------------------------------

WORKERS_TEXT = (
    "Rijksregisternummer;Voornaam;Achternaam;Login;Vestiging;Start contract;Einde contract;Taal\n"
    "85031212461;Françoise;Dubois;980100000001;2234567818;01/03/2018;;fr\n"
    "79110403727;Jürgen;Müller-Lefèvre;980100000002;;15/09/2016;30/06/2024;de\n"
)


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [
        ("utf-8", False, "utf-8"),
        ("utf-8", True, "utf-8-sig"),
        ("cp1252", False, "cp1252"),
    ],
)
@pytest.mark.parametrize("newline", ["\r\n", "\n", "\r"])
def test_workers_file_in_every_encoding_and_line_end(
    encoding: str, bom: bool, expected: str, newline: str
) -> None:
    data = (BOM if bom else b"") + WORKERS_TEXT.replace("\n", newline).encode(encoding)
    if encoding == "cp1252":
        assert b"Fran\xe7oise" in data and b"J\xfcrgen" in data  # the real single bytes
    with open_rows(data, W) as stream:
        assert stream.info.encoding == expected
        assert stream.info.delimiter == ";"
        rows = list(stream)
    assert [row.line for row in rows] == [2, 3]
    assert rows[0].get("first_name") == "Françoise"
    assert rows[1].get("first_name") == "Jürgen"
    assert rows[1].get("last_name") == "Müller-Lefèvre"
    assert rows[0].get("contract_end") == ""
    assert rows[1].get("language") == "de"
    assert rows[0].get("national_number") == "85031212461"  # no stray BOM or CR anywhere
    assert rows[0].header.names[0] == "Rijksregisternummer"
    assert all(not str(cell).endswith("\r") for row in rows for cell in row.cells)


def test_a_file_valid_as_utf8_is_read_as_utf8_even_with_accents_everywhere() -> None:
    data = "Voornaam;Achternaam;login;insz;contract_start\nZoë;Noël;9;8;1\n".encode()
    with open_rows(data, W) as stream:
        assert stream.info.encoding == "utf-8"
        assert next(iter(stream)).get("first_name") == "Zoë"


def test_cp1252_bytes_that_are_invalid_utf8_late_in_the_file() -> None:
    head = b"national_number;first_name;last_name;login;contract_start\n"
    filler = b"".join(b"85031212461;Jan;Peeters;980100000001;2018-03-01\n" for _ in range(25000))
    data = head + filler + "79110403727;Céline;Lambert;980100000002;2016-09-15\n".encode("cp1252")
    assert len(data) > 1_000_000  # past the first slice the detection reads
    with open_rows(data, W) as stream:
        assert stream.info.encoding == "cp1252"
        last = list(stream)[-1]
    assert last.get("first_name") == "Céline"
    assert last.line == 25002


def test_broken_bytes_after_a_utf8_bom_read_as_replacement_characters() -> None:
    data = (
        BOM + b"national_number;first_name;last_name;login;contract_start\nx;Fran\xe7oise;y;z;w\n"
    )
    with open_rows(data, W) as stream:
        assert stream.info.encoding == "utf-8-sig"
        (row,) = list(stream)
    assert row.get("first_name") == "Fran\ufffdoise"


@pytest.mark.parametrize(("delimiter", "name"), [(";", "semicolon"), (",", "comma"), ("\t", "tab")])
def test_delimiter_is_taken_from_the_header_line(delimiter: str, name: str) -> None:
    header = delimiter.join(
        ["worker_login", "user_number", "service_date", "hours", "activity_type"]
    )
    row = delimiter.join(["980100000001", "100000000001", "2025-11-03", "4", "1"])
    with open_rows(f"{header}\r\n{row}\r\n".encode(), S) as stream:
        assert stream.info.delimiter == delimiter, name
        (only,) = list(stream)
    assert values(only) == {
        "worker_login": "980100000001",
        "user_number": "100000000001",
        "service_date": "2025-11-03",
        "hours": "4",
        "activity_type": "1",
    }


def test_comma_file_with_decimal_comma_hours_in_quotes() -> None:
    data = (
        b"Werknemer,Gebruikersnummer,Datum,Uren,Activiteit\r\n"
        b'980100000001,100000000001,03/11/2025,"4,0",1\r\n'
        b'980100000002,100000000002,04/11/2025,"4,5",1\r\n'
    )
    rows = rows_of(data)
    assert [row.get("hours") for row in rows] == ["4,0", "4,5"]


def test_quoted_fields_with_delimiters_line_breaks_and_quotes_inside() -> None:
    data = (
        b"national_number;first_name;last_name;login;contract_start\r\n"
        b'85031212461;"Anne; Marie";"De ""Smet""";980100000001;2018-03-01\r\n'
        b'79110403727;"Jan\r\nPieter";Peeters;980100000002;2016-09-15\r\n'
        b"90072126277;Marie;Dubois;980100000003;2021-01-04\r\n"
    )
    rows = rows_of(data, W)
    assert rows[0].get("first_name") == "Anne; Marie"
    assert rows[0].get("last_name") == 'De "Smet"'
    assert rows[1].get("first_name") == "Jan\r\nPieter"
    # one spreadsheet row per record, even when a cell spans two text lines
    assert [row.line for row in rows] == [2, 3, 4]


def test_excel_sep_line_sets_the_delimiter() -> None:
    data = b"sep=,\r\nworker_login,user_number,service_date,hours,activity_type\r\n9,1,d,4,1\r\n"
    with open_rows(data, S) as stream:
        assert stream.info.delimiter == ","
        assert stream.header.line == 2
        assert [row.line for row in stream] == [3]


def test_blank_lines_count_as_lines_but_give_no_rows() -> None:
    data = (
        b"worker_login;user_number;service_date;hours;activity_type\n"
        b"980100000001;100000000001;2025-11-03;4;1\n"
        b"\n"
        b";;;;\n"
        b"  ;  ;;;\n"
        b"980100000002;100000000002;2025-11-04;3;1\n"
        b"\n"
    )
    assert [row.line for row in rows_of(data)] == [2, 6]


def test_short_rows_read_as_empty_cells_and_stray_values_are_found() -> None:
    data = (
        b"worker_login;user_number;service_date;hours;activity_type;;\n"
        b"980100000001;100000000001\n"
        b"980100000001;100000000001;2025-11-03;4;1;;oops;more\n"
    )
    short, wide = rows_of(data)
    assert short.get("hours") is None
    assert short.stray_columns() == []
    assert wide.stray_columns() == [7, 8]
    assert wide.original()[6:] == ("oops", "more")


def test_header_names_ignore_case_spaces_accents_and_punctuation() -> None:
    data = (
        "  WERKNEMER ; Gebruikers-Nummer;Datum prestatie ;AANTAL_UREN;Activité;vestiging\n".encode()
    )
    header, _ = read_header(data, S)
    assert header.fields == (
        "worker_login",
        "user_number",
        "service_date",
        "hours",
        "activity_type",
        "branch_id",
    )
    assert header.names[0] == "WERKNEMER"


def test_every_alias_of_every_column_is_accepted() -> None:
    for kind, columns in COLUMNS.items():
        for column in columns:
            for alias in column.accepted:
                names = [alias if other is column else other.name for other in columns]
                header, _ = read_header(";".join(names).encode(), kind)
                assert header.fields == tuple(c.name for c in columns), (kind, alias)


def test_aliases_of_one_kind_never_collide() -> None:
    for columns in COLUMNS.values():
        keys = [normalise_header(name) for column in columns for name in column.accepted]
        assert len(keys) == len(set(keys))


def test_optional_columns_may_be_absent_and_columns_in_any_order() -> None:
    data = b"hours;activity_type;service_date;user_number;worker_login\n4;1;2025-11-03;1;9\n"
    (row,) = rows_of(data)
    assert row.get("branch_id") is None
    assert row.get("hours") == "4"
    assert row.get("worker_login") == "9"


# -- a wrong header is one error for the whole file -------------------------------------------


def test_unknown_column_is_named_with_the_accepted_columns() -> None:
    data = b"werknemer;gebruiker;datum;uren;activiteit;opmerking\n1;2;3;4;5;6\n"
    with pytest.raises(FileError) as caught:
        open_rows(data, S)
    error = caught.value
    assert [(issue.column, issue.reason) for issue in error.issues] == [
        ("opmerking", "unknown column")
    ]
    assert error.line == 1
    assert "worker_login, user_number, service_date, hours, activity_type" in str(error)
    assert "optionally branch_id" in str(error)


def test_missing_column_is_named_with_its_accepted_names() -> None:
    with pytest.raises(FileError) as caught:
        read_header(b"werknemer;gebruiker;datum;activiteit\n", S)
    (issue,) = caught.value.issues
    assert issue.column == "hours"
    assert issue.reason == (
        "missing column (accepted names: hours, uren, aantal uren, uur, heures, nombre heures)"
    )


def test_every_header_problem_is_reported_at_once() -> None:
    with pytest.raises(FileError) as caught:
        read_header(b"datum;datum;uren;foo;bar\n", S)
    assert [(i.column, i.reason.split(" (")[0]) for i in caught.value.issues] == [
        ("datum", "column service_date appears twice"),
        ("foo", "unknown column"),
        ("bar", "unknown column"),
        ("worker_login", "missing column"),
        ("user_number", "missing column"),
        ("activity_type", "missing column"),
    ]
    assert caught.value.as_dict()["errors"][0] == {
        "field": "datum",
        "reason": "column service_date appears twice ('datum')",
    }


def test_a_workers_file_uploaded_as_services_says_so() -> None:
    with pytest.raises(FileError, match=r"it looks like a workers file"):
        read_header(Path(__file__).parents[1].joinpath("samples/workers.csv"), S)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b"\r\n\r\n  \r\n", "the file is empty"),
        (BOM, "the file is empty"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "Excel 97-2003"),
        ("hours;uren\n".encode("utf-16"), "UTF-16"),
        (b"PK\x03\x04 not really a zip", "not a readable XLSX workbook"),
    ],
)
def test_unreadable_files(data: bytes, message: str) -> None:
    with pytest.raises(FileError, match=message):
        open_rows(data, S)


def test_a_zip_that_is_not_a_workbook() -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("content.xml", "<x/>")
    with pytest.raises(FileError, match="not a readable XLSX workbook"):
        open_rows(buffer.getvalue(), S)


def test_unreadable_csv_line_is_a_file_error_with_its_line() -> None:
    big = b"x" * 200_000  # past the csv module's field size limit
    data = b"worker_login;user_number;service_date;hours;activity_type\n"
    data += b"1;2;3;4;5\n" + b'"' + big + b'"\n'
    with open_rows(data, S) as stream, pytest.raises(FileError, match="line 3 cannot be read"):
        list(stream)


# -- XLSX -------------------------------------------------------------------------------------


def workbook_bytes(rows: list[list[object]], *, title_rows: int = 0) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for _ in range(title_rows):
        sheet.append([])
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_with_typed_cells() -> None:
    data = workbook_bytes(
        [
            ["Werknemer", "Gebruikersnummer", "Datum", "Uren", "Activiteit", "Vestiging"],
            [980100000001, 100000000001, datetime(2025, 11, 3), 4, 1, 2234567818],
            ["980100000002", "100000000002", "04/11/2025", 4.0, "1", None],
            [None, None, None, None, None, None],
            [980100000003, 100000000005, date(2025, 11, 5), 4.5, 3, None],
        ]
    )
    with open_rows(data, S) as stream:
        assert stream.info.format is FileFormat.XLSX
        rows = list(stream)
    assert [row.line for row in rows] == [2, 3, 5]
    first, second, third = rows
    assert first.get("worker_login") == 980100000001
    assert first.get("service_date") == datetime(2025, 11, 3)
    assert second.get("service_date") == "04/11/2025"
    assert second.get("hours") == 4.0
    assert third.get("hours") == 4.5
    assert first.original() == (
        "980100000001",
        "100000000001",
        "2025-11-03",
        "4",
        "1",
        "2234567818",
    )


def test_xlsx_header_below_blank_rows_keeps_real_row_numbers() -> None:
    data = workbook_bytes(
        [
            ["national_number", "first_name", "last_name", "login", "contract_start"],
            ["85031212461", "Sofie", "Janssens", "980100000001", date(2018, 3, 1)],
        ],
        title_rows=2,
    )
    with open_rows(data, W) as stream:
        assert stream.header.line == 3
        assert [row.line for row in stream] == [4]


def test_xlsx_wrong_header_is_a_file_error() -> None:
    data = workbook_bytes([["datum", "uren", "iets"], [1, 2, 3]])
    with pytest.raises(FileError) as caught:
        open_rows(data, S)
    assert ("iets", "unknown column") in [(i.column, i.reason) for i in caught.value.issues]


def test_xlsx_formulas_are_read_as_their_values_not_as_formulas() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["worker_login", "user_number", "service_date", "hours", "activity_type"])
    sheet.append(["980100000001", "100000000001", "2025-11-03", "=2+2", "1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    (row,) = rows_of(buffer.getvalue())
    # openpyxl writes no cached value, so the formula reads as empty, never as "=2+2" text
    assert row.get("hours") is None


def test_empty_xlsx_sheet() -> None:
    with pytest.raises(FileError, match="the first sheet is empty"):
        open_rows(workbook_bytes([]), S)


def test_xlsx_from_a_path(tmp_path: Path) -> None:
    path = tmp_path / "services.xlsx"
    path.write_bytes(
        workbook_bytes(
            [
                ["worker_login", "user_number", "service_date", "hours", "activity_type"],
                ["980100000001", "100000000001", "2025-11-03", 4, 1],
            ]
        )
    )
    assert [row.line for row in rows_of(path)] == [2]


# -- chunks -----------------------------------------------------------------------------------


def services_csv(count: int, *, blank_every: int = 0) -> bytes:
    lines = ["worker_login;user_number;service_date;hours;activity_type"]
    for number in range(count):
        if blank_every and number % blank_every == blank_every - 1:
            lines.append("")
        lines.append(f'980100000001;{100000000000 + number};2025-11-03;"4";1')
    return ("\r\n".join(lines) + "\r\n").encode()


@pytest.mark.parametrize("size", [1, 7, 100, 1000])
def test_chunks_cover_every_row_once_in_order(size: int) -> None:
    data = services_csv(250, blank_every=9)
    everything = rows_of(data)
    chunked = [row for chunk in iter_chunks(data, S, size=size) for row in chunk.rows]
    assert [(r.line, r.cells) for r in chunked] == [(r.line, r.cells) for r in everything]


def test_a_chunk_is_reread_the_same_from_its_line_alone_or_with_its_offset() -> None:
    data = services_csv(100, blank_every=10)
    first = read_chunk(data, S, start_line=2, size=30)
    # 30 rows; the blank lines 11, 22 and 33 cost none of them.
    assert (len(first.rows), first.next_line, first.done) == (30, 35, False)
    again = read_chunk(data, S, start_line=2, size=30)
    assert again == first
    by_line = read_chunk(data, S, start_line=first.next_line, size=30)
    by_offset = read_chunk(
        data, S, start_line=first.next_line, size=30, start_offset=first.next_offset
    )
    assert [(r.line, r.cells) for r in by_line.rows] == [(r.line, r.cells) for r in by_offset.rows]
    assert by_line.rows[0].line == 35
    assert len(by_line.rows) == 30


def test_last_chunk_says_done() -> None:
    data = services_csv(10)
    chunk = read_chunk(data, S, start_line=2, size=100)
    assert chunk.done and len(chunk.rows) == 10
    past = read_chunk(data, S, start_line=500, size=10)
    assert past.done and past.rows == []


def test_xlsx_chunks() -> None:
    header: list[object] = ["worker_login", "user_number", "service_date", "hours", "activity_type"]
    body: list[list[object]] = [
        ["980100000001", str(100000000000 + n), "2025-11-03", 4, 1] for n in range(23)
    ]
    data = workbook_bytes([header, *body])
    chunks = list(iter_chunks(data, S, size=5))
    assert [len(chunk.rows) for chunk in chunks] == [5, 5, 5, 5, 3]
    assert [row.line for chunk in chunks for row in chunk.rows] == list(range(2, 25))
    assert chunks[-1].done
    third = read_chunk(data, S, start_line=12, size=5)
    assert [row.line for row in third.rows] == [12, 13, 14, 15, 16]


def test_chunk_size_must_be_positive() -> None:
    with pytest.raises(ValueError, match="size"):
        read_chunk(services_csv(1), S, size=0)


def test_cell_text() -> None:
    assert cell_text(None) == ""
    assert cell_text(4.0) == "4"
    assert cell_text(4.5) == "4.5"
    assert cell_text(True) == "TRUE"
    assert cell_text(datetime(2025, 11, 3)) == "2025-11-03"
    assert cell_text(datetime(2025, 11, 3, 8, 30)) == "2025-11-03 08:30:00"
    assert cell_text(date(2025, 11, 3)) == "2025-11-03"
