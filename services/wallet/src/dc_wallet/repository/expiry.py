"""The daily expiry: vouchers past their last day, and services no voucher can pay any more."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dc_wallet.domain import (
    AWAITING_VOUCHERS,
    LedgerKind,
    VoucherState,
    WalletPolicy,
    sorted_users,
    window_lower_bound,
)
from dc_wallet.models import Claim, Voucher
from dc_wallet.repository.allocation import allocate
from dc_wallet.repository.ledger import ledger_entry
from dc_wallet.repository.locking import ConcurrentWalletChange
from dc_workflows.contracts.payments import PaymentUpdate


async def wallets_to_expire(session: AsyncSession, on: date, policy: WalletPolicy) -> list[str]:
    """Users with available vouchers expired by ``on``, or with services waiting for vouchers
    whose window may have closed by then (a superset; the plan decides)."""
    expiring = select(Voucher.user_number).where(
        Voucher.state == VoucherState.AVAILABLE.value, Voucher.expiry_date < on
    )
    closing = select(Claim.user_number).where(
        Claim.status.in_([int(status) for status in AWAITING_VOUCHERS]),
        Claim.vouchers_allocated < Claim.hours,
        Claim.service_date < window_lower_bound(on, policy),
    )
    rows = await session.scalars(expiring.union(closing))
    return sorted_users(rows)


async def expire_wallet(
    session: AsyncSession,
    user_number: str,
    *,
    on: date,
    policy: WalletPolicy,
    now: datetime,
    operation: str,
) -> list[PaymentUpdate]:
    """Expire the available vouchers whose last day is before ``on`` (refunded from the refund
    policy's start date on), then move to 20 the services no voucher can pay any more. The
    caller holds the wallet lock."""
    expired = list(
        await session.scalars(
            select(Voucher).where(
                Voucher.user_number == user_number,
                Voucher.state == VoucherState.AVAILABLE.value,
                Voucher.expiry_date < on,
            )
        )
    )
    if expired:
        refund = on >= policy.refund_expired_from
        numbers = [voucher.number for voucher in expired]
        cents = sum(voucher.price_cents for voucher in expired)
        target = VoucherState.REFUNDED if refund else VoucherState.EXPIRED
        result = await session.execute(
            update(Voucher)
            .where(Voucher.number.in_(numbers), Voucher.state == VoucherState.AVAILABLE.value)
            .values(state=target.value, changed_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != len(numbers):  # type: ignore[attr-defined]
            raise ConcurrentWalletChange(f"vouchers of {user_number} changed during expiry")
        for kind in (LedgerKind.EXPIRED, LedgerKind.REFUNDED) if refund else (LedgerKind.EXPIRED,):
            ledger_entry(
                session,
                key=f"{kind.value}:{on.isoformat()}:{user_number}",
                user_number=user_number,
                kind=kind,
                vouchers=len(numbers),
                amount_cents=cents,
                at=now,
                reference=on.isoformat(),
            )
    return await allocate(
        session,
        user_number,
        today=on,
        now=now,
        policy=policy,
        operation=operation,
        allocate_vouchers=False,
    )
