"""The errors.csv report: what it holds, how Belgian Excel reads it, and formula injection."""

import csv
import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dc_common.spreadsheet import safe_cell
from dc_imports.columns import FileKind
from dc_imports.formats import FileError, open_rows
from dc_imports.problems import file_problem
from dc_imports.records import Outcome, RowError, RowResult
from dc_imports.report import (
    error_report,
    file_error_report,
    iter_error_report,
    write_error_report,
)
from dc_imports.settings import ImportsSettings
from dc_imports.validation import FileValidator

TODAY = date(2025, 11, 20)


def read_report(data: bytes) -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf")
    text = data[3:].decode("utf-8")
    assert text.endswith("\r\n")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def report_of(data: bytes, kind: FileKind = FileKind.SERVICES) -> list[list[str]]:
    validator = FileValidator(kind, today=TODAY)
    with open_rows(data, kind) as stream:
        results = [result for result in validator.check_rows(stream) if result.errors]
        return read_report(error_report(stream.header.names, results))


def test_report_lists_each_error_with_the_original_row() -> None:
    data = (
        "Werknemer;Gebruikersnummer;Datum;Uren;Activiteit\r\n"
        "980100000001;100000000001;03/11/2025;4;1\r\n"
        "980100000001;100000000001;03/11/2025;4,5;7\r\n"
        "980100000001;100000000001;03/11/2025;4;1\r\n"
        "980100000002;100000000002;04/11/2025;3;1\r\n"
    ).encode("cp1252")
    assert report_of(data) == [
        ["line", "field", "reason", "Werknemer", "Gebruikersnummer", "Datum", "Uren", "Activiteit"],
        [
            "3",
            "hours",
            "must be a whole number of hours",
            "980100000001",
            "100000000001",
            "03/11/2025",
            "4,5",
            "7",
        ],
        [
            "3",
            "activity_type",
            "must be 1, 2, 3 or 4",
            "980100000001",
            "100000000001",
            "03/11/2025",
            "4,5",
            "7",
        ],
        [
            "4",
            "row",
            "duplicate of line 2",
            "980100000001",
            "100000000001",
            "03/11/2025",
            "4",
            "1",
        ],
    ]


def test_report_lines_end_in_crlf() -> None:
    data = error_report(
        ["a"],
        [
            RowResult(
                line=2,
                outcome=Outcome.REJECTED,
                errors=(RowError(line=2, field="a", reason="is required"),),
                original=("",),
            )
        ],
    )
    assert data == b"\xef\xbb\xbfline;field;reason;a\r\n2;a;is required;\r\n"


def test_accented_values_from_a_cp1252_file_come_out_as_utf8_with_bom() -> None:
    data = (
        "rijksregisternummer;voornaam;achternaam;login;start contract;taal\r\n"
        "85031212461;Françoise;Dubois;980100000001;01/03/2018;français\r\n"
    ).encode("cp1252")
    rows = report_of(data, FileKind.WORKERS)
    assert rows[1][:3] == ["2", "language", "must be nl, fr, de or en"]
    assert rows[1][4] == "Françoise"
    assert rows[1][-1] == "français"


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+32 9 123 45 67", "'+32 9 123 45 67"),
        ("-4", "'-4"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("\uff1d1+1", "'\uff1d1+1"),  # a full-width equals sign
        ("Dubois", "Dubois"),
        ("4=4", "4=4"),
        ("", ""),
    ],
)
def test_safe_cell(value: str, safe: str) -> None:
    assert safe_cell(value) == safe


def test_formula_injection_in_the_file_is_neutralised_in_the_report() -> None:
    data = (
        b"worker_login;user_number;service_date;hours;activity_type\r\n"
        b'=cmd|\' /C calc\'!A0;@SUM(1+1);+2025-11-03;-4;"=HYPERLINK(""http://evil"",""x"")"\r\n'
    )
    rows = report_of(data)
    cells = rows[1][3:]
    assert cells == [
        "'=cmd|' /C calc'!A0",
        "'@SUM(1+1)",
        "'+2025-11-03",
        "'-4",
        '\'=HYPERLINK("http://evil","x")',
    ]
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell


def test_a_formula_header_name_is_neutralised_too() -> None:
    report = read_report(error_report(["=1+1", "datum"], []))
    assert report == [["line", "field", "reason", "'=1+1", "datum"]]


def test_header_names_that_clash_with_the_report_columns() -> None:
    report = read_report(error_report(["Line", "", "reason"], []))
    assert report == [["line", "field", "reason", "Line (file)", "column 2", "reason (file)"]]


def test_streamed_report_equals_the_whole_report_and_writes_to_a_stream() -> None:
    rejected = [
        RowResult(
            line=n,
            outcome=Outcome.REJECTED,
            errors=(RowError(line=n, field="hours", reason="must be between 1 and 9"),),
            original=("980100000001", str(n)),
        )
        for n in range(2, 1300)
    ]
    pieces = list(iter_error_report(["a", "b"], rejected))
    assert len(pieces) > 2  # streamed in batches
    whole = error_report(["a", "b"], rejected)
    assert b"".join(pieces) == whole
    out = io.BytesIO()
    write_error_report(out, ["a", "b"], rejected)
    assert out.getvalue() == whole
    assert len(read_report(whole)) == 1 + 1298


def test_file_error_report() -> None:
    try:
        open_rows(b"datum;uren;foo\r\n", FileKind.SERVICES)
    except FileError as error:
        rows = read_report(file_error_report(error))
    assert rows[0] == ["line", "field", "reason"]
    assert rows[1][:2] == ["1", "file"]
    assert rows[1][2].startswith("the header (line 1) is not that of a services file")
    assert rows[2] == ["1", "foo", "unknown column"]
    assert rows[3][:2] == ["1", "worker_login"]
    empty = read_report(file_error_report(FileError("the file is empty: it has no header line")))
    assert empty[1] == ["1", "file", "the file is empty: it has no header line"]


@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=["Cs"])), max_size=6))
def test_any_value_survives_the_report_and_none_is_a_formula(values: list[str]) -> None:
    result = RowResult(
        line=2,
        outcome=Outcome.REJECTED,
        errors=(RowError(line=2, field="hours", reason="is required"),),
        original=tuple(values),
    )
    names = [f"c{n}" for n in range(len(values))]
    (row,) = read_report(error_report(names, [result]))[1:]
    for written, value in zip(row[3:], values, strict=True):
        assert written == safe_cell(value)
        assert written.removeprefix("'") == value or written == value
        assert not written.startswith(("=", "+", "-", "@", "\t", "\r"))


def test_a_refused_file_as_a_problem_document() -> None:
    try:
        open_rows(b"datum;uren\r\n", FileKind.SERVICES)
    except FileError as error:
        problem = file_problem(error)
    body = problem.body()
    assert body["status"] == 422
    assert body["title"] == "File cannot be imported"
    assert {"field": "hours", "reason": "missing column"} not in body["errors"]
    assert [e["field"] for e in body["errors"]] == ["worker_login", "user_number", "activity_type"]
    assert "expected the columns worker_login" in body["detail"]
    empty = file_problem(FileError("the file is empty: it has no header line")).body()
    assert empty["errors"] == [
        {"field": "file", "reason": "the file is empty: it has no header line"}
    ]


def test_settings_defaults() -> None:
    settings = ImportsSettings()
    assert settings.port == 8004
    assert settings.chunk_size == 1000
    assert settings.database_url.endswith("var/imports.db")
