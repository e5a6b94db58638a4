"""PostgreSQL connections cut (``pg_terminate_backend``) again and again while services are
registered, validated, confirmed and paid: the projections, key moves, notifications and
payments are retried until they succeed, and nothing half-written remains: every service walks
1, 2, 11, 12 once, the kept totals equal the rows, the wallet spent exactly one voucher a service.
A request whose connection is cut answers 503 with ``Retry-After`` (sent again, it succeeds)."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from temporalio.client import Client

from dc_identity.demo import DEMO, SCHELDE, SCHELDE_STAFF, USER_HOLDERS
from dc_services.models import Service
from tests.faults.conftest import RestartableTemporal
from tests.faults.platforms import agreed_service, days_from, until_answered
from tests.support.platform import Platform, running_platform
from tests.support.servers import postgres_database
from tests.support.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

USER = DEMO.users[3]
HOLDER = USER_HOLDERS[3]
SERVICES = 8
FIRST_DAY = date.today() - timedelta(days=30)
#: How often every connection of the cut databases is terminated, in seconds.
CUT_EVERY = 0.15


class Cutter:
    """Terminates every backend of the given databases, every ``CUT_EVERY`` seconds."""

    def __init__(self, database_urls: list[str]) -> None:
        self.names = [make_url(url).database for url in database_urls]
        self.cuts = 0
        self._stop = asyncio.Event()

    async def run(self) -> None:
        admin = await asyncpg.connect("postgresql://postgres@127.0.0.1:5432/postgres")
        try:
            while not self._stop.is_set():
                cut = await admin.fetch(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = ANY($1::text[]) AND pid <> pg_backend_pid()",
                    self.names,
                )
                self.cuts += sum(1 for row in cut if row[0])
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), CUT_EVERY)
        finally:
            await admin.close()

    def stop(self) -> None:
        self._stop.set()


async def read(client: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    answer = await until_answered(lambda: client.get(path, params=params), accepted=(200,))
    body: dict[str, Any] = answer.json()
    return body


async def test_connections_cut_during_the_lifecycles_leave_nothing_half_written(
    restartable_temporal: tuple[RestartableTemporal, Client], postgres: None, tmp_path: Path
) -> None:
    _server, client = restartable_temporal
    async with (
        postgres_database("dc_identity_cut") as identity_db,
        postgres_database("dc_services_cut") as services_db,
        postgres_database("dc_wallet_cut") as wallet_db,
        running_platform(
            client,
            identity_db_url=identity_db,
            services_db_url=services_db,
            wallet_db_url=wallet_db,
            wallet_overrides={"minimum_order": 1},
            state_dir=tmp_path,
        ) as platform,
        platform.as_person(SCHELDE_STAFF.national_number) as staff,
        platform.as_person(HOLDER.national_number) as household,
    ):
        order = {"reference": "cut-1", "quantity": SERVICES + 2}
        placed = await household.post(
            f"/api/v1/users/{USER.user_number}/voucher-orders", json=order
        )
        assert placed.status_code == 201, placed.text

        cutter = Cutter([services_db, wallet_db])
        cutting = asyncio.create_task(cutter.run())
        try:
            ids = list(
                await asyncio.gather(
                    *(
                        agreed_service(staff, household, USER.user_number, day)
                        for day in days_from(FIRST_DAY, SERVICES)
                    )
                )
            )

            async def all_paid() -> bool:
                statuses = [(await read(staff, f"/api/v1/services/{i}"))["status"] for i in ids]
                return statuses == [12] * SERVICES

            await eventually(all_paid, within=120)
        finally:
            cutter.stop()
            await cutting
        assert cutter.cuts > 20, cutter.cuts

        for service_id in ids:
            walked = [
                e["status"]
                for e in (await read(staff, f"/api/v1/services/{service_id}"))["history"]
            ]
            assert walked == [1, 2, 11, 12], (service_id, walked)
        listed = await read(staff, "/api/v1/services", company_id=SCHELDE)
        assert (listed["total_services"], listed["total_hours"]) == await counted(platform)
        wallet = await read(household, f"/api/v1/users/{USER.user_number}/wallet")
        assert wallet["balance"]["vouchers"] == 2, wallet
    print(f"{cutter.cuts} connections cut")


async def counted(platform: Platform) -> tuple[int, int]:
    """The company's services and hours, counted row by row."""
    async with platform.services_db.sessions() as session:
        found = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(Service.hours), 0)).where(
                    Service.company_id == SCHELDE
                )
            )
        ).one()
    return int(found[0]), int(found[1])
