"""After "ready for voucher allocation" (11) the lifecycle asks the wallet to pay and reflects every
change the wallet reports, in order, once, until the service is reimbursed (14) or can only be paid
outside vouchers (20).

The statuses come from the real wallet: its activities on a SQLite database of their own, the
orders, reimbursement requests and payouts as WalletChange workflows, on a time-skipping server of
this module's own. Only the services-mgmt activities are the harness's recorders.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import timedelta

import pytest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.worker import Worker

from dc_common.db import Database, create_schema
from dc_wallet import repository
from dc_wallet.activities import WalletActivities
from dc_wallet.domain import WalletPolicy
from dc_wallet.models import Base
from dc_wallet.service import request_id_for
from dc_workflows.contracts.common import WALLET, Actor, ActorKind, TaskQueue
from dc_workflows.contracts.payments import (
    OrderPlacement,
    PaymentUpdates,
    Payout,
    ReimbursementAsk,
    WalletChange,
    WalletChangeKind,
)
from dc_workflows.ids import wallet_change_workflow_id
from dc_workflows.lifecycle import ServiceLifecycleWorkflow
from dc_workflows.payments import WalletChangeWorkflow
from dc_workflows.status import ServiceStatus as S
from tests.support.waiting import eventually
from tests.workflows.lifecycle_harness import (
    COMPANY_ID,
    DETAILS,
    PARTIES,
    USER_NUMBER,
    Handle,
    ServicesMgmtFake,
    cancel,
    confirm,
    lifecycle_worker,
    payment,
    rejection,
    report_payment,
    start_service,
    state_of,
    time_skipping_env,
    validate,
)

HOURS = DETAILS.hours
HOUSEHOLD = Actor(kind=ActorKind.USER, id=USER_NUMBER, name="the household")
STAFF = Actor(kind=ActorKind.COMPANY, id=COMPANY_ID, name="the clerk")
OPERATOR = Actor(kind=ActorKind.OPERATOR, id="platform", name="the operator")
#: One voucher an order, so a 3-hour service is paid in three steps (the real minimum is 10).
POLICY = WalletPolicy(minimum_order=1)


@dataclass
class Wallet:
    """The real wallet, driven as its API drives it: one WalletChange per order, request and
    payout. Every test uses a household of its own, so no other service takes its vouchers."""

    client: Client
    fake: ServicesMgmtFake
    db: Database
    serial: itertools.count[int]

    async def claims(self, user_number: str) -> list[str]:
        """The services waiting in the household's wallet for vouchers."""
        async with repository.reading(self.db) as session:
            return [c.service_id for c in await repository.waiting_claims(session, user_number)]

    def household(self) -> str:
        return f"{USER_NUMBER[:-4]}{next(self.serial):04d}"

    async def agreed(self, user_number: str, **details: object) -> Handle:
        """A service of that household, validated and confirmed: ready for allocation (11)."""
        service_id = f"payment-{user_number}-{next(self.serial)}"
        handle = await start_service(
            self.client,
            service_id,
            details=DETAILS.model_copy(update=details),
            parties=PARTIES.model_copy(update={"user_number": user_number}),
        )
        await validate(handle)
        await confirm(handle, actor=Actor(kind=ActorKind.USER, id=user_number))
        return handle

    async def order(self, user_number: str, quantity: int) -> None:
        reference = f"order-{next(self.serial)}"
        await self._change(
            WalletChange(
                kind=WalletChangeKind.PLACE_ORDER,
                key=f"{user_number}-{reference}",
                order=OrderPlacement(
                    user_number=user_number,
                    reference=reference,
                    quantity=quantity,
                    ordered_by=HOUSEHOLD.model_copy(update={"id": user_number}),
                ),
            )
        )

    async def ask_reimbursement(self, *services: Handle) -> str:
        reference = f"REQ-{next(self.serial)}"
        request_id = request_id_for(COMPANY_ID, reference)
        await self._change(
            WalletChange(
                kind=WalletChangeKind.REQUEST_REIMBURSEMENT,
                key=request_id,
                request=ReimbursementAsk(
                    request_id=request_id,
                    company_id=COMPANY_ID,
                    reference=reference,
                    service_ids=tuple(s.id.removeprefix("service-") for s in services),
                    requested_by=STAFF,
                ),
            )
        )
        return request_id

    async def pay_out(self, request_id: str) -> None:
        await self._change(
            WalletChange(
                kind=WalletChangeKind.PAY_OUT,
                key=request_id,
                payout=Payout(request_id=request_id, paid_by=OPERATOR),
            )
        )

    async def _change(self, change: WalletChange) -> PaymentUpdates:
        result: PaymentUpdates = await self.client.execute_workflow(
            WalletChangeWorkflow.run,
            change,
            id=wallet_change_workflow_id(change.kind.value, change.key),
            task_queue=TaskQueue.LIFECYCLE,
        )
        return result


@pytest.fixture(scope="module")
async def wallet(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Wallet]:
    db = repository.open_database(
        f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('wallet') / 'wallet.db'}"
    )
    await create_schema(db.engine, Base.metadata)
    fake = ServicesMgmtFake()
    async with AsyncExitStack() as stack:
        env = await stack.enter_async_context(time_skipping_env())
        for worker in (
            Worker(
                env.client,
                task_queue=TaskQueue.LIFECYCLE,
                workflows=[ServiceLifecycleWorkflow, WalletChangeWorkflow],
            ),
            lifecycle_worker(env.client, fake),
            Worker(
                env.client,
                task_queue=TaskQueue.WALLET,
                activities=WalletActivities(db, POLICY).all,
            ),
        ):
            await stack.enter_async_context(worker)
        yield Wallet(env.client, fake, db, itertools.count(1))
    await db.dispose()


def statuses(history: object) -> list[int]:
    return [entry.status for entry in history]  # type: ignore[attr-defined]


def changes(codes: list[int]) -> list[int]:
    """The statuses one after the other, a repeat (a payout that completes nothing) once."""
    return [code for index, code in enumerate(codes) if index == 0 or codes[index - 1] != code]


async def test_a_ready_service_waits_at_11_in_an_empty_wallet(wallet: Wallet) -> None:
    household = wallet.household()
    handle = await wallet.agreed(household)

    async def claimed() -> bool:  # the wallet knows the service, and paid nothing
        return bool(await wallet.claims(household))

    await eventually(claimed)
    state = await state_of(handle)
    assert state.status == S.READY_FOR_ALLOCATION
    assert state.vouchers_allocated == 0


async def test_split_payment_walks_16_17_18_19_13_14_and_ends(wallet: Wallet) -> None:
    household = wallet.household()
    handle = await wallet.agreed(household)

    await wallet.order(household, 1)  # 1 of 3: first partial allocation
    first = await wallet.ask_reimbursement(handle)  # what is allocated so far
    await wallet.order(household, 1)  # 2 of 3
    await wallet.order(household, 1)  # 3 of 3: fully paid
    rest = await wallet.ask_reimbursement(handle)
    await wallet.pay_out(first)  # 1 of 3 reimbursed: still waiting for the rest
    await wallet.pay_out(rest)

    await handle.result()
    final = await state_of(handle)  # the whole history: the result carries none
    assert changes(statuses(final.history)) == [1, 2, 11, 16, 17, 18, 19, 13, 14]
    assert all(entry.actor == WALLET for entry in final.history[3:])
    assert (final.vouchers_allocated, final.vouchers_submitted) == (HOURS, HOURS)
    assert final.vouchers_reimbursed == HOURS
    assert changes(wallet.fake.projected_statuses(handle.id))[-6:] == [16, 17, 18, 19, 13, 14]
    assert (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED


async def test_a_wallet_that_covers_it_pays_at_once_on_the_claim(wallet: Wallet) -> None:
    household = wallet.household()
    await wallet.order(household, 10)

    handle = await wallet.agreed(household)

    async def paid() -> bool:
        return (await state_of(handle)).status != S.READY_FOR_ALLOCATION

    await eventually(paid)
    state = await state_of(handle)
    assert state.status == S.ALLOCATED
    assert (state.history[-1].event, state.vouchers_allocated) == ("allocated", HOURS)


async def test_no_voucher_may_pay_a_service_over_12_months_old_so_it_ends_at_20(
    wallet: Wallet,
) -> None:
    household = wallet.household()
    await wallet.order(household, 10)
    too_old = DETAILS.service_date - timedelta(days=400)

    handle = await wallet.agreed(household, service_date=too_old)

    final = await handle.result()
    assert final.status == S.PAY_OUTSIDE_VOUCHERS
    assert final.vouchers_allocated == 0


async def test_a_repeated_or_late_update_changes_nothing(wallet: Wallet) -> None:
    """The wallet's updates carry a version: one heard twice, or after a newer one, is
    ignored."""
    handle = await wallet.agreed(wallet.household())
    second = payment(handle, 2, S.PARTIALLY_ALLOCATED_SECOND, "allocated", allocated=2)
    first = payment(handle, 1, S.PARTIALLY_ALLOCATED_FIRST, "allocated", allocated=1)

    await report_payment(handle, second)
    await report_payment(handle, second)
    await report_payment(handle, first)

    state = await state_of(handle)
    assert statuses(state.history) == [1, 2, 11, 18]
    assert state.vouchers_allocated == 2


async def test_no_cancel_once_the_wallet_pays(wallet: Wallet) -> None:
    handle = await wallet.agreed(wallet.household())

    reason = await rejection(cancel(handle))
    assert reason == "cannot cancel a service that is ready for voucher allocation"
