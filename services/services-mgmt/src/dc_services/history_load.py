"""The history loader: services already settled in the previous system (back to January 2016),
bulk-loaded into the read model without starting workflows.

``python -m dc_services.history_load FILE [--batch-size N]``

A settled service is over: reimbursed (14), paid outside vouchers (20) or cancelled (5); no
workflow will ever change it, so it is written straight into the projection with one history
entry saying where it came from. One that is not cancelled holds its natural key, so the same
service registered again (through the API, an import or the app) is refused as its duplicate.
Each service gets an id derived from the previous system's reference (``legacy_id``) or, without
one, from the company and the service's natural key, so loading the same file again (or an
overlapping one) adds nothing twice.

PostgreSQL: each batch is copied (``COPY``) into a temporary table and moved with
``INSERT ... SELECT ... ON CONFLICT DO NOTHING``; a service is new when its history entry is
(the history's key is the service id, where the partitioned services table's holds the service
date too), and the months of a batch get their partitions first. SQLite: batched
``INSERT ... ON CONFLICT DO NOTHING``. The file is checked as a whole first: a file with a bad
row loads nothing.

The file: CSV (``;`` or ``,``, UTF-8 with or without BOM), a header with the columns
``company_id, worker_login, user_number, service_date, hours, activity_type`` and optionally
``branch_id, status, registered_at, legacy_id``. Dates ``yyyy-mm-dd`` or ``dd/mm/yyyy``;
``registered_at`` an ISO instant (default: the evening of the service date, Brussels time).
Also used by the benchmarks to seed large databases (:func:`load_services`).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
import time as clock
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from dc_common.belgian_numbers import (
    enterprise_number_error,
    establishment_unit_number_error,
    user_number_error,
    worker_login_error,
)
from dc_common.db import Database, is_postgres
from dc_common.logging import configure_logging_for
from dc_services import repository
from dc_services.domain import NaturalKey
from dc_services.models import Service, ServiceHistory, ServiceKey
from dc_services.schemas import FIRST_SERVICE_DATE, brussels_today
from dc_services.settings import ServicesSettings
from dc_workflows.deadline import BRUSSELS
from dc_workflows.status import ServiceStatus

HISTORY_NAMESPACE = uuid.UUID("a3e0b7c4-51c2-4d0f-8f43-7b6c2e9d1a58")
SETTLED = frozenset(
    {ServiceStatus.REIMBURSED, ServiceStatus.PAY_OUTSIDE_VOUCHERS, ServiceStatus.CANCELLED}
)
REQUIRED = ("company_id", "worker_login", "user_number", "service_date", "hours", "activity_type")
OPTIONAL = ("branch_id", "status", "registered_at", "legacy_id")
HISTORY_EVENT = "loaded-from-history"
HISTORY_ACTOR = "history-load"
DEFAULT_BATCH = 50_000

SERVICE_COLUMNS = (
    "id",
    "version",
    "status",
    "company_id",
    "branch_id",
    "worker_login",
    "user_number",
    "service_date",
    "hours",
    "activity_type",
    "registered_at",
    "updated_at",
    "validation_deadline",
    "company_validated",
    "user_confirmed",
    "auto_validation_possible",
    "vouchers_allocated",
    "vouchers_submitted",
    "vouchers_reimbursed",
)
HISTORY_COLUMNS = (
    "service_id",
    "seq",
    "at",
    "event",
    "status",
    "actor_kind",
    "actor_id",
    "actor_person",
    "reason",
)


@dataclass(frozen=True, slots=True)
class HistoryService:
    """One settled service of the previous system."""

    company_id: str
    worker_login: str
    user_number: str
    service_date: date
    hours: int
    activity_type: int
    branch_id: str | None = None
    status: ServiceStatus = ServiceStatus.REIMBURSED
    registered_at: datetime | None = None
    legacy_id: str | None = None

    @property
    def service_id(self) -> str:
        reference = self.legacy_id or self.natural_key.text()
        return str(uuid.uuid5(HISTORY_NAMESPACE, f"{self.company_id}:{reference}"))

    @property
    def natural_key(self) -> NaturalKey:
        return NaturalKey(
            self.worker_login, self.user_number, self.service_date, self.activity_type, self.hours
        )

    @property
    def entered_at(self) -> datetime:
        if self.registered_at is not None:
            return self.registered_at
        evening = datetime.combine(self.service_date, time(18), tzinfo=BRUSSELS)
        return evening.astimezone(UTC)

    def service_row(self) -> tuple[Any, ...]:
        """The read-model row, in the order of :data:`SERVICE_COLUMNS`."""
        paid = self.hours if self.status is ServiceStatus.REIMBURSED else 0
        at = self.entered_at
        done = self.status is not ServiceStatus.CANCELLED
        return (
            self.service_id,
            1,
            int(self.status),
            self.company_id,
            self.branch_id,
            self.worker_login,
            self.user_number,
            self.service_date,
            self.hours,
            self.activity_type,
            at,
            at,
            None,
            done,
            done,
            False,
            paid,
            paid,
            paid,
        )

    def history_row(self) -> tuple[Any, ...]:
        return (
            self.service_id,
            1,
            self.entered_at,
            HISTORY_EVENT,
            int(self.status),
            "system",
            HISTORY_ACTOR,
            None,
            "settled in the previous system",
        )


@dataclass(frozen=True, slots=True)
class LoadResult:
    rows: int
    inserted: int
    seconds: float

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


class HistoryFileError(ValueError):
    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("; ".join(errors[:20]))
        self.errors = list(errors)


# -- reading the file -----------------------------------------------------------------------------


def _date(value: str) -> date:
    value = value.strip()
    if "/" in value:
        day, month, year = value.split("/")
        return date(int(year), int(month), int(day))
    return date.fromisoformat(value)


def _row(values: dict[str, str], today: date) -> HistoryService:
    def number(field: str, check: Any) -> str:
        value = values.get(field, "").strip()
        if reason := check(value):
            raise ValueError(f"{field}: {reason}")
        return value

    company = number("company_id", enterprise_number_error)
    branch = values.get("branch_id", "").strip() or None
    if branch is not None and (reason := establishment_unit_number_error(branch)):
        raise ValueError(f"branch_id: {reason}")
    login = number("worker_login", worker_login_error)
    user = number("user_number", user_number_error)
    try:
        day = _date(values.get("service_date", ""))
    except ValueError:
        raise ValueError("service_date: must be a date (yyyy-mm-dd or dd/mm/yyyy)") from None
    if not FIRST_SERVICE_DATE <= day <= today:
        raise ValueError(f"service_date: must be from {FIRST_SERVICE_DATE} up to today")
    hours = _whole(values.get("hours", ""), "hours", 1, 9)
    activity = _whole(values.get("activity_type", ""), "activity_type", 1, 4)
    status_text = values.get("status", "").strip()
    status = ServiceStatus.REIMBURSED
    if status_text:
        code = _whole(status_text, "status", 1, 99)
        if code not in {int(s) for s in SETTLED}:
            allowed = ", ".join(str(int(s)) for s in sorted(SETTLED))
            raise ValueError(f"status: a settled service has status {allowed}")
        status = ServiceStatus(code)
    registered_text = values.get("registered_at", "").strip()
    registered = None
    if registered_text:
        try:
            registered = datetime.fromisoformat(registered_text)
        except ValueError:
            raise ValueError("registered_at: must be an ISO date and time") from None
        if registered.tzinfo is None:
            registered = registered.replace(tzinfo=BRUSSELS)
        registered = registered.astimezone(UTC)
    legacy = values.get("legacy_id", "").strip() or None
    if legacy is not None and len(legacy) > 64:
        raise ValueError("legacy_id: at most 64 characters")
    return HistoryService(
        company_id=company,
        worker_login=login,
        user_number=user,
        service_date=day,
        hours=hours,
        activity_type=activity,
        branch_id=branch,
        status=status,
        registered_at=registered,
        legacy_id=legacy,
    )


def _whole(value: str, field: str, low: int, high: int) -> int:
    value = value.strip()
    if not value.isdigit() or not low <= int(value) <= high:
        raise ValueError(f"{field}: must be a whole number from {low} to {high}")
    return int(value)


def read_history(content: bytes, *, today: date | None = None) -> Iterator[HistoryService]:
    """The services of a history file; raises :class:`HistoryFileError` naming the bad lines
    (after reading the whole file)."""
    text_content = content.decode("utf-8-sig")
    first_line = text_content.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text_content, newline=""), delimiter=delimiter)
    header = [name.strip().lower() for name in next(reader, [])]
    missing = [name for name in REQUIRED if name not in header]
    unknown = [name for name in header if name not in (*REQUIRED, *OPTIONAL)]
    if missing or unknown:
        problems = [f"missing column {name}" for name in missing]
        problems += [f"unknown column {name}" for name in unknown]
        raise HistoryFileError([f"line 1: {problem}" for problem in problems])
    today = today or brussels_today()
    services: list[HistoryService] = []
    errors: list[str] = []
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        try:
            services.append(_row(dict(zip(header, cells, strict=False)), today))
        except ValueError as error:
            errors.append(f"line {line}: {error}")
    if errors:
        raise HistoryFileError(errors)
    yield from services


# -- loading --------------------------------------------------------------------------------------


async def load_services(
    db: Database, services: Iterable[HistoryService], *, batch_size: int = DEFAULT_BATCH
) -> LoadResult:
    """Insert the services not in the read model yet (by id), with their history entry."""
    started = clock.perf_counter()
    rows = inserted = 0
    batch: list[HistoryService] = []
    for service in services:
        batch.append(service)
        if len(batch) >= batch_size:
            inserted += await _load_batch(db, batch)
            rows += len(batch)
            batch = []
    if batch:
        inserted += await _load_batch(db, batch)
        rows += len(batch)
    return LoadResult(rows, inserted, clock.perf_counter() - started)


async def _load_batch(db: Database, batch: Sequence[HistoryService]) -> int:
    await repository.SERVICE_MONTHS.ensure(db.engine, {s.service_date for s in batch})
    async with db.engine.begin() as connection:
        if is_postgres(db.engine):
            return await _copy_batch(connection, batch)
        return await _insert_batch(connection, batch)


_ENTRY_DAY = f"(registered_at AT TIME ZONE '{BRUSSELS.key}')::date"
_ADD = "services = {table}.services + excluded.services, hours = {table}.hours + excluded.hours"
#: Move the new services from the copied batch (those whose history entry is new; the first
#: of the batch's rows with one id), with their history entries, and count them in the three
#: tables of totals.
# Table and column names from module constants, no input.
_MOVE_AND_COUNT = (
    "WITH entered AS (INSERT INTO service_history ({entries}) SELECT {entries} "  # nosec B608
    "FROM history_entries ON CONFLICT DO NOTHING RETURNING service_id), "
    "moved AS (INSERT INTO services ({services}) SELECT DISTINCT ON (id) {services} "
    "FROM history_services WHERE id IN (SELECT service_id FROM entered) ORDER BY id, ctid "
    "ON CONFLICT DO NOTHING "
    "RETURNING company_id, registered_at, branch_id, service_date, status, activity_type, hours), "
    "by_date AS (INSERT INTO service_totals (company_id, entry_day, branch_id, service_date, "
    "status, activity_type, services, hours) "
    f"SELECT company_id, {_ENTRY_DAY}, coalesce(branch_id, ''), service_date, status, "
    "activity_type, count(*), sum(hours) FROM moved GROUP BY 1, 2, 3, 4, 5, 6 "
    "ON CONFLICT (company_id, entry_day, branch_id, service_date, status, activity_type) "
    f"DO UPDATE SET {_ADD.format(table='service_totals')}), "
    "by_entry AS (INSERT INTO entry_totals (company_id, entry_day, branch_id, status, "
    "activity_type, services, hours) "
    f"SELECT company_id, {_ENTRY_DAY}, coalesce(branch_id, ''), status, activity_type, "
    "count(*), sum(hours) FROM moved GROUP BY 1, 2, 3, 4, 5 "
    "ON CONFLICT (company_id, entry_day, branch_id, status, activity_type) "
    f"DO UPDATE SET {_ADD.format(table='entry_totals')}), "
    "by_month AS (INSERT INTO month_totals (company_id, service_month, branch_id, status, "
    "activity_type, services, hours) "
    "SELECT company_id, date_trunc('month', service_date)::date, coalesce(branch_id, ''), "
    "status, activity_type, count(*), sum(hours) FROM moved GROUP BY 1, 2, 3, 4, 5 "
    "ON CONFLICT (company_id, service_month, branch_id, status, activity_type) "
    f"DO UPDATE SET {_ADD.format(table='month_totals')}) "
    "SELECT count(*) FROM moved"
)


async def _copy_batch(connection: AsyncConnection, batch: Sequence[HistoryService]) -> int:
    """PostgreSQL: COPY into temporary tables, then move what is new."""
    for table, like in (("history_services", "services"), ("history_entries", "service_history")):
        await connection.execute(
            text(f"CREATE TEMP TABLE {table} (LIKE {like} INCLUDING DEFAULTS) ON COMMIT DROP")
        )
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    await driver.copy_records_to_table(
        "history_services", records=[s.service_row() for s in batch], columns=SERVICE_COLUMNS
    )
    await driver.copy_records_to_table(
        "history_entries", records=[s.history_row() for s in batch], columns=HISTORY_COLUMNS
    )
    moved = await connection.execute(
        text(
            _MOVE_AND_COUNT.format(
                services=", ".join(SERVICE_COLUMNS), entries=", ".join(HISTORY_COLUMNS)
            )
        )
    )
    inserted = int(moved.scalar_one())
    key = "worker_login, user_number, service_date, activity_type, hours"
    await connection.execute(
        # Column names from a constant, no input.
        text(
            f"INSERT INTO service_keys ({key}, service_id, reserved_at) "  # nosec B608
            f"SELECT {key}, id, registered_at FROM history_services "
            f"WHERE status != {int(ServiceStatus.CANCELLED)} ORDER BY registered_at "
            "ON CONFLICT DO NOTHING"
        )
    )
    return inserted


async def _insert_batch(connection: AsyncConnection, batch: Sequence[HistoryService]) -> int:
    """SQLite: batched INSERT ... ON CONFLICT DO NOTHING."""
    ids = {s.service_id for s in batch}
    known = set(await connection.scalars(select(Service.id).where(Service.id.in_(ids))))
    fresh = _first_of_each([s for s in batch if s.service_id not in known])
    await _count_in_totals(connection, fresh)
    if fresh:
        services = [dict(zip(SERVICE_COLUMNS, s.service_row(), strict=True)) for s in fresh]
        entries = [dict(zip(HISTORY_COLUMNS, s.history_row(), strict=True)) for s in fresh]
        await connection.execute(sqlite_insert(Service), services)
        await connection.execute(sqlite_insert(ServiceHistory).on_conflict_do_nothing(), entries)
    keys = [
        {
            **s.natural_key.columns(),
            "service_id": s.service_id,
            "reserved_at": s.entered_at,
        }
        for s in batch
        if s.status is not ServiceStatus.CANCELLED
    ]
    if keys:
        await connection.execute(sqlite_insert(ServiceKey).on_conflict_do_nothing(), keys)
    return len(fresh)


def _first_of_each(services: Sequence[HistoryService]) -> list[HistoryService]:
    """The services as a batch inserts them: the first of those with the same id."""
    first: dict[str, HistoryService] = {}
    for service in services:
        first.setdefault(service.service_id, service)
    return list(first.values())


async def _count_in_totals(connection: AsyncConnection, loaded: Sequence[HistoryService]) -> None:
    """The loaded services in the kept totals, in the transaction that loads them."""
    change = repository.TotalsChange()
    for s in loaded:
        key = repository.totals_key(
            s.company_id, s.entered_at, s.branch_id, s.service_date, int(s.status), s.activity_type
        )
        change.add(key, s.hours)
    await change.write(connection.dialect.name, connection)


# -- the command ----------------------------------------------------------------------------------


async def run(path: Path, settings: ServicesSettings, *, batch_size: int) -> LoadResult:
    content = await asyncio.to_thread(path.read_bytes)
    services = list(read_history(content))
    db = Database(settings.database_url)
    try:
        await repository.prepare(db)
        return await load_services(db, services, batch_size=batch_size)
    finally:
        await db.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dc_services.history_load",
        description="Bulk-load settled services of the previous system into the read model.",
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
    args = parser.parse_args(argv)
    settings = ServicesSettings()
    configure_logging_for(settings)
    try:
        result = asyncio.run(run(args.file, settings, batch_size=args.batch_size))
    except HistoryFileError as error:
        for reason in error.errors[:50]:
            print(reason, file=sys.stderr)
        print(f"{len(error.errors)} bad rows: nothing loaded", file=sys.stderr)
        return 2
    summary = {
        "file": str(args.file),
        "rows": result.rows,
        "inserted": result.inserted,
        "already_there": result.rows - result.inserted,
        "seconds": round(result.seconds, 3),
        "rows_per_second": round(result.rows_per_second),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
