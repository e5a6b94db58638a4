"""Retries that end: a chunk whose step keeps failing (a real poison chunk: an imports worker
whose activity fails for it every time) stops its import, failed, with the reason and the line
where it stopped, visible through the API; an operator's retry through the gateway completes it
from there, registering nothing twice. Once while the import's workflow waits for the retry,
once after it gave up waiting (a new run from where it stopped)."""

import signal
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from temporalio.client import Client, WorkflowExecutionStatus

from dc_identity.demo import DEMO, OPERATOR, SCHELDE, SCHELDE_STAFF
from dc_imports.models import ImportChunk, ImportRow
from dc_services.models import InboxItem, Service
from tests.integration.imports_support import (
    SERVICES_HEADER,
    all_rows,
    csv_bytes,
    projected,
    reached,
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
POISONED = 10  # the third chunk: lines 10 to 13
#: The first service day of each test's file: files of their own (the Temporal namespace, and
#: so the workflow ids of the imports, outlive a test's databases).
WAITING_FIRST_DAY = date(2022, 11, 1)
GIVEN_UP_FIRST_DAY = date(2022, 10, 1)
WORKERS = [DEMO.workers[0], DEMO.workers[1], DEMO.workers[2]]
USERS = [user.user_number for user in DEMO.users]
ATTEMPTS = 2
DAYS = 15


@pytest.fixture
async def platform_without_workers(
    request: pytest.FixtureRequest, isolated_dev_server: Client, postgres: None, tmp_path: Path
) -> AsyncIterator[Platform]:
    """The platform with its workers left to the test; a stopped import's workflow waits
    ``request.param`` seconds for a retry."""
    async with (
        postgres_database("dc_identity_retry") as identity_db,
        postgres_database("dc_services_retry") as services_db,
        postgres_database("dc_imports_retry") as imports_db,
        running_platform(
            isolated_dev_server,
            identity_db_url=identity_db,
            services_db_url=services_db,
            imports_db_url=imports_db,
            imports_overrides={
                "chunk_size": CHUNK,
                "chunks_per_run": 2,
                "heartbeat_seconds": 3,
                "activity_attempts": ATTEMPTS,
                "retry_wait_seconds": request.param,
            },
            state_dir=tmp_path,
            with_workers=False,
        ) as platform,
    ):
        yield platform


def _file(first_day: date) -> tuple[bytes, int]:
    """15 valid services (one a day), a bad row and a duplicate: (content, valid rows)."""
    rows = [
        [
            WORKERS[day % 3].login,
            USERS[day % 5],
            (first_day + timedelta(days=day)).strftime("%d/%m/%Y"),
            "3",
            "1",
            "",
        ]
        for day in range(DAYS)
    ]
    rows.insert(2, [WORKERS[0].login, USERS[0], "31/02/2022", "3", "1", ""])  # line 4
    rows.insert(9, list(rows[1]))  # line 11: duplicate of line 3
    return csv_bytes(SERVICES_HEADER, rows), DAYS


def _in_chunk(day: int) -> int:
    """The chunk (by its first line) of the service of that day in the file above."""
    line = 2 + day + (day >= 2) + (day >= 8)
    return 2 + (line - 2) // CHUNK * CHUNK


@pytest.mark.parametrize("platform_without_workers", [600], indirect=True)
async def test_a_poison_chunk_stops_the_import_until_an_operator_retries_it(
    platform_without_workers: Platform,
) -> None:
    """Outcomes of the third chunk cannot be recorded: its services are started (and projected)
    but the import cannot say so. The import stops there; the operator's retry, while its
    workflow waits, finds those services started and registers each exactly once."""
    platform = platform_without_workers
    content, valid = _file(WAITING_FIRST_DAY)
    env = worker_environment(platform)
    poisoned = worker_environment(
        platform, POISONED_CHUNK_AT_LINE=str(POISONED), POISONED_STEP="record_outcomes"
    )
    async with (
        platform.as_person(SCHELDE_STAFF.national_number) as staff,
        platform.as_person(OPERATOR.national_number) as operator,
    ):
        with (
            process(["-m", "dc_workflows.worker"], env),
            process(["-m", "dc_services.worker"], env),
        ):
            with process([str(HERE / "crashing_imports_worker.py")], poisoned) as poison:
                body = await started(staff, content, company_id=SCHELDE)
                stopped = await reached(staff, body["id"], ("failed", "done"))
                poison.send_signal(signal.SIGKILL)
                poison.wait()

            assert stopped["status"] == "failed", stopped
            _assert_stopped_at_the_poisoned_chunk(stopped, "imports.record_outcomes")
            assert stopped["registered"] == 7, "the first two chunks"
            assert stopped["rows_read"] >= 12, "and the poisoned chunk (and the next, read ahead)"
            # The poisoned chunk's services were started before it stopped, and are projected:
            # a check of the known services would now find them.
            third_chunk = sum(1 for day in range(DAYS) if _in_chunk(day) == POISONED)
            await _projected_in_chunk(platform, WAITING_FIRST_DAY, POISONED, third_chunk)
            handle = platform.temporal.get_workflow_handle(body["workflow_id"])
            assert (await handle.describe()).status is WorkflowExecutionStatus.RUNNING

            assert (await _retry(staff, body["id"])).status_code == 403
            with process(["-m", "dc_imports.worker"], env):
                retried = await _retry(operator, body["id"])
                assert retried.status_code == 202, retried.text
                done = await reached(staff, body["id"], ("done",), within=120)
                again = await _retry(operator, body["id"])
                assert again.status_code == 409, again.text
                await _every_row_once(platform, staff, done, valid, WAITING_FIRST_DAY)


@pytest.mark.parametrize("platform_without_workers", [2], indirect=True)
async def test_a_stopped_import_nobody_retried_in_time_is_retried_by_a_new_run(
    platform_without_workers: Platform,
) -> None:
    """The third chunk cannot be read; nobody retries for longer than the import's workflow
    waits: the workflow ends, the import stays failed, and the operator's retry starts a new run
    from the line where it stopped."""
    platform = platform_without_workers
    content, valid = _file(GIVEN_UP_FIRST_DAY)
    env = worker_environment(platform)
    poisoned = worker_environment(platform, POISONED_CHUNK_AT_LINE=str(POISONED))
    async with (
        platform.as_person(SCHELDE_STAFF.national_number) as staff,
        platform.as_person(OPERATOR.national_number) as operator,
    ):
        with (
            process(["-m", "dc_workflows.worker"], env),
            process(["-m", "dc_services.worker"], env),
        ):
            with process([str(HERE / "crashing_imports_worker.py")], poisoned):
                body = await started(staff, content, company_id=SCHELDE)
                handle = platform.temporal.get_workflow_handle(body["workflow_id"])

                async def ended() -> bool:
                    return (await handle.describe()).status is WorkflowExecutionStatus.COMPLETED

                await eventually(ended, within=90)

            stopped = await reached(staff, body["id"], ("failed",), within=5)
            _assert_stopped_at_the_poisoned_chunk(stopped, "imports.process_chunk")
            assert (stopped["rows_read"], stopped["registered"]) == (8, 7)
            with process(["-m", "dc_imports.worker"], env):
                retried = await _retry(operator, body["id"])
                assert retried.status_code == 202, retried.text
                done = await reached(staff, body["id"], ("done",), within=120)
                await _every_row_once(platform, staff, done, valid, GIVEN_UP_FIRST_DAY)
    query = f"WorkflowId = '{body['workflow_id']}'"
    runs = {run.run_id async for run in platform.temporal.list_workflows(query)}
    assert len(runs) >= 3, "two runs before it stopped, at least one after"


def _assert_stopped_at_the_poisoned_chunk(stopped: dict[str, object], step: str) -> None:
    failure = stopped["failure"]
    assert isinstance(failure, dict)
    assert (failure["line"], failure["retryable"]) == (POISONED, True)
    assert failure["reason"] == (
        f"{step} failed at line {POISONED} after {ATTEMPTS} attempts: "
        f"{step.removeprefix('imports.')} cannot handle the chunk at line {POISONED}"
    )
    assert stopped["next_line"] == POISONED
    assert isinstance(stopped["progress_percent"], int) and stopped["progress_percent"] < 100


async def _retry(client: httpx.AsyncClient, import_id: str) -> httpx.Response:
    return await client.post(f"/api/v1/imports/{import_id}/retry")


async def _projected_in_chunk(
    platform: Platform, first_day: date, chunk: int, services: int
) -> None:
    days = [first_day + timedelta(days=day) for day in range(DAYS) if _in_chunk(day) == chunk]

    async def there() -> bool:
        async with platform.services_db.sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(Service).where(Service.service_date.in_(days))
            )
        return count == services

    await eventually(there, within=60)


async def _every_row_once(
    platform: Platform,
    staff: httpx.AsyncClient,
    done: dict[str, object],
    valid: int,
    first_day: date,
) -> None:
    """The import is done, every line stored once and every service registered once."""
    assert done["status"] == "done", done
    assert (done["rows_read"], done["registered"], done["rejected"], done["duplicates"]) == (
        valid + 2,
        valid,
        1,
        1,
    )
    import_id = str(done["id"])
    registered = await all_rows(staff, import_id, outcome="registered")
    service_ids = [row["service_id"] for row in registered]
    assert len(set(service_ids)) == valid
    await projected(platform, service_ids)
    services = await services_of_import(platform, service_ids)
    assert len(services) == valid
    async with platform.services_db.sessions() as session:
        in_range = await session.scalar(
            select(func.count())
            .select_from(Service)
            .where(Service.service_date.between(first_day, first_day + timedelta(days=DAYS - 1)))
        )
    assert in_range == valid, "no service registered twice"
    assert platform.imports_db is not None
    async with platform.imports_db.sessions() as session:
        lines = list(
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
    assert lines == list(range(2, 2 + valid + 2))
    assert chunks == list(range(2, 2 + valid + 2, CHUNK))

    async def validation_asked() -> bool:
        """Every lifecycle asked for validation: nothing of this test is left for the next."""
        async with platform.services_db.sessions() as session:
            count = await session.scalar(
                select(func.count(func.distinct(InboxItem.service_id))).where(
                    InboxItem.service_id.in_(service_ids)
                )
            )
        return count == valid

    await eventually(validation_asked, within=60)
