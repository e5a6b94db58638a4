"""On PostgreSQL the services table is partitioned by the month of the service date: the months
around today are made at start-up, any other before its first row (by the projection, by the
history loader); a modification to another month moves the row; a list of a service-date
window plans to read only its months' partitions."""

import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.dialects import postgresql

from dc_common.db import Database, month_shifted
from dc_services import repository
from dc_services.history_load import HistoryService, load_services
from dc_workflows.contracts.common import Actor, ActorKind
from dc_workflows.contracts.lifecycle import (
    HistoryEntry,
    ServiceDetails,
    ServiceParties,
    ServiceState,
)
from dc_workflows.deadline import BRUSSELS
from dc_workflows.status import ServiceStatus as S
from tests.support.servers import empty_database

COMPANY = "0712345630"
WORKER = Actor(kind=ActorKind.WORKER, id="980100000001", name="a worker")
REGISTERED = datetime(2026, 11, 30, 9, tzinfo=UTC)

pytestmark = pytest.mark.postgres


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    async with empty_database("postgres", tmp_path, "partitions") as url:
        database = Database(url)
        await repository.prepare(database)
        yield database
        await database.dispose()


def a_service(service_date: date, *, version: int = 1, status: S = S.ENCODED) -> ServiceState:
    return ServiceState(
        service_id="6f7a6b1e-0000-4000-8000-000000000001",
        version=version,
        status=status,
        parties=ServiceParties(
            company_id=COMPANY,
            branch_id=None,
            worker_login=WORKER.id,
            user_number="100000000001",
        ),
        details=ServiceDetails(service_date=service_date, hours=3, activity_type=1),
        registered_at=REGISTERED,
        updated_at=REGISTERED,
        validation_deadline=None,
        company_validated=False,
        user_confirmed=False,
        auto_validation_possible=True,
        history=(
            HistoryEntry(seq=version, at=REGISTERED, event="changed", status=status, actor=WORKER),
        ),
    )


async def partitions(db: Database) -> set[str]:
    async with db.engine.connect() as connection:
        names = await connection.scalars(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                "WHERE i.inhparent = 'services'::regclass"
            )
        )
        return set(names)


async def partitions_holding(db: Database, service_id: str) -> list[str]:
    async with db.engine.connect() as connection:
        found = await connection.scalars(
            text("SELECT tableoid::regclass::text FROM services WHERE id = :id"),
            {"id": service_id},
        )
        return list(found)


async def test_start_up_makes_the_window_s_months_and_the_next_three(db: Database) -> None:
    today = datetime.now(BRUSSELS).date()
    expected = {
        f"services_{month_shifted(today, n):%Y_%m}"
        for n in range(-repository.MONTHS_BACK, repository.MONTHS_AHEAD + 1)
    }
    assert await partitions(db) == expected
    again = Database(db.engine.url.render_as_string(hide_password=False))
    await repository.prepare(again)  # another process starting: nothing made twice
    await again.dispose()
    assert await partitions(db) == expected


async def test_a_service_of_an_old_month_gets_its_partition_and_moves_with_a_modification(
    db: Database,
) -> None:
    old = a_service(date(2016, 2, 10))
    async with db.transaction() as session:
        assert await repository.project(session, old)
    assert await partitions_holding(db, old.service_id) == ["services_2016_02"]

    modified = a_service(date(2026, 11, 3), version=2, status=S.MODIFIED)
    async with db.transaction() as session:
        assert await repository.project(session, modified)
        assert not await repository.project(session, old)  # a late projection changes nothing
    assert await partitions_holding(db, old.service_id) == ["services_2026_11"]
    async with db.sessions() as session:
        row = await repository.get(session, old.service_id)
        totals = await repository.selection_totals(
            session, repository.ServiceFilter(company_id=COMPANY)
        )
    assert row is not None and row.service_date == date(2026, 11, 3)
    assert totals == (1, 3)


async def test_the_history_loader_makes_the_partitions_of_its_months(db: Database) -> None:
    settled = [
        HistoryService(
            company_id=COMPANY,
            worker_login=WORKER.id,
            user_number="100000000002",
            service_date=date(2017, month, 5),
            hours=2,
            activity_type=1,
        )
        for month in (1, 6, 12)
    ]
    result = await load_services(db, settled)
    assert result.inserted == 3
    assert {"services_2017_01", "services_2017_06", "services_2017_12"} <= await partitions(db)
    assert (await load_services(db, settled)).inserted == 0


def planned_partitions(plan: Any) -> set[str]:
    found = {plan["Relation Name"]} if "Relation Name" in plan else set()
    for child in plan.get("Plans", ()):
        found |= planned_partitions(child)
    return found


async def plan_of(db: Database, selection: repository.ServiceFilter) -> set[str]:
    query = repository.page_query(selection, limit=51)
    sql = query.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    async with db.engine.connect() as connection:
        explained = await connection.scalar(text(f"EXPLAIN (FORMAT JSON) {sql}"))
    plan = explained if isinstance(explained, list) else json.loads(explained)
    return planned_partitions(plan[0]["Plan"])


async def test_the_list_of_a_service_date_window_plans_to_read_only_its_months(
    db: Database,
) -> None:
    today = datetime.now(BRUSSELS).date()
    window = repository.ServiceFilter(
        company_id=COMPANY,
        service_date_from=month_shifted(today, -2).replace(day=15),
        service_date_to=today,
    )
    assert await plan_of(db, window) == {
        f"services_{month_shifted(today, n):%Y_%m}" for n in (-2, -1, 0)
    }
    everything = await plan_of(db, repository.ServiceFilter(company_id=COMPANY))
    assert everything == await partitions(db)
