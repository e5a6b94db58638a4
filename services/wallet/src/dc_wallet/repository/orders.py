"""Orders: the vouchers a paid order issues."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.actors import Actor
from dc_wallet.domain import LedgerKind, VoucherState, WalletPolicy, expiry_date
from dc_wallet.models import Order, Voucher
from dc_wallet.repository.ledger import ledger_entry

#: The vouchers of one order at most (the API takes orders of up to 100,000).
MAX_VOUCHERS_PER_ORDER = 99_999


def voucher_number(order_id: int, index: int) -> str:
    """The number of the order's ``index``-th voucher (from 1): the order's id and the index,
    so that no counter shared by every order is locked to hand numbers out (16 characters;
    the numbers of the earlier counter, ``V`` and 12 digits, are shorter, so never the same)."""
    if not 1 <= index <= MAX_VOUCHERS_PER_ORDER:
        raise ValueError(f"an order has 1 to {MAX_VOUCHERS_PER_ORDER} vouchers")
    return f"V{order_id:010d}{index:05d}"


async def find_order(session: AsyncSession, user_number: str, reference: str) -> Order | None:
    result: Order | None = await session.scalar(
        select(Order).where(Order.user_number == user_number, Order.reference == reference)
    )
    return result


async def ordered_in_year(session: AsyncSession, user_number: str, year: int) -> int:
    total = await session.scalar(
        select(func.coalesce(func.sum(Order.quantity), 0)).where(
            Order.user_number == user_number,
            Order.issue_date >= date(year, 1, 1),
            Order.issue_date <= date(year, 12, 31),
        )
    )
    return int(total or 0)


async def orders_in_year(session: AsyncSession, user_number: str, year: int) -> list[Order]:
    rows = await session.scalars(
        select(Order)
        .where(
            Order.user_number == user_number,
            Order.issue_date >= date(year, 1, 1),
            Order.issue_date <= date(year, 12, 31),
        )
        .order_by(Order.paid_at, Order.id)
    )
    return list(rows)


async def place_order(
    session: AsyncSession,
    *,
    user_number: str,
    reference: str,
    quantity: int,
    issue_date: date,
    policy: WalletPolicy,
    now: datetime,
    ordered_by: Actor | None = None,
) -> Order:
    """Record a paid order and issue its vouchers. The caller holds the wallet lock and has
    checked that the reference is new and the order allowed."""
    expires = expiry_date(issue_date, policy)
    order = Order(
        user_number=user_number,
        reference=reference,
        quantity=quantity,
        unit_price_cents=policy.voucher_price_cents,
        amount_cents=quantity * policy.voucher_price_cents,
        paid_at=now,
        issue_date=issue_date,
        expiry_date=expires,
        first_voucher="",
        last_voucher="",
        ordered_by=None if ordered_by is None else ordered_by.model_dump(mode="json"),
    )
    session.add(order)
    await session.flush()  # the order's id: its vouchers' numbers
    order.first_voucher = voucher_number(order.id, 1)
    order.last_voucher = voucher_number(order.id, quantity)
    await session.execute(
        insert(Voucher),
        [
            {
                "number": voucher_number(order.id, index),
                "user_number": user_number,
                "order_id": order.id,
                "price_cents": policy.voucher_price_cents,
                "issue_date": issue_date,
                "expiry_date": expires,
                "state": VoucherState.AVAILABLE.value,
                "service_id": None,
                "allocation_step": None,
                "reimbursement_request_id": None,
                "changed_at": now,
            }
            for index in range(1, quantity + 1)
        ],
    )
    ledger_entry(
        session,
        key=f"issued:{order.id}",
        user_number=user_number,
        kind=LedgerKind.ISSUED,
        vouchers=quantity,
        amount_cents=order.amount_cents,
        at=now,
        reference=reference,
    )
    return order
