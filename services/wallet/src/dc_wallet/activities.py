"""Activities of the wallet, called by the lifecycle and WalletChange workflows by name on
TaskQueue.WALLET.

Each runs in one transaction per wallet that first locks the wallet, then looks for its own
recorded result: a retry (after a crash, a timeout, a lost answer) returns what the first run
returned and changes nothing. The keys: ``claim:{service}``, ``order:{user}:{reference}``,
``request:{request}``, ``allocate:{user}:{trigger}``, ``submit:{request}``, ``payout:{request}``,
``expire:{date}:{user}``.

Placing an order and asking reimbursement check, write and pay (or submit) in one transaction:
a refusal (:class:`~dc_wallet.domain.Refused`) writes nothing and fails the activity without a
retry (``ApplicationError`` of type ``CHANGE_REFUSED``, its ``ChangeRefusal`` as details).

The reconciliation's activities record its runs and page through the claims whose payment
changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import structlog
from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from dc_common.db import Database
from dc_wallet import repository
from dc_wallet.domain import (
    OrderRejected,
    Refused,
    WalletPolicy,
    brussels_date,
    check_order,
    not_payable,
    order_reference_used,
    order_refused,
    request_reference_used,
    unpayable_services,
)
from dc_wallet.models import ReimbursementRequest
from dc_workflows.contracts.common import FieldProblem
from dc_workflows.contracts.payments import (
    CHANGE_REFUSED,
    AllocatePending,
    ChangedPaymentsPage,
    ChangeRefusal,
    ExpiryRun,
    OrderPlacement,
    PaymentUpdates,
    Payout,
    ReconciliationReport,
    ReconciliationStart,
    ReconciliationWindow,
    RecordedChange,
    ReimbursementAsk,
    ReimbursementSubmission,
    ServiceClaim,
    WalletActivity,
    WalletPayments,
)

log = structlog.get_logger(__name__)

ALLOCATED = Counter("dc_wallet_vouchers_allocated", "Vouchers allocated to services by a claim")
REIMBURSEMENTS = Counter("dc_wallet_reimbursement_requests", "Reimbursement requests recorded")

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class WalletActivities:
    def __init__(
        self,
        db: Database,
        policy: WalletPolicy,
        clock: Clock = utc_now,
        *,
        reconciliation_settle: timedelta = timedelta(minutes=5),
        reconciliation_first_window: timedelta = timedelta(days=31),
    ) -> None:
        self._db = db
        self._policy = policy
        self._clock = clock
        self._settle = reconciliation_settle
        self._first_window = reconciliation_first_window

    @activity.defn(name=WalletActivity.CLAIM_PAYMENT)
    async def claim_payment(self, claim: ServiceClaim) -> PaymentUpdates:
        """Register the service's claim and allocate to it what the wallet can pay now.

        Only this service's updates: none when it stays at 11 (nothing allocatable yet), an
        allocation (12 or 16), or 20 when no voucher can ever pay it. The plan still gives the
        user's other waiting services their priority: this service gets only what is left after
        them (their shares wait for the allocation the order that brought them triggered).
        """
        key = f"claim:{claim.service_id}"
        now = self._clock()
        async with repository.writing(self._db) as session:
            await repository.lock_wallets(session, [claim.user_number], now)
            result = await repository.recorded(session, key)
            if result is None:
                await repository.register_claim(session, claim, now)
                updates = await repository.allocate(
                    session,
                    claim.user_number,
                    today=brussels_date(now),
                    now=now,
                    policy=self._policy,
                    operation=key,
                    only=claim.service_id,
                )
                result = await repository.record(session, key, updates, now)
                ALLOCATED.inc(sum(update.vouchers_allocated for update in updates))
        _log("payment claimed", key, result, service_id=claim.service_id)
        return result

    @activity.defn(name=WalletActivity.PLACE_ORDER)
    async def place_order(self, placement: OrderPlacement) -> RecordedChange:
        """Record a paid order once per (user, reference), issue its vouchers and pay the
        services waiting for them, in one transaction under the wallet lock.

        Refused (nothing written): too small or over the yearly cap, or the reference names
        an order of another quantity. The same order again pays what still waits (an order
        the earlier API recorded without its allocation is paid for here) and answers with
        ``created`` False."""
        user, reference = placement.user_number, placement.reference
        key = f"order:{user}:{reference}"
        now = self._clock()
        with _refusals():
            async with repository.writing(self._db) as session:
                await repository.lock_wallets(session, [user], now)
                existing = await repository.find_order(session, user, reference)
                if existing is not None and existing.quantity != placement.quantity:
                    raise order_reference_used(reference, existing.quantity)
                result = await repository.recorded_change(session, key)
                if result is None:
                    today = brussels_date(now)
                    if existing is None:
                        ordered = await repository.ordered_in_year(session, user, today.year)
                        try:
                            check_order(placement.quantity, ordered, self._policy)
                        except OrderRejected as rejected:
                            raise order_refused(
                                rejected.reason, conflict=rejected.conflict
                            ) from None
                        await repository.place_order(
                            session,
                            user_number=user,
                            reference=reference,
                            quantity=placement.quantity,
                            issue_date=today,
                            policy=self._policy,
                            now=now,
                            ordered_by=placement.ordered_by,
                        )
                    updates = await repository.allocate(
                        session, user, today=today, now=now, policy=self._policy, operation=key
                    )
                    result = await repository.record_change(
                        session,
                        key,
                        RecordedChange(updates=tuple(updates), created=existing is None),
                        now,
                    )
        _log("order placed", key, result, user_number=user, created=result.created)
        return result

    @activity.defn(name=WalletActivity.REQUEST_REIMBURSEMENT)
    async def request_reimbursement(self, ask: ReimbursementAsk) -> RecordedChange:
        """Record the request once per (company, reference), with every allocated voucher of
        its services not in a request yet, and submit them (services 17 or 13), in one
        transaction under the locks of the services' wallets.

        Refused (nothing written): a service no wallet pays, of another company or with no
        such voucher; or the reference names a request of other services. The same request
        again answers with ``created`` False (one the earlier API recorded is submitted here
        if its own submission has not run)."""
        key = f"request:{ask.request_id}"
        now = self._clock()
        with _refusals():
            async with repository.writing(self._db) as session:
                # A claim's user and company never change: read before locking its wallet. Look
                # for the request only once the wallets are locked, so that the same request
                # made at the same time is found by the second, not refused for lack of
                # payable vouchers.
                claims = await repository.claims_by_ids(session, ask.service_ids)
                await repository.lock_wallets(
                    session, (claim.user_number for claim in claims.values()), now
                )
                existing = await session.get(ReimbursementRequest, ask.request_id)
                if existing is not None:
                    named = await repository.request_services(session, ask.request_id)
                    if set(named) != set(ask.service_ids):
                        raise request_reference_used(ask.reference, ask.request_id)
                result = await repository.recorded_change(session, key)
                if result is None:
                    request = existing
                    if request is None:
                        errors = unpayable_services(
                            ask.service_ids,
                            ask.company_id,
                            {sid: claim.company_id for sid, claim in claims.items()},
                            await repository.payable_counts(session, ask.service_ids),
                        )
                        if errors:
                            raise not_payable(errors)
                        REIMBURSEMENTS.inc()
                        request = await repository.create_request(
                            session,
                            request_id=ask.request_id,
                            company_id=ask.company_id,
                            reference=ask.reference,
                            service_ids=ask.service_ids,
                            policy=self._policy,
                            now=now,
                            requested_by=ask.requested_by,
                        )
                    updates = await repository.submit_request(session, request, now)
                    result = await repository.record_change(
                        session,
                        key,
                        RecordedChange(updates=tuple(updates), created=existing is None),
                        now,
                    )
        _log(
            "reimbursement requested",
            key,
            result,
            request_id=ask.request_id,
            company_id=ask.company_id,
            created=result.created,
        )
        return result

    @activity.defn(name=WalletActivity.ALLOCATE_PENDING)
    async def allocate_pending(self, request: AllocatePending) -> PaymentUpdates:
        """New vouchers in the wallet: allocate them to every waiting service by priority (the
        WalletChange of an order the earlier API recorded before starting it)."""
        key = f"allocate:{request.user_number}:{request.trigger}"
        now = self._clock()
        async with repository.writing(self._db) as session:
            await repository.lock_wallets(session, [request.user_number], now)
            result = await repository.recorded(session, key)
            if result is None:
                updates = await repository.allocate(
                    session,
                    request.user_number,
                    today=brussels_date(now),
                    now=now,
                    policy=self._policy,
                    operation=key,
                )
                result = await repository.record(session, key, updates, now)
        _log("pending services allocated", key, result, user_number=request.user_number)
        return result

    @activity.defn(name=WalletActivity.SUBMIT_REIMBURSEMENT)
    async def submit_reimbursement(self, submission: ReimbursementSubmission) -> PaymentUpdates:
        """The request's reserved vouchers become submitted; services 17 or 13 (the WalletChange
        of a request the earlier API recorded before starting it)."""
        key = f"submit:{submission.request_id}"
        now = self._clock()
        async with repository.writing(self._db) as session:
            request = await _request(session, submission.request_id)
            users = await repository.request_users(session, request.id)
            await repository.lock_wallets(session, users, now)
            result = await repository.recorded(session, key)
            if result is None:
                updates = await repository.submit_request(session, request, now)
                result = await repository.record(session, key, updates, now)
        _log("reimbursement submitted", key, result, request_id=submission.request_id)
        return result

    @activity.defn(name=WalletActivity.PAY_OUT)
    async def pay_out(self, payout: Payout) -> PaymentUpdates:
        """The request's vouchers become reimbursed; fully reimbursed services 14."""
        key = f"payout:{payout.request_id}"
        now = self._clock()
        async with repository.writing(self._db) as session:
            request = await _request(session, payout.request_id)
            if request.submitted_at is None:
                # The submission's workflow has not run yet: retried until it has.
                raise ApplicationError(
                    f"reimbursement request {request.id} is not submitted yet",
                    type="NotYetSubmitted",
                )
            users = await repository.request_users(session, request.id)
            await repository.lock_wallets(session, users, now)
            result = await repository.recorded(session, key)
            if result is None:
                updates = await repository.pay_out_request(
                    session, request, now, paid_by=payout.paid_by
                )
                result = await repository.record(session, key, updates, now)
        _log("reimbursement paid out", key, result, request_id=payout.request_id)
        return result

    @activity.defn(name=WalletActivity.EXPIRE_VOUCHERS)
    async def expire_vouchers(self, run: ExpiryRun) -> PaymentUpdates:
        """Expire and refund the vouchers past their last day, one wallet per transaction;
        services that no voucher can pay any more go to 20. Idempotent per day: the result is
        every update recorded for that day, whichever attempt wrote it."""
        prefix = f"expire:{run.on.isoformat()}:"
        async with repository.reading(self._db) as session:
            users = await repository.wallets_to_expire(session, run.on, self._policy)
        for user in users:
            key = prefix + user
            now = self._clock()
            async with repository.writing(self._db) as session:
                await repository.lock_wallets(session, [user], now)
                if await repository.recorded(session, key) is None:
                    updates = await repository.expire_wallet(
                        session, user, on=run.on, policy=self._policy, now=now, operation=key
                    )
                    await repository.record(session, key, updates, now)
            _heartbeat(user)
        async with repository.reading(self._db) as session:
            result = await repository.recorded_with_prefix(session, prefix)
        _log("vouchers expired", prefix, result, wallets=len(users))
        return result

    # -- the reconciliation --------------------------------------------------------------

    @activity.defn(name=WalletActivity.BEGIN_RECONCILIATION)
    async def begin_reconciliation(self, start: ReconciliationStart) -> ReconciliationWindow:
        """The window of this run, recorded once: from where the previous finished run ended
        (or the first window before) up to the run's time less the settling margin."""
        now = self._clock()
        async with repository.writing(self._db) as session:
            window = await repository.begin_run(
                session, start, settle=self._settle, first_window=self._first_window, now=now
            )
        log.info(
            "reconciliation begun",
            key=window.key,
            since=window.since.isoformat(),
            until=window.until.isoformat(),
        )
        return window

    @activity.defn(name=WalletActivity.CHANGED_PAYMENTS)
    async def changed_payments(self, page: ChangedPaymentsPage) -> WalletPayments:
        """A page of the claims whose payment changed in the window, with their latest
        update."""
        async with repository.reading(self._db) as session:
            return await repository.changed_payments(session, page)

    @activity.defn(name=WalletActivity.FINISH_RECONCILIATION)
    async def finish_reconciliation(self, report: ReconciliationReport) -> None:
        now = self._clock()
        async with repository.writing(self._db) as session:
            await repository.finish_run(session, report, now)
        log.info(
            "reconciliation finished",
            key=report.key,
            checked=report.counts.checked,
            mismatched=report.counts.mismatched,
            repaired=report.counts.repaired,
            unrepaired=list(report.unrepaired),
        )

    @property
    def all(self) -> list[Callable[..., Awaitable[Any]]]:
        return [
            self.claim_payment,
            self.place_order,
            self.request_reimbursement,
            self.allocate_pending,
            self.submit_reimbursement,
            self.pay_out,
            self.expire_vouchers,
            self.begin_reconciliation,
            self.changed_payments,
            self.finish_reconciliation,
        ]


@contextmanager
def _refusals() -> Iterator[None]:
    """Turn a refusal into the activity's non-retryable failure the workflow passes on."""
    try:
        yield
    except Refused as refused:
        raise refusal_error(refused) from None


def refusal_error(refused: Refused) -> ApplicationError:
    return ApplicationError(
        refused.detail,
        ChangeRefusal(
            status=refused.status,
            title=refused.title,
            detail=refused.detail,
            errors=tuple(FieldProblem(field=field, reason=why) for field, why in refused.errors),
        ),
        type=CHANGE_REFUSED,
        non_retryable=True,
    )


async def _request(session: AsyncSession, request_id: str) -> ReimbursementRequest:
    request = await session.get(ReimbursementRequest, request_id)
    if request is None:
        raise ApplicationError(
            f"no reimbursement request {request_id}",
            type="UnknownReimbursementRequest",
            non_retryable=True,
        )
    return request


def _heartbeat(detail: str) -> None:
    if activity.in_activity():
        activity.heartbeat(detail)


def _log(message: str, key: str, result: PaymentUpdates, **ids: Any) -> None:
    log.info(
        message,
        operation=key,
        changes=[
            {"service_id": u.service_id, "status": int(u.status), "version": u.payment_version}
            for u in result.updates
        ],
        **ids,
    )
