"""Realistic import files for tests and benchmarks, deterministic for a given seed.

Services: a company's workers each have a weekly schedule of 3 to 8 hours a day, with one or two
regular users per working day (most weekly, some every other week, a few users shared by two
workers); now and then a worker is away for a week. Mostly household help, some ironing, a
little shopping and transport. Workers: national numbers with valid check digits (born before
and after 2000), Flemish, Walloon and other names with the accents of Windows-1252, contracts
since 2016, languages nl/fr/de/en.

A given fraction of rows can be made bad (one field made invalid, of every kind) or an exact
copy of an earlier row. Every row says which it is, so a test can check the import exactly.

``python -m dc_imports.generate --rows 100000 --kind services --out services.csv``
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import random
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from pathlib import Path
from typing import IO, TypeVar

from openpyxl import Workbook

from dc_common.belgian_numbers import (
    national_number_error,
    with_enterprise_check,
    with_national_check,
)
from dc_imports.columns import COLUMNS, FileKind

DEFAULT_END = date(2025, 12, 31)
"""Last service date of generated files: fixed, so that a seed always gives the same file."""
FIRST_DATE = date(2016, 1, 1)
SERVICES_PER_WORKER_YEAR = 330

T = TypeVar("T")


class Expected(StrEnum):
    VALID = "valid"
    BAD = "bad"
    DUPLICATE = "duplicate"


class DateStyle(StrEnum):
    ISO = "iso"  # 2024-03-05
    SLASH = "dd/mm/yyyy"  # 05/03/2024
    DASH = "dd-mm-yyyy"  # 05-03-2024


@dataclass(frozen=True, slots=True)
class GeneratedRow:
    """One row: canonical values as text (ISO dates, plain digits) and what the import should
    make of it."""

    values: dict[str, str]
    expected: Expected
    bad_field: str | None = None
    duplicate_of: int | None = None
    """For a duplicate: the index (0-based, in generation order) of the row it copies."""


FIRST_NAMES = (
    "Sofie", "An", "Els", "Katrien", "Marie", "Françoise", "Céline", "Hélène", "Anaïs", "Zoë",
    "Nathalie", "Fatima", "Samira", "Aïcha", "Ana", "Maria", "Jürgen", "Katrin", "Agnieszka",
    "Magdalena", "Ioana", "Elena", "Mohamed", "Jan", "Luc", "José", "Noël", "Mélanie", "Inès",
    "Chloé", "Lies", "Griet", "Hanne", "Ilse", "Veerle", "Greet", "Björn", "Dörte", "Renée",
)  # fmt: skip
LAST_NAMES = (
    "Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
    "Wouters", "De Smet", "Dubois", "Lambert", "Dupont", "Martin", "Lejeune", "Lefèvre",
    "Van den Broeck", "Vermeulen", "D'Hondt", "El Amrani", "Benali", "Pereira", "Gonçalves",
    "Nowak", "Kowalska", "Popescu", "Müller", "Schmitz", "Weber", "Çelik", "Van Damme",
    "De Backer", "Verstraete", "Desmet", "Noël", "Ngoma", "Diallo", "Fernández", "Smets",
)  # fmt: skip
LANGUAGE_WEIGHTS = (("nl", 70), ("fr", 16), ("de", 4), ("en", 10))
ACTIVITY_WEIGHTS = ((1, 88), (3, 8), (2, 3), (4, 1))
DAY_HOURS = (3, 4, 4, 4, 5, 6, 6, 7, 8)


def _branches(rng: random.Random, count: int) -> list[str]:
    return [
        with_enterprise_check(f"{rng.randint(2, 8)}{rng.randrange(10**7):07d}")
        for _ in range(count)
    ]


def _weighted(rng: random.Random, weights: Sequence[tuple[T, int]]) -> T:
    return rng.choices([value for value, _ in weights], [weight for _, weight in weights])[0]


@dataclass(slots=True)
class _Slot:
    weekday: int
    user: str
    hours: int
    activity: int
    every_other_week: bool


@dataclass(slots=True)
class _Worker:
    login: str
    branch: str | None
    slots: list[_Slot] = field(default_factory=list)


def _plan_workers(rng: random.Random, rows: int) -> list[_Worker]:
    count = max(1, round(rows / SERVICES_PER_WORKER_YEAR))
    branches = _branches(rng, max(1, min(8, count // 40 + 1)))
    users = iter(range(200_000_000_001, 300_000_000_000))
    shared: list[str] = []
    workers = []
    for number in range(count):
        branch = None if rng.random() < 0.1 else rng.choice(branches)
        worker = _Worker(f"9805{number:08d}", branch)
        days = sorted(rng.sample(range(5), rng.choice((3, 4, 4, 5))))
        if rng.random() < 0.08:
            days.append(5)  # a Saturday
        for weekday in days:
            total = rng.choice(DAY_HOURS)
            parts = [total] if total < 4 or rng.random() < 0.55 else _split(rng, total)
            for hours in parts:
                if shared and rng.random() < 0.03:
                    user = rng.choice(shared)
                else:
                    user = str(next(users))
                    if rng.random() < 0.05:
                        shared.append(user)
                activity = _weighted(rng, ACTIVITY_WEIGHTS)
                biweekly = rng.random() < 0.2
                worker.slots.append(_Slot(weekday, user, hours, activity, biweekly))
        workers.append(worker)
    return workers


def _split(rng: random.Random, total: int) -> list[int]:
    first = rng.randint(2, total - 2)
    return [first, total - first]


def _valid_services(rng: random.Random, rows: int, end: date) -> Iterator[dict[str, str]]:
    workers = _plan_workers(rng, rows)
    weekly = sum(len(w.slots) - 0.5 * sum(s.every_other_week for s in w.slots) for w in workers)
    weeks = math.ceil(rows / (weekly * 0.8)) + 4  # more than enough: the rest is not used
    last_monday = end - timedelta(days=end.weekday())
    first_monday = last_monday - timedelta(weeks=weeks - 1)
    if first_monday < FIRST_DATE:
        raise ValueError(f"{rows} rows do not fit between {FIRST_DATE} and {end}")
    for week in range(weeks):
        monday = first_monday + timedelta(weeks=week)
        for worker in workers:
            if rng.random() < 0.05:  # away this week
                continue
            for slot in worker.slots:
                day = monday + timedelta(days=slot.weekday)
                if (slot.every_other_week and week % 2) or day > end:
                    continue
                yield {
                    "worker_login": worker.login,
                    "user_number": slot.user,
                    "service_date": day.isoformat(),
                    "hours": str(slot.hours),
                    "activity_type": str(slot.activity),
                    "branch_id": worker.branch or "",
                }
    raise RuntimeError("the plan ran out of weeks")  # not reached: the margin is wide


def _bad_service(
    rng: random.Random, values: dict[str, str], end: date
) -> tuple[dict[str, str], str]:
    bad = dict(values)
    day = date.fromisoformat(values["service_date"])
    choices: list[tuple[str, str]] = [
        ("hours", "0"),
        ("hours", "10"),
        ("hours", "4,5"),
        ("hours", ""),
        ("activity_type", "5"),
        ("activity_type", "0"),
        ("activity_type", "strijk"),
        ("service_date", "2015-12-31"),
        ("service_date", (end + timedelta(days=3660)).isoformat()),
        ("service_date", f"31/02/{day.year}"),
        ("service_date", f"{day.day}/{day.month}/{day.year % 100:02d}"),
        ("service_date", "volgende week"),
        ("worker_login", "981" + values["worker_login"][3:]),
        ("worker_login", values["worker_login"][:-1]),
        ("user_number", values["user_number"][:-2]),
        ("user_number", ""),
        ("branch_id", "2234567819"),
    ]
    column, value = rng.choice(choices)
    bad[column] = value
    return bad, column


def _mix(
    rng: random.Random,
    valid: Iterator[dict[str, str]],
    rows: int,
    corrupt: Callable[[random.Random, dict[str, str]], tuple[dict[str, str], str]],
    bad_fraction: float,
    duplicate_fraction: float,
) -> Iterator[GeneratedRow]:
    recent: deque[tuple[int, dict[str, str]]] = deque(maxlen=500)
    for index in range(rows):
        draw = rng.random()
        if draw < duplicate_fraction and recent:
            source, values = rng.choice(recent)
            yield GeneratedRow(dict(values), Expected.DUPLICATE, duplicate_of=source)
            continue
        values = next(valid)
        if draw < duplicate_fraction + bad_fraction:
            bad, column = corrupt(rng, values)
            yield GeneratedRow(bad, Expected.BAD, bad_field=column)
            continue
        recent.append((index, values))
        yield GeneratedRow(values, Expected.VALID)


def generate_services(
    rows: int,
    *,
    seed: int = 1,
    end: date = DEFAULT_END,
    bad_fraction: float = 0.0,
    duplicate_fraction: float = 0.0,
) -> Iterator[GeneratedRow]:
    """``rows`` rows of a services file, services dated up to ``end``."""
    # Test data, reproducible by its seed.
    rng = random.Random(seed)  # nosec B311
    valid = _valid_services(rng, rows, end)
    yield from _mix(
        rng,
        valid,
        rows,
        lambda r, values: _bad_service(r, values, end),
        bad_fraction,
        duplicate_fraction,
    )


def _valid_workers(rng: random.Random, end: date) -> Iterator[dict[str, str]]:
    branches = _branches(rng, 6)
    used: set[str] = set()
    number = 0
    span = (end - FIRST_DATE).days
    while True:
        born = date(1960, 1, 1) + timedelta(days=rng.randrange(46 * 365))
        first_nine = f"{born:%y%m%d}{rng.randint(1, 997):03d}"
        if first_nine in used:
            continue
        used.add(first_nine)
        start = FIRST_DATE + timedelta(days=rng.randrange(max(1, span - 30)))
        contract_end = ""
        if rng.random() < 0.15:
            contract_end = (start + timedelta(days=rng.randint(90, 2000))).isoformat()
        yield {
            "national_number": with_national_check(
                first_nine, born_2000_or_later=born.year >= 2000
            ),
            "first_name": rng.choice(FIRST_NAMES),
            "last_name": rng.choice(LAST_NAMES),
            "login": f"9807{number:08d}",
            "branch_id": "" if rng.random() < 0.1 else rng.choice(branches),
            "contract_start": start.isoformat(),
            "contract_end": contract_end,
            "language": _weighted(rng, LANGUAGE_WEIGHTS),
        }
        number += 1


def _bad_worker(rng: random.Random, values: dict[str, str]) -> tuple[dict[str, str], str]:
    bad = dict(values)
    number = values["national_number"]
    start = date.fromisoformat(values["contract_start"])
    wrong_check = next(
        candidate
        for delta in range(1, 10)
        if national_number_error(candidate := f"{number[:9]}{(int(number[9:]) + delta) % 100:02d}")
    )
    choices: list[tuple[str, str]] = [
        ("national_number", wrong_check),
        ("national_number", number[:7]),
        ("first_name", ""),
        ("last_name", "12345"),
        ("login", "970" + values["login"][3:]),
        ("contract_start", "31/02/2020"),
        ("contract_start", ""),
        ("contract_end", (start - timedelta(days=1)).isoformat()),
        ("language", "xx"),
        ("branch_id", "1234567890"),
    ]
    column, value = rng.choice(choices)
    bad[column] = value
    return bad, column


def generate_workers(
    rows: int,
    *,
    seed: int = 1,
    end: date = DEFAULT_END,
    bad_fraction: float = 0.0,
    duplicate_fraction: float = 0.0,
) -> Iterator[GeneratedRow]:
    """``rows`` rows of a workers file, contracts starting up to ``end``."""
    # Test data, reproducible by its seed.
    rng = random.Random(seed)  # nosec B311
    yield from _mix(
        rng, _valid_workers(rng, end), rows, _bad_worker, bad_fraction, duplicate_fraction
    )


def generate(
    kind: FileKind,
    rows: int,
    *,
    seed: int = 1,
    end: date = DEFAULT_END,
    bad_fraction: float = 0.0,
    duplicate_fraction: float = 0.0,
) -> Iterator[GeneratedRow]:
    """``rows`` rows of a file of ``kind``."""
    if rows < 0 or not 0 <= bad_fraction + duplicate_fraction <= 1:
        raise ValueError("rows must be >= 0 and the fractions add up to at most 1")
    make = generate_services if kind is FileKind.SERVICES else generate_workers
    return make(
        rows,
        seed=seed,
        end=end,
        bad_fraction=bad_fraction,
        duplicate_fraction=duplicate_fraction,
    )


# -- writing files ----------------------------------------------------------------------------

DATE_COLUMNS = frozenset({"service_date", "contract_start", "contract_end"})


@dataclass(frozen=True, slots=True)
class CsvStyle:
    """How a spreadsheet or a payroll program writes its CSV."""

    delimiter: str = ";"
    encoding: str = "utf-8-sig"
    """utf-8-sig (with BOM, as Excel's "CSV UTF-8"), utf-8, or cp1252 (Excel's plain "CSV")."""
    newline: str = "\r\n"
    dates: DateStyle = DateStyle.SLASH
    decimal_comma: bool = False
    """Hours as "4,0" (a column formatted as a number with one decimal)."""
    quote_all: bool = False
    header: Mapping[str, str] | None = None
    """The name to write for each column (canonical name when absent): aliases, other case."""


def _date_text(value: str, style: DateStyle) -> str:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return value  # a bad value: written as it is
    if style is DateStyle.ISO:
        return value
    separator = "/" if style is DateStyle.SLASH else "-"
    return f"{day.day:02d}{separator}{day.month:02d}{separator}{day.year}"


def _columns(kind: FileKind) -> list[str]:
    return [column.name for column in COLUMNS[kind]]


def write_csv(
    out: IO[bytes], kind: FileKind, rows: Iterable[Mapping[str, str]], style: CsvStyle = CsvStyle()
) -> int:
    """Write a header and ``rows`` (canonical values) as CSV in ``style``; returns rows written."""
    columns = _columns(kind)
    header = style.header or {}
    text = io.TextIOWrapper(out, encoding=style.encoding, newline="", write_through=False)
    writer = csv.writer(
        text,
        delimiter=style.delimiter,
        lineterminator=style.newline,
        quoting=csv.QUOTE_ALL if style.quote_all else csv.QUOTE_MINIMAL,
    )
    writer.writerow([header.get(column, column) for column in columns])
    count = 0
    for values in rows:
        cells = []
        for column in columns:
            value = values.get(column, "")
            if column in DATE_COLUMNS:
                value = _date_text(value, style.dates)
            elif column == "hours" and style.decimal_comma and value.isdigit():
                value = f"{value},0"
            cells.append(value)
        writer.writerow(cells)
        count += 1
    text.flush()
    text.detach()
    return count


def _typed_cell(column: str, value: str) -> object:
    if not value:
        return None
    if column in DATE_COLUMNS:
        try:
            return date.fromisoformat(value)
        except ValueError:
            return value
    if column in {"hours", "activity_type", "worker_login", "user_number", "login", "branch_id"}:
        # typed as a number, as a person does; a leading zero only survives in a text cell
        return int(value) if value.isdigit() and not value.startswith("0") else value
    return value  # names, national numbers (leading zeros), languages: text


def write_xlsx(
    out: IO[bytes] | Path,
    kind: FileKind,
    rows: Iterable[Mapping[str, str]],
    *,
    typed: bool = True,
    header: Mapping[str, str] | None = None,
) -> int:
    """Write a one-sheet workbook; with ``typed``, dates as date cells and numbers as numbers
    (as a person typing into Excel gets them), else every cell as text."""
    columns = _columns(kind)
    names = header or {}
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(kind.value)
    sheet.append([names.get(column, column) for column in columns])
    count = 0
    for values in rows:
        cells = [values.get(column, "") for column in columns]
        if typed:
            sheet.append([_typed_cell(c, v) for c, v in zip(columns, cells, strict=True)])
        else:
            sheet.append([value or None for value in cells])
        count += 1
    workbook.save(out)
    return count


def write_file(
    path: Path,
    kind: FileKind,
    rows: Iterable[Mapping[str, str]],
    *,
    style: CsvStyle = CsvStyle(),
) -> int:
    """CSV or XLSX by the file's extension."""
    if path.suffix.lower() == ".xlsx":
        return write_xlsx(path, kind, rows)
    with path.open("wb") as out:
        return write_csv(out, kind, rows, style)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dc_imports.generate", description=(__doc__ or "").split("\n")[0]
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--kind", type=FileKind, choices=list(FileKind), default=FileKind.SERVICES)
    parser.add_argument("--out", type=Path, required=True, help="a .csv or .xlsx path")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--end", type=date.fromisoformat, default=DEFAULT_END, help="last service date"
    )
    parser.add_argument("--bad-fraction", type=float, default=0.0)
    parser.add_argument("--duplicate-fraction", type=float, default=0.0)
    parser.add_argument("--delimiter", default=";", choices=[";", ",", "\t"])
    parser.add_argument("--encoding", default="utf-8-sig", choices=["utf-8-sig", "utf-8", "cp1252"])
    parser.add_argument("--dates", type=DateStyle, choices=list(DateStyle), default=DateStyle.SLASH)
    parser.add_argument("--newline", default="crlf", choices=["crlf", "lf"])
    args = parser.parse_args(argv)
    counts = dict.fromkeys(Expected, 0)

    def counted(rows: Iterable[GeneratedRow]) -> Iterator[dict[str, str]]:
        for row in rows:
            counts[row.expected] += 1
            yield row.values

    style = CsvStyle(
        delimiter=args.delimiter,
        encoding=args.encoding,
        newline="\r\n" if args.newline == "crlf" else "\n",
        dates=args.dates,
    )
    rows = generate(
        args.kind,
        args.rows,
        seed=args.seed,
        end=args.end,
        bad_fraction=args.bad_fraction,
        duplicate_fraction=args.duplicate_fraction,
    )
    written = write_file(args.out, args.kind, counted(rows), style=style)
    summary = {"out": str(args.out), "kind": args.kind.value, "rows": written}
    summary |= {str(key): value for key, value in counts.items()}
    print(json.dumps(summary), file=sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
