"""What the API shows: the wallet as its user sees it, statements and lists of requests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from dc_wallet.domain import VoucherState
from dc_wallet.models import Allocation, Claim, Order, ReimbursementRequest, Voucher
from dc_wallet.repository.orders import orders_in_year


@dataclass(frozen=True)
class StatementLine:
    service_id: str
    user_number: str
    branch_id: str | None
    service_date: date
    vouchers: int


async def statement_lines(session: AsyncSession, request_id: str) -> list[StatementLine]:
    rows = await session.execute(
        select(
            Claim.service_id, Claim.user_number, Claim.branch_id, Claim.service_date, func.count()
        )
        .join(Voucher, Voucher.service_id == Claim.service_id)
        .where(Voucher.reimbursement_request_id == request_id)
        .group_by(Claim.service_id, Claim.user_number, Claim.branch_id, Claim.service_date)
        .order_by(Claim.service_date, Claim.service_id)
    )
    return [
        StatementLine(
            service_id=service_id,
            user_number=user_number,
            branch_id=branch_id,
            service_date=service_date,
            vouchers=int(count),
        )
        for service_id, user_number, branch_id, service_date, count in rows.all()
    ]


async def list_requests(
    session: AsyncSession, company_id: str | None, *, limit: int, offset: int
) -> list[ReimbursementRequest]:
    query = select(ReimbursementRequest)
    if company_id is not None:
        query = query.where(ReimbursementRequest.company_id == company_id)
    rows = await session.scalars(
        query.order_by(ReimbursementRequest.created_at.desc(), ReimbursementRequest.id)
        .offset(offset)
        .limit(limit)
    )
    return list(rows)


@dataclass(frozen=True)
class ExpiryGroup:
    expiry_date: date
    vouchers: int
    value_cents: int


@dataclass(frozen=True)
class WalletView:
    user_number: str
    today: date
    available: int
    available_cents: int
    by_expiry: list[ExpiryGroup]
    claims: list[Claim]
    steps: dict[str, list[Allocation]]
    year: int
    ordered_this_year: int
    orders: list[Order]


async def wallet_view(
    session: AsyncSession, user_number: str, *, today: date, recent_claims: int = 200
) -> WalletView:
    groups = await session.execute(
        select(Voucher.expiry_date, func.count(), func.sum(Voucher.price_cents))
        .where(Voucher.user_number == user_number, Voucher.state == VoucherState.AVAILABLE.value)
        .group_by(Voucher.expiry_date)
        .order_by(Voucher.expiry_date)
    )
    by_expiry = [
        ExpiryGroup(expiry_date=day, vouchers=int(count), value_cents=int(cents or 0))
        for day, count, cents in groups.all()
    ]
    claims = list(
        await session.scalars(
            select(Claim)
            .where(Claim.user_number == user_number)
            .order_by(Claim.service_date.desc(), Claim.ready_at.desc(), Claim.service_id)
            .limit(recent_claims)
        )
    )
    steps: dict[str, list[Allocation]] = {claim.service_id: [] for claim in claims}
    if claims:
        for allocation in await session.scalars(
            select(Allocation)
            .where(Allocation.service_id.in_(list(steps)))
            .order_by(Allocation.service_id, Allocation.step)
        ):
            steps[allocation.service_id].append(allocation)
    orders = await orders_in_year(session, user_number, today.year)
    return WalletView(
        user_number=user_number,
        today=today,
        available=sum(group.vouchers for group in by_expiry),
        available_cents=sum(group.value_cents for group in by_expiry),
        by_expiry=by_expiry,
        claims=claims,
        steps=steps,
        year=today.year,
        ordered_this_year=sum(order.quantity for order in orders),
        orders=orders,
    )
