"""Workers killed in the middle of an import: the imports worker right after committing a chunk,
the services-mgmt worker with half of a batch's lifecycles started, the lifecycle worker running
the import workflow. After restarts the import finishes, and the databases hold exactly the
expected rows and services: no line stored twice, no service registered twice."""

import asyncio
import signal
from collections import Counter
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from temporalio.client import Client

from dc_identity.demo import DEMO, SCHELDE, SCHELDE_STAFF
from dc_imports.models import ImportChunk, ImportRow
from dc_services.models import InboxItem, Service
from dc_workflows.ids import service_workflow_id
from tests.integration.imports_support import (
    SERVICES_HEADER,
    all_rows,
    csv_bytes,
    finished,
    projected,
    services_of_import,
    started,
)
from tests.support.platform import Platform, running_platform
from tests.support.processes import process, worker_environment
from tests.support.servers import postgres_database
from tests.support.waiting import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.devserver]

HERE = Path(__file__).parent
CHUNK = 4
FIRST_DAY = date(2022, 12, 1)
WORKERS = [DEMO.workers[0], DEMO.workers[1], DEMO.workers[2]]
USERS = [user.user_number for user in DEMO.users]


@pytest.fixture
async def platform_without_workers(
    isolated_dev_server: Client, postgres: None, tmp_path: Path
) -> AsyncIterator[Platform]:
    async with (
        postgres_database("dc_identity_crash") as identity_db,
        postgres_database("dc_services_crash") as services_db,
        postgres_database("dc_imports_crash") as imports_db,
        running_platform(
            isolated_dev_server,
            identity_db_url=identity_db,
            services_db_url=services_db,
            imports_db_url=imports_db,
            imports_overrides={"chunk_size": CHUNK, "chunks_per_run": 2, "heartbeat_seconds": 3},
            state_dir=tmp_path,
            with_workers=False,
        ) as platform,
    ):
        yield platform


def _file() -> tuple[bytes, int]:
    """16 valid services (one a day), two bad rows and a duplicate: (content, valid rows)."""
    rows = [
        [
            WORKERS[day % 3].login,
            USERS[day % 5],
            (FIRST_DAY + timedelta(days=day)).strftime("%d/%m/%Y"),
            "2",
            "1",
            "",
        ]
        for day in range(16)
    ]
    rows.insert(5, [WORKERS[0].login, USERS[0], "31/02/2022", "2", "1", ""])  # line 7
    rows.insert(11, list(rows[2]))  # line 13: duplicate of line 4
    rows.insert(15, [WORKERS[1].login, USERS[1], "02/12/2022", "12", "1", ""])  # line 17
    return csv_bytes(SERVICES_HEADER, rows), 16


async def test_killed_workers_resume_and_store_every_row_once(
    platform_without_workers: Platform,
) -> None:
    platform = platform_without_workers
    content, valid = _file()
    env = worker_environment(platform)
    lifecycle = ["-m", "dc_workflows.worker"]
    async with platform.as_person(SCHELDE_STAFF.national_number) as staff:
        with (
            process(lifecycle, env) as lifecycle_worker,
            process(
                [str(HERE / "crashing_imports_worker.py")],
                worker_environment(platform, CRASH_AFTER_CHUNK_AT_LINE="6"),
            ) as crashing_imports,
            process(
                [str(HERE / "crashing_bulk_worker.py")],
                worker_environment(platform, CRASH_IN_BATCH_WITH_LINE="11"),
            ) as crashing_services,
        ):
            body = await started(staff, content, company_id=SCHELDE)
            # The imports worker commits the chunk of lines 6-9, then dies before reporting it.
            await asyncio.to_thread(crashing_imports.wait, 60)
            assert crashing_imports.returncode == 137
            lifecycle_worker.send_signal(signal.SIGKILL)  # and the import workflow's worker
            lifecycle_worker.wait()
            with (
                process(lifecycle, env),
                process(["-m", "dc_imports.worker"], env),
            ):
                # The services worker starts half the lifecycles of lines 10-13, then dies.
                await asyncio.to_thread(crashing_services.wait, 90)
                assert crashing_services.returncode == 137
                with process(["-m", "dc_services.worker"], env):
                    done = await finished(staff, body["id"], within=120)
                    registered = await all_rows(staff, body["id"], outcome="registered")
                    service_ids = [row["service_id"] for row in registered]
                    await projected(platform, service_ids)
                    await _validation_requested(platform, service_ids)

    assert done["status"] == "done", done
    assert (done["rows_read"], done["registered"], done["rejected"], done["duplicates"]) == (
        valid + 3,
        valid,
        2,
        1,
    )
    await _check_stored_once(platform, body["id"], lines=valid + 3)
    services = await services_of_import(platform, service_ids)
    assert len(services) == len(set(service_ids)) == valid
    keys = Counter((s.worker_login, s.user_number, s.service_date) for s in services)
    assert set(keys.values()) == {1}
    async with platform.services_db.sessions() as session:
        in_december = await session.scalar(
            select(func.count())
            .select_from(Service)
            .where(Service.service_date.between(FIRST_DAY, FIRST_DAY + timedelta(days=15)))
        )
    assert in_december == valid, "no service registered twice"
    for service_id in service_ids:
        handle = platform.temporal.get_workflow_handle(service_workflow_id(service_id))
        assert (await handle.describe()).run_id is not None


async def _check_stored_once(platform: Platform, import_id: str, *, lines: int) -> None:
    assert platform.imports_db is not None
    async with platform.imports_db.sessions() as session:
        stored = list(
            await session.scalars(
                select(ImportRow.line).where(ImportRow.import_id == import_id).order_by("line")
            )
        )
        chunks = list(
            await session.scalars(
                select(ImportChunk.start_line)
                .where(ImportChunk.import_id == import_id)
                .order_by("start_line")
            )
        )
    assert stored == list(range(2, 2 + lines))
    assert chunks == list(range(2, 2 + lines, CHUNK))


async def _validation_requested(platform: Platform, service_ids: list[str]) -> None:
    """Every lifecycle asked for validation: nothing of this test is left for the next one."""

    async def asked() -> bool:
        async with platform.services_db.sessions() as session:
            count = await session.scalar(
                select(func.count(func.distinct(InboxItem.service_id))).where(
                    InboxItem.service_id.in_(service_ids)
                )
            )
        return count == len(service_ids)

    await eventually(asked, within=60)
