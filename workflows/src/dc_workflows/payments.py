"""WalletChangeWorkflow: a change in a wallet, then every affected service's lifecycle told of it.

The wallet service changes its own data in one idempotent activity and returns what changed for
which services; this workflow signals each of their lifecycle workflows, which record and project
the new status. A retry repeats nothing: the activity is idempotent on the change's key and each
update carries the service's payment version.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from dc_workflows.contracts.common import TaskQueue
    from dc_workflows.contracts.payments import (
        ExpiryRun,
        PaymentUpdates,
        WalletActivity,
        WalletChange,
        WalletChangeKind,
    )
    from dc_workflows.deadline import BRUSSELS
    from dc_workflows.ids import service_workflow_id, wallet_change_workflow_id

PAYMENT_CHANGED_SIGNAL = "payment_changed"
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")

_ACTIVITY_FOR = {
    WalletChangeKind.ALLOCATE_PENDING: WalletActivity.ALLOCATE_PENDING,
    WalletChangeKind.SUBMIT_REIMBURSEMENT: WalletActivity.SUBMIT_REIMBURSEMENT,
    WalletChangeKind.PAY_OUT: WalletActivity.PAY_OUT,
    WalletChangeKind.EXPIRE_VOUCHERS: WalletActivity.EXPIRE_VOUCHERS,
}


@workflow.defn(name="WalletChange")
class WalletChangeWorkflow:
    @workflow.run
    async def run(self, change: WalletChange) -> PaymentUpdates:
        argument = change.allocate or change.reimbursement or change.payout or change.expiry
        if argument is None:
            raise ValueError(f"{change.kind} carries no argument")
        long_running = change.kind is WalletChangeKind.EXPIRE_VOUCHERS  # every wallet, heartbeats
        result: PaymentUpdates = await workflow.execute_activity(
            _ACTIVITY_FOR[change.kind],
            argument,
            task_queue=TaskQueue.WALLET,
            result_type=PaymentUpdates,
            start_to_close_timeout=timedelta(hours=1 if long_running else 0, minutes=2),
            heartbeat_timeout=timedelta(minutes=1) if long_running else None,
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=1)),
        )
        for update in result.updates:
            service = workflow.get_external_workflow_handle(service_workflow_id(update.service_id))
            try:
                await service.signal(PAYMENT_CHANGED_SIGNAL, update)
            except Exception as error:  # a service whose lifecycle has ended: nothing to tell
                workflow.logger.warning(
                    "lifecycle not told of payment change",
                    extra={"service_id": update.service_id, "error": str(error)},
                )
        return result


@workflow.defn(name="WalletDailyExpiry")
class DailyVoucherExpiryWorkflow:
    """Started by the daily schedule (dc_wallet.schedule): expire the vouchers of the day the
    run was scheduled for, through a WalletChange keyed by that date."""

    @workflow.run
    async def run(self) -> PaymentUpdates:
        scheduled = workflow.info().typed_search_attributes.get(SCHEDULED_START)
        on = (scheduled or workflow.now()).astimezone(BRUSSELS).date()
        change = WalletChange(
            kind=WalletChangeKind.EXPIRE_VOUCHERS,
            key=on.isoformat(),
            expiry=ExpiryRun(on=on),
        )
        try:
            result: PaymentUpdates = await workflow.execute_child_workflow(
                WalletChangeWorkflow.run,
                change,
                id=wallet_change_workflow_id(change.kind.value, change.key),
                task_queue=TaskQueue.LIFECYCLE,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            )
        except WorkflowAlreadyStartedError:
            workflow.logger.info("expiry of %s started before", on.isoformat())
            return PaymentUpdates()
        return result
