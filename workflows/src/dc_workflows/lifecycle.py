"""ServiceLifecycleWorkflow: one workflow per service owns every change of its state.

Parties change the state through updates. Each update's validator rejects an impossible transition
before it enters the history; the handler applies it, projects the new state into the
services-mgmt read model and returns it. The automatic validation is a durable timer raced against
those updates.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from dc_workflows import search_attributes
    from dc_workflows.contracts.common import TaskQueue
    from dc_workflows.contracts.lifecycle import (
        DUPLICATE_SERVICE,
        ActivityName,
        HistoryEntry,
        KeyHolder,
        KeyMove,
        Modification,
        NotificationRequest,
        RegisterService,
        ServiceState,
        Transition,
        VoucherKind,
    )
    from dc_workflows.contracts.payments import (
        PaymentUpdate,
        PaymentUpdates,
        ServiceClaim,
        WalletActivity,
    )
    from dc_workflows.payments import PAYMENT_CHANGED_SIGNAL
    from dc_workflows.rules import Lifecycle, TransitionRejected

#: Longer than any call an activity makes (identity answers within 5 s, the database within
#: its statement timeout), so a slow call fails on its own timeout and is retried.
ACTIVITY_TIMEOUT = timedelta(seconds=30)
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)
)


#: Histories recorded before the wallet existed stop at 11; from this patch on the lifecycle
#: asks the wallet to pay and follows the payment to its end.
WALLET_PAYS_PATCH = "wallet-pays-from-11"
#: Histories recorded before the duplicate rule modified a service without moving its natural
#: key; from this patch on a modification first takes the key of the new details.
KEY_MOVES_PATCH = "natural-key-moves-with-modification"
#: Histories recorded before asked nobody again after a modification; from this patch on the
#: company (inbox) and the household (an e-mail with a new link) are asked as at registration.
MODIFICATION_ASKS_AGAIN_PATCH = "modification-asks-again"
#: Histories recorded before sent the whole state, its whole history included, with every
#: projection and update answer, and upserted every search attribute each time (the bytes grew
#: with the square of the transitions); from this patch on a projection carries the history
#: entries not projected before, an update answers without history (the read model has it) and
#: only the search attributes that changed are upserted.
HISTORY_SENT_ONCE_PATCH = "history-sent-once"


def _rejected(error: TransitionRejected) -> ApplicationError:
    return ApplicationError(str(error), type="TransitionRejected", non_retryable=True)


@workflow.defn(name="ServiceLifecycle")
class ServiceLifecycleWorkflow:
    def __init__(self) -> None:
        self._life: Lifecycle | None = None
        self._local_activities = False
        self._projected: ServiceState | None = None
        """The state last projected, with every history entry it had."""
        self._lock = asyncio.Lock()
        self._to_ask_again: list[ServiceState] = []
        """Corrected versions the company and the household are still to be asked about."""

    @property
    def life(self) -> Lifecycle:
        assert self._life is not None, "registration runs first"
        return self._life

    @workflow.run
    async def run(self, request: RegisterService) -> ServiceState:
        self._life = Lifecycle.register(request, workflow.now())
        self._local_activities = request.local_activities
        paid_electronically = request.parties.voucher is VoucherKind.ELECTRONIC
        self._life.wallet_pays = workflow.patched(WALLET_PAYS_PATCH) and paid_electronically
        async with self._lock:
            await self._publish()
        await self._notify(ActivityName.REQUEST_VALIDATION)
        while not self.life.is_closed:
            if self._to_ask_again:
                await self._notify(
                    ActivityName.REQUEST_VALIDATION, self._to_ask_again.pop(0), modified=True
                )
            elif self.life.awaits_payment_claim:
                await self._claim_payment()
            else:
                await self._wait_for_change_or_deadline()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._answer()

    async def _wait_for_change_or_deadline(self) -> None:
        version = self.life.state.version

        def changed() -> bool:
            return self.life.state.version != version or bool(self._to_ask_again)

        wake_up = self.life.next_wake_up()
        if wake_up is None:
            await workflow.wait_condition(changed)
            return
        try:
            await workflow.wait_condition(
                changed, timeout=max(wake_up - workflow.now(), timedelta(0))
            )
        except TimeoutError:
            await self._on_wake_up()

    async def _on_wake_up(self) -> None:
        now = workflow.now()
        async with self._lock:
            if self.life.auto_validation_due(now):
                self.life.auto_validate(now)
                await self._publish()
            elif self.life.reminder_due(now):
                self.life.reminded = True
                await self._notify(ActivityName.SEND_REMINDER)

    # -- updates ----------------------------------------------------------------------------

    @workflow.update
    async def validate(self, request: Transition) -> ServiceState:
        return await self._apply(lambda now: self.life.validate(request, now))

    @validate.validator
    def _check_validate(self, request: Transition) -> None:
        self._check(lambda: self.life.check_validate(request))

    @workflow.update
    async def confirm(self, request: Transition) -> ServiceState:
        return await self._apply(lambda now: self.life.confirm(request, now))

    @confirm.validator
    def _check_confirm(self, request: Transition) -> None:
        self._check(lambda: self.life.check_confirm(request))

    @workflow.update
    async def contest(self, request: Transition) -> ServiceState:
        return await self._apply(lambda now: self.life.contest(request, now))

    @contest.validator
    def _check_contest(self, request: Transition) -> None:
        self._check(lambda: self.life.check_contest(request))

    @workflow.update
    async def modify(self, request: Modification) -> ServiceState:
        modified = await self._apply(
            lambda now: self.life.modify(request, now), prepare=lambda: self._take_key(request)
        )
        if workflow.patched(MODIFICATION_ASKS_AGAIN_PATCH):
            self._to_ask_again.append(modified)  # asked by the main loop: the update is done
        return modified

    @modify.validator
    def _check_modify(self, request: Modification) -> None:
        self._check(lambda: self.life.check_modify(request))

    @workflow.update
    async def cancel(self, request: Transition) -> ServiceState:
        return await self._apply(lambda now: self.life.cancel(request, now))

    @cancel.validator
    def _check_cancel(self, request: Transition) -> None:
        self._check(lambda: self.life.check_cancel(request))

    @workflow.update
    async def registered(self) -> ServiceState:
        """Returns once the registration is in the read model: read-your-writes for the API."""
        await workflow.wait_condition(lambda: self._projected is not None)
        return self._answer()

    @workflow.signal(name=PAYMENT_CHANGED_SIGNAL)
    async def payment_changed(self, update: PaymentUpdate) -> None:
        """The wallet allocated, submitted or reimbursed vouchers of this service."""
        async with self._lock:
            try:
                changed = self.life.apply_payment(update, workflow.now())
            except TransitionRejected as error:
                workflow.logger.warning("payment update ignored: %s", error)
                return
            if changed:
                await self._publish()

    @workflow.query
    def state(self) -> ServiceState:
        return self.life.state

    def _check(self, check: Callable[[], None]) -> None:
        if self._life is None:
            raise ApplicationError("the service is not registered yet", type="NotReady")
        try:
            check()
        except TransitionRejected as error:
            raise _rejected(error) from None

    async def _apply(
        self,
        change: Callable[[datetime], None],
        *,
        prepare: Callable[[], Awaitable[None]] | None = None,
    ) -> ServiceState:
        # Updates are serialised so each one sees the state left by the previous one; the
        # transition checks again because two updates can pass their validators together.
        async with self._lock:
            try:
                if prepare is not None:
                    await prepare()
                change(workflow.now())
            except TransitionRejected as error:
                raise _rejected(error) from None
            await self._publish()
            return self._answer()

    # -- side effects -----------------------------------------------------------------------

    async def _publish(self) -> None:
        """Project the state into the read model and the search attributes."""
        state = self.life.state
        if workflow.patched(HISTORY_SENT_ONCE_PATCH):
            changed = search_attributes.updates_for(state, self._projected)
            if changed:
                workflow.upsert_search_attributes(changed)
            sent = state.model_copy(update={"history": self._not_projected(state)})
        else:
            workflow.upsert_search_attributes(search_attributes.updates_for(state))
            sent = state
        await self._services_mgmt(ActivityName.PROJECT_SERVICE, sent)
        self._projected = state  # projections run one at a time, each a newer version

    def _not_projected(self, state: ServiceState) -> tuple[HistoryEntry, ...]:
        last = self._projected.history[-1].seq if self._projected else 0
        return tuple(entry for entry in state.history if entry.seq > last)

    def _answer(self) -> ServiceState:
        """What an update, and the workflow at its end, answer: the state, without the history
        it sent to the read model (the ``state`` query has it all)."""
        state = self.life.state
        if workflow.patched(HISTORY_SENT_ONCE_PATCH):
            return state.model_copy(update={"history": ()})
        return state

    async def _take_key(self, request: Modification) -> None:
        """Hold the natural key of the modified details, or refuse: another service has it."""
        self.life.check_modify(request)
        if not workflow.patched(KEY_MOVES_PATCH):
            return
        state = self.life.state
        move = KeyMove(
            service_id=state.service_id,
            parties=state.parties,
            details=request.applied_to(state.details),
        )
        holder: KeyHolder = await self._services_mgmt(ActivityName.MOVE_KEY, move, KeyHolder)
        if holder.service_id != state.service_id:
            raise ApplicationError(
                f"the modification makes it a duplicate of service {holder.service_id}",
                holder.service_id,
                type=DUPLICATE_SERVICE,
                non_retryable=True,
            )

    async def _claim_payment(self) -> None:
        """Ready for voucher allocation: ask the user's wallet to pay what it can now."""
        self.life.payment_claimed = True
        state = self.life.state
        result: PaymentUpdates = await workflow.execute_activity(
            WalletActivity.CLAIM_PAYMENT,
            ServiceClaim(
                service_id=state.service_id,
                user_number=state.parties.user_number,
                company_id=state.parties.company_id,
                branch_id=state.parties.branch_id,
                service_date=state.details.service_date,
                hours=state.details.hours,
                ready_at=state.updated_at,
            ),
            task_queue=TaskQueue.WALLET,
            result_type=PaymentUpdates,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
        for update in result.updates:
            await self.payment_changed(update)

    async def _notify(
        self, activity: ActivityName, state: ServiceState | None = None, *, modified: bool = False
    ) -> None:
        """Ask the parties about the service as it is now, or as ``state`` left it."""
        state = state or self.life.state
        request = NotificationRequest(
            service_id=state.service_id,
            version=state.version,
            parties=state.parties,
            details=state.details,
            validation_deadline=state.validation_deadline,
            modified=modified,
        )
        await self._services_mgmt(activity, request)

    async def _services_mgmt(
        self, activity: ActivityName, argument: object, result_type: type[Any] | None = None
    ) -> Any:
        """Run one of services-mgmt's activities: local where its worker hosts the lifecycle,
        an ordinary one on its task queue for the lifecycles begun before (the choice is in the
        workflow's input, so a replay makes the same commands)."""
        if self._local_activities:
            return await workflow.execute_local_activity(
                activity,
                argument,
                result_type=result_type,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
            )
        return await workflow.execute_activity(
            activity,
            argument,
            task_queue=TaskQueue.SERVICES_MGMT,
            result_type=result_type,
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
        )
