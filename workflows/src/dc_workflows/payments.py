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
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from dc_workflows.contracts.common import TaskQueue
    from dc_workflows.contracts.payments import (
        ExpiryRun,
        PaymentUpdate,
        PaymentUpdates,
        WalletActivity,
        WalletChange,
        WalletChangeKind,
    )
    from dc_workflows.deadline import BRUSSELS
    from dc_workflows.ids import service_workflow_id, wallet_change_workflow_id

PAYMENT_CHANGED_SIGNAL = "payment_changed"
SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")

#: The type of the ApplicationError a workflow gets when it signals a workflow that has ended
#: (completed, failed, terminated, ...) or never existed: the SignalExternalWorkflowExecution-
#: Failed event's cause EXTERNAL_WORKFLOW_EXECUTION_NOT_FOUND, as Temporal's core SDK reports it
#: ("Unable to signal external workflow because it was not found"). Other causes
#: (SignalCountLimitExceeded, NamespaceNotFound) are failures to tell a lifecycle that lives.
LIFECYCLE_ENDED = "ExternalWorkflowExecutionNotFound"
#: Before this patch every failure to signal was logged and ignored; histories recorded before
#: it replay that way.
SIGNAL_FAILURES_PATCH = "wallet-signal-failures-fail-the-task"


class LifecycleNotTold(RuntimeError):
    """A living lifecycle could not be told of its payment. Not a Temporal failure: it fails the
    workflow task, which Temporal retries (visible in the UI as a failing task), and the
    workflow never completes as if the service had heard."""


async def tell_lifecycle(update: PaymentUpdate) -> bool:
    """Signal the service's lifecycle of its payment update. False when the lifecycle has ended
    (or never existed): nothing to tell. Any other failure raises :class:`LifecycleNotTold`."""
    service = workflow.get_external_workflow_handle(service_workflow_id(update.service_id))
    try:
        await service.signal(PAYMENT_CHANGED_SIGNAL, update)
    except ApplicationError as error:
        if error.type != LIFECYCLE_ENDED and workflow.patched(SIGNAL_FAILURES_PATCH):
            raise LifecycleNotTold(
                f"lifecycle of {update.service_id} not told of payment version "
                f"{update.payment_version}: {error.type}: {error.message}"
            ) from error
        workflow.logger.warning(
            "lifecycle not told of payment change: it has ended",
            extra={"service_id": update.service_id, "error": str(error)},
        )
        return False
    return True


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
            await tell_lifecycle(update)
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
