"""The history loader: settled services of the previous system bulk-loaded into the read model
(COPY on PostgreSQL, batched inserts on SQLite), without workflows. Loading again adds nothing;
the result does not depend on the batch size nor on the database."""

import io
import json
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dc_common.db import Database, create_schema
from dc_imports.columns import FileKind
from dc_imports.generate import generate
from dc_services.history_load import (
    HISTORY_EVENT,
    HistoryFileError,
    HistoryService,
    load_services,
    main,
    read_history,
)
from dc_services.models import Base, Service, ServiceHistory
from dc_workflows.status import ServiceStatus
from tests.support.servers import DIALECTS, empty_database

COMPANY = "0712345630"
STATUSES = (ServiceStatus.REIMBURSED, ServiceStatus.PAY_OUTSIDE_VOUCHERS, ServiceStatus.CANCELLED)


def history(rows: int, *, seed: int = 7) -> list[HistoryService]:
    """Valid services of a generated file (its duplicates dropped), settled one way or another."""
    services: dict[str, HistoryService] = {}
    for index, row in enumerate(generate(FileKind.SERVICES, rows, seed=seed)):
        values = row.values
        service = HistoryService(
            company_id=COMPANY,
            worker_login=values["worker_login"],
            user_number=values["user_number"],
            service_date=date.fromisoformat(values["service_date"]),
            hours=int(values["hours"]),
            activity_type=int(values["activity_type"]),
            branch_id=values["branch_id"] or None,
            status=STATUSES[index % 7 % 3],
        )
        services.setdefault(service.service_id, service)
    return list(services.values())


@pytest.fixture(params=DIALECTS)
async def databases(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[str]]:
    """Two empty read models of one kind."""
    async with (
        empty_database(request.param, tmp_path, "history_a") as first,
        empty_database(request.param, tmp_path, "history_b") as second,
    ):
        yield [first, second]


async def contents(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    db = Database(url)
    try:
        async with db.sessions() as session:
            services = [
                tuple(row)
                for row in await session.execute(
                    select(
                        Service.id,
                        Service.status,
                        Service.branch_id,
                        Service.worker_login,
                        Service.user_number,
                        Service.service_date,
                        Service.hours,
                        Service.activity_type,
                        Service.registered_at,
                        Service.vouchers_reimbursed,
                    ).order_by(Service.id)
                )
            ]
            entries = [
                tuple(row)
                for row in await session.execute(
                    select(
                        ServiceHistory.service_id, ServiceHistory.seq, ServiceHistory.event
                    ).order_by(ServiceHistory.service_id)
                )
            ]
        return services, entries
    finally:
        await db.dispose()


async def test_loading_twice_adds_nothing_and_batches_do_not_matter(databases: list[str]) -> None:
    services = history(2500)
    first, second = (Database(url) for url in databases)
    try:
        for db in (first, second):
            await create_schema(db.engine, Base.metadata)
        loaded = await load_services(first, services[:2000], batch_size=1000)
        again = await load_services(first, services, batch_size=700)
        once_more = await load_services(first, services, batch_size=5000)
        in_one_go = await load_services(second, reversed(services), batch_size=97)
    finally:
        await first.dispose()
        await second.dispose()

    assert (loaded.rows, loaded.inserted) == (2000, 2000)
    assert (again.rows, again.inserted) == (len(services), len(services) - 2000)
    assert once_more.inserted == 0
    assert in_one_go.inserted == len(services)
    first_services, first_entries = await contents(databases[0])
    assert (first_services, first_entries) == await contents(databases[1])
    assert len(first_services) == len(first_entries) == len(services)
    assert {entry[2] for entry in first_entries} == {HISTORY_EVENT}
    by_id = {row[0]: row for row in first_services}
    for service in services[:50]:
        row = by_id[service.service_id]
        assert row[1:8] == (
            int(service.status),
            service.branch_id,
            service.worker_login,
            service.user_number,
            service.service_date,
            service.hours,
            service.activity_type,
        )
        paid = service.hours if service.status is ServiceStatus.REIMBURSED else 0
        assert row[9] == paid


def _history_file(rows: list[dict[str, str]]) -> bytes:
    header = list(rows[0])
    lines = [";".join(header), *(";".join(row[column] for column in header) for row in rows)]
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def _rows() -> Iterator[dict[str, str]]:
    for number, day in enumerate(("2016-01-04", "04/02/2019", "2024-12-31"), start=1):
        yield {
            "legacy_id": f"OLD-{number}",
            "company_id": COMPANY,
            "branch_id": "2234567818" if number == 1 else "",
            "worker_login": "980100000001",
            "user_number": "100000000001",
            "service_date": day,
            "hours": str(number + 2),
            "activity_type": "1",
            "status": "14" if number < 3 else "20",
            "registered_at": "2025-01-02T10:00:00+01:00" if number == 3 else "",
        }


def test_the_command_loads_a_file_once_and_refuses_a_bad_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'services.db'}"
    monkeypatch.setenv("DC_SERVICES_DATABASE_URL", url)
    good = tmp_path / "history.csv"
    good.write_bytes(_history_file(list(_rows())))

    assert main([str(good)]) == 0
    assert main([str(good)]) == 0
    summaries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(s["rows"], s["inserted"]) for s in summaries] == [(3, 3), (3, 0)]

    bad_rows = list(_rows())
    bad_rows[1] |= {"hours": "12", "legacy_id": "OLD-9"}
    bad_rows[2] |= {"status": "1", "legacy_id": "OLD-10"}
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_history_file(bad_rows))
    assert main([str(bad)]) == 2
    err = capsys.readouterr().err
    assert "line 3: hours: must be a whole number from 1 to 9" in err
    assert "line 4: status: a settled service has status 5, 14, 20" in err
    with pytest.raises(HistoryFileError):
        list(read_history(_history_file(bad_rows)))
    services = list(read_history(io.BytesIO(_history_file(list(_rows()))).getvalue()))
    assert services[2].entered_at.isoformat() == "2025-01-02T09:00:00+00:00"
    assert services[1].service_date == date(2019, 2, 4)
