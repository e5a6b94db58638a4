"""The Temporal server killed (SIGKILL) and started again from its SQLite file while lifecycles
wait for their households, confirmations and a voucher order are being carried out and an import
is registering its rows. Afterwards every workflow goes on from where it was: the paid services
are paid once, the waiting ones still wait for their own deadline, the import registers every row
once; nothing is doubled, nothing lost. While the server is down the API says so (503 with
``Retry-After``) instead of hanging."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus

from dc_identity.demo import DEMO, SCHELDE, SCHELDE_STAFF, USER_HOLDERS
from dc_services.models import Service
from dc_workflows.ids import service_workflow_id
from tests.faults.conftest import RestartableTemporal
from tests.integration.imports_support import SERVICES_HEADER, csv_bytes, finished, started
from tests.support.platform import Platform, running_platform
from tests.support.servers import postgres_database
from tests.support.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

USER = DEMO.users[2]
HOLDER = USER_HOLDERS[2]
WORKER = DEMO.workers[0]
FIRST_DAY = date.today() - timedelta(days=40)
IMPORTED_ROWS = 12


async def register_and_validate(staff: httpx.AsyncClient, day: int) -> str:
    created = await staff.post(
        "/api/v1/services",
        json={
            "company_id": SCHELDE,
            "worker_login": WORKER.login,
            "user_number": USER.user_number,
            "service_date": (FIRST_DAY + timedelta(days=day)).isoformat(),
            "hours": 1,
            "activity_type": 1,
        },
    )
    assert created.status_code == 201, created.text
    service_id: str = created.json()["id"]
    validated = await staff.post(f"/api/v1/services/{service_id}/validate")
    assert validated.status_code == 200, validated.text
    return service_id


async def confirm_until_taken(household: httpx.AsyncClient, service_id: str) -> None:
    """Confirm as a household would: again while the platform answers 503. A 409 means an
    earlier attempt was taken before its answer was lost."""

    async def taken() -> bool:
        answer = await household.post(f"/api/v1/services/{service_id}/confirm")
        if answer.status_code == 503:
            assert answer.headers["retry-after"], answer.text
        return answer.status_code in (200, 409)

    await eventually(taken, within=60)


def imported_file() -> bytes:
    rows = [
        [
            DEMO.workers[1].login,
            DEMO.users[day % 5].user_number,
            (FIRST_DAY + timedelta(days=day)).strftime("%d/%m/%Y"),
            "2",
            "1",
            "",
        ]
        for day in range(IMPORTED_ROWS)
    ]
    return csv_bytes(SERVICES_HEADER, rows)


async def service(staff: httpx.AsyncClient, service_id: str) -> dict[str, Any]:
    answer = await staff.get(f"/api/v1/services/{service_id}")
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def timers_of(client: Client, service_id: str) -> tuple[int, int]:
    """(timers started, timers fired) in the lifecycle's history."""
    handle = client.get_workflow_handle(service_workflow_id(service_id))
    kinds = Counter([event.event_type async for event in handle.fetch_history_events()])
    return kinds[EventType.EVENT_TYPE_TIMER_STARTED], kinds[EventType.EVENT_TYPE_TIMER_FIRED]


async def test_a_killed_temporal_server_restarted_from_its_file_loses_and_doubles_nothing(
    restartable_temporal: tuple[RestartableTemporal, Client], postgres: None, tmp_path: Path
) -> None:
    server, client = restartable_temporal
    async with (
        postgres_database("dc_identity_restart") as identity_db,
        postgres_database("dc_services_restart") as services_db,
        postgres_database("dc_imports_restart") as imports_db,
        postgres_database("dc_wallet_restart") as wallet_db,
        running_platform(
            client,
            identity_db_url=identity_db,
            services_db_url=services_db,
            imports_db_url=imports_db,
            imports_overrides={"chunk_size": 3, "chunks_per_run": 2},
            wallet_db_url=wallet_db,
            wallet_overrides={"minimum_order": 1},
            state_dir=tmp_path,
        ) as platform,
        platform.as_person(SCHELDE_STAFF.national_number) as staff,
        platform.as_person(HOLDER.national_number) as household,
    ):
        ids = [await register_and_validate(staff, day) for day in range(8)]
        for service_id in ids[:2]:
            await confirm_until_taken(household, service_id)
        waiting = ids[6:]
        deadlines = {i: (await service(staff, i))["validation_deadline"] for i in waiting}
        upload = await started(staff, imported_file(), company_id=SCHELDE)

        # In flight when the server dies: two confirmations and an order of 6 vouchers.
        order = asyncio.ensure_future(
            household.post(
                f"/api/v1/users/{USER.user_number}/voucher-orders",
                json={"reference": "restart-1", "quantity": 6},
            )
        )
        in_flight = [
            asyncio.ensure_future(household.post(f"/api/v1/services/{i}/confirm")) for i in ids[2:4]
        ]
        await asyncio.sleep(0)  # let the requests leave; the kill follows at once
        server.kill()
        during = await staff.post(f"/api/v1/services/{ids[5]}/validate")
        assert during.status_code == 503, during.text
        assert during.headers["retry-after"]
        server.start()
        await server.answering(client)

        placed = await order
        if placed.status_code != 201:  # lost with the server: the same reference again
            placed = await household.post(
                f"/api/v1/users/{USER.user_number}/voucher-orders",
                json={"reference": "restart-1", "quantity": 6},
            )
        assert placed.status_code in (200, 201), placed.text
        await asyncio.gather(*in_flight, return_exceptions=True)
        for service_id in ids[2:6]:
            await confirm_until_taken(household, service_id)

        paid = ids[:6]

        async def all_paid() -> bool:
            return all([(await service(staff, i))["status"] == 12 for i in paid])

        await eventually(all_paid, within=90)
        done = await finished(staff, upload["id"], within=120)
        assert done["status"] == "done", done
        assert (done["rows_read"], done["registered"]) == (IMPORTED_ROWS, IMPORTED_ROWS), done

        for service_id in paid:
            walked = [entry["status"] for entry in (await service(staff, service_id))["history"]]
            assert walked == [1, 2, 11, 12], (service_id, walked)
        for service_id in waiting:
            now = await service(staff, service_id)
            assert (now["status"], now["validation_deadline"]) == (2, deadlines[service_id])
            handle = client.get_workflow_handle(service_workflow_id(service_id))
            assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING
            started_timers, fired = await timers_of(client, service_id)
            assert started_timers >= 1 and fired == 0, (started_timers, fired)

        wallet = await household.get(f"/api/v1/users/{USER.user_number}/wallet")
        assert wallet.json()["balance"]["vouchers"] == 0, wallet.text
        await assert_each_service_and_transition_once(platform)
    assert server.starts == 2


async def assert_each_service_and_transition_once(platform: Platform) -> None:
    counted: tuple[int, int] = (0, 0)

    async def every_one_projected() -> bool:
        # The import is done once its lifecycles are started; their first projections follow.
        nonlocal counted
        async with platform.services_db.sessions() as session:
            services = await session.scalar(select(func.count()).select_from(Service))
            keys = await session.scalar(
                select(func.count()).select_from(
                    select(Service.worker_login, Service.user_number, Service.service_date)
                    .distinct()
                    .subquery()
                )
            )
        counted = (int(services or 0), int(keys or 0))
        return counted[0] >= 8 + IMPORTED_ROWS

    await eventually(every_one_projected, within=60)
    assert counted == (8 + IMPORTED_ROWS, 8 + IMPORTED_ROWS), counted
