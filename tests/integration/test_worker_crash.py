"""The worker that hosts a lifecycle killed in the middle of it: after a restart the service
finishes correctly, and the read model holds every transition exactly once."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.client import Client

from dc_identity.demo import DEMO, SCHELDE_STAFF, USER_HOLDERS
from dc_services import repository
from dc_services.models import InboxItem, OutboxMessage, ServiceHistory
from tests.support.platform import Platform, running_platform
from tests.support.processes import process, worker_environment
from tests.support.servers import postgres_database
from tests.support.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

HERE = Path(__file__).parent


@pytest.fixture
async def platform_without_workers(
    isolated_dev_server: Client, postgres: None, tmp_path: Path
) -> AsyncIterator[Platform]:
    async with (
        postgres_database("dc_identity_crash") as identity_db,
        postgres_database("dc_services_crash") as services_db,
        running_platform(
            isolated_dev_server,
            identity_db_url=identity_db,
            services_db_url=services_db,
            state_dir=tmp_path,
            with_workers=False,
        ) as platform,
    ):
        yield platform


async def test_killed_workers_resume_and_project_once(platform_without_workers: Platform) -> None:
    platform = platform_without_workers

    async with (
        platform.as_person(SCHELDE_STAFF.national_number) as staff,
        platform.as_person(USER_HOLDERS[1].national_number) as user,
    ):
        service_url = await _lifecycle_across_crashes(platform, staff, user)
    await _check_written_once(platform, service_url.rsplit("/", 1)[1])


async def _lifecycle_across_crashes(
    platform: Platform, staff: httpx.AsyncClient, user: httpx.AsyncClient
) -> str:
    env = worker_environment(platform)
    with process(
        [str(HERE / "crashing_services_worker.py")],
        worker_environment(platform, CRASH_AFTER_PROJECTING_VERSION="2"),
    ) as crashing_worker:
        created = await staff.post(
            "/api/v1/services",
            json={
                "company_id": DEMO.companies[0].enterprise_number,
                "worker_login": DEMO.workers[1].login,
                "user_number": DEMO.users[1].user_number,
                "service_date": "2026-01-05",
                "hours": 3,
                "activity_type": 1,
            },
        )
        assert created.status_code == 201, created.text
        service_url = f"/api/v1/services/{created.json()['id']}"

        # The company validates; the worker hosting the lifecycle commits projection version 2
        # and dies in the middle of the workflow task, before Temporal hears of it. The request
        # waits for a worker to take the task again.
        validating = asyncio.create_task(staff.post(f"{service_url}/validate"))
        await asyncio.to_thread(crashing_worker.wait, 60)
        assert crashing_worker.returncode == 137

        with process(["-m", "dc_services.worker"], env):
            validated = await validating
            assert validated.status_code == 200, validated.text
            assert validated.json()["status"] == 2
            confirmed = await user.post(f"{service_url}/confirm")
            assert confirmed.json()["status"] == 11

            async def mailed() -> bool:
                return len(platform.mails_to(DEMO.users[1].email, about=service_url[-36:])) > 0

            await eventually(mailed)
    return service_url


async def _check_written_once(platform: Platform, service_id: str) -> None:
    async with platform.services_db.sessions() as session:
        service = await repository.get(session, service_id)
        history = list(
            await session.scalars(
                select(ServiceHistory.seq).where(ServiceHistory.service_id == service_id)
            )
        )
        inbox = await session.scalar(select(func.count()).where(InboxItem.service_id == service_id))
        mails = await session.scalar(
            select(func.count()).where(OutboxMessage.key.startswith(service_id))
        )
    assert service is not None
    assert (service.status, service.version) == (11, 3)
    assert sorted(history) == [1, 2, 3]
    assert (inbox, mails) == (1, 1)
    assert len(platform.mails_to(DEMO.users[1].email, about=service_id)) == 1
