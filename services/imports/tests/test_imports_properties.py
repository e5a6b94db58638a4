"""Property tests: any valid rows, written in any flavour, read back as the same records."""

import io
from datetime import date

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from dc_common.belgian_numbers import with_enterprise_check, with_national_check
from dc_imports.columns import COLUMNS, FileKind
from dc_imports.formats import open_rows, read_chunk
from dc_imports.generate import CsvStyle, DateStyle, write_csv, write_xlsx
from dc_imports.records import Outcome, ServiceRecord, WorkerRecord
from dc_imports.validation import FileValidator, service_natural_key

TODAY = date(2025, 11, 20)
S = FileKind.SERVICES
W = FileKind.WORKERS

KEY = ("worker_login", "user_number", "service_date", "activity_type", "hours")


def fixed_digits(size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet="0123456789", min_size=size, max_size=size)


branches = st.one_of(
    st.none(),
    st.builds(
        lambda first, rest: with_enterprise_check(first + rest),
        st.sampled_from("2345678"),
        fixed_digits(7),
    ),
)

services = st.builds(
    lambda login, user, day, hours, activity, branch: {
        "worker_login": "980" + login,
        "user_number": user,
        "service_date": day,
        "hours": hours,
        "activity_type": activity,
        "branch_id": branch,
    },
    fixed_digits(9),
    fixed_digits(12),
    st.dates(min_value=date(2016, 1, 1), max_value=TODAY),
    st.integers(1, 9),
    st.integers(1, 4),
    branches,
)

# Letters of Windows-1252 (so every flavour can encode them) and the characters that make CSV
# hard: the delimiters, quotes, apostrophes.
NAME_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZçéèëêïîôöüûàâäÇÉÈÖÜßñø;,'\"-"
names = st.lists(
    st.text(alphabet=NAME_CHARS, min_size=1, max_size=12).filter(
        lambda word: any(char.isalpha() for char in word)
    ),
    min_size=1,
    max_size=3,
).map(" ".join)


def national(born: date, serial: int) -> str:
    return with_national_check(f"{born:%y%m%d}{serial:03d}", born_2000_or_later=born.year >= 2000)


workers = st.builds(
    lambda born, serial, first, last, login, branch, start, length, language: {
        "national_number": national(born, serial),
        "first_name": first,
        "last_name": last,
        "login": "980" + login,
        "branch_id": branch,
        "contract_start": start,
        "contract_end": None if length is None else date.fromordinal(start.toordinal() + length),
        "language": language,
    },
    st.dates(min_value=date(1950, 1, 1), max_value=date(2008, 12, 31)),
    st.integers(1, 997),
    names,
    names,
    fixed_digits(9),
    branches,
    st.dates(min_value=date(2005, 1, 1), max_value=date(2030, 12, 31)),
    st.one_of(st.none(), st.integers(0, 4000)),
    st.sampled_from(["nl", "fr", "de", "en"]),
)


def as_text(values: dict[str, object]) -> dict[str, str]:
    texts = {}
    for key, value in values.items():
        if value is None:
            texts[key] = ""
        elif isinstance(value, date):
            texts[key] = value.isoformat()
        else:
            texts[key] = str(value)
    return texts


@st.composite
def csv_styles(draw: st.DrawFn, kind: FileKind) -> CsvStyle:
    header = {}
    for column in COLUMNS[kind]:
        name = draw(st.sampled_from(column.accepted))
        header[column.name] = draw(st.sampled_from([name, name.upper(), name.title()]))
    return CsvStyle(
        delimiter=draw(st.sampled_from([";", ",", "\t"])),
        encoding=draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252"])),
        newline=draw(st.sampled_from(["\r\n", "\n"])),
        dates=draw(st.sampled_from(list(DateStyle))),
        decimal_comma=draw(st.booleans()),
        quote_all=draw(st.booleans()),
        header=header,
    )


def write(kind: FileKind, rows: list[dict[str, str]], style: CsvStyle | None, typed: bool) -> bytes:
    out = io.BytesIO()
    if style is None:
        write_xlsx(out, kind, rows, typed=typed)
    else:
        write_csv(out, kind, rows, style)
    return out.getvalue()


def check(kind: FileKind, data: bytes) -> list[ServiceRecord | WorkerRecord]:
    validator = FileValidator(kind, today=TODAY)
    with open_rows(data, kind) as stream:
        results = list(validator.check_rows(stream))
    assert all(result.outcome is Outcome.ACCEPTED for result in results), [
        result.errors for result in results if result.errors
    ]
    return [result.record for result in results if result.record is not None]


round_trip = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@round_trip
@given(
    st.lists(services, max_size=25),
    st.one_of(st.none(), csv_styles(S)),
    st.booleans(),
)
def test_services_round_trip(
    rows: list[dict[str, object]], style: CsvStyle | None, typed: bool
) -> None:
    distinct = {tuple(row[name] for name in KEY) for row in rows}
    assume(len(distinct) == len(rows))  # the same service twice: the duplicate tests cover it
    records = check(S, write(S, [as_text(row) for row in rows], style, typed))
    expected = [ServiceRecord(line=line, **row) for line, row in enumerate(rows, start=2)]
    assert records == expected
    keys = {service_natural_key(r) for r in records if isinstance(r, ServiceRecord)}
    assert len(keys) == len(records)


@round_trip
@given(
    st.lists(workers, max_size=25),
    st.one_of(st.none(), csv_styles(W)),
    st.booleans(),
)
def test_workers_round_trip(
    rows: list[dict[str, object]], style: CsvStyle | None, typed: bool
) -> None:
    numbers = [row["national_number"] for row in rows]
    logins = [row["login"] for row in rows]
    assume(len(set(numbers)) == len(set(logins)) == len(rows))
    records = check(W, write(W, [as_text(row) for row in rows], style, typed))
    expected = [WorkerRecord(line=line, **row) for line, row in enumerate(rows, start=2)]
    assert records == expected


@settings(max_examples=40, deadline=None)
@given(
    st.lists(services, min_size=1, max_size=60),
    st.integers(1, 20),
    csv_styles(S),
)
def test_chunked_reading_equals_reading_all(
    rows: list[dict[str, object]], size: int, style: CsvStyle
) -> None:
    data = write(S, [as_text(row) for row in rows], style, typed=False)
    with open_rows(data, S) as stream:
        whole = [(row.line, row.cells) for row in stream]
    chunked, line, offset = [], 2, None
    while True:
        chunk = read_chunk(data, S, start_line=line, size=size, start_offset=offset)
        chunked += [(row.line, row.cells) for row in chunk.rows]
        if chunk.done:
            break
        line, offset = chunk.next_line, chunk.next_offset
    assert chunked == whole
