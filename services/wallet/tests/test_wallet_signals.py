"""WalletChangeWorkflow tells every lifecycle of its payment, on the real Temporal dev server with
the real wallet activities and real lifecycles (services-mgmt's activities are the lifecycle
harness's recorders): a lifecycle that has ended, or never existed, is skipped; any other failure
to signal one fails the workflow task (Temporal retries it) instead of completing as if the
service had heard.

The dev server runs with at most one signal per workflow execution
(``history.maximumSignalsPerExecution=1``), so a second payment update to the same lifecycle is
refused by Temporal with ``SignalCountLimitExceeded``: a real failure to tell a lifecycle that
lives.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.worker import Worker

from dc_common.db import create_schema
from dc_wallet import repository
from dc_wallet.activities import WalletActivities
from dc_wallet.domain import WalletPolicy, brussels_date
from dc_wallet.models import Base, Claim
from dc_wallet.worker import build_worker
from dc_workflows.contracts.common import TaskQueue
from dc_workflows.contracts.payments import (
    AllocatePending,
    PaymentUpdates,
    ServiceClaim,
    WalletChange,
    WalletChangeKind,
)
from dc_workflows.ids import service_workflow_id, wallet_change_workflow_id
from dc_workflows.lifecycle import ServiceLifecycleWorkflow
from dc_workflows.payments import WalletChangeWorkflow
from dc_workflows.status import ServiceStatus as S
from tests.support.servers import temporal_dev_server
from tests.support.waiting import eventually
from tests.workflows.lifecycle_harness import (
    COMPANY_ID,
    USER_NUMBER,
    Handle,
    ServicesMgmtFake,
    confirm,
    lifecycle_worker,
    start_service,
    state_of,
    validate,
)

pytestmark = pytest.mark.devserver


@pytest.fixture(scope="module")
async def temporal() -> AsyncIterator[Client]:
    async with temporal_dev_server(
        "--dynamic-config-value", "history.maximumSignalsPerExecution=1"
    ) as env:
        yield env.client


@dataclass
class Wallet:
    client: Client
    activities: WalletActivities

    async def issue(self, quantity: int) -> str:
        """Vouchers in the user's wallet as an order of the earlier API left them: recorded,
        their allocation (an allocate-pending WalletChange) not run yet. Returns the trigger."""
        reference = f"order-{uuid.uuid4().hex[:8]}"
        now = datetime.now(UTC)
        async with repository.writing(self.activities._db) as session:
            await repository.lock_wallets(session, [USER_NUMBER], now)
            await repository.place_order(
                session,
                user_number=USER_NUMBER,
                reference=reference,
                quantity=quantity,
                issue_date=brussels_date(now),
                policy=WalletPolicy(),
                now=now,
            )
        return reference

    async def allocate(self, trigger: str) -> WorkflowHandle[WalletChangeWorkflow, PaymentUpdates]:
        change = WalletChange(
            kind=WalletChangeKind.ALLOCATE_PENDING,
            key=f"{USER_NUMBER}-{trigger}",
            allocate=AllocatePending(user_number=USER_NUMBER, trigger=trigger),
        )
        return await self.client.start_workflow(
            WalletChangeWorkflow.run,
            change,
            id=wallet_change_workflow_id(change.kind.value, change.key),
            task_queue=TaskQueue.LIFECYCLE,
        )

    async def claim_without_lifecycle(self, service_id: str, hours: int) -> None:
        today = brussels_date(datetime.now(UTC))
        await self.activities.claim_payment(
            ServiceClaim(
                service_id=service_id,
                user_number=USER_NUMBER,
                company_id=COMPANY_ID,
                branch_id=None,
                service_date=today - timedelta(days=10),  # older: served first
                hours=hours,
                ready_at=datetime.now(UTC),
            )
        )


@pytest.fixture
async def wallet(temporal: Client, tmp_path: Path) -> AsyncIterator[Wallet]:
    """The wallet's worker, the lifecycle workers (lifecycles with the services-mgmt recorders
    local to them, and WalletChange), on a fresh wallet database."""
    db = repository.open_database(f"sqlite+aiosqlite:///{tmp_path / 'wallet.db'}")
    await create_schema(db.engine, Base.metadata)
    activities = WalletActivities(db, WalletPolicy())
    services_mgmt = ServicesMgmtFake()
    try:
        async with (
            Worker(
                temporal,
                task_queue=TaskQueue.LIFECYCLE,
                workflows=[ServiceLifecycleWorkflow, WalletChangeWorkflow],
            ),
            lifecycle_worker(temporal, services_mgmt),
            build_worker(temporal, activities),
        ):
            yield Wallet(temporal, activities)
    finally:
        await db.dispose()


async def ready_service(client: Client, name: str) -> Handle:
    """A real lifecycle at 11: validated, confirmed, its claim in the (empty) wallet."""
    service = await start_service(client, f"{name}-{uuid.uuid4().hex[:8]}")
    await validate(service)
    await confirm(service)

    async def claimed() -> bool:
        return (await state_of(service)).status == S.READY_FOR_ALLOCATION

    await eventually(claimed)
    return service


async def test_lifecycles_that_ended_or_never_existed_are_skipped_the_others_told(
    wallet: Wallet,
) -> None:
    ended = await ready_service(wallet.client, "ended")
    living = await ready_service(wallet.client, "living")

    async def both_claimed() -> bool:
        state = await repository_claims(wallet)
        return {ended.id, living.id} <= {service_workflow_id(s) for s in state}

    await eventually(both_claimed)
    await ended.terminate("the service's lifecycle has ended")
    unknown = f"unknown-{uuid.uuid4().hex[:8]}"
    await wallet.claim_without_lifecycle(unknown, hours=2)

    change = await wallet.allocate(await wallet.issue(10))
    result = await change.result()

    told = {service_workflow_id(u.service_id): u for u in result.updates}
    assert set(told) == {ended.id, living.id, service_workflow_id(unknown)}
    state = await state_of(living)
    assert (state.status, state.vouchers_allocated) == (S.ALLOCATED, 3)


async def test_a_living_lifecycle_that_cannot_be_told_fails_the_task_not_the_payment(
    wallet: Wallet,
) -> None:
    service = await ready_service(wallet.client, "full")
    first = await wallet.allocate(await wallet.issue(1))  # 1 of 3: the lifecycle's one signal
    assert [int(u.status) for u in (await first.result()).updates] == [16]
    second = await wallet.allocate(await wallet.issue(2))  # the rest: Temporal refuses a signal

    async def task_failed() -> bool:
        history = await second.fetch_history()
        return any(
            event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
            and "SignalCountLimitExceeded"
            in event.workflow_task_failed_event_attributes.failure.message
            for event in history.events
        )

    await eventually(task_failed, within=30)
    assert (await second.describe()).status == WorkflowExecutionStatus.RUNNING
    state = await state_of(service)
    assert (state.status, state.vouchers_allocated) == (S.PARTIALLY_ALLOCATED_FIRST, 1)
    await second.terminate("test over")


async def repository_claims(wallet: Wallet) -> list[str]:
    async with repository.reading(wallet.activities._db) as session:
        return list(await session.scalars(select(Claim.service_id)))
