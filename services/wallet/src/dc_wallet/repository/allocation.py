"""Claims of services on their user's wallet, and the allocation of its vouchers to them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.db import upsert
from dc_wallet.domain import (
    AWAITING_VOUCHERS,
    ClaimView,
    Event,
    LedgerKind,
    VoucherState,
    VoucherView,
    WalletPolicy,
    plan_allocation,
    status_after_allocation,
)
from dc_wallet.models import Allocation, Claim, Voucher
from dc_wallet.repository.ledger import ledger_entry
from dc_wallet.repository.locking import ConcurrentWalletChange
from dc_workflows.contracts.payments import PaymentUpdate, ServiceClaim
from dc_workflows.status import ServiceStatus as S


async def register_claim(session: AsyncSession, claim: ServiceClaim, now: datetime) -> None:
    await session.execute(
        upsert(session, Claim)
        .values(
            service_id=claim.service_id,
            user_number=claim.user_number,
            company_id=claim.company_id,
            branch_id=claim.branch_id,
            service_date=claim.service_date,
            hours=claim.hours,
            ready_at=claim.ready_at,
            status=int(S.READY_FOR_ALLOCATION),
            payment_version=0,
            vouchers_allocated=0,
            vouchers_submitted=0,
            vouchers_reimbursed=0,
            allocation_steps=0,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing()
    )


async def waiting_claims(session: AsyncSession, user_number: str) -> list[Claim]:
    rows = await session.scalars(
        select(Claim).where(
            Claim.user_number == user_number,
            Claim.status.in_([int(status) for status in AWAITING_VOUCHERS]),
            Claim.vouchers_allocated < Claim.hours,
        )
    )
    return list(rows)


async def available_vouchers(session: AsyncSession, user_number: str) -> list[Voucher]:
    rows = await session.scalars(
        select(Voucher)
        .where(Voucher.user_number == user_number, Voucher.state == VoucherState.AVAILABLE.value)
        .order_by(Voucher.expiry_date, Voucher.number)
    )
    return list(rows)


def claim_view(claim: Claim) -> ClaimView:
    return ClaimView(
        service_id=claim.service_id,
        service_date=claim.service_date,
        ready_at=claim.ready_at,
        hours=claim.hours,
        allocated=claim.vouchers_allocated,
        status=S(claim.status),
    )


def voucher_view(voucher: Voucher) -> VoucherView:
    return VoucherView(
        number=voucher.number, issue_date=voucher.issue_date, expiry_date=voucher.expiry_date
    )


def claim_update(claim: Claim, event: str, reason: str | None) -> PaymentUpdate:
    """The claim's payment as its lifecycle is told it."""
    return PaymentUpdate(
        service_id=claim.service_id,
        payment_version=claim.payment_version,
        status=S(claim.status),
        vouchers_needed=claim.hours,
        vouchers_allocated=claim.vouchers_allocated,
        vouchers_submitted=claim.vouchers_submitted,
        vouchers_reimbursed=claim.vouchers_reimbursed,
        event=event,
        reason=reason,
    )


def changed(claim: Claim, now: datetime, event: Event, reason: str | None) -> PaymentUpdate:
    """Bump the claim's payment version: every change is one update for its lifecycle, kept
    as the claim's latest (what the reconciliation sends again)."""
    claim.payment_version += 1
    claim.updated_at = now
    update = claim_update(claim, event.value, reason)
    claim.last_update = update.model_dump(mode="json")
    return update


async def allocate(
    session: AsyncSession,
    user_number: str,
    *,
    today: date,
    now: datetime,
    policy: WalletPolicy,
    operation: str,
    only: str | None = None,
    allocate_vouchers: bool = True,
) -> list[PaymentUpdate]:
    """Plan the allocation of the user's wallet and apply it. The caller holds the wallet lock.

    ``only``: apply the plan for this one service (a new claim), leaving the shares of the others
    for the allocation that new vouchers trigger. ``allocate_vouchers=False``: only move to 20
    the services the plan finds unpayable and that it allocates nothing to (the expiry run).
    """
    claims = await waiting_claims(session, user_number)
    vouchers = await available_vouchers(session, user_number)
    plan = plan_allocation(
        [claim_view(claim) for claim in claims],
        [voucher_view(voucher) for voucher in vouchers],
        today,
        policy,
    )
    by_id = {claim.service_id: claim for claim in claims}
    prices = {voucher.number: voucher.price_cents for voucher in vouchers}
    updates: list[PaymentUpdate] = []
    for step in plan.steps:
        if allocate_vouchers and only in (None, step.service_id):
            claim = by_id[step.service_id]
            updates.append(
                await _allocate_step(session, claim, step.vouchers, prices, now, operation)
            )
    for service_id in plan.unpayable:
        if only not in (None, service_id):
            continue
        if not allocate_vouchers and plan.step_for(service_id) is not None:
            continue
        claim = by_id[service_id]
        claim.status = int(S.PAY_OUTSIDE_VOUCHERS)
        reason = (
            f"no voucher may pay it: more than {policy.service_window_months} months after "
            f"the service date, {claim.hours - claim.vouchers_allocated} of {claim.hours} unpaid"
        )
        updates.append(changed(claim, now, Event.UNPAYABLE, reason))
    return updates


async def _allocate_step(
    session: AsyncSession,
    claim: Claim,
    numbers: Sequence[str],
    prices: dict[str, int],
    now: datetime,
    operation: str,
) -> PaymentUpdate:
    count = len(numbers)
    step = claim.allocation_steps + 1
    session.add(
        Allocation(
            service_id=claim.service_id, step=step, vouchers=count, at=now, operation=operation
        )
    )
    await session.flush()  # (service_id, step) is unique: a second allocation of it fails here
    result = await session.execute(
        update(Voucher)
        .where(
            Voucher.number.in_(numbers),
            Voucher.user_number == claim.user_number,
            Voucher.state == VoucherState.AVAILABLE.value,
        )
        .values(
            state=VoucherState.ALLOCATED.value,
            service_id=claim.service_id,
            allocation_step=step,
            changed_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != count:  # type: ignore[attr-defined]
        raise ConcurrentWalletChange(
            f"{count - result.rowcount} of {count} vouchers for {claim.service_id} "  # type: ignore[attr-defined]
            "were no longer available"
        )
    ledger_entry(
        session,
        key=f"allocated:{claim.service_id}:{step}",
        user_number=claim.user_number,
        kind=LedgerKind.ALLOCATED,
        vouchers=count,
        amount_cents=sum(prices[number] for number in numbers),
        at=now,
        reference=claim.service_id,
    )
    before = claim.vouchers_allocated
    claim.vouchers_allocated = before + count
    claim.allocation_steps = step
    claim.status = int(status_after_allocation(claim.hours, before, claim.vouchers_allocated))
    reason = (
        f"{count} voucher(s) allocated in step {step}: {claim.vouchers_allocated} of {claim.hours}"
    )
    return changed(claim, now, Event.ALLOCATED, reason)
