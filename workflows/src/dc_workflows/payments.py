"""The wallet's workflows.

``WalletChangeWorkflow``: a change in a wallet, then every affected service's lifecycle told of
it. The wallet service changes its own data in one idempotent activity and returns what changed
for which services; this workflow signals each of their lifecycle workflows, which record and
project the new status. A retry repeats nothing: the activity is idempotent on the change's key
and each update carries the service's payment version. An order (place-order) and a
reimbursement request (request-reimbursement) are checked and written by that one activity: the
API starts the workflow first and waits for its result, so a start that fails writes nothing. A
change the wallet refuses fails the workflow with the refusal (``CHANGE_REFUSED``).

``DailyVoucherExpiryWorkflow``: started by the daily expiry schedule.

``WalletReconciliationWorkflow``: started by the daily reconciliation schedule (or by hand); pages
through the claims whose payment changed since the previous run, compares them with what the
services-mgmt read model shows, sends the wallet's latest update again to the lifecycle of every
service shown otherwise, and counts (result and memo): checked, mismatched, repaired.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError, WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from dc_workflows.contracts.common import TaskQueue
    from dc_workflows.contracts.lifecycle import ActivityName
    from dc_workflows.contracts.payments import (
        CHANGE_REFUSED,
        RECORDED_KINDS,
        ChangedPaymentsPage,
        ExpiryRun,
        PaymentUpdate,
        PaymentUpdates,
        ProjectedPayment,
        ProjectedPayments,
        ProjectedPaymentsQuery,
        ReconciliationCounts,
        ReconciliationReport,
        ReconciliationRun,
        ReconciliationStart,
        ReconciliationWindow,
        RecordedChange,
        WalletActivity,
        WalletChange,
        WalletChangeKind,
        WalletPayments,
        payment_differs,
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
    WalletChangeKind.PLACE_ORDER: WalletActivity.PLACE_ORDER,
    WalletChangeKind.REQUEST_REIMBURSEMENT: WalletActivity.REQUEST_REIMBURSEMENT,
    WalletChangeKind.ALLOCATE_PENDING: WalletActivity.ALLOCATE_PENDING,
    WalletChangeKind.SUBMIT_REIMBURSEMENT: WalletActivity.SUBMIT_REIMBURSEMENT,
    WalletChangeKind.PAY_OUT: WalletActivity.PAY_OUT,
    WalletChangeKind.EXPIRE_VOUCHERS: WalletActivity.EXPIRE_VOUCHERS,
}
_RETRY = RetryPolicy(maximum_interval=timedelta(minutes=1))
#: The workflow type of WalletChangeWorkflow (a client that reads a RecordedChange starts it
#: by this name, with that result type).
WALLET_CHANGE = "WalletChange"


@workflow.defn(name=WALLET_CHANGE)
class WalletChangeWorkflow:
    @workflow.run
    async def run(self, change: WalletChange) -> PaymentUpdates:
        """The change's activity, then its lifecycles told. Returns what the activity answered:
        a :class:`RecordedChange` for an order or a request (``RECORDED_KINDS``)."""
        argument = (
            change.order
            or change.request
            or change.allocate
            or change.reimbursement
            or change.payout
            or change.expiry
        )
        if argument is None:
            raise ValueError(f"{change.kind} carries no argument")
        long_running = change.kind is WalletChangeKind.EXPIRE_VOUCHERS  # every wallet, heartbeats
        try:
            result: PaymentUpdates = await workflow.execute_activity(
                _ACTIVITY_FOR[change.kind],
                argument,
                task_queue=TaskQueue.WALLET,
                result_type=RecordedChange if change.kind in RECORDED_KINDS else PaymentUpdates,
                start_to_close_timeout=timedelta(hours=1 if long_running else 0, minutes=2),
                heartbeat_timeout=timedelta(minutes=1) if long_running else None,
                retry_policy=_RETRY,
            )
        except ActivityError as error:
            refusal = error.cause
            if isinstance(refusal, ApplicationError) and refusal.type == CHANGE_REFUSED:
                # Nothing was written: the workflow fails with the refusal, for the API.
                raise ApplicationError(
                    refusal.message, *refusal.details, type=CHANGE_REFUSED, non_retryable=True
                ) from None
            raise
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


#: Each page of the reconciliation: at most this many services (the read model answers at most
#: 1000 per query).
RECONCILIATION_PAGE = 1000
#: After sending updates again, the read model is asked again after these delays; a service
#: still shown otherwise by then counts as not repaired.
VERIFY_AFTER = (timedelta(seconds=5), timedelta(seconds=30))
#: A long run continues as new (same id, same window) beyond this many history events.
CONTINUE_AFTER_EVENTS = 10_000
MAX_UNREPAIRED = 100
_ACTIVITY_TIMEOUT = timedelta(minutes=2)


@workflow.defn(name="WalletReconciliation")
class WalletReconciliationWorkflow:
    """The daily check of the wallet's payments against the services-mgmt read model."""

    @workflow.run
    async def run(self, run: ReconciliationRun) -> ReconciliationReport:
        window = run.window or await self._begin(run)
        counts, unrepaired, after = run.counts, list(run.unrepaired), run.after
        workflow.upsert_memo(_memo(window, counts))
        while True:
            page: WalletPayments = await workflow.execute_activity(
                WalletActivity.CHANGED_PAYMENTS,
                ChangedPaymentsPage(
                    since=window.since, until=window.until, after=after, limit=RECONCILIATION_PAGE
                ),
                task_queue=TaskQueue.WALLET,
                result_type=WalletPayments,
                start_to_close_timeout=_ACTIVITY_TIMEOUT,
                retry_policy=_RETRY,
            )
            if page.updates:
                mismatched, not_repaired = await self._repair(page.updates)
                counts = ReconciliationCounts(
                    checked=counts.checked + len(page.updates),
                    mismatched=counts.mismatched + mismatched,
                    repaired=counts.repaired + mismatched - len(not_repaired),
                )
                unrepaired = (unrepaired + not_repaired)[:MAX_UNREPAIRED]
                workflow.upsert_memo(_memo(window, counts))
            if page.next is None:
                break
            after = page.next
            info = workflow.info()
            if (
                info.is_continue_as_new_suggested()
                or info.get_current_history_length() > CONTINUE_AFTER_EVENTS
            ):
                workflow.continue_as_new(
                    ReconciliationRun(
                        window=window, after=after, counts=counts, unrepaired=tuple(unrepaired)
                    )
                )
        report = ReconciliationReport(
            key=window.key,
            since=window.since,
            until=window.until,
            counts=counts,
            unrepaired=tuple(unrepaired),
        )
        await workflow.execute_activity(
            WalletActivity.FINISH_RECONCILIATION,
            report,
            task_queue=TaskQueue.WALLET,
            start_to_close_timeout=_ACTIVITY_TIMEOUT,
            retry_policy=_RETRY,
        )
        workflow.upsert_memo({**_memo(window, counts), "finished": True})
        return report

    async def _begin(self, run: ReconciliationRun) -> ReconciliationWindow:
        scheduled = workflow.info().typed_search_attributes.get(SCHEDULED_START)
        window: ReconciliationWindow = await workflow.execute_activity(
            WalletActivity.BEGIN_RECONCILIATION,
            ReconciliationStart(
                key=workflow.info().workflow_id,
                at=scheduled or workflow.now(),
                since=run.since,
                until=run.until,
            ),
            task_queue=TaskQueue.WALLET,
            result_type=ReconciliationWindow,
            start_to_close_timeout=_ACTIVITY_TIMEOUT,
            retry_policy=_RETRY,
        )
        return window

    async def _repair(self, updates: tuple[PaymentUpdate, ...]) -> tuple[int, list[str]]:
        """Compare a page with the read model; send every mismatching service's update to its
        lifecycle again, then look again. Returns how many mismatched, and the ones still shown
        otherwise (their lifecycle has ended, or did not take the update)."""
        projected = await self._projected(tuple(update.service_id for update in updates))
        mismatched = [u for u in updates if payment_differs(u, projected.get(u.service_id))]
        ended = []
        waiting: dict[str, PaymentUpdate] = {}
        for update in mismatched:
            if await tell_lifecycle(update):
                waiting[update.service_id] = update
            else:
                ended.append(update.service_id)
        for delay in VERIFY_AFTER:
            if not waiting:
                break
            await workflow.sleep(delay)
            again = await self._projected(tuple(waiting))
            waiting = {
                service_id: update
                for service_id, update in waiting.items()
                if payment_differs(update, again.get(service_id))
            }
        return len(mismatched), ended + list(waiting)

    async def _projected(self, service_ids: tuple[str, ...]) -> dict[str, ProjectedPayment]:
        answer: ProjectedPayments = await workflow.execute_activity(
            ActivityName.PROJECTED_PAYMENTS,
            ProjectedPaymentsQuery(service_ids=service_ids),
            task_queue=TaskQueue.SERVICES_MGMT,
            result_type=ProjectedPayments,
            start_to_close_timeout=_ACTIVITY_TIMEOUT,
            retry_policy=_RETRY,
        )
        return dict(answer.services)


def _memo(window: ReconciliationWindow, counts: ReconciliationCounts) -> dict[str, Any]:
    """What an operator sees of a run in the Temporal UI."""
    return {
        "since": window.since.isoformat(),
        "until": window.until.isoformat(),
        "checked": counts.checked,
        "mismatched": counts.mismatched,
        "repaired": counts.repaired,
    }
