"""Orders: the vouchers a paid order issues."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.actors import Actor
from dc_common.db import upsert
from dc_wallet.domain import LedgerKind, VoucherState, WalletPolicy, expiry_date
from dc_wallet.models import Counter, Order, Voucher
from dc_wallet.repository.ledger import ledger_entry

VOUCHER_COUNTER = "voucher"


def voucher_number(sequence: int) -> str:
    return f"V{sequence:012d}"


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


async def _take_numbers(session: AsyncSession, count: int) -> int:
    """The first of ``count`` consecutive voucher sequence numbers, never handed out before."""
    await session.execute(
        upsert(session, Counter).values(name=VOUCHER_COUNTER, value=0).on_conflict_do_nothing()
    )
    last = await session.scalar(
        update(Counter)
        .where(Counter.name == VOUCHER_COUNTER)
        .values(value=Counter.value + count)
        .returning(Counter.value)
        .execution_options(synchronize_session=False)
    )
    assert last is not None
    return int(last) - count + 1


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
    first = await _take_numbers(session, quantity)
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
        first_voucher=voucher_number(first),
        last_voucher=voucher_number(first + quantity - 1),
        ordered_by=None if ordered_by is None else ordered_by.model_dump(mode="json"),
    )
    session.add(order)
    await session.flush()
    await session.execute(
        insert(Voucher),
        [
            {
                "number": voucher_number(sequence),
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
            for sequence in range(first, first + quantity)
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
