"""Row validation: every bad value gives its field and reason; duplicates; plausibility flags."""

import csv
import io
from datetime import date, datetime

import pytest
from openpyxl import Workbook

from dc_imports.columns import FileKind
from dc_imports.formats import RawRow, open_rows
from dc_imports.plausibility import Contract, FlagCode, contracts_of, plausibility_flags
from dc_imports.records import Outcome, RowError, RowResult, ServiceRecord, WorkerRecord
from dc_imports.validation import (
    FileValidator,
    brussels_today,
    service_natural_key,
    validate_service_row,
    validate_worker_row,
)

TODAY = date(2025, 11, 20)
S = FileKind.SERVICES
W = FileKind.WORKERS
SERVICE_HEADER = "worker_login;user_number;service_date;hours;activity_type;branch_id"
WORKER_HEADER = (
    "national_number;first_name;last_name;login;branch_id;contract_start;contract_end;language"
)
GOOD_SERVICE = {
    "worker_login": "980100000001",
    "user_number": "100000000001",
    "service_date": "03/11/2025",
    "hours": "4",
    "activity_type": "1",
    "branch_id": "2234567818",
}
GOOD_WORKER = {
    "national_number": "85031212461",
    "first_name": "Sofie",
    "last_name": "Janssens",
    "login": "980100000001",
    "branch_id": "2234567818",
    "contract_start": "01/03/2018",
    "contract_end": "",
    "language": "nl",
}


def csv_rows(kind: FileKind, rows: list[dict[str, str]]) -> list[RawRow]:
    names = (SERVICE_HEADER if kind is S else WORKER_HEADER).split(";")
    text = io.StringIO()
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(names)
    writer.writerows([row[name] for name in names] for row in rows)
    with open_rows(text.getvalue().encode(), kind) as stream:
        return list(stream)


def service(**changes: str) -> ServiceRecord | list[RowError]:
    (row,) = csv_rows(S, [GOOD_SERVICE | changes])
    return validate_service_row(row, today=TODAY)


def worker(**changes: str) -> WorkerRecord | list[RowError]:
    (row,) = csv_rows(W, [GOOD_WORKER | changes])
    return validate_worker_row(row)


def errors(result: object) -> list[tuple[str, str]]:
    assert isinstance(result, list), result
    return [(error.field, error.reason) for error in result]


# -- services ---------------------------------------------------------------------------------


def test_a_good_service_row() -> None:
    assert service() == ServiceRecord(
        line=2,
        worker_login="980100000001",
        user_number="100000000001",
        service_date=date(2025, 11, 3),
        hours=4,
        activity_type=1,
        branch_id="2234567818",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2025-11-03", date(2025, 11, 3)),
        ("03/11/2025", date(2025, 11, 3)),
        ("3/11/2025", date(2025, 11, 3)),
        ("03-11-2025", date(2025, 11, 3)),
        ("03.11.2025", date(2025, 11, 3)),
        (" 2025-11-3 ", date(2025, 11, 3)),
        ("2025-11-03 00:00:00", date(2025, 11, 3)),
        ("2016-01-01", date(2016, 1, 1)),
        ("20/11/2025", TODAY),
    ],
)
def test_service_date_formats(text: str, expected: date) -> None:
    result = service(service_date=text)
    assert isinstance(result, ServiceRecord), result
    assert result.service_date == expected


@pytest.mark.parametrize(("text", "expected"), [("4", 4), ("4,0", 4), ("4.0", 4), (" 9 ", 9)])
def test_hours_accept_decimal_comma_when_whole(text: str, expected: int) -> None:
    result = service(hours=text)
    assert isinstance(result, ServiceRecord), result
    assert result.hours == expected


def test_numbers_with_spaces_or_dots_are_read_as_their_digits() -> None:
    result = service(user_number="1000 0000 0001", branch_id="2.234.567.818")
    assert isinstance(result, ServiceRecord), result
    assert (result.user_number, result.branch_id) == ("100000000001", "2234567818")


def test_branch_is_optional() -> None:
    result = service(branch_id="")
    assert isinstance(result, ServiceRecord)
    assert result.branch_id is None


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("worker_login", "", "is required"),
        ("worker_login", "981100000001", "must start with 980"),
        ("worker_login", "98010000001", "must be exactly 12 digits"),
        ("worker_login", "98010000000x", "must be exactly 12 digits"),
        ("user_number", "", "is required"),
        ("user_number", "10000000001", "must be exactly 12 digits"),
        ("user_number", "1000000\n00001", "must be exactly 12 digits"),
        ("service_date", "", "is required"),
        ("service_date", "2015-12-31", "must not be before 2016-01-01"),
        ("service_date", "21/11/2025", "must not be in the future"),
        ("service_date", "31/02/2025", "is not a day of the calendar"),
        ("service_date", "2025-13-01", "is not a day of the calendar"),
        ("service_date", "3/11/25", "must have a year of 4 digits (dd/mm/yyyy)"),
        ("service_date", "11/03/2025 14:00", "must be a date (yyyy-mm-dd or dd/mm/yyyy)"),
        ("service_date", "gisteren", "must be a date (yyyy-mm-dd or dd/mm/yyyy)"),
        ("service_date", "03/11-2025", "must be a date (yyyy-mm-dd or dd/mm/yyyy)"),
        ("hours", "", "is required"),
        ("hours", "0", "must be between 1 and 9"),
        ("hours", "10", "must be between 1 and 9"),
        ("hours", "-4", "must be between 1 and 9"),
        ("hours", "4,5", "must be a whole number of hours"),
        ("hours", "0.5", "must be a whole number of hours"),
        ("hours", "vier", "must be a number"),
        ("activity_type", "", "is required"),
        ("activity_type", "0", "must be 1, 2, 3 or 4"),
        ("activity_type", "5", "must be 1, 2, 3 or 4"),
        ("activity_type", "1,5", "must be a whole number"),
        ("activity_type", "strijken", "must be a number"),
        ("branch_id", "223456781", "must be exactly 10 digits"),
        ("branch_id", "2234567819", "check digits do not match (mod 97)"),
        ("branch_id", "0712345630", "must start with a digit from 2 to 8"),
    ],
)
def test_every_bad_service_value(field: str, value: str, reason: str) -> None:
    assert errors(service(**{field: value})) == [(field, reason)]


def test_every_error_of_a_row_is_reported_not_only_the_first() -> None:
    result = service(
        worker_login="12",
        user_number="x",
        service_date="2099-01-01",
        hours="4,5",
        activity_type="7",
        branch_id="1",
    )
    assert errors(result) == [
        ("worker_login", "must be exactly 12 digits"),
        ("user_number", "must be exactly 12 digits"),
        ("service_date", "must not be in the future"),
        ("hours", "must be a whole number of hours"),
        ("activity_type", "must be 1, 2, 3 or 4"),
        ("branch_id", "must be exactly 10 digits"),
    ]
    assert all(error.line == 2 for error in result)  # type: ignore[union-attr]


def test_values_in_columns_without_header_are_an_error_of_the_row() -> None:
    data = (SERVICE_HEADER + "\r\n980100000001;100000000001;2025-11-03;4;1;;note\r\n").encode()
    with open_rows(data, S) as stream:
        (row,) = list(stream)
    assert errors(validate_service_row(row, today=TODAY)) == [
        ("row", "value in column 7, which has no header")
    ]


def test_xlsx_cells_are_validated_like_text() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(SERVICE_HEADER.split(";"))
    sheet.append([980100000001, 100000000001, datetime(2025, 11, 3), 4, 1, 2234567818])
    sheet.append([980100000001, 100000000001, 45964, 4.0, 1.0, None])  # a date serial number
    sheet.append([980100000001, 100000000001, date(2015, 6, 1), 4.5, True, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with open_rows(buffer.getvalue(), S) as stream:
        first, serial, bad = (validate_service_row(row, today=TODAY) for row in stream)
    assert isinstance(first, ServiceRecord) and first.service_date == date(2025, 11, 3)
    assert isinstance(serial, ServiceRecord) and serial.service_date == date(2025, 11, 3)
    assert serial.hours == 4 and serial.activity_type == 1
    assert errors(bad) == [
        ("service_date", "must not be before 2016-01-01"),
        ("hours", "must be a whole number of hours"),
        ("activity_type", "must be a whole number"),
    ]


def test_natural_key() -> None:
    record = service()
    assert isinstance(record, ServiceRecord)
    assert service_natural_key(record) == "980100000001:100000000001:2025-11-03:1:4"
    moved = record.model_copy(update={"line": 40, "branch_id": None})
    assert service_natural_key(moved) == service_natural_key(record)
    other = record.model_copy(update={"hours": 3})
    assert service_natural_key(other) != service_natural_key(record)


def test_brussels_today_turns_at_local_midnight() -> None:
    assert brussels_today(datetime.fromisoformat("2025-12-31T22:59:59+00:00")) == date(2025, 12, 31)
    assert brussels_today(datetime.fromisoformat("2025-12-31T23:00:00+00:00")) == date(2026, 1, 1)
    assert brussels_today(datetime.fromisoformat("2025-06-30T22:00:00+00:00")) == date(2025, 7, 1)


# -- workers ----------------------------------------------------------------------------------


def test_a_good_worker_row() -> None:
    assert worker() == WorkerRecord(
        line=2,
        national_number="85031212461",
        first_name="Sofie",
        last_name="Janssens",
        login="980100000001",
        branch_id="2234567818",
        contract_start=date(2018, 3, 1),
        contract_end=None,
        language="nl",
    )


def test_worker_defaults_and_lenient_forms() -> None:
    result = worker(
        national_number="01.05.17-146.11",
        first_name="  Anne   Marie ",
        branch_id="",
        contract_end="2024-06-30",
        language=" FR ",
    )
    assert isinstance(result, WorkerRecord), result
    assert result.national_number == "01051714611"
    assert result.first_name == "Anne Marie"
    assert result.branch_id is None
    assert result.contract_end == date(2024, 6, 30)
    assert result.language == "fr"
    assert isinstance(empty := worker(language=""), WorkerRecord) and empty.language == "nl"


@pytest.mark.parametrize(
    ("value", "number"),
    [
        ("01051714611", "01051714611"),
        ("1051714611", "01051714611"),  # a spreadsheet dropped the zero of 2001
        ("10100105", "00010100105"),  # born 1 January 2000: three zeros dropped
    ],
)
def test_born_2000_or_later_national_number_and_its_lost_leading_zeros(
    value: str, number: str
) -> None:
    result = worker(national_number=value)
    assert isinstance(result, WorkerRecord), (value, result)
    assert result.national_number == number


@pytest.mark.parametrize(
    "value",
    [
        "8503121246",
        "1051714612",
        "5031212461",
        "810903795",  # 00810903795 has the check digits of the 2000s, but no month 81
    ],
)
def test_short_national_numbers_are_not_guessed(value: str) -> None:
    assert errors(worker(national_number=value)) == [
        ("national_number", "must be exactly 11 digits")
    ]


def test_short_numbers_in_number_cells_are_not_padded() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(SERVICE_HEADER.split(";"))
    sheet.append([980100000001, 10000000001, date(2025, 11, 3), 4, 1, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with open_rows(buffer.getvalue(), S) as stream:
        (row,) = list(stream)
    assert errors(validate_service_row(row, today=TODAY)) == [
        ("user_number", "must be exactly 12 digits")
    ]


def test_xlsx_national_number_as_number_keeps_its_leading_zero() -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(WORKER_HEADER.split(";"))
    sheet.append([1051714611, "Ana", "Pereira", 980200000002, 2345678942, date(2023, 10, 2)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    with open_rows(buffer.getvalue(), W) as stream:
        (row,) = list(stream)
    result = validate_worker_row(row)
    assert isinstance(result, WorkerRecord), result
    assert result.national_number == "01051714611"
    assert result.login == "980200000002"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("national_number", "", "is required"),
        ("national_number", "85031212462", "check digits do not match (mod 97)"),
        ("national_number", "01051714612", "check digits do not match (mod 97)"),
        ("national_number", "8503121246", "must be exactly 11 digits"),
        ("national_number", "850312124611", "must be exactly 11 digits"),
        ("first_name", "", "is required"),
        ("first_name", "   ", "is required"),
        ("first_name", "x" * 101, "must be at most 100 characters"),
        ("first_name", "Jan\nPieter", "must be on one line, without control characters"),
        ("last_name", "12345", "must contain a letter"),
        (
            "last_name",
            "Lef\ufffdvre",
            "holds characters that cannot be read: save the file as CSV UTF-8",
        ),
        ("login", "", "is required"),
        ("login", "970100000001", "must start with 980"),
        ("branch_id", "1234567890", "must start with a digit from 2 to 8"),
        ("contract_start", "", "is required"),
        ("contract_start", "31/02/2020", "is not a day of the calendar"),
        ("contract_end", "morgen", "must be a date (yyyy-mm-dd or dd/mm/yyyy)"),
        ("contract_end", "28/02/2018", "must not be before contract_start (2018-03-01)"),
        ("language", "nederlands", "must be nl, fr, de or en"),
        ("language", "es", "must be nl, fr, de or en"),
    ],
)
def test_every_bad_worker_value(field: str, value: str, reason: str) -> None:
    assert errors(worker(**{field: value})) == [(field, reason)]


def test_contract_may_end_on_its_first_day() -> None:
    assert isinstance(worker(contract_end="01/03/2018"), WorkerRecord)


def test_every_error_of_a_worker_row() -> None:
    result = worker(national_number="1", first_name="", login="1", contract_start="x", language="?")
    assert [field for field, _ in errors(result)] == [
        "national_number",
        "first_name",
        "login",
        "contract_start",
        "language",
    ]


# -- duplicates in the file -------------------------------------------------------------------


def check_all(
    kind: FileKind, rows: list[dict[str, str]], contracts: dict[str, Contract] | None = None
) -> tuple[FileValidator, list[RowResult]]:
    validator = FileValidator(kind, today=TODAY, contracts=contracts)
    return validator, list(validator.check_rows(csv_rows(kind, rows)))


def test_duplicate_services_are_reported_against_the_first_line() -> None:
    same_again = GOOD_SERVICE | {"service_date": "2025-11-03", "branch_id": ""}
    other_hours = GOOD_SERVICE | {"hours": "3"}
    validator, results = check_all(S, [GOOD_SERVICE, other_hours, same_again, GOOD_SERVICE])
    assert [r.outcome for r in results] == [
        Outcome.ACCEPTED,
        Outcome.ACCEPTED,
        Outcome.DUPLICATE,
        Outcome.DUPLICATE,
    ]
    assert [r.duplicate_of for r in results] == [None, None, 2, 2]
    assert [(e.line, e.field, e.reason) for e in results[3].errors] == [
        (5, "row", "duplicate of line 2")
    ]
    assert results[3].original == (
        "980100000001",
        "100000000001",
        "03/11/2025",
        "4",
        "1",
        "2234567818",
    )
    assert validator.counts.model_dump() == {
        "read": 4,
        "accepted": 2,
        "rejected": 0,
        "duplicates": 2,
    }


def test_a_rejected_row_is_no_first_occurrence() -> None:
    bad = GOOD_SERVICE | {"branch_id": "2234567819"}
    _, results = check_all(S, [bad, GOOD_SERVICE])
    assert [r.outcome for r in results] == [Outcome.REJECTED, Outcome.ACCEPTED]


def test_duplicate_workers_by_national_number_or_login() -> None:
    same_person_new_login = GOOD_WORKER | {"login": "980100000009"}
    same_login_other_person = GOOD_WORKER | {"national_number": "79110403727"}
    other = GOOD_WORKER | {"national_number": "90072126277", "login": "980100000003"}
    validator, results = check_all(
        W, [GOOD_WORKER, same_person_new_login, same_login_other_person, GOOD_WORKER, other]
    )
    assert [(r.outcome, r.duplicate_of) for r in results] == [
        (Outcome.ACCEPTED, None),
        (Outcome.DUPLICATE, 2),
        (Outcome.DUPLICATE, 2),
        (Outcome.DUPLICATE, 2),
        (Outcome.ACCEPTED, None),
    ]
    assert [(e.field, e.reason) for r in results[1:4] for e in r.errors] == [
        ("national_number", "duplicate of line 2 (same national_number)"),
        ("login", "duplicate of line 2 (same login)"),
        ("row", "duplicate of line 2"),
    ]
    assert validator.counts.duplicates == 3


def test_a_validator_refuses_rows_of_the_other_kind() -> None:
    with pytest.raises(ValueError, match="workers row given to a services check"):
        FileValidator(S, today=TODAY).check(csv_rows(W, [GOOD_WORKER])[0])


# -- plausibility -----------------------------------------------------------------------------


def record(
    line: int, login: str, user: str, day: date, hours: int, activity: int = 1
) -> ServiceRecord:
    return ServiceRecord(
        line=line,
        worker_login=login,
        user_number=user,
        service_date=day,
        hours=hours,
        activity_type=activity,
    )


def test_worker_over_nine_hours_flags_every_row_of_that_day() -> None:
    day = date(2025, 11, 3)
    flags = plausibility_flags(
        [
            record(2, "980100000001", "100000000001", day, 5),
            record(3, "980100000001", "100000000002", day, 4),  # 9: fine
            record(4, "980100000002", "100000000003", day, 6),
            record(5, "980100000002", "100000000004", day, 4),  # 10: too much
            record(6, "980100000002", "100000000005", date(2025, 11, 4), 8),
        ]
    )
    assert [(f.line, f.code, f.lines) for f in flags] == [
        (4, FlagCode.WORKER_OVER_MAX_HOURS, (4, 5)),
        (5, FlagCode.WORKER_OVER_MAX_HOURS, (4, 5)),
    ]
    assert flags[0].message == (
        "worker 980100000002 has 10 hours on 2025-11-03 (more than 9; lines 4, 5)"
    )


def test_same_user_served_twice_on_one_date() -> None:
    day = date(2025, 11, 3)
    flags = plausibility_flags(
        [
            record(2, "980100000001", "100000000001", day, 3),
            record(3, "980100000002", "100000000001", day, 2, activity=2),
            record(4, "980100000002", "100000000001", date(2025, 11, 4), 2),
        ]
    )
    assert [(f.line, f.code, f.lines) for f in flags] == [
        (2, FlagCode.USER_SERVED_TWICE, (2, 3)),
        (3, FlagCode.USER_SERVED_TWICE, (2, 3)),
    ]
    assert flags[0].message == "user 100000000001 is served 2 times on 2025-11-03 (lines 2, 3)"


def test_service_outside_the_workers_contract() -> None:
    contracts = {
        "980100000001": (date(2018, 3, 1), None),
        "980100000004": (date(2017, 2, 1), date(2024, 6, 30)),
    }
    flags = plausibility_flags(
        [
            record(2, "980100000001", "100000000001", date(2018, 2, 28), 3),
            record(3, "980100000001", "100000000002", date(2018, 3, 1), 3),
            record(4, "980100000004", "100000000003", date(2024, 6, 30), 3),
            record(5, "980100000004", "100000000004", date(2024, 7, 1), 3),
            record(6, "980100000009", "100000000005", date(2016, 1, 1), 3),  # contract unknown
        ],
        contracts,
    )
    assert [(f.line, f.code, f.message) for f in flags] == [
        (
            2,
            FlagCode.OUTSIDE_CONTRACT,
            "worker 980100000001: 2018-02-28 is before the contract starts (2018-03-01)",
        ),
        (
            5,
            FlagCode.OUTSIDE_CONTRACT,
            "worker 980100000004: 2024-07-01 is after the contract ended (2024-06-30)",
        ),
    ]


def test_file_validator_flags_only_accepted_rows_and_takes_contracts() -> None:
    _, workers = check_all(W, [GOOD_WORKER])
    contracts = contracts_of(r.record for r in workers if isinstance(r.record, WorkerRecord))
    assert contracts == {"980100000001": (date(2018, 3, 1), None)}
    rows = [
        GOOD_SERVICE | {"hours": "6"},
        GOOD_SERVICE | {"hours": "6"},  # a duplicate: not counted twice
        GOOD_SERVICE | {"hours": "5", "activity_type": "3"},  # 11 hours, same user twice
        GOOD_SERVICE | {"hours": "12"},  # rejected: not counted
        GOOD_SERVICE | {"service_date": "01/01/2017"},
    ]
    validator, _ = check_all(S, rows, contracts=contracts)
    assert [(f.line, f.code) for f in validator.flags()] == [
        (2, FlagCode.USER_SERVED_TWICE),
        (2, FlagCode.WORKER_OVER_MAX_HOURS),
        (4, FlagCode.USER_SERVED_TWICE),
        (4, FlagCode.WORKER_OVER_MAX_HOURS),
        (6, FlagCode.OUTSIDE_CONTRACT),
    ]
    assert FileValidator(S, today=TODAY, plausibility=False).flags() == []
