"""After "ready for voucher allocation" (11) the lifecycle asks the wallet to pay and reflects every
change the wallet reports, in order, once, until the service is reimbursed (14) or can only be paid
outside vouchers (20)."""

from __future__ import annotations

from temporalio.client import WorkflowExecutionStatus

from dc_workflows.contracts.common import WALLET
from dc_workflows.contracts.payments import PaymentUpdates
from dc_workflows.status import ServiceStatus as S
from tests.workflows.lifecycle_harness import (
    DETAILS,
    Handle,
    ServicesMgmtFake,
    StartService,
    WalletFake,
    cancel,
    confirm,
    payment,
    rejection,
    report_payment,
    state_of,
    validate,
)

HOURS = DETAILS.hours


async def agreed(start_service: StartService) -> Handle:
    handle = await start_service()
    await validate(handle)
    await confirm(handle)
    return handle


async def test_ready_service_claims_payment_once(
    start_service: StartService, wallet: WalletFake
) -> None:
    handle = await agreed(start_service)

    state = await state_of(handle)
    assert state.status == S.READY_FOR_ALLOCATION
    [claim] = wallet.claims[handle.id]
    assert (claim.hours, claim.user_number, claim.service_date) == (
        HOURS,
        state.parties.user_number,
        state.details.service_date,
    )


async def test_split_payment_walks_16_17_18_19_13_14_and_ends(
    start_service: StartService, fake: ServicesMgmtFake
) -> None:
    handle = await agreed(start_service)
    steps = [
        payment(handle, 1, S.PARTIALLY_ALLOCATED_FIRST, "allocated", allocated=1),
        payment(
            handle, 2, S.PARTIALLY_REIMBURSED, "reimbursement-requested", allocated=1, submitted=1
        ),
        payment(handle, 3, S.PARTIALLY_ALLOCATED_SECOND, "allocated", allocated=2, submitted=1),
        payment(handle, 4, S.PARTIALLY_ALLOCATED_LAST, "allocated", allocated=3, submitted=1),
        payment(
            handle,
            5,
            S.REIMBURSEMENT_REQUESTED,
            "reimbursement-requested",
            allocated=3,
            submitted=3,
        ),
        payment(handle, 6, S.REIMBURSED, "reimbursed", allocated=3, submitted=3, reimbursed=3),
    ]
    for step in steps:
        await report_payment(handle, step)

    final = await handle.result()
    assert [entry.status for entry in final.history] == [1, 2, 11, 16, 17, 18, 19, 13, 14]
    assert all(entry.actor == WALLET for entry in final.history[3:])
    assert (final.vouchers_allocated, final.vouchers_reimbursed) == (HOURS, HOURS)
    assert fake.projected_statuses(handle.id)[-6:] == [16, 17, 18, 19, 13, 14]
    description = await handle.describe()
    assert description.status == WorkflowExecutionStatus.COMPLETED


async def test_a_repeated_or_late_update_changes_nothing(start_service: StartService) -> None:
    handle = await agreed(start_service)
    second = payment(handle, 2, S.PARTIALLY_ALLOCATED_SECOND, "allocated", allocated=2)
    first = payment(handle, 1, S.PARTIALLY_ALLOCATED_FIRST, "allocated", allocated=1)

    await report_payment(handle, second)
    await report_payment(handle, second)
    await report_payment(handle, first)

    state = await state_of(handle)
    assert [entry.status for entry in state.history] == [1, 2, 11, 18]
    assert state.vouchers_allocated == 2


async def test_paid_at_once_on_the_claim(start_service: StartService, wallet: WalletFake) -> None:
    handle = await start_service()
    service_id = handle.id.removeprefix("service-")
    wallet.pays_on_claim[service_id] = PaymentUpdates(
        updates=(payment(handle, 1, S.ALLOCATED, "allocated", allocated=HOURS),)
    )
    await validate(handle)
    await confirm(handle)

    state = await state_of(handle)
    assert state.status == S.ALLOCATED
    assert state.history[-1].event == "allocated"


async def test_no_voucher_can_pay_it_ends_at_20(start_service: StartService) -> None:
    handle = await agreed(start_service)
    await report_payment(handle, payment(handle, 1, S.PAY_OUTSIDE_VOUCHERS, "unpayable"))

    final = await handle.result()
    assert final.status == S.PAY_OUTSIDE_VOUCHERS


async def test_no_cancel_once_the_wallet_pays(start_service: StartService) -> None:
    handle = await agreed(start_service)

    reason = await rejection(cancel(handle))
    assert reason == "cannot cancel a service that is ready for voucher allocation"
