"""Reads and writes of the wallet database.

Every change of a user's vouchers or claims happens in one transaction that first locks the
user's wallet (:func:`lock_wallets`), and every activity records its result in the same
transaction (:func:`record`), so a retry changes nothing and answers the same.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import event, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from dc_common.db import Database, upsert
from dc_wallet.domain import (
    AWAITING_VOUCHERS,
    ClaimView,
    Event,
    LedgerKind,
    VoucherState,
    VoucherView,
    WalletPolicy,
    expiry_date,
    plan_allocation,
    sorted_users,
    status_after_allocation,
    status_after_payout,
    status_after_submission,
    window_lower_bound,
)
from dc_wallet.models import (
    Allocation,
    Claim,
    Counter,
    LedgerEntry,
    Operation,
    Order,
    ReimbursementRequest,
    Voucher,
    Wallet,
)
from dc_workflows.contracts.payments import PaymentUpdate, PaymentUpdates, ServiceClaim
from dc_workflows.status import ServiceStatus as S

#: Execution option of a session that only reads (SQLite: a plain deferred BEGIN).
READ_ONLY = "dc_wallet_read_only"
VOUCHER_COUNTER = "voucher"


class ConcurrentWalletChange(RuntimeError):
    """A voucher changed under a wallet lock: never expected; the activity fails and retries."""


# -- database and transactions ------------------------------------------------------------------


def open_database(url: str) -> Database:
    """The wallet's database, with SQLite write transactions made ``BEGIN IMMEDIATE``."""
    db = Database(url)
    if db.engine.dialect.name == "sqlite":
        sync_engine = db.engine.sync_engine
        event.listen(sync_engine, "connect", _driver_leaves_transactions_to_us)
        event.listen(sync_engine, "begin", _begin_sqlite)
    return db


def _driver_leaves_transactions_to_us(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def _begin_sqlite(connection: Any) -> None:
    """SQLite has no row locks: a write transaction takes the database's write lock when it
    begins, so two of them never interleave (the second waits, up to the busy timeout), and
    what one reads is what it writes over."""
    read_only = connection.get_execution_options().get(READ_ONLY, False)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


@asynccontextmanager
async def writing(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.transaction() as session:
        yield session


@asynccontextmanager
async def reading(db: Database) -> AsyncIterator[AsyncSession]:
    async with db.sessions() as session:
        await session.connection(execution_options={READ_ONLY: True})
        yield session


# -- the wallet lock and idempotent operations ---------------------------------------------------


async def lock_wallets(session: AsyncSession, users: Iterable[str], now: datetime) -> list[str]:
    """Lock these users' wallets (created on first use) until the transaction ends.

    Why a row lock and not one entity workflow per wallet: the invariant to protect (no voucher
    spent twice, no order over the cap) lives in this database, and so does every writer of it:
    the order API, the allocation, reimbursement and expiry activities. A ``SELECT ... FOR
    UPDATE`` on the wallet row serialises all of them where the data is, for the milliseconds a
    transaction lasts, and commits the change and its idempotency record atomically. An entity
    workflow per wallet (750,000 long-lived workflows with signal-with-start and
    continue-as-new) would serialise only what is routed through it (not the order API), add
    round trips and Temporal load to every allocation (the embedded dev server completes about
    18 three-activity workflows per second), and would still need these idempotency records for
    its activities' retries. Contention per wallet is low (one household), so the lock is cheap.

    PostgreSQL: ``SELECT ... FOR UPDATE`` in READ COMMITTED; every later statement of the
    transaction sees what the previous lock holder committed. SQLite has no row locks; the
    transaction already holds the database's write lock (``BEGIN IMMEDIATE``, see
    :func:`open_database`) and the ``FOR UPDATE`` is not rendered. Several wallets are always
    locked in ascending user number, and a transaction holding one wallet never waits for
    another, so writers cannot deadlock.
    """
    ordered = sorted_users(users)
    if not ordered:
        return ordered
    await session.execute(
        upsert(session, Wallet)
        .values([{"user_number": user, "created_at": now} for user in ordered])
        .on_conflict_do_nothing()
    )
    await session.execute(
        select(Wallet.user_number)
        .where(Wallet.user_number.in_(ordered))
        .order_by(Wallet.user_number)
        .with_for_update()
    )
    return ordered


async def recorded(session: AsyncSession, key: str) -> PaymentUpdates | None:
    row = await session.get(Operation, key)
    return None if row is None else PaymentUpdates.model_validate(row.result)


async def record(
    session: AsyncSession, key: str, updates: Sequence[PaymentUpdate], now: datetime
) -> PaymentUpdates:
    result = PaymentUpdates(updates=tuple(updates))
    session.add(Operation(key=key, created_at=now, result=result.model_dump(mode="json")))
    await session.flush()
    return result


async def recorded_with_prefix(session: AsyncSession, prefix: str) -> PaymentUpdates:
    rows = await session.scalars(
        select(Operation)
        .where(Operation.key.startswith(prefix, autoescape=True))
        .order_by(Operation.key)
    )
    updates = [
        update for row in rows for update in PaymentUpdates.model_validate(row.result).updates
    ]
    return PaymentUpdates(updates=tuple(updates))


def _ledger(
    session: AsyncSession,
    *,
    key: str,
    user_number: str,
    kind: LedgerKind,
    vouchers: int,
    amount_cents: int,
    at: datetime,
    reference: str,
) -> None:
    session.add(
        LedgerEntry(
            key=key,
            user_number=user_number,
            kind=kind.value,
            vouchers=vouchers,
            amount_cents=amount_cents,
            at=at,
            reference=reference,
        )
    )


# -- orders ---------------------------------------------------------------------------------------


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
    _ledger(
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


# -- claims and allocation --------------------------------------------------------------------


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


def _changed(claim: Claim, now: datetime, event: Event, reason: str | None) -> PaymentUpdate:
    """Bump the claim's payment version: every change is one update for its lifecycle."""
    claim.payment_version += 1
    claim.updated_at = now
    return PaymentUpdate(
        service_id=claim.service_id,
        payment_version=claim.payment_version,
        status=S(claim.status),
        vouchers_needed=claim.hours,
        vouchers_allocated=claim.vouchers_allocated,
        vouchers_submitted=claim.vouchers_submitted,
        vouchers_reimbursed=claim.vouchers_reimbursed,
        event=event.value,
        reason=reason,
    )


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
        updates.append(_changed(claim, now, Event.UNPAYABLE, reason))
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
    _ledger(
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
    return _changed(claim, now, Event.ALLOCATED, reason)


# -- reimbursement ------------------------------------------------------------------------------


async def claims_by_ids(session: AsyncSession, service_ids: Iterable[str]) -> dict[str, Claim]:
    ids = sorted(set(service_ids))
    if not ids:
        return {}
    rows = await session.scalars(select(Claim).where(Claim.service_id.in_(ids)))
    return {claim.service_id: claim for claim in rows}


async def payable_counts(session: AsyncSession, service_ids: Iterable[str]) -> dict[str, int]:
    """Per service, the vouchers allocated to it and in no reimbursement request yet."""
    ids = sorted(set(service_ids))
    if not ids:
        return {}
    rows = await session.execute(
        select(Voucher.service_id, func.count())
        .where(
            Voucher.service_id.in_(ids),
            Voucher.state == VoucherState.ALLOCATED.value,
            Voucher.reimbursement_request_id.is_(None),
        )
        .group_by(Voucher.service_id)
    )
    return {str(service_id): int(count) for service_id, count in rows.all()}


async def create_request(
    session: AsyncSession,
    *,
    request_id: str,
    company_id: str,
    reference: str,
    service_ids: Sequence[str],
    policy: WalletPolicy,
    now: datetime,
) -> ReimbursementRequest:
    """Record the request and reserve for it every allocated, unreserved voucher of these
    services (still ``allocated``: the submission activity marks them ``submitted``). The caller
    holds the locks of the services' wallets."""
    request = ReimbursementRequest(
        id=request_id,
        company_id=company_id,
        reference=reference,
        created_at=now,
        submitted_at=None,
        paid_at=None,
        vouchers=0,
        voucher_value_cents=policy.reimbursement_value_cents,
        amount_cents=0,
    )
    session.add(request)
    await session.flush()  # a concurrent request under the same reference fails here
    result = await session.execute(
        update(Voucher)
        .where(
            Voucher.service_id.in_(sorted(set(service_ids))),
            Voucher.state == VoucherState.ALLOCATED.value,
            Voucher.reimbursement_request_id.is_(None),
        )
        .values(reimbursement_request_id=request_id, changed_at=now)
        .execution_options(synchronize_session=False)
    )
    count: int = result.rowcount  # type: ignore[attr-defined]
    request.vouchers = count
    request.amount_cents = count * policy.reimbursement_value_cents
    return request


async def request_services(session: AsyncSession, request_id: str) -> list[str]:
    rows = await session.scalars(
        select(Voucher.service_id)
        .where(Voucher.reimbursement_request_id == request_id)
        .distinct()
        .order_by(Voucher.service_id)
    )
    return [str(service_id) for service_id in rows]


async def request_users(session: AsyncSession, request_id: str) -> list[str]:
    rows = await session.scalars(
        select(Voucher.user_number).where(Voucher.reimbursement_request_id == request_id).distinct()
    )
    return sorted_users(rows)


async def _move_request_vouchers(
    session: AsyncSession,
    request_id: str,
    source: VoucherState,
    target: VoucherState,
    now: datetime,
) -> dict[str, int]:
    rows = await session.execute(
        select(Voucher.service_id, func.count())
        .where(Voucher.reimbursement_request_id == request_id, Voucher.state == source.value)
        .group_by(Voucher.service_id)
    )
    counts = {str(service_id): int(count) for service_id, count in rows.all()}
    await session.execute(
        update(Voucher)
        .where(Voucher.reimbursement_request_id == request_id, Voucher.state == source.value)
        .values(state=target.value, changed_at=now)
        .execution_options(synchronize_session=False)
    )
    return counts


async def submit_request(
    session: AsyncSession, request: ReimbursementRequest, now: datetime
) -> list[PaymentUpdate]:
    """The request's vouchers become ``submitted``; partially paid services 17, fully paid and
    wholly submitted 13. A service at 20 keeps its status and tells no lifecycle (closed)."""
    counts = await _move_request_vouchers(
        session, request.id, VoucherState.ALLOCATED, VoucherState.SUBMITTED, now
    )
    claims = await claims_by_ids(session, counts)
    updates: list[PaymentUpdate] = []
    for service_id in sorted(counts):
        claim = claims[service_id]
        claim.vouchers_submitted += counts[service_id]
        claim.updated_at = now
        if claim.status == S.PAY_OUTSIDE_VOUCHERS:
            continue
        claim.status = int(
            status_after_submission(
                S(claim.status), claim.hours, claim.vouchers_allocated, claim.vouchers_submitted
            )
        )
        reason = (
            f"{counts[service_id]} voucher(s) in reimbursement request {request.reference}: "
            f"{claim.vouchers_submitted} of {claim.hours} submitted"
        )
        updates.append(_changed(claim, now, Event.REIMBURSEMENT_REQUESTED, reason))
    request.submitted_at = now
    return updates


async def pay_out_request(
    session: AsyncSession, request: ReimbursementRequest, now: datetime
) -> list[PaymentUpdate]:
    """The request's vouchers become ``reimbursed``; a fully paid service with every voucher
    reimbursed goes to 14, any other keeps its status (a partially paid one stays 17)."""
    counts = await _move_request_vouchers(
        session, request.id, VoucherState.SUBMITTED, VoucherState.REIMBURSED, now
    )
    claims = await claims_by_ids(session, counts)
    updates: list[PaymentUpdate] = []
    for service_id in sorted(counts):
        claim = claims[service_id]
        claim.vouchers_reimbursed += counts[service_id]
        claim.updated_at = now
        if claim.status == S.PAY_OUTSIDE_VOUCHERS:
            continue
        claim.status = int(
            status_after_payout(
                S(claim.status), claim.hours, claim.vouchers_allocated, claim.vouchers_reimbursed
            )
        )
        reason = (
            f"{counts[service_id]} voucher(s) paid out in request {request.reference}: "
            f"{claim.vouchers_reimbursed} of {claim.hours} reimbursed"
        )
        updates.append(_changed(claim, now, Event.REIMBURSED, reason))
    request.paid_at = now
    return updates


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


# -- expiry -------------------------------------------------------------------------------------


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
            _ledger(
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


# -- the wallet as its user sees it ----------------------------------------------------------------


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
