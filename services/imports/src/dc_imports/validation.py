"""Row validation: every row becomes a typed record, or the list of everything wrong with it.

The checks are those of the API (services-mgmt's ``ServiceIn``, identity's number checks), read
leniently where spreadsheets differ from JSON (decimal comma, dd/mm/yyyy, date and number cells,
dropped leading zeros) but never guessing: a row is accepted only when every field is valid.

Duplicates inside a file are found by :class:`Duplicates` (services: same worker, user, date,
activity and hours; workers: same national number or same login) and reported as duplicates of
the first line, not stored twice. :func:`service_natural_key` gives the key a later step uses to
find the same service among those already known.

:class:`FileValidator` runs all of it over a stream of rows, keeps the counts, and collects the
plausibility flags of :mod:`dc_imports.plausibility`. It holds its state in memory, so one
validator follows one file from its first chunk to its last.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import TypeVar

from dc_common.belgian_numbers import (
    establishment_unit_number_error,
    national_number_birth_date,
    national_number_century,
    national_number_error,
    user_number_error,
    worker_login_error,
)
from dc_imports.columns import FileKind
from dc_imports.formats import Cell, RawRow
from dc_imports.plausibility import Contract, Flag, Plausibility
from dc_imports.records import (
    DEFAULT_LANGUAGE,
    ImportCounts,
    Outcome,
    Record,
    RowError,
    RowResult,
    ServiceRecord,
    WorkerRecord,
)
from dc_imports.values import (
    Invalid,
    a_date,
    number_text,
    optional,
    required_text,
    text,
    whole_number,
)
from dc_workflows.deadline import BRUSSELS

FIRST_SERVICE_DATE = date(2016, 1, 1)
"""The platform's history starts here (as in services-mgmt's API)."""
LANGUAGES = ("nl", "fr", "de", "en")
NAME_MAX_LENGTH = 100
ROW = "row"
"""The ``field`` of an error about the row as a whole (a duplicate, a stray value)."""

T = TypeVar("T")


def brussels_today(now: datetime | None = None) -> date:
    """Today's date in Belgium (``now`` defaults to the clock; give it for determinism)."""
    return (now or datetime.now(BRUSSELS)).astimezone(BRUSSELS).date()


# -- fields -----------------------------------------------------------------------------------


def _number(cell: Cell, check: Callable[[str], str | None]) -> str:
    value = number_text(cell, separators=True)
    if not value:
        raise Invalid("is required")
    if reason := check(value):
        raise Invalid(reason)
    return value


def worker_login(cell: Cell) -> str:
    return _number(cell, worker_login_error)


def user_number(cell: Cell) -> str:
    return _number(cell, user_number_error)


def branch_id(cell: Cell) -> str | None:
    if not optional(cell):
        return None
    return _number(cell, establishment_unit_number_error)


def national_number(cell: Cell) -> str:
    value = number_text(cell, separators=True)
    if not value:
        raise Invalid("is required")
    if 8 <= len(value) <= 10 and value.isdigit():
        # Born 2000-2009: the number starts with zeros (000 in early 2000) that a spreadsheet
        # drops. Put back only when the result is a birth date in the 2000s whose check digits
        # (those of the 2000s) match: a truncated number almost never passes both.
        padded = value.zfill(11)
        if national_number_century(padded) == 2000 and national_number_birth_date(padded):
            return padded
    if reason := national_number_error(value):
        raise Invalid(reason)
    return value


def service_date(cell: Cell, today: date) -> date:
    value = a_date(cell)
    if value < FIRST_SERVICE_DATE:
        raise Invalid(f"must not be before {FIRST_SERVICE_DATE.isoformat()}")
    if value > today:
        raise Invalid("must not be in the future")
    return value


def hours(cell: Cell) -> int:
    value = whole_number(cell, unit="hours")
    if not 1 <= value <= 9:
        raise Invalid("must be between 1 and 9")
    return value


def activity_type(cell: Cell) -> int:
    value = whole_number(cell)
    if not 1 <= value <= 4:
        raise Invalid("must be 1, 2, 3 or 4")
    return value


def language(cell: Cell) -> str:
    if not optional(cell):
        return DEFAULT_LANGUAGE
    value = text(cell).lower()
    if value not in LANGUAGES:
        raise Invalid("must be nl, fr, de or en")
    return value


def name(cell: Cell) -> str:
    return required_text(cell, max_length=NAME_MAX_LENGTH)


class _Errors:
    """Collects the errors of one row while its fields are read."""

    def __init__(self, row: RawRow) -> None:
        self.row = row
        self.errors: list[RowError] = []

    def read(self, column: str, parse: Callable[[Cell], T]) -> T | None:
        try:
            return parse(self.row.get(column))
        except Invalid as invalid:
            self.add(column, invalid.reason)
            return None

    def add(self, column: str, reason: str) -> None:
        self.errors.append(RowError(line=self.row.line, field=column, reason=reason))

    def stray_values(self) -> None:
        for number in self.row.stray_columns():
            self.add(ROW, f"value in column {number}, which has no header")


# -- rows -------------------------------------------------------------------------------------


def validate_service_row(row: RawRow, *, today: date) -> ServiceRecord | list[RowError]:
    """A services row as a record, or every error in it (``today`` in Europe/Brussels)."""
    check = _Errors(row)
    login = check.read("worker_login", worker_login)
    user = check.read("user_number", user_number)
    day = check.read("service_date", lambda cell: service_date(cell, today))
    hour_count = check.read("hours", hours)
    activity = check.read("activity_type", activity_type)
    branch = check.read("branch_id", branch_id)
    check.stray_values()
    if check.errors:
        return check.errors
    assert login and user and day and hour_count and activity
    return ServiceRecord(
        line=row.line,
        worker_login=login,
        user_number=user,
        service_date=day,
        hours=hour_count,
        activity_type=activity,
        branch_id=branch,
    )


def validate_worker_row(row: RawRow) -> WorkerRecord | list[RowError]:
    """A workers row as a record, or every error in it."""
    check = _Errors(row)
    number = check.read("national_number", national_number)
    first = check.read("first_name", name)
    last = check.read("last_name", name)
    login = check.read("login", worker_login)
    branch = check.read("branch_id", branch_id)
    start = check.read("contract_start", a_date)
    end = check.read("contract_end", lambda cell: a_date(cell) if optional(cell) else None)
    spoken = check.read("language", language)
    if start and end and end < start:
        check.add("contract_end", f"must not be before contract_start ({start.isoformat()})")
    check.stray_values()
    if check.errors:
        return check.errors
    assert number and first and last and login and start and spoken
    return WorkerRecord(
        line=row.line,
        national_number=number,
        first_name=first,
        last_name=last,
        login=login,
        branch_id=branch,
        contract_start=start,
        contract_end=end,
        language=spoken,
    )


def validate_row(row: RawRow, *, today: date) -> Record | list[RowError]:
    """A row of the header's kind as a record, or every error in it."""
    if row.header.kind is FileKind.SERVICES:
        return validate_service_row(row, today=today)
    return validate_worker_row(row)


# -- duplicates -------------------------------------------------------------------------------


def service_natural_key(record: ServiceRecord) -> str:
    """The business key of a service: worker, user, date, activity and hours.

    Two services with the same key are the same service; the import stores it once and reports
    the others as duplicates, in the file and against the services already known.
    """
    return (
        f"{record.worker_login}:{record.user_number}:{record.service_date.isoformat()}"
        f":{record.activity_type}:{record.hours}"
    )


def _service_key(record: ServiceRecord) -> int:
    """The natural key packed exactly into one int (smaller in memory than the string)."""
    key = int(record.worker_login)
    key = key * 10**12 + int(record.user_number)
    key = key * 10**6 + record.service_date.toordinal()
    return key * 100 + record.activity_type * 10 + record.hours


class Duplicates:
    """The first line of every key seen so far in one file."""

    def __init__(self) -> None:
        self._services: dict[int, int] = {}
        self._national_numbers: dict[int, int] = {}
        self._logins: dict[int, int] = {}

    def first(self, record: Record) -> tuple[str, int] | None:
        """(field, first line) when ``record`` repeats an earlier one; else remembers it."""
        if isinstance(record, ServiceRecord):
            line = self._services.setdefault(_service_key(record), record.line)
            return None if line == record.line else (ROW, line)
        number, login = int(record.national_number), int(record.login)
        same_number = self._national_numbers.get(number)
        same_login = self._logins.get(login)
        if same_number is not None and same_number == same_login:
            return ROW, same_number
        if same_number is not None:
            return "national_number", same_number
        if same_login is not None:
            return "login", same_login
        self._national_numbers[number] = record.line
        self._logins[login] = record.line
        return None


def duplicate_reason(column: str, line: int) -> str:
    if column == ROW:
        return f"duplicate of line {line}"
    return f"duplicate of line {line} (same {column})"


# -- a whole file -----------------------------------------------------------------------------


class FileValidator:
    """Validates the rows of one file in order: records, errors, duplicates, counts, flags.

    ``contracts`` maps a worker's login to the first and last day (None: open-ended) of their
    contract, for the plausibility flag of services outside it.
    """

    def __init__(
        self,
        kind: FileKind,
        *,
        today: date | None = None,
        contracts: Mapping[str, Contract] | None = None,
        plausibility: bool = True,
    ) -> None:
        self.kind = kind
        self.today = today or brussels_today()
        self.duplicates = Duplicates()
        self.plausibility = Plausibility(contracts) if plausibility else None
        self._read = self._accepted = self._rejected = self._duplicates = 0

    @property
    def counts(self) -> ImportCounts:
        return ImportCounts(
            read=self._read,
            accepted=self._accepted,
            rejected=self._rejected,
            duplicates=self._duplicates,
        )

    def check(self, row: RawRow) -> RowResult:
        if row.header.kind is not self.kind:
            raise ValueError(f"a {row.header.kind.value} row given to a {self.kind.value} check")
        self._read += 1
        result = validate_row(row, today=self.today)
        if isinstance(result, list):
            self._rejected += 1
            return RowResult(
                line=row.line,
                outcome=Outcome.REJECTED,
                errors=tuple(result),
                original=row.original(),
            )
        repeated = self.duplicates.first(result)
        if repeated is not None:
            column, first_line = repeated
            self._duplicates += 1
            error = RowError(
                line=row.line, field=column, reason=duplicate_reason(column, first_line)
            )
            return RowResult(
                line=row.line,
                outcome=Outcome.DUPLICATE,
                record=result,
                errors=(error,),
                duplicate_of=first_line,
                original=row.original(),
            )
        self._accepted += 1
        if self.plausibility is not None and isinstance(result, ServiceRecord):
            self.plausibility.add(result)
        return RowResult(line=row.line, outcome=Outcome.ACCEPTED, record=result)

    def check_rows(self, rows: Iterable[RawRow]) -> Iterator[RowResult]:
        for row in rows:
            yield self.check(row)

    def flags(self) -> list[Flag]:
        """The plausibility flags of the accepted services so far, by line."""
        return [] if self.plausibility is None else self.plausibility.flags()
