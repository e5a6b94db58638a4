"""Activities of the wallet, called by the lifecycle and WalletChange workflows by name on
TaskQueue.WALLET.

Each runs in one transaction per wallet that first locks the wallet, then looks for its own
recorded result: a retry (after a crash, a timeout, a lost answer) returns what the first run
returned and changes nothing. The keys: ``claim:{service}``, ``allocate:{user}:{trigger}``,
``submit:{request}``, ``payout:{request}``, ``expire:{date}:{user}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog
from sqlalchemy.ext.asyncio import AsyncSession
from temporalio import activity
from temporalio.exceptions import ApplicationError

from dc_common.db import Database
from dc_wallet import repository
from dc_wallet.domain import WalletPolicy, brussels_date
from dc_wallet.models import ReimbursementRequest
from dc_workflows.contracts.payments import (
    AllocatePending,
    ExpiryRun,
    PaymentUpdates,
    Payout,
    ReimbursementSubmission,
    ServiceClaim,
    WalletActivity,
)

log = structlog.get_logger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class WalletActivities:
    def __init__(self, db: Database, policy: WalletPolicy, clock: Clock = utc_now) -> None:
        self._db = db
        self._policy = policy
        self._clock = clock

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
        _log("payment claimed", key, result, service_id=claim.service_id)
        return result

    @activity.defn(name=WalletActivity.ALLOCATE_PENDING)
    async def allocate_pending(self, request: AllocatePending) -> PaymentUpdates:
        """New vouchers in the wallet: allocate them to every waiting service by priority."""
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
        """The request's reserved vouchers become submitted; services 17 or 13."""
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
                updates = await repository.pay_out_request(session, request, now)
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

    @property
    def all(self) -> list[Callable[..., Awaitable[PaymentUpdates]]]:
        return [
            self.claim_payment,
            self.allocate_pending,
            self.submit_reimbursement,
            self.pay_out,
            self.expire_vouchers,
        ]


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


def _log(message: str, key: str, result: PaymentUpdates, **ids: object) -> None:
    log.info(
        message,
        operation=key,
        changes=[
            {"service_id": u.service_id, "status": int(u.status), "version": u.payment_version}
            for u in result.updates
        ],
        **ids,
    )
